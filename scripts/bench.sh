#!/usr/bin/env bash
# The benchmark of nats-core against async-nats (bench/, a workspace of its own so the default
# build and CI never compile async-nats): makes sure a nats-server binary is available, then
# runs the release build, which starts one server for the whole run.
#
# Usage: scripts/bench.sh [--only SUBSTRING]... [--runs N] [--side ours|async-nats] [--json]
#                         [--default-limits] [--list]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The installer prints `NATS_SERVER_BIN=<path>` as its last stdout line.
resolved="$(./scripts/install-nats-server.sh | tail -n 1)"
NATS_SERVER_BIN="${resolved#NATS_SERVER_BIN=}"
export NATS_SERVER_BIN

echo "==> cargo run --release (bench/)${*:+ -- $*}" >&2
cargo run --release --quiet --manifest-path bench/Cargo.toml -- "$@"
