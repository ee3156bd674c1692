#!/usr/bin/env bash
# The project's test command: makes sure a nats-server binary is available,
# then runs every test in the workspace against it.
#
# Usage: scripts/test.sh [extra cargo test arguments...]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The installer prints `NATS_SERVER_BIN=<path>` as its last stdout line.
resolved="$(./scripts/install-nats-server.sh --with-python-peers | tail -n 1)"
NATS_SERVER_BIN="${resolved#NATS_SERVER_BIN=}"
export NATS_SERVER_BIN

echo "==> cargo test --workspace${*:+ $*}"
cargo test --workspace "$@"
