//! The plumbing every pull shares: the body of a `CONSUMER.MSG.NEXT` request
//! ([`PullRequest`], checked before it is sent), sending it with a reply inbox, the
//! errors of the statuses that make every pull fail, and telling a deleted consumer from
//! an unavailable one by its info. [`fetch`](super::fetch) makes one request,
//! [`pull_loop`](super::pull_loop) keeps them coming.

use std::time::Duration;

use serde::Serialize;

use super::consumer::Consumer;
use super::context::Context;
use super::errors::{ConsumeError, ConsumeErrorKind, JetStreamErrorKind};
use super::nanos;
use super::status::Delivery;
use crate::subscriber::Subscriber;

/// How long after a first "consumer not found" the info is asked again.
const CONFIRM_DELETED_AFTER: Duration = Duration::from_millis(250);

/// The batch sent with a bytes-only request: `batch` 0 would deliver one message (ADR-37).
pub(crate) const BYTES_ONLY_BATCH: usize = 1_000_000;

/// The body of a `CONSUMER.MSG.NEXT` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct PullRequest {
    pub(crate) batch: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) max_bytes: usize,
    #[serde(with = "nanos::option", skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<Duration>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) no_wait: bool,
    #[serde(
        rename = "idle_heartbeat",
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) heartbeat: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_pending: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_ack_pending: Option<i64>,
    #[serde(rename = "id", skip_serializing_if = "Option::is_none")]
    pub(crate) pin_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<u8>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl PullRequest {
    /// Refuses what the server would answer with `400 Bad Request` (a heartbeat without an
    /// expiry or over half of it) or what cannot be asked (an empty batch).
    pub(crate) fn validate(&self) -> Result<(), ConsumeError> {
        let invalid = |why: &'static str| {
            Err(ConsumeError::with_source(
                ConsumeErrorKind::InvalidOptions,
                why,
            ))
        };
        if self.batch == 0 {
            return invalid("a batch of 0 messages");
        }
        if let Some(heartbeat) = self.heartbeat {
            match self.expires {
                None => return invalid("an idle heartbeat needs an expiry"),
                Some(expires) if heartbeat.saturating_mul(2) > expires => {
                    return invalid("the idle heartbeat must be at most half the expiry")
                }
                Some(_) => {}
            }
        }
        if self.priority.is_some_and(|p| p > 9) {
            return invalid("a priority is 0 to 9");
        }
        Ok(())
    }

    pub(crate) fn to_json(&self) -> Result<Vec<u8>, ConsumeError> {
        serde_json::to_vec(self)
            .map_err(|e| ConsumeError::with_source(ConsumeErrorKind::InvalidOptions, e))
    }
}
impl Consumer {
    /// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<name>`, where pull requests go.
    pub(crate) fn next_subject(&self) -> String {
        self.context.api_subject(&format!(
            "CONSUMER.MSG.NEXT.{}.{}",
            self.info.stream_name, self.info.name
        ))
    }
}

/// Subscribes a new inbox and sends `request` to `subject` with it as the reply.
pub(crate) async fn send_pull(
    context: &Context,
    subject: &str,
    request: &PullRequest,
) -> Result<(Subscriber, String), ConsumeError> {
    let client = context.client();
    let inbox = client.new_inbox();
    let sub = client
        .subscribe(&inbox)
        .await
        .map_err(|e| ConsumeError::with_source(ConsumeErrorKind::Subscribe, e))?;
    publish_pull(context, subject, &inbox, request).await?;
    Ok((sub, inbox))
}

/// Sends `request` to `subject` with `inbox` as the reply.
pub(crate) async fn publish_pull(
    context: &Context,
    subject: &str,
    inbox: &str,
    request: &PullRequest,
) -> Result<(), ConsumeError> {
    let body = request.to_json()?;
    context
        .client()
        .publish_with_reply(subject, inbox, body)
        .await
        .map_err(|e| ConsumeError::with_source(ConsumeErrorKind::Publish, e))
}

