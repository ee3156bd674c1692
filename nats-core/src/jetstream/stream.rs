//! Stream management on a [`Context`]: create, update, delete, info (with subjects and
//! deleted details, every page), names and list (every page, with a subject filter), purge.

use std::collections::HashMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::context::Context;
use super::errors::{JetStreamError, JetStreamErrorKind};
use super::name::validate_name;
use super::paging::{Page, PageRequest};
use super::stream_config::StreamConfig;
use super::stream_info::{StreamInfo, StreamList};

/// What [`Context::stream_info_with`] asks for besides the config and state.
///
/// ```
/// use nats_core::jetstream::StreamInfoOptions;
/// let options = StreamInfoOptions::new().subjects_filter("orders.>").deleted_details(true);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamInfoOptions {
    subjects_filter: Option<String>,
    deleted_details: bool,
}

impl StreamInfoOptions {
    /// Config and state only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Count messages per subject for the subjects matching `filter` (`>` for all):
    /// [`StreamState::subjects`](super::StreamState::subjects). The server sends 100,000
    /// subjects per page; every page is collected. A page is one message: the client reads
    /// none larger than the server's `max_payload` plus 64 KiB, so with many long subjects
    /// raise `max_payload` or narrow the filter (else the call times out).
    pub fn subjects_filter(mut self, filter: impl Into<String>) -> Self {
        self.subjects_filter = Some(filter.into());
        self
    }

    /// List the sequences of deleted messages:
    /// [`StreamState::deleted`](super::StreamState::deleted).
    pub fn deleted_details(mut self, yes: bool) -> Self {
        self.deleted_details = yes;
        self
    }
}

/// Which messages [`Context::purge_stream`] removes.
///
/// ```
/// use nats_core::jetstream::PurgeOptions;
/// let everything = PurgeOptions::new();
/// let keep_latest = PurgeOptions::new().filter("orders.eu.>").keep(10);
/// let older = PurgeOptions::new().sequence(1000);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeOptions {
    #[serde(rename = "filter", skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    #[serde(rename = "seq", skip_serializing_if = "Option::is_none")]
    sequence: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep: Option<u64>,
}

impl PurgeOptions {
    /// Every message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only messages on subjects matching `subject` (wildcards allowed).
    pub fn filter(mut self, subject: impl Into<String>) -> Self {
        self.filter = Some(subject.into());
        self
    }

    /// Only messages below `sequence` (not itself). Excludes [`keep`](Self::keep).
    pub fn sequence(mut self, sequence: u64) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// Keep the latest `n` messages (per the filter, when there is one). Excludes
    /// [`sequence`](Self::sequence).
    pub fn keep(mut self, n: u64) -> Self {
        self.keep = Some(n);
        self
    }

    fn validate(&self) -> Result<(), JetStreamError> {
        if self.sequence.is_some() && self.keep.is_some() {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::InvalidRequest,
                "a purge takes a sequence or a number to keep, not both",
            ));
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct InfoRequest<'a> {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted_details: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    subjects_filter: Option<&'a str>,
    #[serde(skip_serializing_if = "is_zero")]
    offset: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Deserialize)]
struct SuccessResponse {
    #[serde(default)]
    success: bool,
}

#[derive(Deserialize)]
struct PurgeResponse {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    purged: u64,
}

#[derive(Deserialize)]
struct NamesPage {
    #[serde(flatten)]
    page: Page,
    #[serde(default)]
    streams: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(flatten)]
    page: Page,
    #[serde(default)]
    streams: Option<Vec<StreamInfo>>,
    #[serde(default)]
    missing: Option<Vec<String>>,
    #[serde(default)]
    offline: Option<HashMap<String, String>>,
}

/// Checks a stream name before it goes into a subject.
pub(crate) fn check_stream_name(name: &str) -> Result<(), JetStreamError> {
    validate_name(name).map_err(|e| JetStreamError::with_source(JetStreamErrorKind::InvalidName, e))
}

impl Context {
    /// Creates a stream; creating one that exists with the same config is not an error.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
    /// use nats_core::jetstream::StreamConfig;
    /// let info = js
    ///     .create_stream(&StreamConfig {
    ///         subjects: vec!["orders.>".into()],
    ///         ..StreamConfig::new("ORDERS")
    ///     })
    ///     .await?;
    /// println!("created at {}", info.created);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`JetStreamErrorKind::InvalidName`] before sending;
    /// [`JetStreamErrorKind::StreamNameInUse`] when the stream exists with another config;
    /// [`JetStreamErrorKind::Api`] for a config the server refuses (such as overlapping
    /// subjects, 10065); the others of [`JetStreamError`].
    pub async fn create_stream(&self, config: &StreamConfig) -> Result<StreamInfo, JetStreamError> {
        check_stream_name(&config.name)?;
        self.api_json(&format!("STREAM.CREATE.{}", config.name), config)
            .await
    }

