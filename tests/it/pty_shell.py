"""Drive the trailsql shell in a pseudo-terminal, as a person at a keyboard.

Usage: pty_shell.py BINARY SOURCE WORK_DIR
Prints a transcript; the Rust test (tests/it/shell.rs) checks it. Each step
waits for expected output with a deadline, so a hang fails instead of blocking.
"""
import os
import sys
import time

from pty_term import Shell

binary, source, work = sys.argv[1], sys.argv[2], sys.argv[3]
shell = Shell(binary, source)
wait_for, send = shell.wait_for, shell.send

wait_for("trailsql> ")
# Tab completes a nested field; the statement then runs.
send("SELECT useridentity.user\t")
wait_for("useridentity.username")
send(" AS who FROM cloudtrail WHERE eventname = 'DeleteTable' AND errorcode IS NULL;\r")
wait_for("(1 row")
wait_for("trailsql> ")
# A statement over several lines.
send("SELECT 40 +\r")
wait_for("..> ")
send("2 AS answer;\r")
wait_for("(1 row")
wait_for("trailsql> ")
# Ctrl-C cancels a long query and keeps the shell.
send("SELECT count(*) FROM range(1, 100000000000);\r")
time.sleep(1.5)
send("\x03")
wait_for("query cancelled")
wait_for("trailsql> ")
# \d lists tables; \d TABLE lists columns and nested fields.
send("\\d\r")
wait_for("cloudtrail_logs")
wait_for("trailsql> ")
send("\\d cloudtrail\r")
wait_for("useridentity.sessioncontext.sessionissuer.arn")
wait_for("trailsql> ")
# Saved queries: list one area, run one with a parameter.
send("\\queries forensics\r")
wait_for("forensics/root-account-activity")
wait_for("trailsql> ")
send("\\report " + work + "/before.html\r")
wait_for("nothing to report yet")
wait_for("trailsql> ")
send("\\run data-store-deletions resource=prod% since=2023-10-15\r")
wait_for("2 findings")
wait_for("trailsql> ")
# \report FILE: the page of that \run (the test reads it).
send("\\report " + work + "/run.html\r")
wait_for("wrote the report to")
wait_for("trailsql> ")
# \timing off holds on a terminal too: the row count without the time.
send("\\timing off\r")
wait_for("timing is off")
wait_for("trailsql> ")
send("SELECT 7 AS seven;\r")
wait_for("(1 row)\r\n")
wait_for("trailsql> ")
# \maxrows cuts a table and says how many rows it left out.
send("\\maxrows 1\r")
wait_for("tables show at most 1 row")
wait_for("trailsql> ")
send("SELECT * FROM (VALUES (1), (2), (3)) AS t(n);\r")
wait_for("... 2 more rows not shown")
wait_for("(3 rows)")
wait_for("trailsql> ")
# \timing on: the row count and the time.
send("\\timing on\r")
wait_for("timing is on")
wait_for("trailsql> ")
send("SELECT 8 AS eight;\r")
wait_for("(1 row, ")
wait_for("trailsql> ")
# \o FILE: every result goes into the file (the test reads it), then \o
# alone brings them back to the screen.
send(f"\\o {work}/out.txt\r")
wait_for("results go to")
wait_for("trailsql> ")
send("SELECT 'first' AS a;\r")
wait_for("trailsql> ")
send("SELECT 'second' AS b;\r")
wait_for("trailsql> ")
send("\\o\r")
wait_for("results go to the screen")
wait_for("trailsql> ")
# \i FILE runs the statements of a file, each result in turn.
send(f"\\i {work}/two.sql\r")
wait_for("from-include-1")
wait_for("from-include-2")
wait_for("trailsql> ")
# \hunt: Sigma rules; the findings become the table detections, which
# joins with cloudtrail.
rules = os.path.join(os.path.dirname(source.rstrip("/")), "sigma")
send(f"\\hunt {rules} min-level=high\r")
wait_for("10 findings")
wait_for("trailsql> ")
send("\\report " + work + "/hunt.html\r")
wait_for("wrote the report to")
wait_for("trailsql> ")
send("SELECT count(*) AS joined FROM detections d JOIN cloudtrail c ON d.event_id = c.eventid;\r")
wait_for("| 10 ")
wait_for("trailsql> ")
send("\\format csv\r")
wait_for("format is csv")
# Keys typed before the prompt would be echoed by the terminal in cooked
# mode, not read by the line editor: always wait for the prompt first.
wait_for("trailsql> ")
send("SELECT 'still here' AS status;\r")
# The CSV header then the value (the echo of the typed line also holds the
# words, so match the output's shape).
wait_for("status\r\nstill here")
wait_for("trailsql> ")
shell.quit()
