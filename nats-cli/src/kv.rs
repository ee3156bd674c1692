//! `kv ls|info|add|get|put|del|rm|watch`: Key-Value buckets, as the NATS CLI's `kv` commands
//! show them.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use base64::Engine as _;
use clap::{Args, Subcommand};
use nats_core::jetstream::{Context, StreamInfo};
use nats_core::kv::{Entry, KvConfig, KvError, KvErrorKind, Operation, MAX_HISTORY};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;

use crate::confirm::confirm;
use crate::error::CliError;
use crate::jetstream::{max_age, server_time, wire_name};
use crate::output::{self, count, date, Sections};
use crate::stream::Storage;
use crate::{duration, size};

/// The `kv` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum KvCommand {
    /// Lists the buckets (bucket, description, created, size, values, last update), or the
    /// keys of one bucket
    #[command(visible_alias = "list")]
    Ls {
        /// List this bucket's keys instead
        bucket: Option<String>,
    },
    /// Prints the entries of a bucket's keys as they change: their latest values first
    Watch {
        /// The bucket
        bucket: String,
        /// The keys to watch (`*` tokens and a final `>` allowed)
        #[arg(default_value = ">")]
        filter: String,
        /// Stops after this many entries
        #[arg(long, value_name = "N")]
        count: Option<usize>,
        /// Only what changes from now on
        #[arg(long)]
        updates_only: bool,
    },
    /// Shows a bucket's settings and state
    #[command(visible_alias = "status")]
    Info {
        /// The bucket
        bucket: String,
    },
    /// Creates a bucket
    #[command(visible_alias = "new")]
    Add(AddArgs),
    /// Prints the value of a key (exactly its bytes; a newline follows at a terminal)
    Get {
        /// The bucket
        bucket: String,
        /// The key
        key: String,
        /// This revision of the key instead of the latest
        #[arg(long, value_name = "N")]
        revision: Option<u64>,
    },
    /// Stores a value under a key and prints its revision
    Put {
        /// The bucket
        bucket: String,
        /// The key
        key: String,
        /// The value; read from stdin when left out
        value: Option<String>,
    },
    /// Deletes a key: a delete marker, its history kept
    #[command(visible_alias = "delete")]
    Del {
        /// The bucket
        bucket: String,
        /// The key
        key: String,
    },
    /// Deletes a bucket and every key in it
    Rm {
        /// The bucket
        bucket: String,
        /// Deletes without asking
        #[arg(short, long)]
        force: bool,
    },
}

/// `kv add BUCKET`: the settings of the new bucket.
#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The bucket's name: letters, digits, `_` and `-`
    bucket: String,
    /// Revisions kept per key
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=i64::from(MAX_HISTORY)))]
    history: u8,
    /// How long a value lives, such as 1h (default: forever)
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    ttl: Option<Duration>,
    /// Free text describing the bucket
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Where to keep the values
    #[arg(long, value_enum, default_value = "file")]
    storage: Storage,
    /// How many servers keep a copy, in a cluster
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: usize,
    /// Largest value accepted, such as 1MB
    #[arg(long, value_name = "BYTES", value_parser = size::parse)]
    max_value_size: Option<u64>,
    /// Most bytes the bucket holds, such as 1GB
    #[arg(long, value_name = "BYTES", value_parser = size::parse)]
    max_bucket_size: Option<u64>,
    /// Compresses the values (S2)
    #[arg(long)]
    compress: bool,
    /// Keeps markers of keys removed by a limit this long, and allows per-key TTLs
    /// (nats-server 2.11 or later)
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    marker_ttl: Option<Duration>,
}

impl AddArgs {
    fn config(&self) -> Result<KvConfig, CliError> {
        let max_value_size = self
            .max_value_size
            .map(|n| {
                i32::try_from(n)
                    .map_err(|_| CliError::Setting("--max-value-size: too large".to_owned()))
            })
            .transpose()?;
        Ok(KvConfig {
            description: self.description.clone(),
            history: self.history,
            max_age: self.ttl,
            max_value_size,
            max_bytes: self
                .max_bucket_size
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            storage: self.storage.into(),
            replicas: self.replicas,
            compression: self.compress,
            limit_marker_ttl: self.marker_ttl,
            ..KvConfig::new(&self.bucket)
        })
    }
}

