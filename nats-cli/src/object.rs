//! `object ls|info|add|put|get|rm`: Object Store buckets and their objects, as the NATS CLI's
//! `object` commands show them. Objects stream through in chunks both ways, with a progress
//! bar on stderr when it is a terminal ([`transfer`]).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use clap::{Args, Subcommand};
use nats_core::jetstream::{Context, StreamInfo};
use nats_core::object_store::{
    ObjectInfo, ObjectMeta, ObjectStore, ObjectStoreConfig, ObjectStoreError, ObjectStoreErrorKind,
};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

mod transfer;

use transfer::{file_name, get, put};

use crate::confirm::confirm;
use crate::error::CliError;
use crate::jetstream::{max_age, server_time, wire_name};
use crate::output::{self, date, Sections};
use crate::stream::Storage;
use crate::{duration, size};

/// The `object` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ObjectCommand {
    /// Lists the buckets, or the objects of a bucket: name, size, modified, digest
    #[command(visible_alias = "list")]
    Ls {
        /// The bucket whose objects to list (default: list the buckets)
        bucket: Option<String>,
    },
    /// Shows an object, or a bucket's settings and state
    Info {
        /// The bucket
        bucket: String,
        /// The object (default: show the bucket)
        name: Option<String>,
    },
    /// Creates a bucket
    #[command(visible_alias = "new")]
    Add(AddArgs),
    /// Stores a file (or stdin) as an object
    Put {
        /// The bucket
        bucket: String,
        /// The file (default: stdin, with --name)
        file: Option<PathBuf>,
        /// The object's name (default: the file's name)
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Free text describing the object
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// The size of its chunks (default: 128KiB)
        #[arg(long, value_name = "BYTES", value_parser = size::parse)]
        chunk_size: Option<u64>,
        /// Replaces an object of that name without asking
        #[arg(short, long)]
        force: bool,
    },
    /// Writes an object to stdout, or to a file
    Get {
        /// The bucket
        bucket: String,
        /// The object
        name: String,
        /// The file to write (default: stdout)
        #[arg(short = 'O', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replaces an existing file without asking
        #[arg(short, long)]
        force: bool,
    },
    /// Deletes an object, or the whole bucket when no object is named
    #[command(visible_alias = "delete")]
    Rm {
        /// The bucket
        bucket: String,
        /// The object (default: the bucket itself)
        name: Option<String>,
        /// Deletes without asking
        #[arg(short, long)]
        force: bool,
    },
}

/// `object add BUCKET`: the settings of the new bucket.
#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The bucket's name: letters, digits, `_` and `-`
    bucket: String,
    /// How long objects live, such as 30d (default: forever)
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    ttl: Option<Duration>,
    /// Free text describing the bucket
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Where to keep the objects
    #[arg(long, value_enum, default_value = "file")]
    storage: Storage,
    /// How many servers keep a copy, in a cluster
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: usize,
    /// Most bytes the bucket holds, such as 10GB
    #[arg(long, value_name = "BYTES", value_parser = size::parse)]
    max_bucket_size: Option<u64>,
    /// Compresses the chunks (S2)
    #[arg(long)]
    compress: bool,
}

