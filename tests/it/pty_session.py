"""Run statements in one trailsql shell session in a pseudo-terminal, with a
shell command between two of them.

Usage: pty_session.py BINARY SOURCE STEP...
Each STEP is "sql:STATEMENT" (sent, then its row count awaited) or
"run:COMMAND" (run by /bin/sh while the session stays open; it must succeed).
Prints the transcript. Each wait has a deadline, so a hang fails.
"""
import os
import pty
import select
import subprocess
import sys
import time

binary, source, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "--source", source])

seen = b""


def wait_for(needle, timeout=60.0):
    global seen
    deadline = time.time() + timeout
    while needle.encode() not in seen:
        left = deadline - time.time()
        if left <= 0:
            print("TIMEOUT waiting for %r" % needle)
            print(seen.decode(errors="replace"))
            sys.exit(3)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    mark = seen.index(needle.encode()) + len(needle)
    out, seen = seen[:mark], seen[mark:]
    sys.stdout.write(out.decode(errors="replace"))
    sys.stdout.flush()


wait_for("trailsql> ")
for step in steps:
    kind, _, text = step.partition(":")
    if kind == "sql":
        os.write(fd, (text + "\r").encode())
        wait_for(" row")
        wait_for("trailsql> ")
    else:
        subprocess.run(["/bin/sh", "-c", text], check=True)
os.write(fd, b"\\q\r")
_, status = os.waitpid(pid, 0)
print("EXIT %d" % os.waitstatus_to_exitcode(status))
