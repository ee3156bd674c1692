//! Endpoints: [`EndpointConfig`] and the validated record the `$SRV` replies read. The task
//! that serves an endpoint's subscription is in `serve.rs`.

use std::sync::Arc;

use parking_lot::Mutex;
use tower::util::BoxService;
use tower::{Service as TowerService, ServiceExt};

use crate::config::check_max_concurrency;
use crate::error::{ConfigError, ConfigErrorKind, ServiceError};
use crate::group::{join_subject, GroupConfig};
use crate::queue_group::QueueGroup;
use crate::reply::{IntoReply, Reply};
use crate::request::Request;
use crate::schema::{EndpointInfo, EndpointStats, Metadata};
use crate::stats::Counters;
use crate::validate;

/// Every endpoint's handler, boxed so that endpoints of different types live together.
pub type BoxEndpoint = BoxService<Request, Reply, ServiceError>;

/// Boxes a handler service.
pub(crate) fn boxed<S>(service: S) -> BoxEndpoint
where
    S: TowerService<Request> + Send + 'static,
    S::Response: IntoReply,
    S::Error: Into<ServiceError>,
    S::Future: Send + 'static,
{
    BoxService::new(
        service
            .map_response(IntoReply::into_reply)
            .map_err(Into::into),
    )
}

/// The configuration of an endpoint, as nats-py's `EndpointConfig` (the handler is given
/// beside it).
///
/// ```
/// use nats_micro::EndpointConfig;
/// let config = EndpointConfig::new("add")
///     .subject("calc.add")
///     .metadata("unit", "integers")
///     .queue_group("adders")
///     .max_concurrency(8);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The endpoint name: non-empty, only `A-Z a-z 0-9 - _`.
    pub name: String,
    /// The subject it listens on (under its group's prefix); the name when `None`.
    pub subject: Option<String>,
    /// Endpoint metadata; INFO shows `null` when `None`.
    pub metadata: Option<Metadata>,
    /// Its queue group; by default its group's or the service's.
    pub queue_group: QueueGroup,
    /// How many requests it handles at once; the service's setting when `None`.
    pub max_concurrency: Option<usize>,
    /// Messages its subscription buffers before dropping (a slow consumer); the client's
    /// default when `None`.
    pub pending_msgs_limit: Option<usize>,
    /// Payload bytes its subscription buffers before dropping; the client's default when `None`.
    pub pending_bytes_limit: Option<usize>,
}

impl EndpointConfig {
    /// An endpoint named `name`, listening on the subject `name`.
    pub fn new(name: impl Into<String>) -> Self {
        EndpointConfig {
            name: name.into(),
            ..EndpointConfig::default()
        }
    }

    /// Listens on `subject` (wildcards allowed) instead of the name.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(Metadata::new)
            .insert(key.into(), value.into());
        self
    }

    /// Joins `queue_group` (a name, or [`QueueGroup::Disabled`]).
    pub fn queue_group(mut self, queue_group: impl Into<QueueGroup>) -> Self {
        self.queue_group = queue_group.into();
        self
    }

    /// Joins no queue group: every instance receives every request.
    pub fn disable_queue_group(self) -> Self {
        self.queue_group(QueueGroup::Disabled)
    }

    /// Handles at most `max` requests at once.
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.max_concurrency = Some(max);
        self
    }

    /// Buffers at most `msgs` messages and `bytes` payload bytes before dropping requests.
    pub fn pending_limits(mut self, msgs: usize, bytes: usize) -> Self {
        self.pending_msgs_limit = Some(msgs);
        self.pending_bytes_limit = Some(bytes);
        self
    }
}

impl From<&str> for EndpointConfig {
    fn from(name: &str) -> Self {
        EndpointConfig::new(name)
    }
}

impl From<String> for EndpointConfig {
    fn from(name: String) -> Self {
        EndpointConfig::new(name)
    }
}

/// An endpoint given to the builder, added when the service starts.
pub(crate) struct PendingEndpoint {
    pub(crate) group: Option<GroupConfig>,
    pub(crate) config: EndpointConfig,
    pub(crate) service: BoxEndpoint,
}

/// An endpoint as it runs: resolved subject and queue group, and its counters.
#[derive(Debug)]
pub(crate) struct EndpointRecord {
    pub(crate) name: String,
    pub(crate) subject: String,
    /// `None` when queue groups are disabled.
    pub(crate) queue_group: Option<String>,
    pub(crate) metadata: Option<Metadata>,
    pub(crate) max_concurrency: usize,
    pub(crate) pending_msgs_limit: Option<usize>,
    pub(crate) pending_bytes_limit: Option<usize>,
    pub(crate) counters: Arc<Mutex<Counters>>,
}

