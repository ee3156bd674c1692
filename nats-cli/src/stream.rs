//! `stream ls|info|add|rm`: JetStream streams, as the NATS CLI's `stream` commands show
//! them. `add` takes every setting as a flag (it never asks); `rm` asks at a terminal and
//! needs `--force` anywhere else.

use std::io::Write;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use nats_core::jetstream::{
    Context, DiscardPolicy, JetStreamError, JetStreamErrorKind, RetentionPolicy, StorageType,
    StreamConfig, StreamInfo,
};
use serde_json::json;

use crate::confirm::confirm;
use crate::error::CliError;
use crate::jetstream::{count_limit, max_age, server_time, user_metadata, wire_name};
use crate::output::{self, count, date, Sections};
use crate::{duration, size};

/// The `stream` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum StreamCommand {
    /// Lists the streams: name, description, created, messages, size, last message
    #[command(visible_alias = "list")]
    Ls {
        /// Includes the streams that hold Key-Value and Object Store buckets
        #[arg(short, long)]
        all: bool,
        /// Only the streams that capture this subject
        #[arg(long, value_name = "SUBJECT")]
        subject: Option<String>,
    },
    /// Shows a stream's configuration and state
    Info {
        /// The stream
        name: String,
    },
    /// Creates a stream from the flags
    #[command(visible_alias = "create")]
    Add(AddArgs),
    /// Deletes a stream and every message in it
    #[command(visible_alias = "delete")]
    Rm {
        /// The stream
        name: String,
        /// Deletes without asking
        #[arg(short, long)]
        force: bool,
    },
}

/// Where a stream keeps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Storage {
    /// On disk
    #[value(alias = "f")]
    File,
    /// In memory
    #[value(alias = "m")]
    Memory,
}

impl From<Storage> for StorageType {
    fn from(storage: Storage) -> Self {
        match storage {
            Storage::File => StorageType::File,
            Storage::Memory => StorageType::Memory,
        }
    }
}

/// When messages may be removed besides the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Retention {
    /// Only the limits remove messages
    Limits,
    /// A message goes once every consumer acknowledged it
    Interest,
    /// A message goes once one consumer acknowledged it
    #[value(alias = "workq", alias = "workqueue")]
    Work,
}

/// What a full stream does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Discard {
    /// Removes the oldest messages
    Old,
    /// Refuses new messages
    New,
}

/// `stream add NAME`: the settings of the new stream; unset ones are the server's defaults.
#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The stream's name
    name: String,
    /// Subjects the stream captures, comma separated or repeated (default: its name)
    #[arg(long, value_name = "SUBJECTS", value_delimiter = ',')]
    subjects: Vec<String>,
    /// Free text describing the stream
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Where to keep the messages
    #[arg(long, value_enum, default_value = "file")]
    storage: Storage,
    /// How many servers keep a copy, in a cluster
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: usize,
    /// When messages may be removed besides the limits
    #[arg(long, value_enum, default_value = "limits")]
    retention: Retention,
    /// What to do when a limit is reached
    #[arg(long, value_enum, default_value = "old")]
    discard: Discard,
    /// Oldest message kept, such as 1h or 7d
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    max_age: Option<Duration>,
    /// Most messages kept
    #[arg(long, value_name = "N")]
    max_msgs: Option<u64>,
    /// Most messages kept per subject
    #[arg(long, value_name = "N")]
    max_msgs_per_subject: Option<u64>,
    /// Most bytes kept, such as 1073741824 or 1GB
    #[arg(long, value_name = "BYTES", value_parser = size::parse)]
    max_bytes: Option<u64>,
    /// Largest message accepted, such as 1MB
    #[arg(long, value_name = "BYTES", value_parser = size::parse)]
    max_msg_size: Option<u64>,
    /// How long message ids are remembered to drop duplicates, such as 2m
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    dupe_window: Option<Duration>,
}

