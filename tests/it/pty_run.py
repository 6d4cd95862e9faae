"""Run a command with a pseudo-terminal as its standard output and error,
as a person at a terminal of ROWS x COLS would (0 0: a terminal that
gives no size), and write what reached it, byte for byte.

    pty_run.py ROWS COLS PROGRAM [ARGS...]

Exits with the command's exit code; a command still running after two
minutes is killed and fails.
"""
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

rows, cols = int(sys.argv[1]), int(sys.argv[2])
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
child = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
os.close(slave)
seen = b""
deadline = time.time() + 120
while True:
    left = deadline - time.time()
    if left <= 0:
        child.kill()
        sys.stdout.buffer.write(seen + b"\nTIMEOUT\n")
        sys.exit(3)
    r, _, _ = select.select([master], [], [], min(left, 1.0))
    if r:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other end closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    elif child.poll() is not None:
        break
code = child.wait()
sys.stdout.buffer.write(seen)
sys.exit(code)