/// Runs `command`; `json` prints JSON instead of text.
pub(crate) async fn run(js: &Context, command: &ObjectCommand, json: bool) -> Result<(), CliError> {
    if let ObjectCommand::Get {
        bucket,
        name,
        output,
        force,
    } = command
    {
        // Not under the lock of stdout below: tokio's stdout takes it on a thread of its own.
        return get(&open(js, bucket).await?, name, output.as_deref(), *force).await;
    }
    let mut out = std::io::stdout().lock();
    match command {
        ObjectCommand::Ls { bucket: None } => ls_buckets(js, json, &mut out).await,
        ObjectCommand::Ls {
            bucket: Some(bucket),
        } => ls_objects(&open(js, bucket).await?, json, &mut out).await,
        ObjectCommand::Info { bucket, name } => {
            let store = open(js, bucket).await?;
            match name {
                Some(name) => {
                    let info =
                        store
                            .info(name)
                            .await
                            .map_err(object_error(bucket, Some(name), "read"))?;
                    show_object(&mut out, &info, json)
                }
                None => show_bucket(&mut out, &store, json).await,
            }
        }
        ObjectCommand::Add(args) => {
            let config = ObjectStoreConfig {
                description: args.description.clone(),
                max_age: args.ttl,
                max_bytes: args
                    .max_bucket_size
                    .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                storage: args.storage.into(),
                replicas: args.replicas,
                compression: args.compress,
                ..ObjectStoreConfig::new(&args.bucket)
            };
            let store = js.create_object_store(config).await.map_err(object_error(
                &args.bucket,
                None,
                "create bucket",
            ))?;
            if !json {
                writeln!(out, "created bucket {:?}", args.bucket)?;
                writeln!(out)?;
            }
            show_bucket(&mut out, &store, json).await
        }
        ObjectCommand::Put {
            bucket,
            file,
            name,
            description,
            chunk_size,
            force,
        } => {
            let name = match (name, file) {
                (Some(name), _) => name.clone(),
                (None, Some(file)) => file_name(file)?,
                (None, None) => {
                    return Err(CliError::Setting(
                        "--name: an object read from stdin needs a name".to_owned(),
                    ))
                }
            };
            let meta = ObjectMeta {
                description: description.clone(),
                chunk_size: chunk_size.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                ..ObjectMeta::new(name)
            };
            let store = open(js, bucket).await?;
            let Some(info) = put(&store, meta, file.as_deref(), *force).await? else {
                return Ok(());
            };
            show_object(&mut out, &info, json)
        }
        // Handled above.
        ObjectCommand::Get { .. } => Ok(()),
        ObjectCommand::Rm {
            bucket,
            name: Some(name),
            force,
        } => {
            let store = open(js, bucket).await?;
            let action = format!("delete object {name:?} in bucket {bucket:?}");
            if !confirm(&action, *force).await? {
                return Ok(());
            }
            store
                .delete(name)
                .await
                .map_err(object_error(bucket, Some(name), "delete"))?;
            if json {
                let deleted = json!({ "bucket": bucket, "name": name, "deleted": true });
                return output::print_json(&mut out, &deleted);
            }
            writeln!(out, "deleted object {name:?} in bucket {bucket:?}")?;
            Ok(())
        }
        ObjectCommand::Rm {
            bucket,
            name: None,
            force,
        } => {
            let what = format!("delete bucket {bucket:?} and every object in it");
            if !confirm(&what, *force).await? {
                return Ok(());
            }
            js.delete_object_store(bucket).await.map_err(object_error(
                bucket,
                None,
                "delete bucket",
            ))?;
            if json {
                return output::print_json(&mut out, &json!({ "bucket": bucket, "deleted": true }));
            }
            writeln!(out, "deleted bucket {bucket:?}")?;
            Ok(())
        }
    }
}

/// The bucket `bucket`.
async fn open(js: &Context, bucket: &str) -> Result<ObjectStore, CliError> {
    js.object_store(bucket)
        .await
        .map_err(object_error(bucket, None, "open bucket"))
}

/// The error of an operation on `bucket` (and its object `name`): missing ones said
/// plainly, anything else as `cannot <action> ...: ...`.
fn object_error(
    bucket: &str,
    name: Option<&str>,
    action: &str,
) -> impl FnOnce(ObjectStoreError) -> CliError {
    let (bucket, name) = (bucket.to_owned(), name.map(str::to_owned));
    let action = match &name {
        Some(name) => format!("{action} object {name:?} in bucket {bucket:?}"),
        None => format!("{action} {bucket:?}"),
    };
    move |source| match (source.kind(), name) {
        (ObjectStoreErrorKind::BucketNotFound, _) => {
            CliError::NotFound(format!("bucket {bucket:?} not found"))
        }
        (ObjectStoreErrorKind::NotFound, Some(name)) => {
            CliError::NotFound(format!("object {name:?} not found in bucket {bucket:?}"))
        }
        _ => CliError::Object { action, source },
    }
}

/// The digest of an object as `sha256sum` prints it: the hex of the SHA-256 its
/// `SHA-256=<base64url>` digest holds (the digest as stored when it is not one).
fn digest_hex(digest: &str) -> String {
    let decoded = digest.strip_prefix("SHA-256=").and_then(|encoded| {
        base64::engine::general_purpose::URL_SAFE
            .decode(encoded)
            .ok()
    });
    match decoded {
        Some(bytes) => bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
        None => digest.to_owned(),
    }
}

/// `object ls BUCKET`: the objects, sorted by name.
async fn ls_objects(store: &ObjectStore, json: bool, out: &mut impl Write) -> Result<(), CliError> {
    let mut objects =
        store
            .list()
            .await
            .map_err(object_error(store.bucket(), None, "list the objects of"))?;
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    if json {
        return output::print_json(out, &objects);
    }
    if objects.is_empty() {
        writeln!(out, "no objects in bucket {:?}", store.bucket())?;
        return Ok(());
    }
    let mut table = output::table(["Name", "Size", "Modified", "SHA-256"]);
    output::align_right(&mut table, &[1]);
    for object in &objects {
        table.add_row(vec![
            object.name.clone(),
            size::human(object.size),
            date(object.modified),
            digest_hex(&object.digest),
        ]);
    }
    output::print_table(out, &table)
}

