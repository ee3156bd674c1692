//! [`ServiceConfig`], the plain description of a service, and [`ServiceBuilder`], the fluent way
//! to write one together with its middleware and first endpoints.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use nats_core::Client;
use serde_json::Value;
use tower::{Layer, Service as TowerService};

use crate::control::ControlHandler;
use crate::endpoint::{boxed, BoxEndpoint, EndpointConfig, PendingEndpoint};
use crate::error::{AsyncError, ConfigError, ConfigErrorKind, ServiceError, StartError};
use crate::group::GroupConfig;
use crate::monitor::DEFAULT_PREFIX;
use crate::queue_group::QueueGroup;
use crate::reply::IntoReply;
use crate::request::Request;
use crate::schema::{EndpointStats, InfoResponse, Metadata, PingResponse, StatsResponse};
use crate::service::Service;
use crate::validate;

/// How many requests one endpoint handles at once unless configured otherwise.
pub const DEFAULT_MAX_CONCURRENCY: usize = 256;

/// How long [`Service::stop`](crate::Service::stop) lets the requests already received finish
/// unless configured otherwise.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Computes the `data` of an endpoint in STATS replies from its current counters: nats-py's
/// `ServiceConfig.stats_handler` and nats.go's `Config.StatsHandler`. It adds to the STATS
/// reply; to replace the reply itself, see
/// [`ServiceConfig::stats_reply_handler`].
pub type StatsHandler = Arc<dyn Fn(&EndpointStats) -> Value + Send + Sync>;

/// Told of asynchronous errors on the service's subscriptions, such as a slow consumer.
pub type ErrorHandler = Arc<dyn Fn(&AsyncError) + Send + Sync>;

/// Wraps every endpoint's handler in a service-wide middleware.
pub(crate) type ServiceLayer = Arc<dyn Fn(BoxEndpoint) -> BoxEndpoint + Send + Sync>;

/// The configuration of a service, as nats-py's `ServiceConfig`.
///
/// ```
/// use nats_micro::{QueueGroup, ServiceConfig};
/// let config = ServiceConfig {
///     description: Some("adds numbers".into()),
///     queue_group: QueueGroup::from("calculators"),
///     ..ServiceConfig::new("calc", "1.0.0")
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone)]
pub struct ServiceConfig {
    /// The service name: non-empty, only `A-Z a-z 0-9 - _`.
    pub name: String,
    /// The service version, SemVer 2.0 such as `1.0.0`.
    pub version: String,
    /// What the service does; INFO shows `""` when `None`.
    pub description: Option<String>,
    /// Service metadata; PING, INFO and STATS show `{}` when empty.
    pub metadata: Metadata,
    /// The queue group its endpoints inherit: by default `"q"`.
    pub queue_group: QueueGroup,
    /// Computes each endpoint's `data` in STATS replies, as nats-py's `stats_handler` and
    /// nats.go's `StatsHandler` do (it does not replace the STATS reply: that is
    /// [`stats_reply_handler`](Self::stats_reply_handler)).
    pub stats_handler: Option<StatsHandler>,
    /// Answers PING in place of the runtime. A reply of another shape than
    /// [`PingResponse`] breaks discovery tools (see [`ControlHandler`]).
    pub ping_handler: Option<ControlHandler<PingResponse>>,
    /// Answers INFO in place of the runtime. A reply of another shape than
    /// [`InfoResponse`] breaks discovery tools (see [`ControlHandler`]).
    pub info_handler: Option<ControlHandler<InfoResponse>>,
    /// Answers STATS in place of the runtime (the per-endpoint [`stats_handler`](Self::stats_handler)
    /// has already filled the default's `data`). A reply of another shape than
    /// [`StatsResponse`] breaks discovery tools (see [`ControlHandler`]).
    pub stats_reply_handler: Option<ControlHandler<StatsResponse>>,
    /// Told of asynchronous subscription errors (they are also counted and logged).
    pub error_handler: Option<ErrorHandler>,
    /// How many requests one endpoint handles at once; endpoints may set their own.
    pub max_concurrency: usize,
    /// How long a stop lets the requests already received finish: handlers still running
    /// then are cancelled, each counted as an error.
    pub drain_timeout: Duration,
    /// The root of the control subjects (`<api_prefix>.PING`, ...): by default
    /// [`DEFAULT_PREFIX`] (`$SRV`). A non-empty subject of non-empty dot-separated tokens,
    /// without whitespace or wildcards.
    pub api_prefix: String,
}