    /// Updates a stream's config (the name says which stream).
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`], a change the server refuses
    /// ([`JetStreamErrorKind::Api`]), and the others of [`JetStreamError`].
    pub async fn update_stream(&self, config: &StreamConfig) -> Result<StreamInfo, JetStreamError> {
        check_stream_name(&config.name)?;
        self.api_json(&format!("STREAM.UPDATE.{}", config.name), config)
            .await
    }

    /// Deletes a stream and everything it holds.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`] and the others of [`JetStreamError`].
    pub async fn delete_stream(&self, name: &str) -> Result<(), JetStreamError> {
        check_stream_name(name)?;
        let reply: SuccessResponse = self
            .api_request(&format!("STREAM.DELETE.{name}"), Bytes::new())
            .await?;
        confirm(reply.success, "delete")
    }

    /// A stream's config and state.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`] and the others of [`JetStreamError`].
    pub async fn stream_info(&self, name: &str) -> Result<StreamInfo, JetStreamError> {
        self.stream_info_with(name, StreamInfoOptions::new()).await
    }

    /// A stream's config and state, with messages per subject and deleted sequences when
    /// `options` ask; every page of subjects is collected into one map.
    ///
    /// # Errors
    /// As [`stream_info`](Self::stream_info).
    pub async fn stream_info_with(
        &self,
        name: &str,
        options: StreamInfoOptions,
    ) -> Result<StreamInfo, JetStreamError> {
        check_stream_name(name)?;
        let suffix = format!("STREAM.INFO.{name}");
        let mut request = InfoRequest {
            deleted_details: options.deleted_details,
            subjects_filter: options.subjects_filter.as_deref(),
            offset: 0,
        };
        let (mut info, page) = self.stream_info_page(&suffix, &request).await?;
        let mut next = page.next_offset(info.state.subjects.len());
        while let Some(offset) = next {
            request.offset = offset;
            let (more, page) = self.stream_info_page(&suffix, &request).await?;
            next = page.next_offset(more.state.subjects.len());
            info.state.subjects.extend(more.state.subjects);
        }
        Ok(info)
    }

    async fn stream_info_page(
        &self,
        suffix: &str,
        request: &InfoRequest<'_>,
    ) -> Result<(StreamInfo, Page), JetStreamError> {
        let body = if request.deleted_details || request.subjects_filter.is_some() {
            let json = serde_json::to_vec(request)
                .map_err(|e| JetStreamError::with_source(JetStreamErrorKind::InvalidRequest, e))?;
            Bytes::from(json)
        } else {
            Bytes::new()
        };
        let reply = self.request(&self.api_subject(suffix), body).await?;
        let info: StreamInfo = super::context::parse_response(&reply)?;
        let page: Page = super::context::parse_response(&reply)?;
        Ok((info, page))
    }

    /// The names of every stream, all pages collected, sorted as the server sorts them.
    ///
    /// # Errors
    /// The errors of [`JetStreamError`].
    pub async fn stream_names(&self) -> Result<Vec<String>, JetStreamError> {
        self.collect_names(None).await
    }

    /// The names of the streams whose subjects overlap `subject` (wildcards allowed).
    ///
    /// # Errors
    /// The errors of [`JetStreamError`].
    pub async fn stream_names_filtered(
        &self,
        subject: &str,
    ) -> Result<Vec<String>, JetStreamError> {
        self.collect_names(Some(subject)).await
    }

    /// The name of the stream that captures `subject`.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`] when no stream does (no server error then),
    /// and the others of [`JetStreamError`].
    pub async fn stream_name_by_subject(&self, subject: &str) -> Result<String, JetStreamError> {
        let names = self.collect_names(Some(subject)).await?;
        names
            .into_iter()
            .next()
            .ok_or_else(|| JetStreamError::new(JetStreamErrorKind::StreamNotFound))
    }

    async fn collect_names(&self, subject: Option<&str>) -> Result<Vec<String>, JetStreamError> {
        let mut names = Vec::new();
        let mut request = PageRequest { offset: 0, subject };
        loop {
            let reply: NamesPage = self.api_json("STREAM.NAMES", &request).await?;
            let streams = reply.streams.unwrap_or_default();
            let next = reply.page.next_offset(streams.len());
            names.extend(streams);
            match next {
                Some(offset) => request.offset = offset,
                None => return Ok(names),
            }
        }
    }

    /// Every stream's info, all pages collected (256 per page), plus the streams the
    /// server could not report.
    ///
    /// # Errors
    /// The errors of [`JetStreamError`].
    pub async fn streams(&self) -> Result<StreamList, JetStreamError> {
        self.collect_list(None).await
    }

    /// The infos of the streams whose subjects overlap `subject`.
    ///
    /// # Errors
    /// The errors of [`JetStreamError`].
    pub async fn streams_filtered(&self, subject: &str) -> Result<StreamList, JetStreamError> {
        self.collect_list(Some(subject)).await
    }

    async fn collect_list(&self, subject: Option<&str>) -> Result<StreamList, JetStreamError> {
        let mut list = StreamList::default();
        let mut request = PageRequest { offset: 0, subject };
        loop {
            let reply: ListPage = self.api_json("STREAM.LIST", &request).await?;
            let streams = reply.streams.unwrap_or_default();
            let missing = reply.missing.unwrap_or_default();
            // Offline streams take no place in `streams` but count for the offset.
            let next = reply.page.next_offset(streams.len() + missing.len());
            list.streams.extend(streams);
            list.missing.extend(missing);
            list.offline.extend(reply.offline.unwrap_or_default());
            match next {
                Some(offset) => request.offset = offset,
                None => return Ok(list),
            }
        }
    }

    /// Removes messages from a stream (all, by subject, all but the latest N, below a
    /// sequence); returns how many went.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), nats_core::jetstream::JetStreamError> {
    /// use nats_core::jetstream::PurgeOptions;
    /// let purged = js
    ///     .purge_stream("ORDERS", PurgeOptions::new().filter("orders.test.>"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`JetStreamErrorKind::InvalidRequest`] for both `keep` and `sequence`;
    /// [`JetStreamErrorKind::StreamNotFound`]; [`JetStreamErrorKind::Api`] for a stream
    /// with `deny_purge`; the others of [`JetStreamError`].
    pub async fn purge_stream(
        &self,
        name: &str,
        options: PurgeOptions,
    ) -> Result<u64, JetStreamError> {
        check_stream_name(name)?;
        options.validate()?;
        let suffix = format!("STREAM.PURGE.{name}");
        let reply: PurgeResponse = if options == PurgeOptions::default() {
            self.api_request(&suffix, Bytes::new()).await?
        } else {
            self.api_json(&suffix, &options).await?
        };
        confirm(reply.success, "purge")?;
        Ok(reply.purged)
    }
}

