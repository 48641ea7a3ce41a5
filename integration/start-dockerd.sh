#!/usr/bin/env bash
# Start a Docker engine for the integration tests if none answers yet.
#
# The sandboxes this project runs in have no bridge/iptables support, so the
# daemon is started with --bridge=none --iptables=false; the test containers
# use network_mode=host anyway.  Idempotent: does nothing when `docker info`
# already works.  Log: $CORSGEN_DOCKERD_LOG, pid file: $CORSGEN_DOCKERD_PID.
set -euo pipefail

LOG="${CORSGEN_DOCKERD_LOG:-/tmp/corsgen-dockerd.log}"
PIDFILE="${CORSGEN_DOCKERD_PID:-/tmp/corsgen-dockerd.pid}"
WAIT_SECONDS="${CORSGEN_DOCKERD_WAIT:-60}"

if docker info >/dev/null 2>&1; then
    echo "docker engine already answers"
    exit 0
fi

# A pid file from an earlier start whose daemon is still alive: just wait for it.
if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "dockerd (pid $(cat "$PIDFILE")) is starting; waiting"
else
    if ! command -v dockerd >/dev/null; then
        echo "dockerd not found: apt-get install docker.io" >&2
        exit 1
    fi
    echo "starting dockerd (log: $LOG)"
    # setsid: the daemon must outlive this script and the shell that ran it.
    setsid dockerd --bridge=none --iptables=false --ip6tables=false \
        --pidfile "$PIDFILE.dockerd" >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
fi

for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if docker info >/dev/null 2>&1; then
        echo "docker engine is up (pid $(cat "$PIDFILE"))"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "dockerd exited; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
        exit 1
    fi
    sleep 0.5
done
echo "dockerd did not answer within ${WAIT_SECONDS}s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2
exit 1