/// An object, as the NATS CLI's `object info` shows it.
fn show_object(out: &mut impl Write, info: &ObjectInfo, json: bool) -> Result<(), CliError> {
    if json {
        return output::print_json(out, info);
    }
    let mut s = Sections::new();
    s.row_if_set("Description", info.description.as_deref().unwrap_or(""));
    s.row("Size", size::human(info.size));
    s.row("Modified", date(info.modified));
    s.row("Chunks", output::count(info.chunks));
    s.row("Digest", format!("SHA-256 {}", digest_hex(&info.digest)));
    if let Some(link) = &info.options.link {
        let target = match &link.name {
            Some(name) => format!("{} > {name}", link.bucket),
            None => link.bucket.clone(),
        };
        s.row("Link", target);
    }
    let mut headers: Vec<String> = info
        .headers
        .iter()
        .flat_map(|(name, values)| values.iter().map(move |value| format!("{name}: {value}")))
        .collect();
    headers.sort();
    s.row_if_set("Headers", &headers.join("\n"));
    if !info.metadata.is_empty() {
        s.title("Metadata");
        for (key, value) in &info.metadata {
            s.row(key, value);
        }
    }
    writeln!(
        out,
        "Object information for {} > {}\n\n{}",
        info.bucket,
        info.name,
        s.render()
    )?;
    Ok(())
}

/// The bucket `stream` holds, when it is an Object Store bucket's stream.
fn bucket_of(info: &StreamInfo) -> Option<&str> {
    let bucket = info.config.name.strip_prefix("OBJ_")?;
    let meta = format!("$O.{bucket}.M.>");
    info.config.subjects.contains(&meta).then_some(bucket)
}

/// `object ls`: every bucket, sorted by name.
async fn ls_buckets(js: &Context, json: bool, out: &mut impl Write) -> Result<(), CliError> {
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
    let mut table = output::table(["Bucket", "Description", "Created", "Size", "Last Update"]);
    output::align_right(&mut table, &[3, 4]);
    for (bucket, info) in buckets {
        table.add_row(vec![
            bucket.to_owned(),
            info.config.description.clone().unwrap_or_default(),
            date(info.created),
            size::human(info.state.bytes),
            output::ago(server_time(info), info.state.last_ts),
        ]);
    }
    output::print_table(out, &table)
}

/// A bucket as `object ls --json` and `object info BUCKET --json` print it; `ttl` in
/// nanoseconds, as the JetStream API writes durations.
#[derive(Debug, Serialize)]
struct BucketJson<'a> {
    bucket: &'a str,
    description: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
    bytes: u64,
    ttl: Option<u64>,
    sealed: bool,
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
            bytes: info.state.bytes,
            ttl: config
                .max_age
                .filter(|ttl| !ttl.is_zero())
                .map(|ttl| u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX)),
            sealed: config.sealed,
            storage: wire_name(&config.storage),
            replicas: config.num_replicas.unwrap_or(1),
            compressed: config.compression != Default::default(),
            last_update: Some(info.state.last_ts).filter(|time| *time > OffsetDateTime::UNIX_EPOCH),
            stream: &config.name,
        }
    }
}

/// A bucket's settings and state, as the NATS CLI's `object info BUCKET` shows them.
async fn show_bucket(
    out: &mut impl Write,
    store: &ObjectStore,
    json: bool,
) -> Result<(), CliError> {
    let bucket = store.bucket();
    let status = store
        .status()
        .await
        .map_err(object_error(bucket, None, "read bucket"))?;
    let info = &status.info;
    if json {
        return output::print_json(out, &BucketJson::new(bucket, info));
    }
    let config = &info.config;
    let mut s = Sections::new();
    s.title("Configuration");
    s.row("Bucket Name", bucket);
    s.row_if_set("Description", status.description.as_deref().unwrap_or(""));
    s.row("Replicas", config.num_replicas.unwrap_or(1));
    s.row("TTL", max_age(config.max_age));
    s.row("Sealed", status.sealed);
    s.row("Size", size::human(status.size));
    s.row("Maximum Bucket Size", size::limit(config.max_bytes));
    s.row("Storage", wire_name(&config.storage));
    s.row("Backing Store Kind", "JetStream");
    s.row("JetStream Stream", &config.name);
    writeln!(
        out,
        "Information for Object Store bucket {bucket} created {}\n\n{}",
        date(info.created),
        s.render()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_show_as_sha256sum_prints_them() {
        // The SHA-256 of "hello world", as Object Store clients store it.
        let stored = "SHA-256=uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek=";
        assert_eq!(
            digest_hex(stored),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(digest_hex("MD5=abc"), "MD5=abc");
    }
}
