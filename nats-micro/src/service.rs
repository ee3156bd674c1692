//! [`Service`]: a running service instance: its identity, endpoints, statistics and lifecycle.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::SystemTime;

use nats_core::{Client, SubscribeOptions};
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::Service as TowerService;

use crate::config::{ServiceBuilder, ServiceConfig, ServiceLayer, StatsHandler};
use crate::dispatch::EndpointContext;
use crate::endpoint::{boxed, BoxEndpoint, EndpointConfig, EndpointRecord, PendingEndpoint};
use crate::error::{ServiceError, StartError, StartErrorKind};
use crate::group::{Group, GroupConfig};
use crate::monitor::{self, MonitorHandle};
use crate::reply::IntoReply;
use crate::request::Request;
use crate::schema::{
    EndpointStats, InfoResponse, PingResponse, StatsResponse, INFO_RESPONSE_TYPE,
    PING_RESPONSE_TYPE, STATS_RESPONSE_TYPE,
};
use crate::serve::serve;

/// Starts a service described by `config` on `client`: subscribes the nine `$SRV` subjects and
/// answers PING, INFO and STATS until stopped. Endpoints are added with
/// [`Service::add_endpoint`] and [`Service::add_group`]; [`Service::builder`] also takes
/// middleware and endpoints up front.
///
/// ```no_run
/// use nats_micro::{add_service, handler_fn, ServiceConfig};
///
/// # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let service = add_service(&client, ServiceConfig::new("echo", "1.0.0")).await?;
/// service
///     .add_endpoint("echo", handler_fn(|body: bytes::Bytes| async move { body }))
///     .await?;
/// service.stopped().await;
/// # Ok(()) }
/// ```
///
/// # Errors
/// A [`StartError`]: an invalid configuration (nothing is subscribed then) or a failed
/// subscription.
pub async fn add_service(client: &Client, config: ServiceConfig) -> Result<Service, StartError> {
    Service::start(client, config, Vec::new(), Vec::new()).await
}

/// A running service instance. Cheap to clone; dropping every handle does not stop it
/// (call [`stop`](Self::stop), or close the connection).
#[derive(Debug, Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    id: String,
    config: ServiceConfig,
    layers: Vec<ServiceLayer>,
    service_name: Arc<str>,
    started: Mutex<SystemTime>,
    endpoints: Mutex<Vec<Arc<EndpointRecord>>>,
    lifecycle: Mutex<Lifecycle>,
    /// Set once everything has stopped.
    stopped: watch::Sender<bool>,
}

/// An endpoint being served: its record, its stop signal and its task.
struct Running {
    record: Arc<EndpointRecord>,
    stop: watch::Sender<Option<tokio::time::Instant>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Tells the endpoint to drain by `deadline` and waits for it.
    async fn stop(self, deadline: tokio::time::Instant) {
        self.stop.send_replace(Some(deadline));
        let _ = self.task.await;
    }
}

