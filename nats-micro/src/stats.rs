//! The counters of one endpoint and their arithmetic; no I/O, no clock.

use std::time::Duration;

/// What an endpoint counted since it started or was last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Requests delivered to the endpoint.
    pub(crate) num_requests: u64,
    /// Error replies, failed handlers and failed sends.
    pub(crate) num_errors: u64,
    /// The latest error as `"<code>:<description>"`, empty when there was none.
    pub(crate) last_error: String,
    /// Time spent handling requests, in total.
    pub(crate) processing_time: Duration,
}

impl Counters {
    /// Counts a request as delivered. It is counted on arrival, before its reply can reach
    /// the caller, so that a STATS request sent after the reply always sees it.
    pub(crate) fn request(&mut self) {
        self.num_requests = self.num_requests.saturating_add(1);
    }

    /// Adds the time one request took.
    pub(crate) fn processed(&mut self, elapsed: Duration) {
        self.processing_time = self.processing_time.saturating_add(elapsed);
    }

    /// Counts an error and remembers it as the latest.
    pub(crate) fn error(&mut self, last_error: String) {
        self.num_errors = self.num_errors.saturating_add(1);
        self.last_error = last_error;
    }

    /// Total processing time divided by the number of requests, in whole nanoseconds (as
    /// nats.go computes it); zero when there was no request.
    pub(crate) fn average_processing_time(&self) -> Duration {
        if self.num_requests == 0 {
            return Duration::ZERO;
        }
        let average = self.processing_time.as_nanos() / u128::from(self.num_requests);
        Duration::from_nanos(u64::try_from(average).unwrap_or(u64::MAX))
    }

    /// Zeroes every counter.
    pub(crate) fn reset(&mut self) {
        *self = Counters::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_is_whole_nanoseconds_and_zero_without_requests() {
        let mut counters = Counters::default();
        assert_eq!(counters.average_processing_time(), Duration::ZERO);
        for nanos in [10, 20, 2] {
            counters.request();
            counters.processed(Duration::from_nanos(nanos));
        }
        assert_eq!(counters.num_requests, 3);
        assert_eq!(counters.processing_time, Duration::from_nanos(32));
        assert_eq!(counters.average_processing_time(), Duration::from_nanos(10));
    }

    #[test]
    fn errors_keep_the_latest_and_reset_clears_everything() {
        let mut counters = Counters::default();
        counters.request();
        counters.error("400:bad".into());
        counters.error("500:worse".into());
        assert_eq!(counters.num_errors, 2);
        assert_eq!(counters.last_error, "500:worse");
        counters.reset();
        assert_eq!(counters, Counters::default());
    }

    #[test]
    fn counters_saturate_instead_of_overflowing() {
        let mut counters = Counters {
            num_requests: u64::MAX,
            num_errors: u64::MAX,
            last_error: String::new(),
            processing_time: Duration::MAX,
        };
        counters.request();
        counters.error("500:x".into());
        counters.processed(Duration::from_secs(1));
        assert_eq!(counters.num_requests, u64::MAX);
        assert_eq!(counters.num_errors, u64::MAX);
        assert_eq!(counters.processing_time, Duration::MAX);
        assert!(counters.average_processing_time() > Duration::ZERO);
    }
}