impl EndpointRecord {
    /// Validates `config` in `group` of a service whose queue group setting is
    /// `service_queue_group` and whose concurrency limit is `service_max`.
    pub(crate) fn resolve(
        config: EndpointConfig,
        group: Option<&GroupConfig>,
        service_queue_group: &QueueGroup,
        service_max: usize,
    ) -> Result<EndpointRecord, ConfigError> {
        if !validate::is_valid_name(&config.name) {
            return Err(ConfigError::new(ConfigErrorKind::EndpointName, config.name));
        }
        let subject = config.subject.as_deref().unwrap_or(&config.name);
        let (prefix, group_queue) = match group {
            Some(group) => (group.prefix.as_str(), &group.queue_group),
            None => ("", &QueueGroup::Inherit),
        };
        let subject = join_subject(prefix, subject);
        if subject.is_empty() || !validate::is_valid_subject(&subject) {
            return Err(ConfigError::new(ConfigErrorKind::EndpointSubject, subject));
        }
        let queue_group = config
            .queue_group
            .under(&group_queue.under(service_queue_group));
        let queue_group = queue_group.effective().map(str::to_owned);
        if let Some(queue) = &queue_group {
            if !validate::is_valid_subject(queue) {
                return Err(ConfigError::new(ConfigErrorKind::EndpointQueueGroup, queue));
            }
        }
        let max_concurrency = config.max_concurrency.unwrap_or(service_max);
        check_max_concurrency(max_concurrency)?;
        Ok(EndpointRecord {
            name: config.name,
            subject,
            queue_group,
            metadata: config.metadata,
            max_concurrency,
            pending_msgs_limit: config.pending_msgs_limit,
            pending_bytes_limit: config.pending_bytes_limit,
            counters: Arc::default(),
        })
    }

    /// The endpoint in an INFO reply.
    pub(crate) fn info(&self) -> EndpointInfo {
        EndpointInfo {
            name: self.name.clone(),
            subject: self.subject.clone(),
            queue_group: self.queue_group.clone().unwrap_or_default(),
            metadata: self.metadata.clone(),
        }
    }

    /// The endpoint in a STATS reply, without `data`.
    pub(crate) fn stats(&self) -> EndpointStats {
        let counters = self.counters.lock().clone();
        EndpointStats {
            name: self.name.clone(),
            subject: self.subject.clone(),
            queue_group: self.queue_group.clone().unwrap_or_default(),
            num_requests: counters.num_requests,
            num_errors: counters.num_errors,
            average_processing_time: counters.average_processing_time(),
            last_error: counters.last_error,
            processing_time: counters.processing_time,
            data: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(config: EndpointConfig, group: Option<&GroupConfig>) -> EndpointRecord {
        EndpointRecord::resolve(config, group, &QueueGroup::Inherit, 4).expect("valid")
    }

    #[test]
    fn subject_defaults_to_the_name_under_the_group_prefix() {
        let record = resolve(EndpointConfig::new("add"), None);
        assert_eq!(
            (record.subject.as_str(), record.queue_group.as_deref()),
            ("add", Some("q"))
        );
        let group = GroupConfig::new("calc").queue_group("g");
        let record = resolve(EndpointConfig::new("add").subject("sum.*"), Some(&group));
        assert_eq!(record.subject, "calc.sum.*");
        assert_eq!(record.queue_group.as_deref(), Some("g"));
        assert_eq!(record.max_concurrency, 4);
        assert_eq!(record.info().metadata, None);
    }

    #[test]
    fn invalid_fields_are_named() {
        let kind = |config: EndpointConfig| {
            EndpointRecord::resolve(config, None, &QueueGroup::Inherit, 1)
                .map(|_| ())
                .map_err(|e| e.kind())
        };
        assert_eq!(
            kind(EndpointConfig::new("a b")),
            Err(ConfigErrorKind::EndpointName)
        );
        assert_eq!(
            kind(EndpointConfig::new("a").subject("x.>.y")),
            Err(ConfigErrorKind::EndpointSubject)
        );
        assert_eq!(
            kind(EndpointConfig::new("a").queue_group("q q")),
            Err(ConfigErrorKind::EndpointQueueGroup)
        );
        assert_eq!(
            kind(EndpointConfig::new("a").max_concurrency(0)),
            Err(ConfigErrorKind::MaxConcurrency)
        );
    }

    #[test]
    fn disabled_queue_groups_show_as_empty() {
        let record = resolve(EndpointConfig::new("a").disable_queue_group(), None);
        assert_eq!(record.queue_group, None);
        assert_eq!(record.info().queue_group, "");
        assert_eq!(record.stats().queue_group, "");
    }
}
