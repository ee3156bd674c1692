//! Finding the `nats-server` executable.

use std::env;
use std::path::{Path, PathBuf};

/// Environment variable that names the `nats-server` binary explicitly.
const ENV_VAR: &str = "NATS_SERVER_BIN";

/// Returns the `nats-server` binary the tests should run.
///
/// Looks, in order, at the `NATS_SERVER_BIN` environment variable, at
/// `<workspace>/.venv/bin/nats-server` (where
/// `./scripts/install-nats-server.sh` installs it), and at `nats-server` on
/// `PATH`.
///
/// # Panics
///
/// Panics, saying how to install one, if none of those exists.
pub fn nats_server_bin() -> PathBuf {
    if let Some(bin) = env::var_os(ENV_VAR).filter(|value| !value.is_empty()) {
        return PathBuf::from(bin);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/nats-server");
    if is_executable(&venv) {
        return venv;
    }
    if let Some(found) = find_on_path("nats-server") {
        return found;
    }
    panic!(
        "no nats-server binary found: set {ENV_VAR}, or run ./scripts/install-nats-server.sh \
         to install one into {}",
        venv.display()
    );
}

/// Returns the first executable called `name` in a directory on `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
