//! Finding a server again after a loss (or, with `retry_on_initial_connect`, for the first
//! time): one server at a time from the pool, with the waits of the reconnect schedule.

use std::future::Future;
use std::time::{Duration, Instant};

use super::dispatcher::Dispatcher;
use crate::connector::{self, Connection};
use crate::error::ConnectError;
use crate::options::ConnectOptions;
use crate::server_pool::PoolEntry;
use crate::shared::Shared;

/// The shortest pause between two attempts on a server that fails.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// While a server fails, the pause between two attempts is this fraction of how long it has
/// been failing: an outage is noticed to be over at most an eighth of its length late.
const BACKOFF_DIVISOR: u32 = 8;

/// Dials servers from the pool until one accepts, the pool runs out (every server failed
/// `max_reconnect_attempts` times in a row), every server refused the credentials twice in a
/// row, or the user closes the client. Commands keep being served meanwhile. `None` means the
/// client must close; the reason was reported.
pub(crate) async fn reconnect(shared: &Shared, dispatcher: &mut Dispatcher) -> Option<Connection> {
    let options = &shared.options;
    let mut attempt = 0u32;
    let mut last_error: Option<ConnectError> = None;
    loop {
        let next = {
            let pool = &mut *shared.pool.lock();
            if pool.all_refuse_credentials() && !options.ignore_auth_error_abort {
                let why = last_error.map_or_else(String::new, |e| format!(": {e}"));
                shared.events.error(format!(
                    "every server refused the credentials twice in a row; giving up{why}"
                ));
                return None;
            }
            pool.next()
        };
        let Some(entry) = next else {
            let why = last_error.map_or_else(String::new, |e| format!("; last error: {e}"));
            shared.events.error(format!(
                "gave up reconnecting: no server left in the pool{why}"
            ));
            return None;
        };
        attempt += 1;
        let wait = delay_before(options, &entry, attempt);
        if !wait.is_zero()
            && serve_while(dispatcher, tokio::time::sleep(wait))
                .await
                .is_none()
        {
            return None;
        }
        dispatcher.run_queued_commands();
        if dispatcher.take_exit().is_some() {
            return None;
        }
        shared.pool.lock().attempting(&entry.addr);
        let result = serve_while(dispatcher, connector::connect_one(&entry.addr, options)).await?;
        let outcome = connector::outcome(&result);
        shared.pool.lock().record(
            &entry.addr,
            outcome,
            options.max_reconnect_attempts,
            options.reconnect_time_wait,
        );
        match result {
            Ok(connection) => return Some(connection),
            Err(err) => {
                tracing::debug!(server = %entry.addr, error = %err, "reconnect failed");
                if let Some(refusal) = connector::refusal(&err) {
                    shared.events.server_error(refusal.error().clone());
                }
                shared.events.error(format!("reconnect failed: {err}"));
                last_error = Some(err);
            }
        }
    }
}

/// Runs `work` while serving commands; `None` if the client was closed first.
async fn serve_while<T>(dispatcher: &mut Dispatcher, work: impl Future<Output = T>) -> Option<T> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Some(done),
            command = dispatcher.next_command() => match command {
                Some(command) => dispatcher.handle_command(command),
                None => return None,
            },
        }
        if dispatcher.take_exit().is_some() {
            return None;
        }
    }
}

/// How long to wait before dialing `entry`, the `attempt`th server since the loss.
///
/// With a user schedule, what it says. Otherwise a server that works (it has not failed since
/// its last connection, which lasted) is dialed at once: after a loss the next server of the
/// pool, in a cluster another node, and the server just lost. A failing server waits, from
/// its last dial, an eighth of how long it has been failing (10 ms at least,
/// `reconnect_time_wait` at most), plus a jitter of up to a quarter of that.
fn delay_before(options: &ConnectOptions, entry: &PoolEntry, attempt: u32) -> Duration {
    if let Some(schedule) = &options.reconnect_delay {
        return schedule(attempt);
    }
    let (Some(since), Some(last)) = (entry.failing_since, entry.last_attempt) else {
        return Duration::ZERO;
    };
    let spacing = backoff(since.elapsed(), options.reconnect_time_wait);
    let jitter_max = if entry.addr.tls_required() || options.tls.wanted() {
        options.reconnect_jitter_tls
    } else {
        options.reconnect_jitter
    }
    .min(spacing / 4);
    let jitter = Duration::from_micros(fastrand::u64(
        0..=u64::try_from(jitter_max.as_micros()).unwrap_or(u64::MAX),
    ));
    let due = last + spacing + jitter;
    due.saturating_duration_since(Instant::now())
}

/// The pause between two attempts on a server that has been failing for `failing`.
fn backoff(failing: Duration, cap: Duration) -> Duration {
    (failing / BACKOFF_DIVISOR).clamp(FIRST_BACKOFF.min(cap), cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_an_eighth_of_the_failing_time_within_bounds() {
        let cap = Duration::from_secs(2);
        let ms = |failing_ms| backoff(Duration::from_millis(failing_ms), cap).as_millis();
        assert_eq!(
            [ms(0), ms(40), ms(800), ms(8_000), ms(60_000)],
            [10, 10, 100, 1000, 2000]
        );
        assert_eq!(
            backoff(Duration::from_secs(60), Duration::from_millis(1)),
            Duration::from_millis(1)
        );
    }

    fn entry(failing_for: Option<Duration>, tried_ago: Duration) -> PoolEntry {
        let mut pool =
            crate::server_pool::ServerPool::new(vec!["a:1".parse().expect("addr")], false);
        let mut entry = pool.next().expect("entry");
        entry.failing_since = failing_for.map(|d| Instant::now() - d);
        entry.last_attempt = Some(Instant::now() - tried_ago);
        entry
    }

    #[test]
    fn a_server_that_works_is_dialed_at_once() {
        let options = ConnectOptions::new();
        assert_eq!(
            delay_before(&options, &entry(None, Duration::ZERO), 1),
            Duration::ZERO
        );
        // Failing for a while, but last dialed long ago: due already.
        let long_ago = entry(Some(Duration::from_secs(1)), Duration::from_secs(3));
        assert_eq!(delay_before(&options, &long_ago, 2), Duration::ZERO);
    }

    #[test]
    fn a_failing_server_waits_a_share_of_its_outage_plus_jitter() {
        let options = ConnectOptions::new();
        for _ in 0..50 {
            let wait = delay_before(
                &options,
                &entry(Some(Duration::from_millis(800)), Duration::ZERO),
                4,
            );
            assert!(
                wait <= Duration::from_millis(125) && wait > Duration::from_millis(95),
                "{wait:?}"
            );
        }
        // Failing for minutes: reconnect_time_wait, plus at most the 100 ms jitter.
        let wait = delay_before(
            &options,
            &entry(Some(Duration::from_secs(600)), Duration::ZERO),
            31,
        );
        assert!(
            wait > Duration::from_millis(1900) && wait <= Duration::from_millis(2100),
            "{wait:?}"
        );
    }

    #[test]
    fn a_user_schedule_replaces_it() {
        let options = ConnectOptions::new()
            .reconnect_delay_callback(|n| Duration::from_millis(u64::from(n) * 7));
        assert_eq!(
            delay_before(&options, &entry(None, Duration::ZERO), 3),
            Duration::from_millis(21)
        );
    }
}
