//! Consumer management on a [`Context`]: create (with the `action` rules), update, create or
//! update, delete, info, names and list over every page, pause and resume; and [`Consumer`],
//! the handle of a pull consumer.
//!
//! Creation uses `CONSUMER.CREATE.<stream>.<name>` (2.9+), with the filter as a last subject
//! tail when the config has one literal `filter_subject` (so that accounts allowed only that
//! subject can create it; a wildcard filter cannot be part of a subject this client
//! publishes to). The `action` field says `"create"` (10148 if the consumer exists with
//! another config) or `"update"` (10149 if it does not); create-or-update leaves it out,
//! which every server reads as create-or-update. Servers before 2.10 ignore the field, so on
//! them create and update both behave as create-or-update. The legacy
//! `CONSUMER.DURABLE.CREATE` subject is not used: every server with the name-in-subject form
//! (2.9.0 on) accepts durables through it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::consumer_config::ConsumerConfig;
use super::consumer_info::{ConsumerInfo, ConsumerList, PauseResponse};
use super::context::Context;
use super::errors::{JetStreamError, JetStreamErrorKind};
use super::name::validate_name;
use super::paging::{Page, PageRequest};
use super::stream::{check_stream_name, confirm};

/// What a consumer create request may do to an existing consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Create; an existing consumer with the same config is not an error, another config is.
    Create,
    /// Update an existing consumer; an absent one is an error.
    Update,
    /// Either.
    CreateOrUpdate,
}

impl Action {
    /// The `action` field: the server's strings, none for create-or-update.
    fn wire(self) -> Option<&'static str> {
        match self {
            Action::Create => Some("create"),
            Action::Update => Some("update"),
            Action::CreateOrUpdate => None,
        }
    }
}

#[derive(Serialize)]
struct CreateRequest<'a> {
    stream_name: &'a str,
    config: &'a ConsumerConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
}

#[derive(Serialize)]
struct PauseRequest {
    #[serde(with = "time::serde::rfc3339")]
    pause_until: OffsetDateTime,
}

#[derive(Deserialize)]
struct DeleteResponse {
    #[serde(default)]
    success: bool,
}

#[derive(Deserialize)]
struct NamesPage {
    #[serde(flatten)]
    page: Page,
    #[serde(default)]
    consumers: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(flatten)]
    page: Page,
    #[serde(default)]
    consumers: Option<Vec<ConsumerInfo>>,
    #[serde(default)]
    missing: Option<Vec<String>>,
    #[serde(default)]
    offline: Option<std::collections::HashMap<String, String>>,
}

/// Checks a consumer name before it goes into a subject.
pub(crate) fn check_consumer_name(name: &str) -> Result<(), JetStreamError> {
    validate_name(name).map_err(|e| JetStreamError::with_source(JetStreamErrorKind::InvalidName, e))
}

/// The name the consumer of `config` is created under, and the subject suffix to create it
/// with. A config without a name gets a generated one (an ephemeral consumer).
pub(crate) fn create_target(
    stream: &str,
    config: &ConsumerConfig,
) -> Result<(Option<String>, String), JetStreamError> {
    check_stream_name(stream)?;
    if let (Some(durable), Some(name)) = (&config.durable_name, &config.name) {
        if durable != name {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::InvalidRequest,
                format!("durable_name {durable:?} and name {name:?} differ"),
            ));
        }
    }
    if config.filter_subject.is_some() && !config.filter_subjects.is_empty() {
        return Err(JetStreamError::with_source(
            JetStreamErrorKind::InvalidRequest,
            "filter_subject and filter_subjects exclude each other",
        ));
    }
    let (generated, name) = match config.consumer_name() {
        Some(name) => (None, name.to_owned()),
        None => {
            let name = nuid::next().to_string();
            (Some(name.clone()), name)
        }
    };
    check_consumer_name(&name)?;
    let mut suffix = format!("CONSUMER.CREATE.{stream}.{name}");
    if let Some(filter) = config.filter_subject.as_deref() {
        if crate::subject::validate_publish_subject(filter).is_ok() {
            suffix.push('.');
            suffix.push_str(filter);
        }
    }
    Ok((generated, suffix))
}