#[derive(Default)]
struct Lifecycle {
    stopping: bool,
    endpoint_tasks: Vec<Running>,
    monitor: Option<MonitorHandle>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.config.name)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A builder for a service named `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServiceBuilder {
        ServiceBuilder::new(name, version)
    }

    pub(crate) async fn start(
        client: &Client,
        config: ServiceConfig,
        layers: Vec<ServiceLayer>,
        endpoints: Vec<PendingEndpoint>,
    ) -> Result<Service, StartError> {
        config.validate()?;
        // Validate every endpoint before subscribing anything.
        let mut resolved = Vec::with_capacity(endpoints.len());
        for pending in endpoints {
            let record = EndpointRecord::resolve(
                pending.config,
                pending.group.as_ref(),
                &config.queue_group,
                config.max_concurrency,
            )?;
            resolved.push((record, pending.service));
        }
        let service = Service {
            inner: Arc::new(Inner {
                client: client.clone(),
                id: nuid::next().to_string(),
                service_name: Arc::from(config.name.as_str()),
                config,
                layers,
                started: Mutex::new(SystemTime::now()),
                endpoints: Mutex::default(),
                lifecycle: Mutex::default(),
                stopped: watch::Sender::new(false),
            }),
        };
        match service.subscribe_all(resolved).await {
            Ok(()) => {
                service.inner.started.lock().clone_from(&SystemTime::now());
                Ok(service)
            }
            Err(error) => {
                service.stop().await;
                Err(error)
            }
        }
    }

    async fn subscribe_all(
        &self,
        endpoints: Vec<(EndpointRecord, BoxEndpoint)>,
    ) -> Result<(), StartError> {
        for (record, handler) in endpoints {
            self.serve_endpoint(record, handler).await?;
        }
        let monitor = monitor::start(self)
            .await
            .map_err(|e| StartError::with_source(StartErrorKind::Subscribe, e))?;
        self.inner.lifecycle.lock().monitor = Some(monitor);
        self.flush().await
    }

    /// Waits until the server has every subscription made so far.
    async fn flush(&self) -> Result<(), StartError> {
        self.inner
            .client
            .flush()
            .await
            .map_err(|e| StartError::with_source(StartErrorKind::Closed, e))
    }

    /// The instance id: a NUID, unique to this instance.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The service version.
    pub fn version(&self) -> &str {
        &self.inner.config.version
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Adds an endpoint and starts serving it; it then appears in INFO and STATS. The
    /// [`Endpoint`] returned can stop it again while the service runs.
    ///
    /// # Errors
    /// A [`StartError`]: an invalid configuration, a failed subscription, or a stopped service.
    pub async fn add_endpoint<S>(
        &self,
        config: impl Into<EndpointConfig>,
        service: S,
    ) -> Result<Endpoint, StartError>
    where
        S: TowerService<Request> + Send + 'static,
        S::Response: IntoReply,
        S::Error: Into<ServiceError>,
        S::Future: Send + 'static,
    {
        self.add_boxed_endpoint(None, config.into(), boxed(service))
            .await
    }

    /// A group of endpoints sharing a subject prefix and a queue group.
    pub fn add_group(&self, config: impl Into<GroupConfig>) -> Group {
        Group::new(self.clone(), config.into())
    }

    pub(crate) async fn add_boxed_endpoint(
        &self,
        group: Option<&GroupConfig>,
        config: EndpointConfig,
        handler: BoxEndpoint,
    ) -> Result<Endpoint, StartError> {
        let inner = &self.inner;
        let record = EndpointRecord::resolve(
            config,
            group,
            &inner.config.queue_group,
            inner.config.max_concurrency,
        )?;
        let endpoint = self.serve_endpoint(record, handler).await?;
        self.flush().await?;
        Ok(endpoint)
    }

    /// Subscribes `record`'s subject and spawns the task that serves it.
    async fn serve_endpoint(
        &self,
        record: EndpointRecord,
        handler: BoxEndpoint,
    ) -> Result<Endpoint, StartError> {
        let inner = &self.inner;
        if self.is_stopping() {
            return Err(StartError::new(StartErrorKind::Stopped));
        }
        let options = SubscribeOptions {
            queue_group: record.queue_group.clone(),
            pending_msgs_limit: record.pending_msgs_limit,
            pending_bytes_limit: record.pending_bytes_limit,
            ..SubscribeOptions::default()
        };
        let subscriber = inner
            .client
            .subscribe_with(&record.subject, options)
            .await
            .map_err(|e| StartError::with_source(StartErrorKind::Subscribe, e))?;
        // Service-wide layers: the first added is the outermost.
        let handler = inner
            .layers
            .iter()
            .rev()
            .fold(handler, |handler, layer| layer(handler));
        let record = Arc::new(record);
        let context = Arc::new(EndpointContext {
            client: inner.client.clone(),
            service_name: Arc::clone(&inner.service_name),
            record: Arc::clone(&record),
            error_handler: inner.config.error_handler.clone(),
        });
        let mut lifecycle = inner.lifecycle.lock();
        if lifecycle.stopping {
            // Dropping the subscriber unsubscribes it.
            return Err(StartError::new(StartErrorKind::Stopped));
        }
        inner.endpoints.lock().push(Arc::clone(&record));
        let (stop, shutdown) = watch::channel(None);
        // Taken before the task runs, so that a drain of the client that begins now still
        // waits for the requests this endpoint receives.
        let guard = inner.client.drain_guard();
        let task = tokio::spawn(serve(subscriber, handler, context, shutdown, guard));
        lifecycle.endpoint_tasks.push(Running {
            record: Arc::clone(&record),
            stop,
            task,
        });
        Ok(Endpoint {
            service: self.clone(),
            record,
        })
    }

    /// Stops serving the endpoint of `record`, as a service stop does for all of them, and
    /// removes it from INFO and STATS.
    async fn stop_endpoint(&self, record: &Arc<EndpointRecord>) {
        let running = {
            let mut lifecycle = self.inner.lifecycle.lock();
            let at = lifecycle
                .endpoint_tasks
                .iter()
                .position(|r| Arc::ptr_eq(&r.record, record));
            at.map(|at| lifecycle.endpoint_tasks.remove(at))
        };
        if let Some(running) = running {
            let deadline = tokio::time::Instant::now() + self.inner.config.drain_timeout;
            running.stop(deadline).await;
        }
        self.inner
            .endpoints
            .lock()
            .retain(|r| !Arc::ptr_eq(r, record));
    }

    /// The PING reply of this instance.
    pub fn ping(&self) -> PingResponse {
        let config = &self.inner.config;
        PingResponse {
            name: config.name.clone(),
            id: self.inner.id.clone(),
            version: config.version.clone(),
            metadata: config.metadata.clone(),
            kind: PING_RESPONSE_TYPE.to_owned(),
        }
    }

    /// The INFO reply of this instance: identity, description and endpoints.
    pub fn info(&self) -> InfoResponse {
        let config = &self.inner.config;
        let endpoints = self.endpoint_records().iter().map(|e| e.info()).collect();
        InfoResponse {
            name: config.name.clone(),
            id: self.inner.id.clone(),
            version: config.version.clone(),
            metadata: config.metadata.clone(),
            kind: INFO_RESPONSE_TYPE.to_owned(),
            description: config.description.clone().unwrap_or_default(),
            endpoints,
        }
    }

    /// The STATS reply of this instance: every endpoint's counters, with the stats handler's
    /// `data`.
    pub fn stats(&self) -> StatsResponse {
        let config = &self.inner.config;
        let handler = config.stats_handler.as_ref();
        let endpoints = self
            .endpoint_records()
            .iter()
            .map(|record| with_data(record.stats(), handler))
            .collect();
        StatsResponse {
            name: config.name.clone(),
            id: self.inner.id.clone(),
            version: config.version.clone(),
            metadata: config.metadata.clone(),
            kind: STATS_RESPONSE_TYPE.to_owned(),
            started: *self.inner.started.lock(),
            endpoints,
        }
    }

    fn endpoint_records(&self) -> Vec<Arc<EndpointRecord>> {
        self.inner.endpoints.lock().clone()
    }

    /// Zeroes every endpoint's counters and sets `started` to now.
    pub fn reset(&self) {
        for record in self.endpoint_records() {
            record.counters.lock().reset();
        }
        *self.inner.started.lock() = SystemTime::now();
    }

    /// Stops gracefully: drains every endpoint subscription, finishes the requests already
    /// received, then drains the `$SRV` subscriptions, all within the configured
    /// `drain_timeout`: handlers still running then are cancelled and counted as errors. When
    /// the connection is down nothing waits for the server. Calling it again (or
    /// concurrently) waits for the same stop.
    ///
    /// The stop runs on a task of its own: a `stop` cut short (by a timeout, say) still
    /// completes, and [`stopped`](Self::stopped) resolves. A handler of this service may
    /// spawn it but should not await it, since the stop waits for that handler.
    pub async fn stop(&self) {
        if let Some((endpoint_tasks, monitor)) = self.begin_stop() {
            let deadline = tokio::time::Instant::now() + self.inner.config.drain_timeout;
            let service = self.clone();
            tokio::spawn(async move {
                for running in endpoint_tasks {
                    running.stop(deadline).await;
                }
                if let Some(monitor) = monitor {
                    monitor.stop(deadline).await;
                }
                service.inner.stopped.send_replace(true);
            });
        }
        self.stopped().await;
    }

    /// Marks the service as stopping and takes what has to be stopped; `None` if another
    /// call got there first.
    fn begin_stop(&self) -> Option<(Vec<Running>, Option<MonitorHandle>)> {
        let mut lifecycle = self.inner.lifecycle.lock();
        if lifecycle.stopping {
            return None;
        }
        lifecycle.stopping = true;
        Some((
            std::mem::take(&mut lifecycle.endpoint_tasks),
            lifecycle.monitor.take(),
        ))
    }

    fn is_stopping(&self) -> bool {
        self.inner.lifecycle.lock().stopping
    }

    /// Whether the service has stopped.
    pub fn is_stopped(&self) -> bool {
        *self.inner.stopped.borrow()
    }

    /// Resolves once the service has stopped: after [`stop`](Self::stop), or after the
    /// connection closed.
    pub async fn stopped(&self) {
        let mut stopped = self.inner.stopped.subscribe();
        // The sender lives as long as `self`: this only ends when the flag is set.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }
}

/// `stats` with what the stats handler returns for it; a panicking handler gives no data.
fn with_data(mut stats: EndpointStats, handler: Option<&StatsHandler>) -> EndpointStats {
    if let Some(handler) = handler {
        match panic::catch_unwind(AssertUnwindSafe(|| handler(&stats))) {
            Ok(data) => stats.data = Some(data),
            Err(_) => tracing::error!(endpoint = %stats.name, "stats handler panicked"),
        }
    }
    stats
}

/// An endpoint of a running service, returned by [`Service::add_endpoint`]: it can stop
/// that endpoint while the service goes on.
#[derive(Debug, Clone)]
pub struct Endpoint {
    service: Service,
    record: Arc<EndpointRecord>,
}

impl Endpoint {
    /// The endpoint's name.
    pub fn name(&self) -> &str {
        &self.record.name
    }

    /// The subject it listens on.
    pub fn subject(&self) -> &str {
        &self.record.subject
    }

    /// Stops serving it: its subscription is drained and the requests already received are
    /// answered (within the service's `drain_timeout`), then INFO and STATS no longer list
    /// it. Stopping it twice, or after the service stopped, does nothing more.
    pub async fn stop(&self) {
        self.service.stop_endpoint(&self.record).await;
    }
}