impl AddArgs {
    /// The stream configuration the flags ask for.
    fn config(&self) -> Result<StreamConfig, CliError> {
        let too_large = |flag: &str| CliError::Setting(format!("--{flag}: too large"));
        let max_msg_size = self
            .max_msg_size
            .map(|n| i32::try_from(n).map_err(|_| too_large("max-msg-size")))
            .transpose()?;
        Ok(StreamConfig {
            description: self.description.clone(),
            subjects: self.subjects.clone(),
            storage: self.storage.into(),
            num_replicas: Some(self.replicas),
            retention: match self.retention {
                Retention::Limits => RetentionPolicy::Limits,
                Retention::Interest => RetentionPolicy::Interest,
                Retention::Work => RetentionPolicy::WorkQueue,
            },
            discard: match self.discard {
                Discard::Old => DiscardPolicy::Old,
                Discard::New => DiscardPolicy::New,
            },
            max_age: self.max_age,
            max_msgs: self.max_msgs.map(saturating_i64),
            max_msgs_per_subject: self.max_msgs_per_subject.map(saturating_i64),
            max_bytes: self.max_bytes.map(saturating_i64),
            max_msg_size,
            duplicate_window: self.dupe_window,
            ..StreamConfig::new(&self.name)
        })
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Runs `command`; `json` prints the server's stream infos instead of text.
pub(crate) async fn run(js: &Context, command: &StreamCommand, json: bool) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match command {
        StreamCommand::Ls { all, subject } => {
            ls(js, *all, subject.as_deref(), json, &mut out).await
        }
        StreamCommand::Info { name } => {
            let info = js
                .stream_info(name)
                .await
                .map_err(stream_error(name, "read stream"))?;
            if json {
                return output::print_json(&mut out, &info);
            }
            writeln!(out, "{}", describe(&info))?;
            Ok(())
        }
        StreamCommand::Add(args) => add(js, args, json, &mut out).await,
        StreamCommand::Rm { name, force } => {
            if !confirm(&format!("delete stream {name:?}"), *force).await? {
                return Ok(());
            }
            js.delete_stream(name)
                .await
                .map_err(stream_error(name, "delete stream"))?;
            if json {
                return output::print_json(&mut out, &json!({ "stream": name, "deleted": true }));
            }
            writeln!(out, "deleted stream {name:?}")?;
            Ok(())
        }
    }
}

/// The error of a call about the stream `name`: not found said plainly, anything else as
/// `cannot <action> "<name>": ...`.
fn stream_error(name: &str, action: &str) -> impl FnOnce(JetStreamError) -> CliError {
    let (name, action) = (name.to_owned(), action.to_owned());
    move |source| match source.kind() {
        JetStreamErrorKind::StreamNotFound => {
            CliError::NotFound(format!("stream {name:?} not found"))
        }
        _ => CliError::JetStream {
            action: format!("{action} {name:?}"),
            source,
        },
    }
}

/// Whether `info` is the stream of a Key-Value or Object Store bucket (or MQTT's), which
/// the listing leaves out unless asked, as the NATS CLI does.
fn is_internal(info: &StreamInfo) -> bool {
    let name = &info.config.name;
    name.starts_with("KV_") || name.starts_with("OBJ_") || name.starts_with("$MQTT_")
}

/// `stream ls`: every stream (but the buckets' unless `all`), sorted by name.
async fn ls(
    js: &Context,
    all: bool,
    subject: Option<&str>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let list = match subject {
        Some(subject) => js.streams_filtered(subject).await,
        None => js.streams().await,
    }
    .map_err(|source| CliError::JetStream {
        action: "list streams".to_owned(),
        source,
    })?;
    let total = list.streams.len();
    let mut streams: Vec<StreamInfo> = list
        .streams
        .into_iter()
        .filter(|info| all || !is_internal(info))
        .collect();
    streams.sort_by(|a, b| a.config.name.cmp(&b.config.name));
    if json {
        return output::print_json(out, &streams);
    }
    if streams.is_empty() && list.missing.is_empty() && list.offline.is_empty() {
        if total > 0 {
            writeln!(
                out,
                "no streams found; --all lists the streams of buckets too"
            )?;
        } else {
            writeln!(out, "no streams found")?;
        }
        return Ok(());
    }
    let mut table = output::table([
        "Name",
        "Description",
        "Created",
        "Messages",
        "Size",
        "Last Message",
    ]);
    output::align_right(&mut table, &[3, 4, 5]);
    for info in &streams {
        table.add_row(vec![
            info.config.name.clone(),
            info.config.description.clone().unwrap_or_default(),
            date(info.created),
            count(info.state.messages),
            size::human(info.state.bytes),
            output::ago(server_time(info), info.state.last_ts),
        ]);
    }
    output::print_table(out, &table)?;
    let mut missing = list.missing;
    missing.sort();
    if !missing.is_empty() {
        writeln!(out, "did not answer: {}", missing.join(", "))?;
    }
    let mut offline: Vec<_> = list.offline.into_iter().collect();
    offline.sort();
    for (name, reason) in offline {
        writeln!(out, "offline: {name}: {reason}")?;
    }
    Ok(())
}

/// `stream add`: creates the stream and shows it.
async fn add(
    js: &Context,
    args: &AddArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let config = args.config()?;
    let info = js
        .create_stream(&config)
        .await
        .map_err(|source| match source.kind() {
            JetStreamErrorKind::StreamNameInUse => CliError::JetStream {
                action: format!(
                    "create stream {:?}: one of that name exists with other settings",
                    args.name
                ),
                source,
            },
            _ => CliError::JetStream {
                action: format!("create stream {:?}", args.name),
                source,
            },
        })?;
    if json {
        return output::print_json(out, &info);
    }
    writeln!(out, "created stream {:?}", info.config.name)?;
    writeln!(out)?;
    writeln!(out, "{}", describe(&info))?;
    Ok(())
}

/// A stream's configuration, cluster and state, in sections as the NATS CLI's `stream
/// info` shows them.
pub(crate) fn describe(info: &StreamInfo) -> String {
    let config = &info.config;
    let mut s = Sections::new();
    s.title("Configuration");
    s.row_if_set("Description", config.description.as_deref().unwrap_or(""));
    s.row_if_set("Subjects", &config.subjects.join(", "));
    s.row("Replicas", config.num_replicas.unwrap_or(1));
    if config.sealed {
        s.row("Sealed", true);
    }
    s.row("Storage", wire_name(&config.storage));
    if config.compression != Default::default() {
        s.row("Compression", wire_name(&config.compression));
    }

    s.title("Options");
    s.row("Retention", wire_name(&config.retention));
    s.row("Acknowledgments", !config.no_ack);
    let discard = if config.discard_new_per_subject {
        "new per subject".to_owned()
    } else {
        wire_name(&config.discard)
    };
    s.row("Discard Policy", discard);
    s.row(
        "Duplicate Window",
        config
            .duplicate_window
            .map_or_else(|| "-".to_owned(), duration::human),
    );
    s.row("Direct Get", config.allow_direct);
    s.row("Allows Msg Delete", !config.deny_delete);
    s.row("Allows Purge", !config.deny_purge);
    s.row("Allows Per-Message TTL", config.allow_msg_ttl);
    s.row("Allows Rollups", config.allow_rollup_hdrs);

    s.title("Limits");
    s.row("Maximum Messages", count_limit(config.max_msgs));
    s.row(
        "Maximum Per Subject",
        count_limit(config.max_msgs_per_subject),
    );
    s.row("Maximum Bytes", size::limit(config.max_bytes));
    s.row("Maximum Age", max_age(config.max_age));
    s.row(
        "Maximum Message Size",
        size::limit(config.max_msg_size.map(i64::from)),
    );
    s.row("Maximum Consumers", count_limit(config.max_consumers));

    let metadata: Vec<_> = user_metadata(info).collect();
    if !metadata.is_empty() {
        s.title("Metadata");
        for (key, value) in metadata {
            s.row(key, value);
        }
    }
    if config.mirror.is_some() || !config.sources.is_empty() {
        s.title("Replication");
        if let Some(mirror) = &config.mirror {
            s.row("Mirror", &mirror.name);
        }
        let sources: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        s.row_if_set("Sources", &sources.join(", "));
    }
    if let Some(cluster) = info.cluster.as_ref().filter(|c| c.name.is_some()) {
        s.title("Cluster Information");
        s.row("Name", cluster.name.as_deref().unwrap_or_default());
        s.row("Leader", cluster.leader.as_deref().unwrap_or("-"));
        for replica in &cluster.replicas {
            let state = if replica.offline {
                "OFFLINE"
            } else if replica.current {
                "current"
            } else {
                "outdated"
            };
            s.row("Replica", format!("{} {state}", replica.name));
        }
    }

    let state = &info.state;
    s.title("State");
    s.row("Messages", count(state.messages));
    s.row("Bytes", size::human(state.bytes));
    s.row("First Sequence", sequence(state.first_seq, state.first_ts));
    s.row("Last Sequence", sequence(state.last_seq, state.last_ts));
    if state.num_deleted > 0 {
        s.row("Deleted Messages", count(state.num_deleted));
    }
    s.row("Active Consumers", count(state.consumer_count));
    if state.num_subjects > 0 {
        s.row("Number of Subjects", count(state.num_subjects));
    }
    format!(
        "Information for stream {} created {}\n\n{}",
        config.name,
        date(info.created),
        s.render()
    )
}

/// A sequence and, when there is a message there, its time: `3 @ 2026-12-01 10:04:05 UTC`.
fn sequence(sequence: u64, time: time::OffsetDateTime) -> String {
    if time <= time::OffsetDateTime::UNIX_EPOCH {
        count(sequence)
    } else {
        format!("{} @ {}", count(sequence), date(time))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Add {
        #[command(flatten)]
        args: AddArgs,
    }

    fn config(args: &[&str]) -> StreamConfig {
        let add = Add::try_parse_from(std::iter::once("add").chain(args.iter().copied()))
            .expect("the flags parse");
        add.args.config().expect("a config")
    }

    #[test]
    fn the_flags_become_the_config() {
        let config = config(&[
            "ORDERS",
            "--subjects",
            "orders.*,billing.>",
            "--subjects",
            "audit",
            "--storage",
            "memory",
            "--replicas",
            "3",
            "--retention",
            "work",
            "--discard",
            "new",
            "--max-age",
            "1h",
            "--max-msgs",
            "100",
            "--max-bytes",
            "1MB",
            "--max-msg-size",
            "1K",
            "--dupe-window",
            "30s",
            "--description",
            "the orders",
        ]);
        assert_eq!(config.name, "ORDERS");
        assert_eq!(config.subjects, ["orders.*", "billing.>", "audit"]);
        assert_eq!(config.storage, StorageType::Memory);
        assert_eq!(config.num_replicas, Some(3));
        assert_eq!(config.retention, RetentionPolicy::WorkQueue);
        assert_eq!(config.discard, DiscardPolicy::New);
        assert_eq!(config.max_age, Some(Duration::from_secs(3600)));
        assert_eq!(config.max_msgs, Some(100));
        assert_eq!(config.max_bytes, Some(1 << 20));
        assert_eq!(config.max_msg_size, Some(1024));
        assert_eq!(config.duplicate_window, Some(Duration::from_secs(30)));
        assert_eq!(config.description.as_deref(), Some("the orders"));
    }

    #[test]
    fn unset_flags_leave_the_servers_defaults() {
        let config = config(&["S"]);
        assert!(config.subjects.is_empty());
        assert_eq!(config.max_age, None);
        assert_eq!(config.max_msgs, None);
        assert_eq!(config.max_bytes, None);
        assert_eq!(config.storage, StorageType::File);
    }

    #[test]
    fn a_bad_flag_value_is_refused() {
        let parse = |args: &[&str]| {
            Add::try_parse_from(std::iter::once("add").chain(args.iter().copied())).map(|_| ())
        };
        assert!(parse(&["S", "--max-age", "5"]).is_err());
        assert!(parse(&["S", "--storage", "tape"]).is_err());
        assert!(parse(&["S", "--max-bytes", "10XB"]).is_err());
        assert!(parse(&["S", "--max-msg-size", "4GB"]).is_ok());
        let add = Add::try_parse_from(["add", "S", "--max-msg-size", "4GB"]).expect("parses");
        assert!(
            add.args.config().is_err(),
            "4 GB does not fit the server's int32"
        );
    }
}
