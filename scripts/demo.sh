#!/usr/bin/env bash
# Runs the demo example against a NATS server.
#
# With NATS_URL set, the demo uses that server. Otherwise this starts a
# throw-away nats-server on a free 127.0.0.1 port, points NATS_URL at it, and
# stops it when the demo exits.
#
# Usage: scripts/demo.sh [demo arguments...]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

demo=(cargo run --quiet -p examples --bin demo --)

if [[ -n "${NATS_URL:-}" ]]; then
    echo "==> demo against $NATS_URL" >&2
    exec "${demo[@]}" "$@"
fi

resolved="$(./scripts/install-nats-server.sh | tail -n 1)"
NATS_SERVER_BIN="${resolved#NATS_SERVER_BIN=}"
export NATS_SERVER_BIN

# Build first so the server does not sit idle through a long compile.
cargo build --quiet -p examples --bin demo

workdir="$(mktemp -d "${TMPDIR:-/tmp}/nats-demo.XXXXXX")"
server_pid=""
demo_pid=""
# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
    local pid
    for pid in "$demo_pid" "$server_pid"; do
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
echo "==> demo against $NATS_URL" >&2
# In the background so that a signal to this script runs the traps at once
# instead of after the demo finishes; `wait` passes on the demo's status.
# (`cargo run` execs the demo, so $! is the demo process itself.)
"${demo[@]}" "$@" <&0 &
demo_pid=$!
status=0
wait "$demo_pid" || status=$?
demo_pid=""
exit "$status"