impl Context {
    /// Creates a consumer on `stream`; a consumer of that name that exists with the same
    /// config is returned as it is. A config with neither `durable_name` nor `name` creates
    /// an ephemeral consumer with a generated name.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
    /// use nats_core::jetstream::ConsumerConfig;
    /// let info = js.create_consumer("ORDERS", &ConsumerConfig::durable("worker")).await?;
    /// println!("{} pending", info.num_pending);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`JetStreamErrorKind::InvalidName`] and [`JetStreamErrorKind::InvalidRequest`] (both
    /// names set and different, both filter fields set) before sending;
    /// [`JetStreamErrorKind::ConsumerAlreadyExists`] when it exists with another config;
    /// [`JetStreamErrorKind::StreamNotFound`]; [`JetStreamErrorKind::Unsupported`] for
    /// `filter_subjects` on a server before 2.10 (which then created the consumer
    /// unfiltered); [`JetStreamErrorKind::Api`] for a config the server refuses.
    pub async fn create_consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<ConsumerInfo, JetStreamError> {
        self.upsert_consumer(stream, config, Action::Create).await
    }

    /// Changes an existing consumer's config (the name says which).
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`] when it does not exist (10149), a change the
    /// server refuses ([`JetStreamErrorKind::Api`]), and the errors of
    /// [`create_consumer`](Self::create_consumer).
    pub async fn update_consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<ConsumerInfo, JetStreamError> {
        if config.consumer_name().is_none() {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::InvalidRequest,
                "an update needs the consumer's name",
            ));
        }
        self.upsert_consumer(stream, config, Action::Update).await
    }

    /// Creates the consumer, or updates it if it exists.
    ///
    /// # Errors
    /// As [`create_consumer`](Self::create_consumer), without `ConsumerAlreadyExists`.
    pub async fn create_or_update_consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<ConsumerInfo, JetStreamError> {
        self.upsert_consumer(stream, config, Action::CreateOrUpdate)
            .await
    }

    pub(crate) async fn upsert_consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
        action: Action,
    ) -> Result<ConsumerInfo, JetStreamError> {
        let (generated, suffix) = create_target(stream, config)?;
        let named;
        let config = match generated {
            Some(name) => {
                named = ConsumerConfig {
                    name: Some(name),
                    ..config.clone()
                };
                &named
            }
            None => config,
        };
        let request = CreateRequest {
            stream_name: stream,
            config,
            action: action.wire(),
        };
        let info: ConsumerInfo = self.api_json(&suffix, &request).await?;
        if !config.filter_subjects.is_empty() && info.config.filter_subjects.is_empty() {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::Unsupported,
                "the server ignored filter_subjects (it is older than 2.10)",
            ));
        }
        Ok(info)
    }

    /// Deletes a consumer.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`], [`JetStreamErrorKind::StreamNotFound`] and
    /// the others of [`JetStreamError`].
    pub async fn delete_consumer(&self, stream: &str, name: &str) -> Result<(), JetStreamError> {
        check_stream_name(stream)?;
        check_consumer_name(name)?;
        let reply: DeleteResponse = self
            .api_request(&format!("CONSUMER.DELETE.{stream}.{name}"), Bytes::new())
            .await?;
        confirm(reply.success, "consumer delete")
    }

    /// A consumer's config and state.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`], [`JetStreamErrorKind::StreamNotFound`] and
    /// the others of [`JetStreamError`].
    pub async fn consumer_info(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<ConsumerInfo, JetStreamError> {
        check_stream_name(stream)?;
        check_consumer_name(name)?;
        self.api_request(&format!("CONSUMER.INFO.{stream}.{name}"), Bytes::new())
            .await
    }

    /// The names of every consumer of `stream`, all pages collected (1024 per page).
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`] and the others of [`JetStreamError`].
    pub async fn consumer_names(&self, stream: &str) -> Result<Vec<String>, JetStreamError> {
        check_stream_name(stream)?;
        let suffix = format!("CONSUMER.NAMES.{stream}");
        let mut names = Vec::new();
        let mut request = PageRequest::default();
        loop {
            let reply: NamesPage = self.api_json(&suffix, &request).await?;
            let consumers = reply.consumers.unwrap_or_default();
            let next = reply.page.next_offset(consumers.len());
            names.extend(consumers);
            match next {
                Some(offset) => request.offset = offset,
                None => return Ok(names),
            }
        }
    }

    /// Every consumer's info of `stream`, all pages collected (256 per page), plus the
    /// consumers the server could not report.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`] and the others of [`JetStreamError`].
    pub async fn consumers(&self, stream: &str) -> Result<ConsumerList, JetStreamError> {
        check_stream_name(stream)?;
        let suffix = format!("CONSUMER.LIST.{stream}");
        let mut list = ConsumerList::default();
        let mut request = PageRequest::default();
        loop {
            let reply: ListPage = self.api_json(&suffix, &request).await?;
            let consumers = reply.consumers.unwrap_or_default();
            let missing = reply.missing.unwrap_or_default();
            let next = reply.page.next_offset(consumers.len() + missing.len());
            list.consumers.extend(consumers);
            list.missing.extend(missing);
            list.offline.extend(reply.offline.unwrap_or_default());
            match next {
                Some(offset) => request.offset = offset,
                None => return Ok(list),
            }
        }
    }

    /// Pauses a consumer until `until` (2.11): it delivers nothing before. A time in the
    /// past resumes it.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
    /// use time::{Duration, OffsetDateTime};
    /// let paused = js
    ///     .pause_consumer("ORDERS", "worker", OffsetDateTime::now_utc() + Duration::minutes(5))
    ///     .await?;
    /// assert!(paused.paused);
    /// js.resume_consumer("ORDERS", "worker").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`]; a server before 2.11 has no responder for
    /// the request ([`JetStreamErrorKind::NotEnabled`] or a timeout); the others of
    /// [`JetStreamError`].
    pub async fn pause_consumer(
        &self,
        stream: &str,
        name: &str,
        until: OffsetDateTime,
    ) -> Result<PauseResponse, JetStreamError> {
        check_stream_name(stream)?;
        check_consumer_name(name)?;
        let request = PauseRequest { pause_until: until };
        let reply: PauseResponse = self
            .api_json(&format!("CONSUMER.PAUSE.{stream}.{name}"), &request)
            .await?;
        Ok(reply.normalized())
    }

    /// Resumes a paused consumer (2.11); resuming one that is not paused does nothing.
    ///
    /// # Errors
    /// As [`pause_consumer`](Self::pause_consumer).
    pub async fn resume_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<PauseResponse, JetStreamError> {
        check_stream_name(stream)?;
        check_consumer_name(name)?;
        let reply: PauseResponse = self
            .api_request(&format!("CONSUMER.PAUSE.{stream}.{name}"), Bytes::new())
            .await?;
        Ok(reply.normalized())
    }

    /// The pull consumer `name` of `stream`, with its info as it is now.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`]; [`JetStreamErrorKind::InvalidRequest`] for
    /// a push consumer (see [`push_consumer`](Self::push_consumer)); the others of
    /// [`JetStreamError`].
    pub async fn consumer(&self, stream: &str, name: &str) -> Result<Consumer, JetStreamError> {
        let info = self.consumer_info(stream, name).await?;
        Consumer::from_info(self.clone(), info)
    }
}

