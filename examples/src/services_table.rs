//! The running services as a table: every instance that answers PING, INFO or STATS, with its
//! endpoints and their counters. The `services` binary and the demo print it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use nats_core::{Client, RequestError};
use nats_micro::schema::{EndpointStats, InfoResponse, PingResponse, StatsResponse};
use nats_micro::Discovery;

/// What discovery learnt about one service instance.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// Its reply to PING, if it answered.
    pub ping: Option<PingResponse>,
    /// Its reply to INFO, if it answered.
    pub info: Option<InfoResponse>,
    /// Its reply to STATS, if it answered.
    pub stats: Option<StatsResponse>,
}

impl Instance {
    /// The service name.
    pub fn name(&self) -> &str {
        self.identity().0
    }

    /// The instance id.
    pub fn id(&self) -> &str {
        self.identity().1
    }

    /// The service version.
    pub fn version(&self) -> &str {
        self.identity().2
    }

    fn identity(&self) -> (&str, &str, &str) {
        if let Some(p) = &self.ping {
            (&p.name, &p.id, &p.version)
        } else if let Some(i) = &self.info {
            (&i.name, &i.id, &i.version)
        } else if let Some(s) = &self.stats {
            (&s.name, &s.id, &s.version)
        } else {
            ("", "", "")
        }
    }
}

/// Asks every service instance for its PING, INFO and STATS; instances sorted by name, then
/// id.
///
/// # Errors
/// When a request cannot be sent (no service at all is an empty list).
pub async fn discover(discovery: &Discovery) -> Result<Vec<Instance>, RequestError> {
    type Key = (String, String);
    let key = |name: &str, id: &str| -> Key { (name.to_owned(), id.to_owned()) };
    let mut instances: BTreeMap<Key, Instance> = BTreeMap::new();
    for ping in discovery.ping().await? {
        let k = key(&ping.name, &ping.id);
        instances.entry(k).or_default().ping = Some(ping);
    }
    for info in discovery.info().await? {
        let k = key(&info.name, &info.id);
        instances.entry(k).or_default().info = Some(info);
    }
    for stats in discovery.stats().await? {
        let k = key(&stats.name, &stats.id);
        instances.entry(k).or_default().stats = Some(stats);
    }
    Ok(instances.into_values().collect())
}

/// [`discover`] then [`render`], with a discovery client that stops listening 250 ms after
/// the latest reply.
///
/// # Errors
/// As [`discover`].
pub async fn services_table(client: &Client) -> Result<String, RequestError> {
    let discovery = Discovery::new(client).stall(Duration::from_millis(250));
    Ok(render(&discover(&discovery).await?))
}

/// The table: a line per instance (name, version, id, description), then its endpoints with
/// subject, queue group, requests, errors, average processing time, stats data and last error.
pub fn render(instances: &[Instance]) -> String {
    let mut out = String::new();
    match instances.len() {
        0 => out.push_str("no services found\n"),
        1 => out.push_str("1 service instance\n"),
        n => {
            let _ = writeln!(out, "{n} service instances");
        }
    }
    for instance in instances {
        out.push('\n');
        let _ = write!(
            out,
            "{} {}  id {}",
            instance.name(),
            instance.version(),
            instance.id()
        );
        if let Some(info) = instance.info.as_ref().filter(|i| !i.description.is_empty()) {
            let _ = write!(out, "  \"{}\"", info.description);
        }
        out.push('\n');
        out.push_str(&endpoint_table(instance));
    }
    out
}

const HEADER: [&str; 8] = [
    "ENDPOINT",
    "SUBJECT",
    "QUEUE GROUP",
    "REQUESTS",
    "ERRORS",
    "AVG TIME",
    "DATA",
    "LAST ERROR",
];

/// The endpoints of `instance`, from STATS (which has everything) or else INFO.
fn endpoint_table(instance: &Instance) -> String {
    let mut rows = vec![HEADER.map(str::to_owned).to_vec()];
    if let Some(stats) = &instance.stats {
        rows.extend(stats.endpoints.iter().map(stats_row));
    } else if let Some(info) = &instance.info {
        let unknown = || "?".to_owned();
        rows.extend(info.endpoints.iter().map(|e| {
            let mut row = vec![e.name.clone(), e.subject.clone(), queue(&e.queue_group)];
            row.resize_with(HEADER.len(), unknown);
            row
        }));
    } else {
        return "  (no INFO or STATS reply)\n".to_owned();
    }
    align(&rows, "  ")
}