impl ServiceConfig {
    /// A configuration with `name` and `version` and defaults for everything else.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ServiceConfig {
            name: name.into(),
            version: version.into(),
            ..ServiceConfig::default()
        }
    }

    /// Checks the name, version, queue group, concurrency limit and API prefix.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !validate::is_valid_name(&self.name) {
            return Err(ConfigError::new(ConfigErrorKind::Name, &self.name));
        }
        if !validate::is_valid_version(&self.version) {
            return Err(ConfigError::new(ConfigErrorKind::Version, &self.version));
        }
        if let QueueGroup::Name(queue) = &self.queue_group {
            if !validate::is_valid_subject(queue) {
                return Err(ConfigError::new(ConfigErrorKind::QueueGroup, queue));
            }
        }
        check_max_concurrency(self.max_concurrency)?;
        if nats_core::validate_publish_subject(&self.api_prefix).is_err() {
            return Err(ConfigError::new(
                ConfigErrorKind::ApiPrefix,
                &self.api_prefix,
            ));
        }
        Ok(())
    }
}

/// Checks a concurrency limit.
pub(crate) fn check_max_concurrency(max: usize) -> Result<(), ConfigError> {
    // The runtime waits for in-flight requests by taking every permit at once, which takes a
    // `u32`, from a semaphore that holds at most `MAX_PERMITS`.
    let limit = usize::try_from(u32::MAX)
        .unwrap_or(usize::MAX)
        .min(tokio::sync::Semaphore::MAX_PERMITS);
    if (1..=limit).contains(&max) {
        Ok(())
    } else {
        Err(ConfigError::new(
            ConfigErrorKind::MaxConcurrency,
            max.to_string(),
        ))
    }
}

impl Default for ServiceConfig {
    /// Empty name and version (which do not validate), no description or metadata, the default
    /// queue group, [`DEFAULT_MAX_CONCURRENCY`].
    fn default() -> Self {
        ServiceConfig {
            name: String::new(),
            version: String::new(),
            description: None,
            metadata: Metadata::new(),
            queue_group: QueueGroup::Inherit,
            stats_handler: None,
            ping_handler: None,
            info_handler: None,
            stats_reply_handler: None,
            error_handler: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            api_prefix: DEFAULT_PREFIX.to_owned(),
        }
    }
}

impl fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("description", &self.description)
            .field("metadata", &self.metadata)
            .field("queue_group", &self.queue_group)
            .field("stats_handler", &self.stats_handler.is_some())
            .field("ping_handler", &self.ping_handler.is_some())
            .field("info_handler", &self.info_handler.is_some())
            .field("stats_reply_handler", &self.stats_reply_handler.is_some())
            .field("error_handler", &self.error_handler.is_some())
            .field("max_concurrency", &self.max_concurrency)
            .field("drain_timeout", &self.drain_timeout)
            .field("api_prefix", &self.api_prefix)
            .finish()
    }
}

/// Builds and starts a service: its configuration, service-wide middleware and first endpoints.
///
/// ```no_run
/// use std::time::Duration;
/// use nats_micro::{handler_fn, EndpointConfig, GroupConfig, Json, Service};
/// use tower::limit::ConcurrencyLimitLayer;
///
/// async fn add(Json((a, b)): Json<(i64, i64)>) -> Json<i64> {
///     Json(a + b)
/// }
///
/// # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let service = Service::builder("calc", "1.0.0")
///     .description("adds numbers")
///     .metadata("team", "math")
///     .layer(ConcurrencyLimitLayer::new(64))
///     .endpoint(EndpointConfig::new("add"), handler_fn(add))
///     .group_endpoint(&GroupConfig::new("v2"), "add", handler_fn(add))
///     .start(&client)
///     .await?;
/// println!("started {}", service.id());
/// # Ok(()) }
/// ```
pub struct ServiceBuilder {
    config: ServiceConfig,
    layers: Vec<ServiceLayer>,
    endpoints: Vec<PendingEndpoint>,
    /// A builder mistake reported by `start`, such as a layer for an unknown endpoint.
    error: Option<ConfigError>,
}

