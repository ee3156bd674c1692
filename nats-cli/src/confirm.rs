//! Asking before deleting or replacing something, as the NATS CLI does: at a terminal the
//! question is asked (the default is no); anywhere else `--force` must say yes, so that a
//! script never deletes by accident and never hangs on a question nobody sees.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::CliError;

/// Whether to go ahead and `what` (`delete stream "ORDERS"`): yes with `force`; at a
/// terminal, the answer to `Really <what>? [y/N]` on stderr; otherwise
/// [`CliError::NotConfirmed`]. A "no" prints `skipped` on stderr.
pub(crate) async fn confirm(what: &str, force: bool) -> Result<bool, CliError> {
    if force {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NotConfirmed(what.to_owned()));
    }
    let question = format!("Really {what}? [y/N] ");
    // Reading the terminal blocks: off the runtime's threads, which keep the connection up.
    let answer = tokio::task::spawn_blocking(move || ask(&question))
        .await
        .map_err(std::io::Error::other)
        .and_then(|answer| answer)
        .map_err(|source| CliError::File {
            action: "read an answer from",
            path: "the terminal".to_owned(),
            source,
        })?;
    let yes = is_yes(&answer);
    if !yes {
        eprintln!("skipped");
    }
    Ok(yes)
}

/// Writes `question` to stderr and reads one line from stdin.
fn ask(question: &str) -> std::io::Result<String> {
    let mut err = std::io::stderr().lock();
    err.write_all(question.as_bytes())?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
}

/// `y` or `yes` in any case; anything else, an empty line included, is no.
fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_is_yes() {
        for yes in ["y", "Y\n", " yes \n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
