#!/usr/bin/env bash
# Runs the demo against a NATS server, in three steps:
#   1. the demo example: pub/sub, request/reply, the user service and its table;
#   2. the synchronous sensor pipeline (blocking client, a publisher thread and two
#      workers in one queue group, configured from the environment);
#   3. the user service started in the background, listed by the command-line tool
#      (`nats-rs micro ls`), then stopped.
#
# With NATS_URL set, the demo uses that server. Otherwise this starts a
# throw-away nats-server on a free 127.0.0.1 port, points NATS_URL at it, and
# stops it when the demo exits. Every wait is bounded; whatever was started is
# stopped on exit, Ctrl-C included.
#
# Usage: scripts/demo.sh [demo arguments...]   (the arguments go to step 1)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [[ -z "${NATS_URL:-}" ]]; then
    resolved="$(./scripts/install-nats-server.sh | tail -n 1)"
    NATS_SERVER_BIN="${resolved#NATS_SERVER_BIN=}"
    export NATS_SERVER_BIN
fi

# Build first so the server does not sit idle through a long compile.
cargo build --quiet -p examples --bin demo --bin sensors --bin user_service
cargo build --quiet -p nats-cli

workdir="$(mktemp -d "${TMPDIR:-/tmp}/nats-demo.XXXXXX")"
server_pid=""
service_pid=""
step_pid=""
# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
    local pid
    for pid in "$step_pid" "$service_pid" "$server_pid"; do
        if [[ -n "$pid" ]]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs one step in the background so that a signal to this script runs the
# traps at once instead of after the step finishes; returns the step's status.
# (`cargo run` execs the program, so $! is the program itself.)
run_step() {
    "$@" <&0 &
    step_pid=$!
    local status=0
    wait "$step_pid" || status=$?
    step_pid=""
    return "$status"
}

# Waits up to 10 s for a line containing $2 in the file $1, while the process
# $3 runs.
wait_for_line() {
    local file="$1" text="$2" pid="$3"
    for _ in $(seq 1 100); do
        if grep -q -- "$text" "$file" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}

if [[ -z "${NATS_URL:-}" ]]; then
    # `-p -1` lets the server pick a free port; it logs the one it chose.
    log="$workdir/nats-server.log"
    "$NATS_SERVER_BIN" -a 127.0.0.1 -p -1 -js -sd "$workdir" 2>"$log" &
    server_pid=$!

    port=""
    for _ in $(seq 1 100); do
        port="$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")"
        if [[ -n "$port" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            break
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        port=""
        sleep 0.1
    done
    if [[ -z "$port" ]]; then
        echo "demo: nats-server did not start; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    export NATS_URL="nats://127.0.0.1:$port"
fi

echo "==> demo against $NATS_URL" >&2
run_step cargo run --quiet -p examples --bin demo -- "$@"

echo >&2
echo "==> the sensor pipeline: blocking client, two workers in one queue group" >&2
run_step cargo run --quiet -p examples --bin sensors -- --count 200

echo >&2
echo "==> the user service in the background, listed by the command-line tool" >&2
cargo run --quiet -p examples --bin user_service \
    >"$workdir/user_service.out" 2>"$workdir/user_service.err" &
service_pid=$!
if ! wait_for_line "$workdir/user_service.out" " serving" "$service_pid"; then
    echo "demo: the user service did not start; it said:" >&2
    cat "$workdir/user_service.out" "$workdir/user_service.err" >&2
    exit 1
fi
echo "\$ nats-rs micro ls" >&2
run_step cargo run --quiet -p nats-cli -- micro ls

# SIGTERM stops the service gracefully; it gets 5 s before SIGKILL.
kill -TERM "$service_pid" 2>/dev/null || true
for _ in $(seq 1 50); do
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$service_pid" 2>/dev/null || true
status=0
wait "$service_pid" || status=$?
service_pid=""
if ! grep -qx "stopped" "$workdir/user_service.out"; then
    echo "demo: the user service did not stop gracefully (status $status); it said:" >&2
    cat "$workdir/user_service.out" "$workdir/user_service.err" >&2
    exit 1
fi
echo "the background user service stopped" >&2
