//! `micro ls|info|stats|ping`: the services on the bus, through the Service API's `$SRV`
//! subjects (the discovery client of nats-micro), as the NATS CLI's `micro` commands show them.

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Subcommand;
use nats_core::Client;
use nats_micro::schema::{InfoResponse, PingResponse, StatsResponse};
use nats_micro::{Discovery, ServiceError, DEFAULT_DISCOVERY_STALL, DEFAULT_PREFIX};
use serde::Serialize;

use crate::duration;
use crate::error::CliError;
use crate::output;

/// The `micro` commands. Each waits for replies until `--timeout`, or until none came for
/// 250 ms after the latest (nats-micro's discovery stall).
#[derive(Debug, Subcommand)]
pub(crate) enum MicroCommand {
    /// Lists the service instances: name, version, id, description
    #[command(visible_alias = "list")]
    Ls {
        /// Only the instances of this service
        name: Option<String>,
    },
    /// Shows a service instance: identity, metadata, endpoints
    Info {
        /// The service
        name: String,
        /// The instance (by default the first to answer)
        id: Option<String>,
    },
    /// Shows the statistics of each endpoint of a service's instances
    Stats {
        /// The service
        name: String,
        /// Only this instance
        id: Option<String>,
    },
    /// Pings the service instances and shows each one's round-trip time
    Ping {
        /// Only the instances of this service
        name: Option<String>,
    },
}

/// Runs `command`, waiting at most `timeout` for replies; `json` prints the replies as JSON.
pub(crate) async fn run(
    client: &Client,
    command: &MicroCommand,
    timeout: Duration,
    json: bool,
) -> Result<(), CliError> {
    let discovery = Discovery::new(client).timeout(timeout);
    let mut out = std::io::stdout().lock();
    match command {
        MicroCommand::Ls { name } => ls(&discovery, name.as_deref(), json, &mut out).await,
        MicroCommand::Info { name, id } => {
            info(&discovery, name, id.as_deref(), json, &mut out).await
        }
        MicroCommand::Stats { name, id } => {
            stats(&discovery, name, id.as_deref(), json, &mut out).await
        }
        MicroCommand::Ping { name } => ping(client, name.as_deref(), timeout, json, &mut out).await,
    }
}

/// The discovery subject, for errors.
fn subject(verb: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{DEFAULT_PREFIX}.{verb}.{name}"),
        None => format!("{DEFAULT_PREFIX}.{verb}"),
    }
}

/// The error of a discovery request on the `verb` subject of `name`.
fn discovery_error(
    verb: &str,
    name: Option<&str>,
) -> impl FnOnce(nats_core::RequestError) -> CliError {
    let subject = subject(verb, name);
    move |source| CliError::Request { subject, source }
}

/// No instance of `name` (or not the instance `id`) answered.
fn no_instance(name: &str, id: Option<&str>) -> CliError {
    CliError::NotFound(match id {
        Some(id) => format!("no instance {id:?} of service {name:?} answered"),
        None => format!("no instance of service {name:?} answered"),
    })
}

/// `micro ls [NAME]`: the INFO of every instance, sorted by name and id.
async fn ls(
    discovery: &Discovery,
    name: Option<&str>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut infos = match name {
        Some(name) => discovery.info_service(name).await,
        None => discovery.info().await,
    }
    .map_err(discovery_error("INFO", name))?;
    infos.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    if json {
        return output::print_json(out, &infos);
    }
    if infos.is_empty() {
        writeln!(out, "no services found")?;
        return Ok(());
    }
    let mut table = output::table(["Name", "Version", "ID", "Description"]);
    for info in &infos {
        table.add_row(vec![
            info.name.as_str(),
            info.version.as_str(),
            info.id.as_str(),
            info.description.as_str(),
        ]);
    }
    output::print_table(out, &table)?;
    let plural = if infos.len() == 1 { "" } else { "s" };
    writeln!(out, "{} service instance{plural}", infos.len())?;
    Ok(())
}

/// `micro info NAME [ID]`: the INFO of the instance `id`, or of the first to answer.
async fn info(
    discovery: &Discovery,
    name: &str,
    id: Option<&str>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut infos = match id {
        Some(id) => discovery.info_instance(name, id).await.map(Vec::from_iter),
        None => discovery.info_service(name).await,
    }
    .map_err(discovery_error("INFO", Some(name)))?;
    if infos.is_empty() {
        return Err(no_instance(name, id));
    }
    let instances = infos.len();
    // The first to answer, as the NATS CLI shows it.
    let info = infos.swap_remove(0);
    if json {
        return output::print_json(out, &info);
    }
    print_info(out, &info, instances)
}

