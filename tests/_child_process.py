"""A child Python process whose stdout is read line by line under a deadline; the crash tests
(storage layer and Saver) SIGKILL such children at random moments."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class LineChild:
    """Runs ``python *args`` with the repository on PYTHONPATH and collects its output lines."""

    def __init__(self, *args: str):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.buf = b""
        self.lines: list[str] = []

    def wait_for(self, prefix: str, timeout: float = 30.0) -> None:
        """Blocks until the child printed a line starting with ``prefix``."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not any(line.startswith(prefix) for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"child printed no {prefix!r} in {timeout}s")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise AssertionError(f"child exited before {prefix!r}:\n{err}")
                self._take(chunk)

    def _take(self, chunk: bytes) -> None:
        self.buf += chunk
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [line.decode() for line in done]

    def finish(self, kill: bool, timeout: float = 30.0) -> tuple[int, str]:
        """SIGKILLs the child when ``kill``; returns (return code, stderr) after reading all
        of its output."""
        if kill:
            self.proc.send_signal(signal.SIGKILL)
        out, err = self.proc.communicate(timeout=timeout)
        self._take(out)
        return self.proc.returncode, err.decode()

    def saved_steps(self) -> list[int]:
        """The steps of the child's ``saved <step>`` lines."""
        return [int(line.split()[1]) for line in self.lines if line.startswith("saved ")]
