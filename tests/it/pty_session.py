"""Run statements in one trailsql shell session in a pseudo-terminal, with a
shell command between two of them.

Usage: pty_session.py BINARY SOURCE STEP...
Each STEP is "sql:STATEMENT" (sent, then its row count awaited) or
"run:COMMAND" (run by /bin/sh while the session stays open; it must succeed).
Prints the transcript. Each wait has a deadline, so a hang fails.
"""
import subprocess
import sys

from pty_term import Shell

binary, source, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
shell = Shell(binary, source)
shell.wait_for("trailsql> ")
for step in steps:
    kind, _, text = step.partition(":")
    if kind == "sql":
        shell.send(text + "\r")
        shell.wait_for(" row")
        shell.wait_for("trailsql> ")
    else:
        subprocess.run(["/bin/sh", "-c", text], check=True)
shell.quit()