fn stats_row(e: &EndpointStats) -> Vec<String> {
    vec![
        e.name.clone(),
        e.subject.clone(),
        queue(&e.queue_group),
        e.num_requests.to_string(),
        e.num_errors.to_string(),
        human(e.average_processing_time),
        e.data
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string),
        if e.last_error.is_empty() {
            "-".to_owned()
        } else {
            e.last_error.clone()
        },
    ]
}

fn queue(queue_group: &str) -> String {
    if queue_group.is_empty() {
        "(none)".to_owned()
    } else {
        queue_group.to_owned()
    }
}

/// A duration in the unit that suits it.
fn human(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        "0".to_owned()
    } else if nanos < 1_000 {
        format!("{nanos}ns")
    } else if nanos < 1_000_000 {
        format!("{:.1}µs", d.as_secs_f64() * 1e6)
    } else if nanos < 1_000_000_000 {
        format!("{:.1}ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// `rows` as lines of columns padded to their widest cell, each line after `indent`.
fn align(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = indent.to_owned();
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nats_micro::schema::EndpointInfo;
    use std::time::SystemTime;

    fn stats(name: &str, requests: u64, errors: u64, last_error: &str) -> EndpointStats {
        EndpointStats {
            name: name.to_owned(),
            subject: format!("users.{name}"),
            queue_group: "q".to_owned(),
            num_requests: requests,
            num_errors: errors,
            last_error: last_error.to_owned(),
            processing_time: Duration::from_micros(90),
            average_processing_time: Duration::from_micros(45),
            data: Some(serde_json::json!({"users": 2})),
        }
    }

    #[test]
    fn renders_instances_with_their_endpoints() {
        let instance = Instance {
            ping: None,
            info: Some(InfoResponse {
                name: "user-service".into(),
                id: "ID1".into(),
                version: "1.2.0".into(),
                metadata: Default::default(),
                kind: String::new(),
                description: "User management service".into(),
                endpoints: Vec::new(),
            }),
            stats: Some(StatsResponse {
                name: "user-service".into(),
                id: "ID1".into(),
                version: "1.2.0".into(),
                metadata: Default::default(),
                kind: String::new(),
                started: SystemTime::now(),
                endpoints: vec![
                    stats("create", 2, 0, ""),
                    stats("get", 3, 1, "USER_NOT_FOUND:no user with id 9"),
                ],
            }),
        };
        let table = render(&[instance]);
        let expected = "1 service instance\n\
            \n\
            user-service 1.2.0  id ID1  \"User management service\"\n  \
            ENDPOINT  SUBJECT       QUEUE GROUP  REQUESTS  ERRORS  AVG TIME  DATA         LAST ERROR\n  \
            create    users.create  q            2         0       45.0µs    {\"users\":2}  -\n  \
            get       users.get     q            3         1       45.0µs    {\"users\":2}  USER_NOT_FOUND:no user with id 9\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn info_alone_still_lists_endpoints() {
        let instance = Instance {
            info: Some(InfoResponse {
                name: "x".into(),
                id: "I".into(),
                version: "0.1.0".into(),
                metadata: Default::default(),
                kind: String::new(),
                description: String::new(),
                endpoints: vec![EndpointInfo {
                    name: "e".into(),
                    subject: "s".into(),
                    queue_group: String::new(),
                    metadata: None,
                }],
            }),
            ..Instance::default()
        };
        let table = render(&[instance]);
        assert!(
            table.contains("  e         s        (none)       ?"),
            "{table}"
        );
        assert_eq!(render(&[]), "no services found\n");
    }

    #[test]
    fn durations_are_readable() {
        assert_eq!(human(Duration::ZERO), "0");
        assert_eq!(human(Duration::from_nanos(999)), "999ns");
        assert_eq!(human(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(human(Duration::from_micros(2_500)), "2.5ms");
        assert_eq!(human(Duration::from_millis(1_500)), "1.50s");
    }
}
