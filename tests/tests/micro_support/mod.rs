//! Helpers shared by the `micro_*` integration tests: bounded waits, raw `$SRV` replies as
//! JSON values, a quick discovery client, and summing STATS.
//!
//! Every wait is bounded by [`WAIT`], so a bug makes a test fail instead of hanging.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code, unused_imports)]

use std::time::Duration;

use nats_core::{Client, RequestErrorKind, RequestMany};
use nats_micro::Discovery;
use nats_micro::{BoxEndpoint, Reply, Request, ServiceError};
use serde_json::Value;
use std::task::{Context, Poll};
use tower::Layer;

pub(crate) use nats_tests::{within, WAIT};

/// A connected client.
pub(crate) async fn connect(url: &str) -> Client {
    within("connect", nats_core::connect(url))
        .await
        .expect("connect")
}

/// Discovery that gives up quickly once replies stop.
pub(crate) fn discovery(client: &Client) -> Discovery {
    Discovery::new(client)
        .timeout(Duration::from_secs(3))
        .stall(Duration::from_millis(300))
}

/// Every reply to `subject` (one request), each parsed as raw JSON.
pub(crate) async fn raw_replies(client: &Client, subject: &str) -> Vec<Value> {
    let options = RequestMany::new()
        .timeout(Duration::from_secs(3))
        .stall(Duration::from_millis(300));
    let replies = match within(subject, client.request_many(subject, "", options)).await {
        Ok(replies) => replies,
        Err(error) if error.kind() == RequestErrorKind::NoResponders => Vec::new(),
        Err(error) => panic!("{subject}: {error}"),
    };
    replies
        .iter()
        .map(|reply| {
            assert!(reply.headers.is_none(), "a control reply has no headers");
            serde_json::from_slice(&reply.payload).unwrap_or_else(|e| {
                panic!("{subject}: reply is not JSON ({e}): {:?}", reply.payload)
            })
        })
        .collect()
}

/// The one reply to `subject`, parsed as raw JSON.
pub(crate) async fn raw_reply(client: &Client, subject: &str) -> Value {
    let reply = within(subject, client.request(subject, ""))
        .await
        .expect("request");
    serde_json::from_slice(&reply.payload).expect("reply is JSON")
}

/// The replies whose `id` is `id`.
pub(crate) fn with_id<'a>(replies: &'a [Value], id: &str) -> Vec<&'a Value> {
    replies.iter().filter(|reply| reply["id"] == id).collect()
}

/// The sum of `num_requests` over every endpoint of every STATS reply.
pub(crate) fn total_requests(stats: &[nats_micro::schema::StatsResponse]) -> u64 {
    stats
        .iter()
        .flat_map(|s| &s.endpoints)
        .map(|e| e.num_requests)
        .sum()
}

/// The top-level keys of a JSON object, in the order they were written.
pub(crate) fn key_order(json: &[u8]) -> Vec<String> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    use std::fmt;

    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    deserializer.deserialize_map(Keys).expect("a JSON object")
}

/// Middleware answering requests that lack `header` with `error` (as an error reply), and
/// passing the others on.
#[derive(Clone)]
pub(crate) struct RequireHeaderLayer {
    header: &'static str,
    error: ServiceError,
}

impl RequireHeaderLayer {
    pub(crate) fn new(header: &'static str, error: ServiceError) -> Self {
        RequireHeaderLayer { header, error }
    }
}

pub(crate) struct RequireHeader<S> {
    inner: S,
    header: &'static str,
    error: ServiceError,
}

impl<S> Layer<S> for RequireHeaderLayer {
    type Service = RequireHeader<S>;

    fn layer(&self, inner: S) -> RequireHeader<S> {
        RequireHeader {
            inner,
            header: self.header,
            error: self.error.clone(),
        }
    }
}

impl tower::Service<Request> for RequireHeader<BoxEndpoint> {
    type Response = Reply;
    type Error = ServiceError;
    type Future = <BoxEndpoint as tower::Service<Request>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ServiceError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request
            .headers()
            .is_some_and(|h| h.get(self.header).is_some())
        {
            self.inner.call(request)
        } else {
            let error = self.error.clone();
            Box::pin(async { Ok(Reply::error_reply(error)) })
        }
    }
}

/// Asserts that `started` is a UTC time written as nats.go writes it (Go's RFC3339Nano):
/// `YYYY-MM-DDTHH:MM:SS`, then a fraction of 1 to 9 digits without trailing zeros (or none on
/// a whole second), then `Z`.
pub(crate) fn assert_go_time(started: &str) {
    let shape = |i: usize| started.as_bytes().get(i).copied();
    assert!(started.is_ascii() && started.len() >= 20, "{started}");
    assert_eq!(
        [4, 7, 10, 13, 16].map(shape),
        [b'-', b'-', b'T', b':', b':'].map(Some),
        "{started}"
    );
    let Some(rest) = started[19..].strip_suffix('Z') else {
        panic!("{started} is not UTC");
    };
    if let Some(fraction) = rest.strip_prefix('.') {
        assert!(
            (1..=9).contains(&fraction.len())
                && fraction.bytes().all(|b| b.is_ascii_digit())
                && !fraction.ends_with('0'),
            "{started}: the fraction must be 1 to 9 digits without trailing zeros"
        );
    } else {
        assert!(rest.is_empty(), "{started}");
    }
}
