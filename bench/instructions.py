"""Instructions per request at the edge, counted by valgrind's callgrind.

Requests per second and CPU time depend on whatever else the machine runs; the number of
instructions a server executes for one request does not. This runs the benchmark's HAProxy
and nginx (the same policies, sites and requests as ``bench/run.py --only haproxy,nginx``;
nginx as one process, ``master_process off``, so that callgrind counts the process that
serves) under callgrind, and for every case: a few requests to warm up, counters zeroed
(``callgrind_control -z``), N requests on one keep-alive connection, counters dumped
(``callgrind_control -d``). It prints instructions per request and the ratio to the case's
baseline (no CORS, or nginx's floor). User-space instructions only: the kernel's share of
a request (the socket calls, which are the same with and without corsgen) is not in these
figures, so a ratio here is larger than the CPU-time ratio of ``bench/run.py``, and a case
within 3 % of its baseline here is within 3 % in CPU time too.

    python3 bench/instructions.py [--only haproxy,nginx,envoy] [--quick] [--requests N]

Needs valgrind (apt-get install valgrind). Talks to 127.0.0.1 only; a bounded number of
requests per case.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import edges
from run import FULL, QUICK, Bench, Case, prepare

from edgeharness.targets import nginx_http_directives

# Requests sent to every case before its counters are zeroed: the first requests of a
# connection fill caches and pools that later requests reuse.
WARM_UP = 50
CALLGRIND_START_TIMEOUT = 1200.0
SUMMARY = re.compile(r"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def send(case: Case, count: int, first: int = 0) -> None:
    """``count`` requests of ``case`` on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", case.port, timeout=60)
    try:
        for n in range(first, first + count):
            headers = case.request.header_dict()
            template = case.request.distinct_origin_template
            if template:
                headers["Origin"] = template.replace("{n}", str(n))
            connection.request(case.request.method, edges.PAYLOAD_PATH, headers=headers)
            response = connection.getresponse()
            response.read()
    finally:
        connection.close()


def counted(pid: int, out_dir: Path, case: Case, count: int) -> int:
    """Instructions the server executed for ``count`` requests of ``case``."""
    send(case, WARM_UP, first=10_000_000)
    subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True, check=True)
    before = set(out_dir.glob("callgrind.out.*"))
    send(case, count)
    subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True, check=True)
    for _attempt in range(100):  # the dump is written by the server's own thread
        new = set(out_dir.glob("callgrind.out.*")) - before
        for dump in new:
            match = SUMMARY.search(dump.read_text(errors="replace"))
            if match:
                return int(match.group(1))
        time.sleep(0.1)
    raise RuntimeError(f"no callgrind dump for {case.key}")


def plain_server(server: str, bench: Bench, root: Path) -> edges.Server:
    """The server as ``bench/run.py`` starts it (not yet started)."""
    if server == "haproxy":
        return edges.haproxy_server(root, bench.sites["haproxy"], bench.haproxy_map_dir, None)
    if server == "envoy":
        return edges.envoy_server(root, bench.sites["envoy"], None)
    extra = nginx_http_directives(site.http_text for site in bench.sites["nginx"])
    return edges.nginx_server(root, bench.sites["nginx"], extra, None)


def under_callgrind(server: str, plain: edges.Server, root: Path) -> edges.Server:
    command = [
        # nginx in one process: the master would hand the requests to a worker that
        # callgrind_control does not address.
        arg.replace("daemon off;", "daemon off; master_process off;") if server == "nginx" else arg
        for arg in plain.command
    ]
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={root}/callgrind.out.%p"]
    # Everything runs some 50 times slower under callgrind, loading the configuration too
    # (Envoy builds its 10 000-origin matchers in 5 s, so in about 4 minutes here).
    return edges.Server(
        server,
        root,
        [*callgrind, *command],
        probe_port=plain.probe_port,
        start_timeout=CALLGRIND_START_TIMEOUT,
    )


# The servers this counts for; Envoy counts its main thread too (the stats flush every 5 s,
# a few thousand instructions, within the 1 % this is repeatable to).
SERVERS = ("haproxy", "nginx", "envoy")
REQUEST_TEXT = {
    "allowed": "GET, allowed Origin",
    "denied": "GET, disallowed Origin",
    "many": "GET, a new disallowed Origin each request",
}


def measure(server: str, bench: Bench, root: Path, count: int) -> None:
    """Print the table of one server's cases."""
    process = under_callgrind(server, plain_server(server, bench, root), root)
    try:
        process.start()
        pid = process.process.pid if process.process else 0
        baselines = {
            group: case for (name, group), case in bench.baselines.items() if name == server
        }
        cases = [*baselines.values(), *(case for case in bench.cases if case.server == server)]
        version = {"haproxy": edges.HAPROXY, "nginx": edges.NGINX, "envoy": edges.ENVOY}[
            server
        ].version()
        print(f"\n{server} {version} under callgrind, {count} requests per case\n")
        print("| case | origins | request | baseline | instructions/request | × baseline | over |")
        print("|---|---:|---|---|---:|---:|---:|")
        # A case measured once per (port, request): nginx's floor cases repeat corsgen's.
        seen: dict[tuple[int, str], float] = {}
        for case in cases:
            suffix = case.key.rsplit("-", 1)[-1]
            key = (case.port, suffix)
            if key not in seen:
                seen[key] = counted(pid, root, case, count) / count
            baseline = baselines.get(case.group, case)
            base = seen[(baseline.port, baseline.key.rsplit("-", 1)[-1])]
            print(
                f"| {case.label} | {case.size} | {REQUEST_TEXT.get(suffix, 'GET')} |"
                f" {baseline.label if baseline is not case else '–'} | {seen[key]:,.0f} |"
                f" {seen[key] / base:.3f} | +{seen[key] - base:,.0f} |"
            )
    finally:
        process.stop()


def missing_valgrind() -> bool:
    """Say so (on stderr) when valgrind's tools are not installed."""
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} is missing (apt-get install valgrind)", file=sys.stderr)
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--only", default="haproxy,nginx", help="comma-separated: haproxy, nginx, envoy"
    )
    parser.add_argument("--quick", action="store_true", help="the sizes of run.py --quick")
    parser.add_argument("--requests", type=int, default=2000, help="requests per case")
    args = parser.parse_args(argv)
    if missing_valgrind():
        return 2
    servers = [server for server in SERVERS if server in args.only.split(",")]
    count = max(100, min(args.requests, 100_000))
    root = Path(tempfile.mkdtemp(prefix="corsgen-instructions-"))
    root.chmod(0o755)
    try:
        bench = prepare(QUICK if args.quick else FULL, root, set(servers))
        for server in servers:
            measure(server, bench, root, count)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