/// Runs `command`; `json` prints JSON objects instead of text.
pub(crate) async fn run(js: &Context, command: &KvCommand, json: bool) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match command {
        KvCommand::Ls { bucket: None } => ls(js, json, &mut out).await,
        KvCommand::Ls {
            bucket: Some(bucket),
        } => keys(js, bucket, json, &mut out).await,
        KvCommand::Watch {
            bucket,
            filter,
            count,
            updates_only,
        } => watch(js, bucket, filter, *count, *updates_only, json, &mut out).await,
        KvCommand::Info { bucket } => {
            let status = js
                .key_value_status(bucket)
                .await
                .map_err(kv_error(bucket, "read bucket"))?;
            show_bucket(&mut out, bucket, &status.info, json)
        }
        KvCommand::Add(args) => {
            let store = js
                .create_key_value(args.config()?)
                .await
                .map_err(kv_error(&args.bucket, "create bucket"))?;
            let status = store
                .status()
                .await
                .map_err(kv_error(&args.bucket, "read bucket"))?;
            if !json {
                writeln!(out, "created bucket {:?}", args.bucket)?;
                writeln!(out)?;
            }
            show_bucket(&mut out, &args.bucket, &status.info, json)
        }
        KvCommand::Get {
            bucket,
            key,
            revision,
        } => get(js, bucket, key, *revision, json, &mut out).await,
        KvCommand::Put { bucket, key, value } => {
            let value = match value {
                Some(value) => value.clone().into_bytes(),
                None => read_stdin().await?,
            };
            let store = js
                .key_value(bucket)
                .await
                .map_err(kv_error(bucket, "read bucket"))?;
            let revision = store
                .put(key, value)
                .await
                .map_err(kv_error(bucket, &format!("put {key:?} in bucket")))?;
            if json {
                let written = json!({ "bucket": bucket, "key": key, "revision": revision });
                return output::print_json(&mut out, &written);
            }
            writeln!(out, "{revision}")?;
            Ok(())
        }
        KvCommand::Del { bucket, key } => {
            let store = js
                .key_value(bucket)
                .await
                .map_err(kv_error(bucket, "read bucket"))?;
            let action = format!("delete {key:?} in bucket");
            // Deleting writes a marker whether or not the key has a value: look first, so
            // that a mistyped key is an error rather than a silent no-op.
            if store
                .entry(key)
                .await
                .map_err(kv_error(bucket, &action))?
                .is_none()
            {
                return Err(key_not_found(bucket, key));
            }
            store.delete(key).await.map_err(kv_error(bucket, &action))?;
            if json {
                let deleted = json!({ "bucket": bucket, "key": key, "deleted": true });
                return output::print_json(&mut out, &deleted);
            }
            writeln!(out, "deleted key {key:?} in bucket {bucket:?}")?;
            Ok(())
        }
        KvCommand::Rm { bucket, force } => {
            let what = format!("delete bucket {bucket:?} and every key in it");
            if !confirm(&what, *force).await? {
                return Ok(());
            }
            js.delete_key_value(bucket)
                .await
                .map_err(kv_error(bucket, "delete bucket"))?;
            if json {
                return output::print_json(&mut out, &json!({ "bucket": bucket, "deleted": true }));
            }
            writeln!(out, "deleted bucket {bucket:?}")?;
            Ok(())
        }
    }
}

/// The error of an operation on `bucket`: a missing bucket said plainly, anything else as
/// `cannot <action> "<bucket>": ...`.
fn kv_error(bucket: &str, action: &str) -> impl FnOnce(KvError) -> CliError {
    let (bucket, action) = (bucket.to_owned(), action.to_owned());
    move |source| match source.kind() {
        KvErrorKind::BucketNotFound => CliError::NotFound(format!("bucket {bucket:?} not found")),
        _ => CliError::Kv {
            action: format!("{action} {bucket:?}"),
            source,
        },
    }
}

fn key_not_found(bucket: &str, key: &str) -> CliError {
    CliError::NotFound(format!("key {key:?} not found in bucket {bucket:?}"))
}

/// Everything on stdin, for a value given that way.
async fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut value = Vec::new();
    tokio::io::stdin()
        .read_to_end(&mut value)
        .await
        .map_err(|source| CliError::File {
            action: "read",
            path: "standard input".to_owned(),
            source,
        })?;
    Ok(value)
}

/// The bucket `stream` holds, when it is a Key-Value bucket's stream.
fn bucket_of(info: &StreamInfo) -> Option<&str> {
    let bucket = info.config.name.strip_prefix("KV_")?;
    let subjects = format!("$KV.{bucket}.>");
    let is_bucket = info.config.mirror.is_some() || info.config.subjects.contains(&subjects);
    is_bucket.then_some(bucket)
}

