//! The calling side of endpoints, for the typed clients `#[service]` generates (and for
//! hand-written ones).
//!
//! A typed client method turns its arguments into a [`ClientCall`] (each argument through
//! its extractor's [`ClientArg`]), hands the call to a `tower::Service<ClientCall>` — the
//! [`Caller`] that sends it over NATS, or that caller wrapped in any tower layers (retries,
//! timeouts, concurrency limits, load shedding) — and decodes the reply through the endpoint's
//! return type's [`ClientReply`].
//!
//! ```no_run
//! use std::time::Duration;
//! use nats_micro::client::{Caller, ClientCore};
//! use nats_micro::{CallError, Json};
//!
//! # async fn demo(client: nats_core::Client) -> Result<(), CallError> {
//! // What a generated client does for `async fn add(&self, Json(n): Json<Vec<i64>>) -> Json<i64>`.
//! let core = ClientCore::new(&client).timeout(Duration::from_millis(500));
//! let mut call = core.call("add", "math.add".to_owned());
//! nats_micro::client::write_arg::<Json<Vec<i64>>>(&vec![1, 2, 3], &mut call)?;
//! let sum: i64 = core.send::<Json<i64>>(Ok(call)).await?;
//! # let _ = sum; Ok(()) }
//! ```

mod arg;
mod call;
mod caller;
mod core;
mod pending;
mod reply;
mod subject;

pub use arg::{write_arg, ClientArg, IntoInput};
pub use call::ClientCall;
pub use caller::{CallFuture, Caller};
pub use core::ClientCore;
pub use pending::Pending;
pub use reply::ClientReply;
pub use subject::fill_subject;
