//! A server configuration file a test owns and may rewrite: between a `stop` and a
//! `start_again`, or before a reload, the server reads what the test wrote last.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::server::NatsServer;

/// A config file in a temporary directory of its own, passed to servers with `-c`.
pub struct ConfigFile {
    // Removed when the value is dropped.
    _dir: TempDir,
    path: PathBuf,
}

impl ConfigFile {
    /// Writes `text` into a new file.
    ///
    /// # Panics
    /// When the temporary directory or the file cannot be made.
    pub fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("nats-server.conf");
        let file = ConfigFile { _dir: dir, path };
        file.write(text);
        file
    }

    /// Replaces the file's text.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, text: &str) {
        std::fs::write(&self.path, text).expect("write the config file");
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a server reading this file.
    ///
    /// # Panics
    /// As [`NatsServer::spawn`], and when the path is not UTF-8.
    pub fn spawn(&self) -> NatsServer {
        let path = self.path.to_str().expect("UTF-8 temporary path");
        NatsServer::spawn_with_args(&["-c", path])
    }
}
