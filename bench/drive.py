"""Drive one case with wrk for a bounded time and read what it measured.

Each run is ``wrk -t1 -c32 -dNs`` against 127.0.0.1 with a generated Lua script that sets
the method and headers (and, for the "many origins" cases, a fresh Origin per request).
The script's ``done`` hook prints one machine-readable line, so nothing depends on the
layout of wrk's human-readable summary.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edges import PAYLOAD_PATH, cpu_seconds

WRK = shutil.which("wrk") or "/usr/bin/wrk"

_RESULT = re.compile(r"^corsgen-bench (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Request:
    """What wrk sends: a method, headers, and optionally a distinct Origin per request."""

    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    # "https://x{n}.example.net": every request a new, never-allowed Origin (n counts up).
    distinct_origin_template: str | None = None

    def header_dict(self) -> dict[str, str]:
        return dict(self.headers)

    def lua(self) -> str:
        lines = [f'wrk.method = "{self.method}"', f'wrk.path = "{PAYLOAD_PATH}"']
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in self.headers]
        if self.distinct_origin_template:
            prefix, suffix = self.distinct_origin_template.split("{n}")
            lines += [
                "local counter = 0",
                "request = function()",
                "    counter = counter + 1",
                f'    wrk.headers["Origin"] = "{prefix}" .. counter .. "{suffix}"',
                "    return wrk.format()",
                "end",
            ]
        lines += [
            "done = function(summary, latency, requests)",
            '    io.write(string.format("corsgen-bench requests=%d duration_us=%d '
            'status_errors=%d socket_errors=%d p50_us=%d p99_us=%d\\n",',
            "        summary.requests, summary.duration, summary.errors.status,",
            "        summary.errors.connect + summary.errors.read + summary.errors.write"
            " + summary.errors.timeout,",
            "        latency:percentile(50), latency:percentile(99)))",
            "end",
        ]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50_us: int
    p99_us: int
    server_cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU time per request: the cost of a case, whichever side saturated."""
        return 1e6 * self.server_cpu_seconds / max(self.requests, 1)


def wrk_command(port: int, script: Path, seconds: int, connections: int) -> list[str]:
    return [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "2s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{PAYLOAD_PATH}",
    ]


def run_wrk(
    port: int,
    request: Request,
    script: Path,
    seconds: int,
    connections: int,
    server_pid: int,
    cpu_list: str | None,
) -> Measurement:
    """One bounded wrk run; the server's CPU time is read from /proc around it."""
    script.write_text(request.lua(), encoding="utf-8")
    command = wrk_command(port, script, seconds, connections)
    if cpu_list is not None:
        command = ["taskset", "-c", cpu_list, *command]
    before = cpu_seconds(server_pid)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    after = cpu_seconds(server_pid)
    found = _RESULT.search(result.stdout)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    values = dict(item.split("=") for item in found.group(1).split())
    return Measurement(
        requests=int(values["requests"]),
        seconds=int(values["duration_us"]) / 1e6,
        status_errors=int(values["status_errors"]),
        socket_errors=int(values["socket_errors"]),
        p50_us=int(values["p50_us"]),
        p99_us=int(values["p99_us"]),
        server_cpu_seconds=after - before,
    )
