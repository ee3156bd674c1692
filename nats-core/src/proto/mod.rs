//! The NATS client protocol without I/O: `parser` reads server operations from bytes,
//! `encoder` writes client operations into bytes, [`info`] holds the JSON of `INFO` and
//! `CONNECT`.

pub(crate) mod encoder;
pub mod info;
pub(crate) mod parser;

pub use info::ServerInfo;
