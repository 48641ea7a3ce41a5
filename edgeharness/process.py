"""A server as a local process: started in the foreground of a child, stopped by its pid.

Never by name: other nginx or Apache processes on the machine are not ours to stop.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 300.0
POLL_INTERVAL = 0.05


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the harness dies, even by SIGKILL (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the normal teardown still stops the process


def run(
    command: Sequence[str], timeout: float = COMMAND_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a short command (a config test, a reload signal), whatever its exit code."""
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, check=False
    )


class LocalProcess:
    """One long-running server process this harness started.

    Its output goes to ``log_path``; ``cpu_list`` pins it (and its workers) with taskset.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cpu_list: str | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self.env = env
        self.cpu_list = cpu_list
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = self.command
        if self.cpu_list is not None:
            command = ["taskset", "-c", self.cpu_list, *command]
        env = None if self.env is None else {**os.environ, **self.env}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} not started"
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Poll ``ready`` until it holds (True), the process exits or time runs out (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            if ready():
                return True
            time.sleep(POLL_INTERVAL)
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def log_tail(self, characters: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return "(no log)"