/// A pull consumer. Cheap to clone.
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// let mut consumer = js.consumer("ORDERS", "worker").await?;
/// println!("{} pending", consumer.info().await?.num_pending);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Consumer {
    pub(crate) context: Context,
    pub(crate) info: ConsumerInfo,
}

impl Consumer {
    /// A handle for the consumer `info` describes; push consumers are refused.
    pub(crate) fn from_info(context: Context, info: ConsumerInfo) -> Result<Self, JetStreamError> {
        if info.config.is_push() {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::InvalidRequest,
                format!("consumer {:?} is a push consumer", info.name),
            ));
        }
        Ok(Consumer { context, info })
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The stream it reads.
    pub fn stream_name(&self) -> &str {
        &self.info.stream_name
    }

    /// The info it was made with (or last refreshed with [`info`](Self::info)).
    pub fn cached_info(&self) -> &ConsumerInfo {
        &self.info
    }

    /// The consumer's info as it is now; the cached info is refreshed too.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`] and the others of [`JetStreamError`].
    pub async fn info(&mut self) -> Result<&ConsumerInfo, JetStreamError> {
        self.info = self
            .context
            .consumer_info(&self.info.stream_name, &self.info.name)
            .await?;
        Ok(&self.info)
    }

    /// The context it works through.
    pub fn context(&self) -> &Context {
        &self.context
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(config: &ConsumerConfig, action: Action) -> String {
        let request = CreateRequest {
            stream_name: "S",
            config,
            action: action.wire(),
        };
        serde_json::to_string(&request).expect("serializes")
    }

    #[test]
    fn actions_are_the_server_strings_and_create_or_update_sends_none() {
        let config = ConsumerConfig::durable("D");
        assert_eq!(
            body(&config, Action::Create),
            r#"{"stream_name":"S","config":{"durable_name":"D","ack_policy":"explicit"},"action":"create"}"#
        );
        assert!(body(&config, Action::Update).ends_with(r#""action":"update"}"#));
        assert!(!body(&config, Action::CreateOrUpdate).contains("action"));
    }

    #[test]
    fn the_create_subject_carries_the_name_and_a_literal_filter() {
        let target = |config: &ConsumerConfig| create_target("S", config).map(|t| t.1);
        assert_eq!(
            target(&ConsumerConfig::durable("D")).expect("ok"),
            "CONSUMER.CREATE.S.D"
        );
        let filtered = ConsumerConfig {
            filter_subject: Some("orders.eu".into()),
            ..ConsumerConfig::ephemeral("E")
        };
        assert_eq!(
            target(&filtered).expect("ok"),
            "CONSUMER.CREATE.S.E.orders.eu"
        );
        let wildcard = ConsumerConfig {
            filter_subject: Some("orders.*.new".into()),
            ..ConsumerConfig::ephemeral("E")
        };
        assert_eq!(target(&wildcard).expect("ok"), "CONSUMER.CREATE.S.E");
        let many = ConsumerConfig {
            filter_subjects: vec!["a".into(), "b".into()],
            ..ConsumerConfig::durable("D")
        };
        assert_eq!(target(&many).expect("ok"), "CONSUMER.CREATE.S.D");
    }

    #[test]
    fn an_unnamed_consumer_gets_a_generated_name() {
        let (generated, suffix) = create_target("S", &ConsumerConfig::default()).expect("a target");
        let name = generated.expect("a generated name");
        assert!(validate_name(&name).is_ok());
        assert_eq!(suffix, format!("CONSUMER.CREATE.S.{name}"));
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        let kind = |stream: &str, config: ConsumerConfig| {
            create_target(stream, &config)
                .map(|_| ())
                .map_err(|e| e.kind())
        };
        assert_eq!(
            kind("S", ConsumerConfig::durable("a.b")),
            Err(JetStreamErrorKind::InvalidName)
        );
        assert_eq!(
            kind("S.x", ConsumerConfig::durable("a")),
            Err(JetStreamErrorKind::InvalidName)
        );
        let both = ConsumerConfig {
            name: Some("other".into()),
            ..ConsumerConfig::durable("D")
        };
        assert_eq!(kind("S", both), Err(JetStreamErrorKind::InvalidRequest));
        let filters = ConsumerConfig {
            filter_subject: Some("a".into()),
            filter_subjects: vec!["b".into()],
            ..ConsumerConfig::durable("D")
        };
        assert_eq!(kind("S", filters), Err(JetStreamErrorKind::InvalidRequest));
    }

    #[test]
    fn a_pause_request_is_an_rfc3339_time() {
        let json = serde_json::to_string(&PauseRequest {
            pause_until: OffsetDateTime::UNIX_EPOCH,
        })
        .expect("serializes");
        assert_eq!(json, r#"{"pause_until":"1970-01-01T00:00:00Z"}"#);
    }

    #[test]
    fn consumer_pages_parse_with_null_lists() {
        let page: NamesPage = serde_json::from_str(
            r#"{"type":"io.nats.jetstream.api.v1.consumer_names_response","total":0,"offset":0,"limit":1024,"consumers":null}"#,
        )
        .expect("parses");
        assert_eq!(page.consumers, None);
        let page: ListPage = serde_json::from_str(
            r#"{"total":3,"offset":0,"limit":256,"consumers":[],"missing":["x"]}"#,
        )
        .expect("parses");
        assert_eq!(page.page.next_offset(1), Some(1));
    }
}
