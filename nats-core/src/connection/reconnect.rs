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

/// The first pause of a server that failed; it doubles with each failure in a row, up to
/// `reconnect_time_wait`.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

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
        shared
            .pool
            .lock()
            .record(&entry.addr, outcome, options.max_reconnect_attempts);
        match result {
            Ok(connection) => return Some(connection),
            Err(err) => {
                tracing::debug!(server = %entry.addr, error = %err, "reconnect failed");
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
/// With a user schedule, what it says. Otherwise a server is waited for only if it was
/// dialed recently: within `reconnect_time_wait` when it has not failed since it last
/// accepted (the server just lost, if it was up that long, is dialed at once), within the
/// backoff of its failures in a row when it has (10 ms, doubling, up to
/// `reconnect_time_wait`), plus a jitter of up to the backoff itself.
fn delay_before(options: &ConnectOptions, entry: &PoolEntry, attempt: u32) -> Duration {
    if let Some(schedule) = &options.reconnect_delay {
        return schedule(attempt);
    }
    let Some(last) = entry.last_attempt else {
        return Duration::ZERO;
    };
    let spacing = backoff(entry.failures, options.reconnect_time_wait);
    let jitter_max = if entry.addr.tls_required() {
        options.reconnect_jitter_tls
    } else {
        options.reconnect_jitter
    }
    .min(spacing);
    let jitter = Duration::from_micros(fastrand::u64(
        0..=u64::try_from(jitter_max.as_micros()).unwrap_or(u64::MAX),
    ));
    let due = last + spacing + jitter;
    due.saturating_duration_since(Instant::now())
}

/// The spacing between two attempts on a server that failed `failures` times in a row.
fn backoff(failures: u32, cap: Duration) -> Duration {
    if failures == 0 {
        return cap;
    }
    let factor = 1u32 << (failures - 1).min(20);
    FIRST_BACKOFF.saturating_mul(factor).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_10_ms_up_to_the_wait() {
        let cap = Duration::from_secs(2);
        let steps: Vec<u128> = (0..10).map(|f| backoff(f, cap).as_millis()).collect();
        assert_eq!(steps, [2000, 10, 20, 40, 80, 160, 320, 640, 1280, 2000]);
        assert_eq!(backoff(u32::MAX, cap), cap);
    }

    fn entry(failures: u32, tried_ago: Option<Duration>) -> PoolEntry {
        let mut pool =
            crate::server_pool::ServerPool::new(vec!["a:1".parse().expect("addr")], false);
        let mut entry = pool.next().expect("entry");
        entry.failures = failures;
        entry.last_attempt = tried_ago.map(|ago| std::time::Instant::now() - ago);
        entry
    }

    #[test]
    fn a_server_not_dialed_recently_is_dialed_at_once() {
        let options = ConnectOptions::new();
        assert_eq!(delay_before(&options, &entry(0, None), 1), Duration::ZERO);
        let long_ago = entry(0, Some(Duration::from_secs(3)));
        assert_eq!(delay_before(&options, &long_ago, 1), Duration::ZERO);
        // Connected to it a moment ago and lost it: a flapping server is not hammered.
        let flapping = delay_before(&options, &entry(0, Some(Duration::from_millis(100))), 1);
        assert!(
            flapping > Duration::from_millis(1800) && flapping <= Duration::from_millis(2000),
            "{flapping:?}"
        );
    }

    #[test]
    fn a_failing_server_waits_its_backoff_plus_jitter() {
        let options = ConnectOptions::new();
        for _ in 0..50 {
            let wait = delay_before(&options, &entry(3, Some(Duration::ZERO)), 4);
            assert!(
                wait <= Duration::from_millis(80) && wait > Duration::from_millis(35),
                "{wait:?}"
            );
        }
    }

    #[test]
    fn a_user_schedule_replaces_it() {
        let options = ConnectOptions::new()
            .reconnect_delay_callback(|n| Duration::from_millis(u64::from(n) * 7));
        assert_eq!(
            delay_before(&options, &entry(0, None), 3),
            Duration::from_millis(21)
        );
    }
}