/// An error for a reply that neither failed nor said `success`.
pub(crate) fn confirm(success: bool, what: &str) -> Result<(), JetStreamError> {
    if success {
        Ok(())
    } else {
        Err(JetStreamError::invalid_response(format!(
            "the server did not confirm the {what}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_bodies_carry_only_what_was_asked() {
        let json = |o: &PurgeOptions| serde_json::to_string(o).expect("serializes");
        assert_eq!(json(&PurgeOptions::new()), "{}");
        assert_eq!(
            json(&PurgeOptions::new().filter("a.>").keep(3)),
            r#"{"filter":"a.>","keep":3}"#
        );
        assert_eq!(json(&PurgeOptions::new().sequence(10)), r#"{"seq":10}"#);
        let both = PurgeOptions::new().sequence(10).keep(1).validate();
        assert_eq!(
            both.map_err(|e| e.kind()),
            Err(JetStreamErrorKind::InvalidRequest)
        );
    }

    #[test]
    fn info_requests_carry_only_what_was_asked() {
        let request = InfoRequest {
            deleted_details: false,
            subjects_filter: Some(">"),
            offset: 100_000,
        };
        let json = serde_json::to_string(&request).expect("serializes");
        assert_eq!(json, r#"{"subjects_filter":">","offset":100000}"#);
    }

    #[test]
    fn a_names_page_with_null_streams_is_empty() {
        let page: NamesPage = serde_json::from_str(
            r#"{"type":"io.nats.jetstream.api.v1.stream_names_response","total":0,"offset":0,"limit":1024,"streams":null}"#,
        )
        .expect("parses");
        assert_eq!(page.streams, None);
        assert_eq!(page.page.next_offset(0), None);
    }

    #[test]
    fn bad_names_fail_before_sending() {
        let err = check_stream_name("a.b").expect_err("invalid");
        assert_eq!(err.kind(), JetStreamErrorKind::InvalidName);
        assert!(err.to_string().contains("\"a.b\""), "{err}");
    }
}