/// The identity and metadata of `info`, then a table of its endpoints.
fn print_info(out: &mut impl Write, info: &InfoResponse, instances: usize) -> Result<(), CliError> {
    let mut rows = vec![
        ("Service", info.name.clone()),
        ("ID", info.id.clone()),
        ("Version", info.version.clone()),
        ("Description", info.description.clone()),
        ("Metadata", output::metadata(&info.metadata)),
    ];
    if instances > 1 {
        rows.push((
            "Instances",
            format!("{instances} answered; give an ID to see another"),
        ));
    }
    writeln!(out, "{}", output::fields(rows))?;
    writeln!(out)?;
    writeln!(out, "Endpoints:")?;
    let mut table = output::table(["Name", "Subject", "Queue Group", "Metadata"]);
    for endpoint in &info.endpoints {
        table.add_row(vec![
            endpoint.name.clone(),
            endpoint.subject.clone(),
            or_dash(&endpoint.queue_group),
            output::metadata(endpoint.metadata.iter().flatten()),
        ]);
    }
    output::print_table(out, &table)?;
    Ok(())
}

/// `micro stats NAME [ID]`: the STATS of the instances, sorted by id.
async fn stats(
    discovery: &Discovery,
    name: &str,
    id: Option<&str>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut stats = match id {
        Some(id) => discovery.stats_instance(name, id).await.map(Vec::from_iter),
        None => discovery.stats_service(name).await,
    }
    .map_err(discovery_error("STATS", Some(name)))?;
    if stats.is_empty() {
        return Err(no_instance(name, id));
    }
    stats.sort_by(|a, b| a.id.cmp(&b.id));
    if json {
        return output::print_json(out, &stats);
    }
    print_stats(out, &stats)
}

/// One row per endpoint of each instance, and a total row when there is more than one.
fn print_stats(out: &mut impl Write, stats: &[StatsResponse]) -> Result<(), CliError> {
    let mut table = output::table([
        "ID",
        "Endpoint",
        "Queue Group",
        "Requests",
        "Errors",
        "Processing Time",
        "Average Time",
        "Last Error",
    ]);
    output::align_right(&mut table, &[3, 4, 5, 6]);
    let (mut requests, mut errors, mut time, mut rows) = (0, 0, Duration::ZERO, 0);
    for instance in stats {
        for (index, endpoint) in instance.endpoints.iter().enumerate() {
            // The instance's id on its first row only, as the NATS CLI does.
            let id = if index == 0 { instance.id.as_str() } else { "" };
            table.add_row(vec![
                id.to_owned(),
                endpoint.name.clone(),
                or_dash(&endpoint.queue_group),
                endpoint.num_requests.to_string(),
                endpoint.num_errors.to_string(),
                duration::human(endpoint.processing_time),
                duration::human(endpoint.average_processing_time),
                or_dash(&endpoint.last_error),
            ]);
            requests += endpoint.num_requests;
            errors += endpoint.num_errors;
            time += endpoint.processing_time;
            rows += 1;
        }
    }
    if rows > 1 {
        let average = u32::try_from(requests)
            .ok()
            .filter(|n| *n > 0)
            .map_or(Duration::ZERO, |n| time / n);
        table.add_row(vec![
            "total".to_owned(),
            String::new(),
            String::new(),
            requests.to_string(),
            errors.to_string(),
            duration::human(time),
            duration::human(average),
            String::new(),
        ]);
    }
    output::print_table(out, &table)
}

/// A PING reply and how long it took, as `--json` prints it (`rtt` in nanoseconds, as the
/// Service API writes durations).
#[derive(Serialize)]
struct Pong {
    #[serde(flatten)]
    ping: PingResponse,
    rtt: u64,
}

/// Pings and prints each instance as its reply arrives, until `timeout`, or until no reply
/// came for a moment after the latest.
async fn ping(
    client: &Client,
    name: Option<&str>,
    timeout: Duration,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let subject = subject("PING", name);
    let inbox = client.new_inbox();
    let mut replies = client
        .subscribe(&inbox)
        .await
        .map_err(|source| CliError::Subscribe {
            subject: inbox.clone(),
            source,
        })?;
    let started = Instant::now();
    client
        .publish_with_reply(&subject, &inbox, "")
        .await
        .map_err(|source| CliError::Publish {
            subject: subject.clone(),
            source,
        })?;
    let deadline = tokio::time::Instant::from_std(started + timeout);
    let mut until = deadline;
    let mut pongs = Vec::new();
    while let Ok(Some(reply)) = tokio::time::timeout_at(until, replies.next()).await {
        let rtt = started.elapsed();
        if reply.is_no_responders() {
            break;
        }
        until = deadline.min(tokio::time::Instant::now() + DEFAULT_DISCOVERY_STALL);
        if ServiceError::from_message(&reply).is_some() {
            continue;
        }
        // A reply that is not a PING reply is skipped, as discovery skips it.
        let Ok(ping) = serde_json::from_slice::<PingResponse>(&reply.payload) else {
            continue;
        };
        if !json {
            let who = format!("{} {} {}", ping.name, ping.version, ping.id);
            writeln!(out, "{who:<50} rtt={}", duration::human(rtt))?;
            out.flush()?;
        }
        let rtt = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
        pongs.push(Pong { ping, rtt });
    }
    match (pongs.is_empty(), name) {
        (true, Some(name)) => Err(no_instance(name, None)),
        _ if json => output::print_json(out, &pongs),
        (true, None) => {
            writeln!(out, "no services answered")?;
            Ok(())
        }
        (false, _) => Ok(()),
    }
}

/// `text`, or `-` when it is empty, so that an empty cell reads as "none".
fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text.to_owned()
    }
}
