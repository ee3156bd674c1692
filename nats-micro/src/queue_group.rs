//! [`QueueGroup`]: which queue group an endpoint's subscription joins, and the precedence
//! rules: the endpoint's own, then its group's, then the service's, then `"q"`.

/// The queue group every endpoint joins when nothing says otherwise.
pub const DEFAULT_QUEUE_GROUP: &str = "q";

/// The queue group setting of a service, a group or an endpoint.
///
/// ```
/// use nats_micro::QueueGroup;
/// assert_eq!(QueueGroup::from("workers"), QueueGroup::Name("workers".into()));
/// assert_eq!(QueueGroup::default(), QueueGroup::Inherit);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum QueueGroup {
    /// Take the parent's setting (for a service: the default `"q"`).
    #[default]
    Inherit,
    /// Join this queue group: each request goes to one member. An empty name inherits.
    Name(String),
    /// Join no queue group: every instance receives every request. Children inherit this
    /// unless they name their own queue group.
    Disabled,
}

impl QueueGroup {
    /// This setting with `parent`'s filled in where this one inherits.
    pub(crate) fn under(&self, parent: &QueueGroup) -> QueueGroup {
        match self {
            QueueGroup::Disabled => QueueGroup::Disabled,
            QueueGroup::Name(name) if !name.is_empty() => self.clone(),
            QueueGroup::Name(_) | QueueGroup::Inherit => parent.clone(),
        }
    }

    /// The queue group to subscribe with, once every parent is applied: `None` when disabled.
    pub(crate) fn effective(&self) -> Option<&str> {
        match self {
            QueueGroup::Disabled => None,
            QueueGroup::Name(name) if !name.is_empty() => Some(name),
            QueueGroup::Name(_) | QueueGroup::Inherit => Some(DEFAULT_QUEUE_GROUP),
        }
    }
}

impl From<&str> for QueueGroup {
    fn from(name: &str) -> Self {
        QueueGroup::Name(name.to_owned())
    }
}

impl From<String> for QueueGroup {
    fn from(name: String) -> Self {
        QueueGroup::Name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::QueueGroup::{self, Disabled, Inherit};

    fn name(n: &str) -> QueueGroup {
        QueueGroup::from(n)
    }

    /// endpoint, group, service -> effective
    #[test]
    fn precedence_is_endpoint_group_service_default() {
        let cases: &[(QueueGroup, QueueGroup, QueueGroup, Option<&str>)] = &[
            (Inherit, Inherit, Inherit, Some("q")),
            (Inherit, Inherit, name("svc"), Some("svc")),
            (Inherit, name("grp"), name("svc"), Some("grp")),
            (name("ep"), name("grp"), name("svc"), Some("ep")),
            (name(""), name(""), name(""), Some("q")),
            (name(""), Inherit, name("svc"), Some("svc")),
            (Inherit, Inherit, Disabled, None),
            (Inherit, name("grp"), Disabled, Some("grp")),
            (name("ep"), Disabled, Disabled, Some("ep")),
            (Disabled, name("grp"), name("svc"), None),
            (Inherit, Disabled, name("svc"), None),
        ];
        for (endpoint, group, service, expected) in cases {
            let resolved = endpoint.under(&group.under(service));
            assert_eq!(
                resolved.effective(),
                *expected,
                "{endpoint:?} / {group:?} / {service:?}"
            );
        }
    }

    #[test]
    fn nesting_is_associative() {
        let settings = [Inherit, Disabled, name(""), name("a"), name("b")];
        for a in &settings {
            for b in &settings {
                for c in &settings {
                    assert_eq!(a.under(&b.under(c)), a.under(b).under(c));
                }
            }
        }
    }
}
