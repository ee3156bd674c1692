//! [`Stream`]: the handle of one stream, from [`Context::stream`], through which its consumers
//! are made and reached (ADR-37's `getStream(name).getConsumer(name)`).

use super::consumer::{Action, Consumer};
use super::consumer_config::ConsumerConfig;
use super::consumer_info::ConsumerInfo;
use super::context::Context;
use super::errors::JetStreamError;
use super::stream_info::StreamInfo;

/// One stream of a [`Context`], with its info as it was when the handle was made. Cheap to
/// clone.
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use nats_core::jetstream::ConsumerConfig;
/// let stream = js.stream("ORDERS").await?;
/// let consumer = stream
///     .create_or_update_consumer(&ConsumerConfig::durable("worker"))
///     .await?;
/// println!("{} on {}", consumer.name(), stream.name());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Stream {
    context: Context,
    info: StreamInfo,
}

impl Context {
    /// The stream `name`, with its info as it is now.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::StreamNotFound`](super::JetStreamErrorKind::StreamNotFound) and
    /// the others of [`JetStreamError`].
    pub async fn stream(&self, name: &str) -> Result<Stream, JetStreamError> {
        let info = self.stream_info(name).await?;
        Ok(Stream {
            context: self.clone(),
            info,
        })
    }
}

impl Stream {
    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.info.config.name
    }

    /// The info the handle was made with (or last refreshed with [`info`](Self::info)).
    pub fn cached_info(&self) -> &StreamInfo {
        &self.info
    }

    /// The stream's info as it is now; the cached info is refreshed too.
    ///
    /// # Errors
    /// As [`Context::stream_info`].
    pub async fn info(&mut self) -> Result<&StreamInfo, JetStreamError> {
        self.info = self.context.stream_info(&self.info.config.name).await?;
        Ok(&self.info)
    }

    /// The context the handle works through.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Creates a pull consumer (see [`Context::create_consumer`]) and returns its handle.
    ///
    /// # Errors
    /// As [`Context::create_consumer`], and `InvalidRequest` for a push config.
    pub async fn create_consumer(
        &self,
        config: &ConsumerConfig,
    ) -> Result<Consumer, JetStreamError> {
        self.upsert(config, Action::Create).await
    }

    /// Updates a pull consumer (see [`Context::update_consumer`]) and returns its handle.
    ///
    /// # Errors
    /// As [`Context::update_consumer`], and `InvalidRequest` for a push config.
    pub async fn update_consumer(
        &self,
        config: &ConsumerConfig,
    ) -> Result<Consumer, JetStreamError> {
        self.upsert(config, Action::Update).await
    }

    /// Creates or updates a pull consumer and returns its handle.
    ///
    /// # Errors
    /// As [`Context::create_or_update_consumer`], and `InvalidRequest` for a push config.
    pub async fn create_or_update_consumer(
        &self,
        config: &ConsumerConfig,
    ) -> Result<Consumer, JetStreamError> {
        self.upsert(config, Action::CreateOrUpdate).await
    }

    async fn upsert(
        &self,
        config: &ConsumerConfig,
        action: Action,
    ) -> Result<Consumer, JetStreamError> {
        if config.is_push() {
            return Err(JetStreamError::with_source(
                super::JetStreamErrorKind::InvalidRequest,
                "a config with a deliver subject is a push consumer: use create_push_consumer",
            ));
        }
        let info = self
            .context
            .upsert_consumer(self.name(), config, action)
            .await?;
        Consumer::from_info(self.context.clone(), info)
    }

    /// The pull consumer `name` of this stream.
    ///
    /// # Errors
    /// As [`Context::consumer`].
    pub async fn consumer(&self, name: &str) -> Result<Consumer, JetStreamError> {
        self.context.consumer(self.name(), name).await
    }

    /// A consumer's info.
    ///
    /// # Errors
    /// As [`Context::consumer_info`].
    pub async fn consumer_info(&self, name: &str) -> Result<ConsumerInfo, JetStreamError> {
        self.context.consumer_info(self.name(), name).await
    }

    /// Deletes a consumer of this stream.
    ///
    /// # Errors
    /// As [`Context::delete_consumer`].
    pub async fn delete_consumer(&self, name: &str) -> Result<(), JetStreamError> {
        self.context.delete_consumer(self.name(), name).await
    }

    /// The names of the stream's consumers.
    ///
    /// # Errors
    /// As [`Context::consumer_names`].
    pub async fn consumer_names(&self) -> Result<Vec<String>, JetStreamError> {
        self.context.consumer_names(self.name()).await
    }
}
