//! Progress bars (indicatif) for objects put and got: on stderr, and only when stderr is a
//! terminal and the object is larger than one chunk, so that pipes, logs and tests never see
//! one.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nats_core::object_store::DEFAULT_CHUNK_SIZE;

/// How the bar looks: `put photo.jpg [=====>    ] 12.0 MiB/40.0 MiB 9.5 MiB/s eta 3s`.
const TEMPLATE: &str =
    "{msg} [{wide_bar}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}";

/// A bar for `total` bytes, labelled `message`; hidden (it draws nothing) unless stderr is a
/// terminal and `total` is more than one chunk.
pub(crate) fn bar(total: u64, message: &str) -> ProgressBar {
    if !shown(total, std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(style);
    bar.set_message(message.to_owned());
    bar
}

/// Whether an object of `total` bytes gets a bar.
fn shown(total: u64, stderr_is_terminal: bool) -> bool {
    stderr_is_terminal && total > DEFAULT_CHUNK_SIZE as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_objects_at_a_terminal_get_a_bar() {
        assert!(shown(10 << 20, true));
        assert!(!shown(10 << 20, false));
        assert!(!shown(1000, true));
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }
}