/// `kv ls`: every bucket, sorted by name.
async fn ls(js: &Context, json: bool, out: &mut impl Write) -> Result<(), CliError> {
    let list = js.streams().await.map_err(|source| CliError::JetStream {
        action: "list buckets".to_owned(),
        source,
    })?;
    let mut buckets: Vec<(&str, &StreamInfo)> = list
        .streams
        .iter()
        .filter_map(|info| Some((bucket_of(info)?, info)))
        .collect();
    buckets.sort_by_key(|(bucket, _)| *bucket);
    if json {
        let buckets: Vec<BucketJson<'_>> = buckets
            .iter()
            .map(|(bucket, info)| BucketJson::new(bucket, info))
            .collect();
        return output::print_json(out, &buckets);
    }
    if buckets.is_empty() {
        writeln!(out, "no buckets found")?;
        return Ok(());
    }
    let mut table = output::table([
        "Bucket",
        "Description",
        "Created",
        "Size",
        "Values",
        "Last Update",
    ]);
    output::align_right(&mut table, &[3, 4, 5]);
    for (bucket, info) in buckets {
        table.add_row(vec![
            bucket.to_owned(),
            info.config.description.clone().unwrap_or_default(),
            date(info.created),
            size::human(info.state.bytes),
            count(info.state.messages),
            output::ago(server_time(info), info.state.last_ts),
        ]);
    }
    output::print_table(out, &table)
}

/// A bucket as `kv ls --json`, `kv info --json` and `kv add --json` print it; `ttl` in
/// nanoseconds, as the JetStream API writes durations.
#[derive(Debug, Serialize)]
struct BucketJson<'a> {
    bucket: &'a str,
    description: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    values: u64,
    bytes: u64,
    history: i64,
    ttl: Option<u64>,
    storage: String,
    replicas: usize,
    compressed: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    last_update: Option<OffsetDateTime>,
    stream: &'a str,
}

impl<'a> BucketJson<'a> {
    fn new(bucket: &'a str, info: &'a StreamInfo) -> Self {
        let config = &info.config;
        BucketJson {
            bucket,
            description: config.description.as_deref(),
            created: info.created,
            values: info.state.messages,
            bytes: info.state.bytes,
            history: config.max_msgs_per_subject.unwrap_or(1),
            ttl: config
                .max_age
                .filter(|ttl| !ttl.is_zero())
                .map(|ttl| u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX)),
            storage: wire_name(&config.storage),
            replicas: config.num_replicas.unwrap_or(1),
            compressed: config.compression != Default::default(),
            last_update: Some(info.state.last_ts).filter(|time| *time > OffsetDateTime::UNIX_EPOCH),
            stream: &config.name,
        }
    }
}

/// A bucket's settings and state, as the NATS CLI's `kv info` shows them.
fn show_bucket(
    out: &mut impl Write,
    bucket: &str,
    info: &StreamInfo,
    json: bool,
) -> Result<(), CliError> {
    if json {
        return output::print_json(out, &BucketJson::new(bucket, info));
    }
    let config = &info.config;
    let mut s = Sections::new();
    s.title("Configuration");
    s.row("Bucket Name", bucket);
    s.row_if_set("Description", config.description.as_deref().unwrap_or(""));
    s.row("History Kept", config.max_msgs_per_subject.unwrap_or(1));
    s.row("Values Stored", count(info.state.messages));
    s.row("Compressed", config.compression != Default::default());
    s.row(
        "Per-Key TTL Supported",
        config.subject_delete_marker_ttl.is_some(),
    );
    if let Some(ttl) = config.subject_delete_marker_ttl {
        s.row("Limit Marker TTL", duration::human(ttl));
    }
    s.row("Backing Store Kind", "JetStream");
    s.row("Bucket Size", size::human(info.state.bytes));
    s.row("Maximum Bucket Size", size::limit(config.max_bytes));
    s.row(
        "Maximum Value Size",
        size::limit(config.max_msg_size.map(i64::from)),
    );
    s.row("Maximum Age", max_age(config.max_age));
    s.row("JetStream Stream", &config.name);
    s.row("Storage", wire_name(&config.storage));
    s.row("Replicas", config.num_replicas.unwrap_or(1));
    writeln!(
        out,
        "Information for Key-Value bucket {bucket} created {}\n\n{}",
        date(info.created),
        s.render()
    )?;
    Ok(())
}

