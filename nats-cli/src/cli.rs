//! The command line: global flags, one subcommand per command group, and the dispatch of
//! each to its module.

use clap::{Parser, Subcommand};

use crate::connect::ConnectArgs;
use crate::error::CliError;
use crate::jetstream;
use crate::kv::{self, KvCommand};
use crate::micro::{self, MicroCommand};
use crate::object::{self, ObjectCommand};
use crate::pubsub::{self, PubArgs, SubArgs};
use crate::request::{self, ReplyArgs, RequestArgs};
use crate::stream::{self, StreamCommand};

/// A command-line tool for NATS: services, publish, subscribe, request and reply, streams,
/// Key-Value and Object Store.
///
/// Settings come from a NATS CLI context (--context or NATS_CONTEXT), then the environment
/// (NATS_URL, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY, NATS_CA,
/// NATS_CERT, NATS_KEY), then the flags, each over the one before.
#[derive(Debug, Parser)]
#[command(name = "nats-rs", version, about, long_about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// Prints JSON instead of text, for scripts
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Services of the NATS Service API: list, info, stats, ping
    #[command(subcommand, visible_alias = "service")]
    Micro(MicroCommand),
    /// Publishes a message
    #[command(visible_alias = "publish")]
    Pub(PubArgs),
    /// Prints the messages published on a subject
    #[command(visible_alias = "subscribe")]
    Sub(SubArgs),
    /// Sends a request and prints the reply
    #[command(visible_alias = "req")]
    Request(RequestArgs),
    /// Answers requests on a subject with a fixed body
    Reply(ReplyArgs),
    /// JetStream streams: list, info, add, remove
    #[command(subcommand, visible_alias = "str")]
    Stream(StreamCommand),
    /// Key-Value buckets: list, info, add, get, put, delete keys, remove buckets
    #[command(subcommand)]
    Kv(KvCommand),
    /// Object Store buckets: list, info, add, put, get, remove
    #[command(subcommand, visible_alias = "obj")]
    Object(ObjectCommand),
}

impl Cli {
    /// Connects and runs the command.
    pub(crate) async fn run(&self) -> Result<(), CliError> {
        let (client, config) = self.connect.connect().await?;
        let timeout = self.connect.timeout;
        let js = || jetstream::context(&client, &config, timeout);
        let result = match &self.command {
            Command::Micro(command) => micro::run(&client, command, timeout, self.json).await,
            Command::Pub(args) => pubsub::publish(&client, args).await,
            Command::Sub(args) => pubsub::subscribe(&client, args, self.json).await,
            Command::Request(args) => request::request(&client, args, timeout, self.json).await,
            Command::Reply(args) => request::reply(&client, args, self.json).await,
            Command::Stream(command) => stream::run(&js(), command, self.json).await,
            Command::Kv(command) => kv::run(&js(), command, self.json).await,
            Command::Object(command) => object::run(&js(), command, self.json).await,
        };
        client.close().await;
        result
    }
}
