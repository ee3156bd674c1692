//! Groups: a subject prefix for endpoints, with a queue group they inherit. [`GroupConfig`]
//! describes one (and nests), [`Group`] adds endpoints to it on a running service.

use tower::Service as TowerService;

use crate::endpoint::{boxed, EndpointConfig};
use crate::error::{ServiceError, StartError};
use crate::queue_group::QueueGroup;
use crate::reply::IntoReply;
use crate::request::Request;
use crate::service::Service;

/// A group: endpoints added to it listen on `<prefix>.<subject>` and inherit its queue group.
///
/// ```
/// use nats_micro::{GroupConfig, QueueGroup};
/// let v1 = GroupConfig::new("calc").queue_group("calc-workers");
/// let admin = v1.group(GroupConfig::new("admin").disable_queue_group());
/// assert_eq!(admin.prefix, "calc.admin");
/// assert_eq!(admin.queue_group, QueueGroup::Disabled);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupConfig {
    /// The subject prefix; empty adds nothing.
    pub prefix: String,
    /// The queue group its endpoints inherit; by default the service's.
    pub queue_group: QueueGroup,
}

impl GroupConfig {
    /// A group with `prefix` that inherits the service's queue group.
    pub fn new(prefix: impl Into<String>) -> Self {
        GroupConfig {
            prefix: prefix.into(),
            queue_group: QueueGroup::Inherit,
        }
    }

    /// Sets the queue group its endpoints inherit.
    pub fn queue_group(mut self, queue_group: impl Into<QueueGroup>) -> Self {
        self.queue_group = queue_group.into();
        self
    }

    /// Disables queue groups for its endpoints (unless they name their own).
    pub fn disable_queue_group(self) -> Self {
        self.queue_group(QueueGroup::Disabled)
    }

    /// The group `child` nested in this one: prefixes joined with a dot, queue group the
    /// child's, else this one's.
    pub fn group(&self, child: impl Into<GroupConfig>) -> GroupConfig {
        let child = child.into();
        GroupConfig {
            prefix: join_subject(&self.prefix, &child.prefix),
            queue_group: child.queue_group.under(&self.queue_group),
        }
    }
}

impl From<&str> for GroupConfig {
    fn from(prefix: &str) -> Self {
        GroupConfig::new(prefix)
    }
}

impl From<String> for GroupConfig {
    fn from(prefix: String) -> Self {
        GroupConfig::new(prefix)
    }
}

/// `prefix.subject`, or whichever of them is not empty.
pub(crate) fn join_subject(prefix: &str, subject: &str) -> String {
    match (prefix.is_empty(), subject.is_empty()) {
        (true, _) => subject.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{subject}"),
    }
}

/// A group of a running service, as nats-py's `Group`: endpoints added here get its prefix and
/// queue group.
///
/// ```no_run
/// # async fn demo(service: nats_micro::Service) -> Result<(), nats_micro::StartError> {
/// use nats_micro::handler_fn;
/// let math = service.add_group("math");
/// math.add_endpoint("double", handler_fn(|body: String| async move { body.repeat(2) }))
///     .await?;
/// let admin = math.add_group("admin");
/// admin.add_endpoint("ping", handler_fn(|| async { "pong" })).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Group {
    service: Service,
    config: GroupConfig,
}

impl Group {
    pub(crate) fn new(service: Service, config: GroupConfig) -> Self {
        Group { service, config }
    }

    /// The group's resolved prefix and queue group setting.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// A group nested in this one.
    pub fn add_group(&self, child: impl Into<GroupConfig>) -> Group {
        Group::new(self.service.clone(), self.config.group(child))
    }

    /// Adds an endpoint listening on `<prefix>.<subject>` and starts serving it.
    ///
    /// # Errors
    /// As [`Service::add_endpoint`].
    pub async fn add_endpoint<S>(
        &self,
        config: impl Into<EndpointConfig>,
        service: S,
    ) -> Result<crate::Endpoint, StartError>
    where
        S: TowerService<Request> + Send + 'static,
        S::Response: IntoReply,
        S::Error: Into<ServiceError>,
        S::Future: Send + 'static,
    {
        self.service
            .add_boxed_endpoint(Some(&self.config), config.into(), boxed(service))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_join_and_skip_empty_parts() {
        assert_eq!(join_subject("a", "b"), "a.b");
        assert_eq!(join_subject("", "b"), "b");
        assert_eq!(join_subject("a", ""), "a");
        let nested = GroupConfig::new("g1")
            .group("")
            .group(GroupConfig::new("g2"));
        assert_eq!(nested.prefix, "g1.g2");
    }

    #[test]
    fn nested_queue_groups_inherit() {
        let outer = GroupConfig::new("a").queue_group("outer");
        assert_eq!(outer.group("b").queue_group, QueueGroup::from("outer"));
        assert_eq!(
            outer
                .group(GroupConfig::new("b").queue_group("inner"))
                .queue_group,
            QueueGroup::from("inner")
        );
        let off = GroupConfig::new("a").disable_queue_group();
        assert_eq!(off.group("b").queue_group, QueueGroup::Disabled);
    }
}
