"""The trailsql shell in a pseudo-terminal, as a person at a keyboard: the
part the test drivers (pty_shell.py, pty_session.py) share. Each wait has a
deadline, so a hang fails instead of blocking.
"""
import os
import pty
import select
import sys
import time


class Shell:
    def __init__(self, binary, source):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(binary, [binary, "--source", source])
        self.seen = b""

    def wait_for(self, needle, timeout=60.0):
        """Read until `needle`; print what was read up to its end."""
        deadline = time.time() + timeout
        while needle.encode() not in self.seen:
            left = deadline - time.time()
            if left <= 0:
                print("TIMEOUT waiting for %r" % needle)
                print(self.seen.decode(errors="replace"))
                sys.exit(3)
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.seen += chunk
        mark = self.seen.index(needle.encode()) + len(needle)
        out, self.seen = self.seen[:mark], self.seen[mark:]
        sys.stdout.write(out.decode(errors="replace"))
        sys.stdout.flush()

    def send(self, keys):
        os.write(self.fd, keys.encode())

    def quit(self):
        """\\q, then print the shell's exit code."""
        self.send("\\q\r")
        deadline = time.time() + 60
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            if time.time() > deadline:
                print("TIMEOUT waiting for the shell to exit after \\q")
                os.kill(self.pid, 9)
                sys.exit(3)
            # Keep reading so the shell never blocks on a full terminal buffer.
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    os.read(self.fd, 4096)
                except OSError:
                    pass
        print("\nEXIT %d" % os.waitstatus_to_exitcode(status))
