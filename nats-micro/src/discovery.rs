//! [`Discovery`]: finds services and reads their INFO and STATS, for every service, the
//! instances of one, or one instance. One request is sent; every reply is collected until a
//! timeout, or until replies stall.

use std::time::Duration;

use bytes::Bytes;
use nats_core::{Client, Message, RequestError, RequestErrorKind, RequestMany};
use serde::de::DeserializeOwned;

use crate::error::ServiceError;
use crate::monitor::{control_subject, ServiceVerb, DEFAULT_PREFIX};
use crate::schema::{InfoResponse, PingResponse, StatsResponse};
use crate::trace;

/// How long discovery waits for replies, by default.
pub const DEFAULT_DISCOVERY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long discovery waits for another reply after the latest, by default.
pub const DEFAULT_DISCOVERY_STALL: Duration = Duration::from_millis(250);

/// The discovery client.
///
/// Replies that do not parse, or that are error replies, are skipped (and logged at debug
/// level), as natscli does. Parsing accepts what nats.go, nats-py, nats.js and async-nats
/// write.
///
/// ```no_run
/// use std::time::Duration;
/// use nats_micro::Discovery;
///
/// # async fn demo(client: nats_core::Client) -> Result<(), nats_core::RequestError> {
/// let discovery = Discovery::new(&client).stall(Duration::from_millis(100));
/// for ping in discovery.ping().await? {
///     println!("{} {} {}", ping.name, ping.version, ping.id);
/// }
/// for stats in discovery.stats_service("calc").await? {
///     let requests: u64 = stats.endpoints.iter().map(|e| e.num_requests).sum();
///     println!("{}: {requests} requests", stats.id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Discovery {
    client: Client,
    prefix: String,
    timeout: Duration,
    stall: Duration,
}

impl Discovery {
    /// A discovery client on `client` with the default prefix (`$SRV`), timeout and stall.
    pub fn new(client: &Client) -> Self {
        Discovery::with_prefix(client, DEFAULT_PREFIX)
    }

    /// A discovery client on `client` that queries `<prefix>.PING` and so on instead of
    /// `$SRV.PING`, for services started with the same
    /// [`api_prefix`](crate::ServiceBuilder::api_prefix).
    pub fn with_prefix(client: &Client, prefix: impl Into<String>) -> Self {
        Discovery {
            client: client.clone(),
            prefix: prefix.into(),
            timeout: DEFAULT_DISCOVERY_TIMEOUT,
            stall: DEFAULT_DISCOVERY_STALL,
        }
    }

    /// Queries `<prefix>.PING` and so on instead of `$SRV.PING`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The prefix of the control subjects it queries.
    pub fn api_prefix(&self) -> &str {
        &self.prefix
    }

    /// Stops collecting this long after the request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stops collecting when no reply came for this long after the latest one.
    pub fn stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// Pings every service instance.
    ///
    /// # Errors
    /// A [`RequestError`] when the request cannot be sent; no service is an empty list.
    pub async fn ping(&self) -> Result<Vec<PingResponse>, RequestError> {
        self.collect(ServiceVerb::Ping, None, None).await
    }

    /// Pings every instance of the service `name`.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn ping_service(&self, name: &str) -> Result<Vec<PingResponse>, RequestError> {
        self.collect(ServiceVerb::Ping, Some(name), None).await
    }

    /// Pings the instance `id` of the service `name`.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn ping_instance(
        &self,
        name: &str,
        id: &str,
    ) -> Result<Option<PingResponse>, RequestError> {
        self.collect_one(ServiceVerb::Ping, name, id).await
    }

    /// The INFO of every service instance.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn info(&self) -> Result<Vec<InfoResponse>, RequestError> {
        self.collect(ServiceVerb::Info, None, None).await
    }

    /// The INFO of every instance of the service `name`.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn info_service(&self, name: &str) -> Result<Vec<InfoResponse>, RequestError> {
        self.collect(ServiceVerb::Info, Some(name), None).await
    }

    /// The INFO of the instance `id` of the service `name`.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn info_instance(
        &self,
        name: &str,
        id: &str,
    ) -> Result<Option<InfoResponse>, RequestError> {
        self.collect_one(ServiceVerb::Info, name, id).await
    }

    /// The STATS of every service instance.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn stats(&self) -> Result<Vec<StatsResponse>, RequestError> {
        self.collect(ServiceVerb::Stats, None, None).await
    }

    /// The STATS of every instance of the service `name`.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn stats_service(&self, name: &str) -> Result<Vec<StatsResponse>, RequestError> {
        self.collect(ServiceVerb::Stats, Some(name), None).await
    }

    /// The STATS of the instance `id` of the service `name`.
    ///
    /// # Errors
    /// As [`ping`](Self::ping).
    pub async fn stats_instance(
        &self,
        name: &str,
        id: &str,
    ) -> Result<Option<StatsResponse>, RequestError> {
        self.collect_one(ServiceVerb::Stats, name, id).await
    }

    async fn collect_one<T: DeserializeOwned>(
        &self,
        verb: ServiceVerb,
        name: &str,
        id: &str,
    ) -> Result<Option<T>, RequestError> {
        let replies = self.request(verb, Some(name), Some(id), Some(1)).await?;
        Ok(replies.iter().find_map(parse))
    }

    async fn collect<T: DeserializeOwned>(
        &self,
        verb: ServiceVerb,
        name: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<T>, RequestError> {
        let replies = self.request(verb, name, id, None).await?;
        Ok(replies.iter().filter_map(parse).collect())
    }

    async fn request(
        &self,
        verb: ServiceVerb,
        name: Option<&str>,
        id: Option<&str>,
        max: Option<usize>,
    ) -> Result<Vec<Message>, RequestError> {
        let subject = control_subject(&self.prefix, verb, name, id);
        let mut options = RequestMany::new().timeout(self.timeout).stall(self.stall);
        if let Some(max) = max {
            options = options.max_messages(max);
        }
        if let Some(headers) = trace::injected(None) {
            options = options.headers(headers);
        }
        match self
            .client
            .request_many(subject, Bytes::new(), options)
            .await
        {
            Err(error) if error.kind() == RequestErrorKind::NoResponders => Ok(Vec::new()),
            other => other,
        }
    }
}

/// A reply as `T`; `None` (logged) for error replies and what does not parse.
fn parse<T: DeserializeOwned>(message: &Message) -> Option<T> {
    if let Some(error) = ServiceError::from_message(message) {
        tracing::debug!(%error, subject = %message.subject, "discovery reply is an error");
        return None;
    }
    serde_json::from_slice(&message.payload)
        .map_err(|error| tracing::debug!(%error, "discovery reply skipped"))
        .ok()
}