/// `kv get`: the value of the latest (or the given) revision of `key`.
async fn get(
    js: &Context,
    bucket: &str,
    key: &str,
    revision: Option<u64>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let store = js
        .key_value(bucket)
        .await
        .map_err(kv_error(bucket, "read bucket"))?;
    let action = format!("get {key:?} from bucket");
    let entry = match revision {
        Some(revision) => store.entry_at(key, revision).await,
        None => store.entry(key).await,
    }
    .map_err(kv_error(bucket, &action))?;
    let Some(entry) = entry else {
        return Err(match revision {
            Some(revision) => CliError::NotFound(format!(
                "key {key:?} has no value at revision {revision} in bucket {bucket:?}"
            )),
            None => key_not_found(bucket, key),
        });
    };
    if json {
        return output::print_json(out, &EntryJson::new(&entry));
    }
    out.write_all(&entry.value)?;
    // At a terminal the prompt goes on a line of its own; a pipe gets the bytes as stored.
    if std::io::stdout().is_terminal() && !entry.value.ends_with(b"\n") {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// `kv ls BUCKET`: the keys with a value, sorted.
async fn keys(
    js: &Context,
    bucket: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let store = js
        .key_value(bucket)
        .await
        .map_err(kv_error(bucket, "read bucket"))?;
    let mut keys = store
        .keys()
        .await
        .map_err(kv_error(bucket, "list the keys of bucket"))?;
    keys.sort();
    if json {
        return output::print_json(out, &keys);
    }
    for key in &keys {
        writeln!(out, "{key}")?;
    }
    Ok(())
}

/// `kv watch BUCKET [FILTER]`: one line per entry, `[time] OP bucket > key: value` as the NATS
/// CLI prints them (one JSON object a line with `--json`); the end of the initial values goes
/// to stderr.
async fn watch(
    js: &Context,
    bucket: &str,
    filter: &str,
    count: Option<usize>,
    updates_only: bool,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    use nats_core::kv::{WatchEvent, WatchOptions};
    let store = js
        .key_value(bucket)
        .await
        .map_err(kv_error(bucket, "read bucket"))?;
    let options = WatchOptions {
        updates_only,
        ..WatchOptions::default()
    };
    let mut watch = store
        .watch_with(&[filter], options)
        .await
        .map_err(kv_error(bucket, "watch bucket"))?;
    let mut shown = 0;
    while count.is_none_or(|n| shown < n) {
        let Some(event) = watch.next().await else {
            break;
        };
        match event.map_err(kv_error(bucket, "watch bucket"))? {
            WatchEvent::InitialValuesDone => {
                eprintln!("-- the current values of {bucket:?} end here --");
            }
            WatchEvent::Entry(entry) => {
                shown += 1;
                if json {
                    output::print_json(out, &EntryJson::new(&entry))?;
                } else {
                    let operation = EntryJson::new(&entry).operation;
                    let value = String::from_utf8_lossy(&entry.value);
                    writeln!(
                        out,
                        "[{}] {operation} {} > {}: {value}",
                        date(entry.created),
                        entry.bucket,
                        entry.key
                    )?;
                }
                out.flush()?;
            }
        }
    }
    Ok(())
}

/// An entry as `kv get --json` prints it; a value that is not UTF-8 is in `value_base64`.
#[derive(Debug, Serialize)]
struct EntryJson<'a> {
    bucket: &'a str,
    key: &'a str,
    revision: u64,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    operation: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_base64: Option<String>,
}

impl<'a> EntryJson<'a> {
    fn new(entry: &'a Entry) -> Self {
        let text = std::str::from_utf8(&entry.value).ok();
        EntryJson {
            bucket: &entry.bucket,
            key: &entry.key,
            revision: entry.revision,
            created: entry.created,
            operation: match entry.operation {
                Operation::Put => "PUT",
                Operation::Delete => "DEL",
                Operation::Purge => "PURGE",
            },
            value: text,
            value_base64: text
                .is_none()
                .then(|| base64::engine::general_purpose::STANDARD.encode(&entry.value)),
        }
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

    #[test]
    fn the_flags_become_the_bucket_config() {
        let add = Add::try_parse_from([
            "add",
            "profiles",
            "--history",
            "5",
            "--ttl",
            "1h",
            "--storage",
            "memory",
            "--max-value-size",
            "1K",
            "--max-bucket-size",
            "1MB",
            "--compress",
        ])
        .expect("the flags parse");
        let config = add.args.config().expect("a config");
        assert_eq!(config.bucket, "profiles");
        assert_eq!(config.history, 5);
        assert_eq!(config.max_age, Some(Duration::from_secs(3600)));
        assert_eq!(config.max_value_size, Some(1024));
        assert_eq!(config.max_bytes, Some(1 << 20));
        assert!(config.compression);
        assert_eq!(config.storage, nats_core::jetstream::StorageType::Memory);
    }

    #[test]
    fn history_is_1_to_64() {
        for bad in ["0", "65", "x"] {
            assert!(
                Add::try_parse_from(["add", "b", "--history", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Add::try_parse_from(["add", "b", "--history", "64"]).is_ok());
    }
}
