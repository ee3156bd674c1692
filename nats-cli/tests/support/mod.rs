//! What the CLI tests share: running the binary, the bus it runs against, and reading its
//! tables.

// Each test file uses a part of it.
#![allow(dead_code, unused_imports)]

mod bus;
mod process;

use std::path::{Path, PathBuf};

pub(crate) use bus::{Bus, SERVICE};
pub(crate) use process::{nats_rs, Outcome, Running};

/// A server that refuses connections: nothing listens on port 1.
pub(crate) const DEAD_SERVER: &str = "nats://127.0.0.1:1";

/// The cells of the table rows of `out` (`│ a ┆ b │` lines), trimmed.
pub(crate) fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|line| line.starts_with('│'))
        .map(|line| {
            line.trim_matches('│')
                .split(['│', '┆'])
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

/// Writes the NATS CLI context `name` with `url` under `config` (an XDG_CONFIG_HOME).
pub(crate) fn write_context(config: &Path, name: &str, url: &str) -> PathBuf {
    let dir = config.join("nats").join("context");
    std::fs::create_dir_all(&dir).expect("context directory");
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::json!({ "description": "a test context", "url": url });
    std::fs::write(&path, text.to_string()).expect("write the context");
    path
}