impl ServiceBuilder {
    /// A builder for a service named `name` at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ServiceConfig::new(name, version).into()
    }

    /// Describes the service.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.config.description = Some(description.into());
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the queue group endpoints inherit (a name, or [`QueueGroup::Disabled`]).
    pub fn queue_group(mut self, queue_group: impl Into<QueueGroup>) -> Self {
        self.config.queue_group = queue_group.into();
        self
    }

    /// Disables queue groups: unless an endpoint or group names one, every instance receives
    /// every request.
    pub fn disable_queue_group(self) -> Self {
        self.queue_group(QueueGroup::Disabled)
    }

    /// Computes each endpoint's `data` in STATS replies (nats-py's `stats_handler`). To
    /// replace the whole STATS reply, see [`stats_reply_handler`](Self::stats_reply_handler).
    pub fn stats_handler(
        mut self,
        handler: impl Fn(&EndpointStats) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.config.stats_handler = Some(Arc::new(handler));
        self
    }

    /// Answers PING with `handler` in place of the runtime (see [`ControlHandler`]: a reply
    /// of another shape breaks discovery tools).
    pub fn ping_handler(mut self, handler: ControlHandler<PingResponse>) -> Self {
        self.config.ping_handler = Some(handler);
        self
    }

    /// Answers INFO with `handler` in place of the runtime (see [`ControlHandler`]: a reply
    /// of another shape breaks discovery tools).
    pub fn info_handler(mut self, handler: ControlHandler<InfoResponse>) -> Self {
        self.config.info_handler = Some(handler);
        self
    }

    /// Answers STATS with `handler` in place of the runtime (see [`ControlHandler`]: a reply
    /// of another shape breaks discovery tools). Named apart from
    /// [`stats_handler`](Self::stats_handler), which only fills each endpoint's `data`, as
    /// nats-py's `stats_handler` does.
    pub fn stats_reply_handler(mut self, handler: ControlHandler<StatsResponse>) -> Self {
        self.config.stats_reply_handler = Some(handler);
        self
    }

    /// Is told of asynchronous subscription errors, such as a slow consumer.
    pub fn error_handler(mut self, handler: impl Fn(&AsyncError) + Send + Sync + 'static) -> Self {
        self.config.error_handler = Some(Arc::new(handler));
        self
    }

    /// How many requests one endpoint handles at once (endpoints may set their own).
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.config.max_concurrency = max;
        self
    }

    /// How long a stop lets the requests already received finish (default 5 s): handlers
    /// still running then are cancelled, each counted as an error.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.config.drain_timeout = timeout;
        self
    }

    /// Answers the control subjects under `prefix` (`<prefix>.PING`, `<prefix>.INFO.<name>`,
    /// ...) instead of `$SRV`, as ADR-32 allows. Find such a service with
    /// [`Discovery::with_prefix`](crate::Discovery::with_prefix).
    ///
    /// An invalid prefix (empty, whitespace, a wildcard or an empty token) makes
    /// [`start`](Self::start) fail with [`ConfigErrorKind::ApiPrefix`].
    pub fn api_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.api_prefix = prefix.into();
        self
    }

    /// Wraps every endpoint's handler, including those added after start, in `layer`. The
    /// first layer added is the outermost, as with `tower::ServiceBuilder`. Each endpoint gets
    /// its own instance: a `ConcurrencyLimitLayer` limits each endpoint separately.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<BoxEndpoint> + Send + Sync + 'static,
        L::Service: TowerService<Request> + Send + 'static,
        <L::Service as TowerService<Request>>::Response: IntoReply,
        <L::Service as TowerService<Request>>::Error: Into<ServiceError>,
        <L::Service as TowerService<Request>>::Future: Send + 'static,
    {
        self.layers
            .push(Arc::new(move |service| boxed(layer.layer(service))));
        self
    }

    /// Wraps the handler of the endpoint `name`, added to this builder before, in `layer`
    /// (inside the service-wide layers). Useful when the endpoints come from elsewhere, such as
    /// the `#[service]` macro.
    ///
    /// An unknown name makes [`start`](Self::start) fail with
    /// [`ConfigErrorKind::UnknownEndpoint`].
    pub fn endpoint_layer<L>(mut self, name: &str, layer: L) -> Self
    where
        L: Layer<BoxEndpoint>,
        L::Service: TowerService<Request> + Send + 'static,
        <L::Service as TowerService<Request>>::Response: IntoReply,
        <L::Service as TowerService<Request>>::Error: Into<ServiceError>,
        <L::Service as TowerService<Request>>::Future: Send + 'static,
    {
        let mut found = false;
        for pending in self.endpoints.iter_mut().filter(|p| p.config.name == name) {
            let handler = std::mem::replace(&mut pending.service, placeholder());
            pending.service = boxed(layer.layer(handler));
            found = true;
        }
        if !found && self.error.is_none() {
            self.error = Some(ConfigError::new(ConfigErrorKind::UnknownEndpoint, name));
        }
        self
    }

    /// Adds an endpoint, served once the service starts.
    pub fn endpoint<S>(self, config: impl Into<EndpointConfig>, service: S) -> Self
    where
        S: TowerService<Request> + Send + 'static,
        S::Response: IntoReply,
        S::Error: Into<ServiceError>,
        S::Future: Send + 'static,
    {
        self.push_endpoint(None, config.into(), boxed(service))
    }

    /// Adds an endpoint in `group`, served once the service starts.
    pub fn group_endpoint<S>(
        self,
        group: &GroupConfig,
        config: impl Into<EndpointConfig>,
        service: S,
    ) -> Self
    where
        S: TowerService<Request> + Send + 'static,
        S::Response: IntoReply,
        S::Error: Into<ServiceError>,
        S::Future: Send + 'static,
    {
        self.push_endpoint(Some(group.clone()), config.into(), boxed(service))
    }

    fn push_endpoint(
        mut self,
        group: Option<GroupConfig>,
        config: EndpointConfig,
        service: BoxEndpoint,
    ) -> Self {
        self.endpoints.push(PendingEndpoint {
            group,
            config,
            service,
        });
        self
    }

    /// Validates everything, subscribes the endpoints and the `$SRV` subjects, and starts.
    ///
    /// # Errors
    /// A [`StartError`]: an invalid configuration (nothing is subscribed then) or a failed
    /// subscription.
    pub async fn start(self, client: &Client) -> Result<Service, StartError> {
        if let Some(error) = self.error {
            return Err(error.into());
        }
        Service::start(client, self.config, self.layers, self.endpoints).await
    }
}