/// After nobody answered a pull: whether the consumer is gone. `Some` error when its info
/// says not found (the consumer or its stream) twice, a moment apart (a single answer
/// could come from a server still restoring its assets); `None` when it exists or cannot
/// be asked.
pub(crate) async fn deleted_error(
    context: &Context,
    stream: &str,
    consumer: &str,
) -> Option<ConsumeError> {
    let not_found = || async {
        match context.consumer_info(stream, consumer).await {
            Err(err)
                if matches!(
                    err.kind(),
                    JetStreamErrorKind::ConsumerNotFound | JetStreamErrorKind::StreamNotFound
                ) =>
            {
                Some(err)
            }
            _ => None,
        }
    };
    not_found().await?;
    tokio::time::sleep(CONFIRM_DELETED_AFTER).await;
    let err = not_found().await?;
    Some(ConsumeError::with_source(
        ConsumeErrorKind::ConsumerDeleted,
        err,
    ))
}

/// The error of a status that makes every pull fail.
pub(crate) fn terminal_error(delivery: &Delivery) -> Option<ConsumeError> {
    let error = match delivery {
        Delivery::ConsumerDeleted => ConsumeError::new(ConsumeErrorKind::ConsumerDeleted),
        Delivery::PushBased => ConsumeError::new(ConsumeErrorKind::PushBased),
        Delivery::BadRequest(description) => {
            ConsumeError::with_source(ConsumeErrorKind::BadRequest, description.clone())
        }
        Delivery::Rejected(description) => {
            ConsumeError::with_source(ConsumeErrorKind::RequestRejected, description.clone())
        }
        _ => return None,
    };
    Some(error)
}
#[cfg(test)]
mod tests {
    use super::*;

    fn json(request: &PullRequest) -> String {
        String::from_utf8(request.to_json().expect("serializes")).expect("utf8")
    }

    #[test]
    fn pull_bodies_carry_only_what_was_asked() {
        let request = PullRequest {
            batch: 10,
            expires: Some(Duration::from_secs(5)),
            ..PullRequest::default()
        };
        assert_eq!(json(&request), r#"{"batch":10,"expires":5000000000}"#);
        let request = PullRequest {
            batch: BYTES_ONLY_BATCH,
            max_bytes: 1024,
            no_wait: true,
            heartbeat: Some(Duration::from_secs(1)),
            expires: Some(Duration::from_secs(2)),
            group: Some("g".into()),
            min_pending: Some(5),
            min_ack_pending: Some(6),
            pin_id: Some("pin".into()),
            priority: Some(3),
        };
        assert_eq!(
            json(&request),
            r#"{"batch":1000000,"max_bytes":1024,"expires":2000000000,"no_wait":true,"idle_heartbeat":1000000000,"group":"g","min_pending":5,"min_ack_pending":6,"id":"pin","priority":3}"#
        );
    }

    #[test]
    fn impossible_requests_are_refused() {
        let kind = |request: PullRequest| request.validate().map_err(|e| e.kind());
        let ok = PullRequest {
            batch: 1,
            expires: Some(Duration::from_secs(2)),
            heartbeat: Some(Duration::from_secs(1)),
            ..PullRequest::default()
        };
        assert_eq!(kind(ok.clone()), Ok(()));
        let invalid = Err(ConsumeErrorKind::InvalidOptions);
        assert_eq!(
            kind(PullRequest {
                batch: 0,
                ..ok.clone()
            }),
            invalid
        );
        assert_eq!(
            kind(PullRequest {
                heartbeat: Some(Duration::from_millis(1001)),
                ..ok.clone()
            }),
            invalid,
            "over half the expiry is the server's 400"
        );
        assert_eq!(
            kind(PullRequest {
                expires: None,
                ..ok.clone()
            }),
            invalid
        );
        assert_eq!(
            kind(PullRequest {
                priority: Some(10),
                ..ok
            }),
            invalid
        );
    }

    #[test]
    fn terminal_statuses_have_their_kinds() {
        let kind = |d: Delivery| terminal_error(&d).map(|e| e.kind());
        assert_eq!(
            kind(Delivery::ConsumerDeleted),
            Some(ConsumeErrorKind::ConsumerDeleted)
        );
        assert_eq!(kind(Delivery::PushBased), Some(ConsumeErrorKind::PushBased));
        assert_eq!(
            kind(Delivery::BadRequest("x".into())),
            Some(ConsumeErrorKind::BadRequest)
        );
        assert_eq!(
            kind(Delivery::Rejected("Exceeded MaxRequestBatch of 5".into())),
            Some(ConsumeErrorKind::RequestRejected)
        );
        assert_eq!(kind(Delivery::LeadershipChange), None);
        assert_eq!(kind(Delivery::MaxWaiting), None);
    }
}