/// A handler that is never called: it holds a pending endpoint's place while its real handler
/// is being wrapped.
fn placeholder() -> BoxEndpoint {
    boxed(tower::service_fn(|_: Request| async {
        Ok::<_, ServiceError>(())
    }))
}

impl From<ServiceConfig> for ServiceBuilder {
    fn from(config: ServiceConfig) -> Self {
        ServiceBuilder {
            config,
            layers: Vec::new(),
            endpoints: Vec::new(),
            error: None,
        }
    }
}

impl fmt::Debug for ServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceBuilder")
            .field("config", &self.config)
            .field("layers", &self.layers.len())
            .field("endpoints", &self.endpoints.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let kind = |config: ServiceConfig| config.validate().map_err(|e| e.kind());
        assert_eq!(kind(ServiceConfig::new("calc", "1.0.0")), Ok(()));
        assert_eq!(
            kind(ServiceConfig::new("", "1.0.0")),
            Err(ConfigErrorKind::Name)
        );
        assert_eq!(
            kind(ServiceConfig::new("a.b", "1.0.0")),
            Err(ConfigErrorKind::Name)
        );
        assert_eq!(
            kind(ServiceConfig::new("calc", "v1")),
            Err(ConfigErrorKind::Version)
        );
        let config = ServiceConfig {
            queue_group: "a b".into(),
            ..ServiceConfig::new("calc", "1.0.0")
        };
        assert_eq!(kind(config), Err(ConfigErrorKind::QueueGroup));
        let config = ServiceConfig {
            max_concurrency: 0,
            ..ServiceConfig::new("calc", "1.0.0")
        };
        assert_eq!(kind(config), Err(ConfigErrorKind::MaxConcurrency));
        let config = ServiceConfig {
            queue_group: QueueGroup::Disabled,
            ..ServiceConfig::new("calc", "1.0.0")
        };
        assert_eq!(kind(config), Ok(()));
    }

    #[test]
    fn api_prefix_is_validated() {
        let kind = |prefix: &str| {
            ServiceConfig {
                api_prefix: prefix.into(),
                ..ServiceConfig::new("calc", "1.0.0")
            }
            .validate()
            .map_err(|e| (e.kind(), e.field()))
        };
        assert_eq!(ServiceConfig::default().api_prefix, "$SRV");
        for good in ["$SRV", "$ALT", "a.b", "my-org.$SRV"] {
            assert_eq!(kind(good), Ok(()), "{good}");
        }
        for bad in ["", "a b", "a.*", "a.>", ">", "a..b", ".a", "a.", "a\tb"] {
            assert_eq!(
                kind(bad),
                Err((ConfigErrorKind::ApiPrefix, "api_prefix")),
                "{bad:?}"
            );
        }
    }
}
