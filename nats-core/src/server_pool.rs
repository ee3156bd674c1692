//! The servers the client may connect to: the configured ones and those the cluster
//! announced, in the order to try them, with what the attempts on each taught.
//!
//! The order follows nats.go and nats-py: shuffled unless the user asked to keep it, each
//! server moved to the end of the pool when it is tried, so the server just lost is tried
//! last. Discovered servers (the `connect_urls` of `INFO`) join the pool with the scheme of
//! the configured ones, and leave it when a later `INFO` no longer lists them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::server_addr::ServerAddr;

/// Most servers of one `INFO` taken into the pool.
const MAX_DISCOVERED: usize = 512;

/// Most announced names remembered to tell new servers from known ones; past it the memory
/// starts again (a few servers may then be announced twice).
const MAX_ANNOUNCED: usize = 4096;

/// One server of the pool.
#[derive(Debug, Clone)]
pub(crate) struct PoolEntry {
    pub(crate) addr: ServerAddr,
    /// Announced by the cluster rather than configured.
    pub(crate) discovered: bool,
    /// When the client last dialed it.
    pub(crate) last_attempt: Option<Instant>,
    /// When its current or latest connection was made.
    connected_at: Option<Instant>,
    /// Since when it has been failing; `None` while it works. A connection lost soon after
    /// it was made counts as a failure, so a server that accepts and drops at once is not
    /// dialed in a tight loop.
    pub(crate) failing_since: Option<Instant>,
    /// Failures counted toward `max_reconnect_attempts`: at most one per `reconnect_time_wait`,
    /// so the client gives up on a server after as long as nats-py would, however often it
    /// dialed it meanwhile.
    counted_failures: u32,
    last_counted: Option<Instant>,
    /// Authorization failures in a row.
    pub(crate) auth_failures: u32,
}

impl PoolEntry {
    fn new(addr: ServerAddr, discovered: bool) -> Self {
        PoolEntry {
            addr,
            discovered,
            last_attempt: None,
            connected_at: None,
            failing_since: None,
            counted_failures: 0,
            last_counted: None,
            auth_failures: 0,
        }
    }

    fn failed(&mut self, count_every: Duration) {
        let now = Instant::now();
        self.failing_since.get_or_insert(now);
        if self
            .last_counted
            .is_none_or(|at| now.duration_since(at) >= count_every)
        {
            self.counted_failures = self.counted_failures.saturating_add(1);
            self.last_counted = Some(now);
        }
    }

    fn works(&mut self) {
        self.failing_since = None;
        self.counted_failures = 0;
        self.last_counted = None;
    }
}

/// How a connection attempt ended, as the pool needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Connected,
    Failed,
    /// The server refused the credentials.
    AuthFailed,
}

/// The server pool.
#[derive(Debug)]
pub(crate) struct ServerPool {
    entries: Vec<PoolEntry>,
    randomize: bool,
    /// Scheme of discovered servers: `tls` when a configured server asks for TLS.
    scheme: &'static str,
    /// Every `host:port` the cluster ever announced, to tell new servers from known ones.
    announced: HashSet<String>,
    /// The `connect_urls` of the last `INFO` taken in: the same list again changes nothing.
    last_listed: Vec<String>,
}

impl ServerPool {
    /// A pool of the configured servers, shuffled when `randomize` is set; duplicates go.
    pub(crate) fn new(configured: Vec<ServerAddr>, randomize: bool) -> Self {
        let scheme = if configured.iter().any(ServerAddr::tls_required) {
            "tls"
        } else {
            "nats"
        };
        let mut entries: Vec<PoolEntry> = Vec::with_capacity(configured.len());
        for addr in configured {
            if !entries.iter().any(|e| e.addr.same_server(&addr)) {
                entries.push(PoolEntry::new(addr, false));
            }
        }
        if randomize {
            fastrand::shuffle(&mut entries);
        }
        ServerPool {
            entries,
            randomize,
            scheme,
            announced: HashSet::new(),
            last_listed: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The server to try next, moved to the end of the pool.
    pub(crate) fn next(&mut self) -> Option<PoolEntry> {
        if self.entries.is_empty() {
            return None;
        }
        let entry = self.entries.remove(0);
        self.entries.push(entry.clone());
        Some(entry)
    }

    /// Notes that `addr` is being dialed now.
    pub(crate) fn attempting(&mut self, addr: &ServerAddr) {
        if let Some(entry) = self.find(addr) {
            entry.last_attempt = Some(Instant::now());
        }
    }

    /// Records how an attempt on `addr` ended. A server whose counted failures (one per
    /// `count_every` at most) reach `max_failures` leaves the pool.
    pub(crate) fn record(
        &mut self,
        addr: &ServerAddr,
        outcome: Outcome,
        max_failures: Option<u32>,
        count_every: Duration,
    ) {
        let Some(entry) = self.find(addr) else {
            return;
        };
        match outcome {
            Outcome::Connected => {
                // Whether it works for good is settled when the connection ends: see `lost`.
                entry.connected_at = Some(Instant::now());
                entry.auth_failures = 0;
            }
            Outcome::Failed => {
                entry.failed(count_every);
                entry.auth_failures = 0;
            }
            Outcome::AuthFailed => {
                entry.failed(count_every);
                entry.auth_failures += 1;
            }
        }
        let counted = entry.counted_failures;
        if outcome != Outcome::Connected && max_failures.is_some_and(|max| counted >= max) {
            self.entries.retain(|e| !e.addr.same_server(addr));
        }
    }

    /// The connection to `addr` was lost: if it lasted `stable` or longer, the server works
    /// (it is dialed again at once); if not, the loss counts as a failure.
    pub(crate) fn lost(&mut self, addr: &ServerAddr, stable: Duration) {
        if let Some(entry) = self.find(addr) {
            if entry.connected_at.is_some_and(|at| at.elapsed() >= stable) {
                entry.works();
            } else {
                entry.failed(stable);
            }
        }
    }

    /// Whether every server refused the credentials at least twice in a row.
    pub(crate) fn all_refuse_credentials(&self) -> bool {
        !self.entries.is_empty() && self.entries.iter().all(|e| e.auth_failures >= 2)
    }

    /// Whether the pool holds a server other than `addr`.
    pub(crate) fn has_other_than(&self, addr: &ServerAddr) -> bool {
        self.entries.iter().any(|e| !e.addr.same_server(addr))
    }

    /// Takes in the `connect_urls` of an `INFO`: adds the servers it lists and drops the
    /// discovered ones it no longer lists (but never `current`). Returns the servers never
    /// announced before. An empty list changes nothing: that server is not in a cluster.
    pub(crate) fn update(
        &mut self,
        connect_urls: &[String],
        current: Option<&ServerAddr>,
    ) -> Vec<String> {
        if connect_urls.is_empty() || connect_urls == self.last_listed.as_slice() {
            return Vec::new();
        }
        self.last_listed = connect_urls.to_vec();
        // A server listing thousands cannot make each INFO cost much or the pool grow past this.
        let connect_urls = &connect_urls[..connect_urls.len().min(MAX_DISCOVERED)];
        let listed: Vec<ServerAddr> = connect_urls
            .iter()
            .filter_map(|url| self.discovered_addr(url))
            .collect();
        self.entries.retain(|e| {
            !e.discovered
                || current.is_some_and(|c| c.same_server(&e.addr))
                || listed.iter().any(|l| l.same_server(&e.addr))
        });
        let credentials = self
            .entries
            .iter()
            .find(|e| e.addr.user().is_some())
            .map(|e| e.addr.clone());
        let mut added = false;
        for addr in listed {
            if self.entries.iter().any(|e| e.addr.same_server(&addr)) {
                continue;
            }
            let addr = match &credentials {
                Some(with) => addr.with_credentials_of(with),
                None => addr,
            };
            let addr = match current {
                Some(current) => addr.with_tls_name_of(current),
                None => addr,
            };
            self.entries.push(PoolEntry::new(addr, true));
            added = true;
        }
        if added {
            self.settle_current_last(current);
        }
        if self.announced.len() > MAX_ANNOUNCED {
            // A server announcing ever new names cannot make this grow without bound.
            self.announced.clear();
        }
        let mut fresh = Vec::new();
        for url in connect_urls {
            if self.announced.insert(url.clone()) {
                fresh.push(url.clone());
            }
        }
        fresh
    }

    /// Puts the server connected to at the end, where the next attempt after losing it
    /// starts from, and shuffles the others when allowed.
    fn settle_current_last(&mut self, current: Option<&ServerAddr>) {
        if let Some(at) =
            current.and_then(|c| self.entries.iter().position(|e| e.addr.same_server(c)))
        {
            let entry = self.entries.remove(at);
            self.entries.push(entry);
        }
        if self.randomize {
            let keep = if current.is_some() {
                self.entries.len() - 1
            } else {
                self.entries.len()
            };
            fastrand::shuffle(&mut self.entries[..keep]);
        }
    }

    /// The configured servers, in pool order.
    pub(crate) fn configured(&self) -> Vec<ServerAddr> {
        self.entries
            .iter()
            .filter(|e| !e.discovered)
            .map(|e| e.addr.clone())
            .collect()
    }

    /// The discovered servers still in the pool, as `scheme://host:port`.
    pub(crate) fn discovered(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.discovered)
            .map(|e| e.addr.to_string())
            .collect()
    }

    fn find(&mut self, addr: &ServerAddr) -> Option<&mut PoolEntry> {
        self.entries.iter_mut().find(|e| e.addr.same_server(addr))
    }

    /// A `host:port` from `connect_urls` as an address with the pool's scheme.
    fn discovered_addr(&self, url: &str) -> Option<ServerAddr> {
        let url = url.trim();
        let with_scheme = if url.contains("://") {
            url.to_owned()
        } else {
            format!("{}://{url}", self.scheme)
        };
        with_scheme.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<ServerAddr> {
        list.iter().map(|s| s.parse().expect("address")).collect()
    }

    fn order(pool: &mut ServerPool) -> Vec<String> {
        (0..pool.len())
            .filter_map(|_| pool.next())
            .map(|e| e.addr.to_string())
            .collect()
    }

    #[test]
    fn keeps_the_configured_order_when_asked_and_rotates() {
        let mut pool = ServerPool::new(addrs(&["a:1", "b:2", "c:3", "a:1"]), false);
        assert_eq!(pool.len(), 3, "duplicates go");
        assert_eq!(order(&mut pool), ["nats://a:1", "nats://b:2", "nats://c:3"]);
        let first = pool.next().expect("entry");
        assert_eq!(first.addr.to_string(), "nats://a:1");
        assert_eq!(order(&mut pool), ["nats://b:2", "nats://c:3", "nats://a:1"]);
    }

    #[test]
    fn randomizes_by_default() {
        let list: Vec<String> = (0..20).map(|i| format!("h{i}:4222")).collect();
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let shuffled = (0..5).any(|_| {
            let mut pool = ServerPool::new(addrs(&refs), true);
            order(&mut pool)
                != list
                    .iter()
                    .map(|h| format!("nats://{h}"))
                    .collect::<Vec<_>>()
        });
        assert!(shuffled, "20 servers kept their order five times in a row");
    }

    #[test]
    fn discovered_servers_join_keep_the_scheme_and_leave() {
        let mut pool = ServerPool::new(addrs(&["tls://u:p@seed:4222"]), false);
        let current: ServerAddr = "tls://seed:4222".parse().expect("address");
        let fresh = pool.update(
            &["seed:4222".into(), "10.0.0.2:4222".into()],
            Some(&current),
        );
        assert_eq!(fresh, ["seed:4222", "10.0.0.2:4222"]);
        assert_eq!(pool.discovered(), ["tls://10.0.0.2:4222"]);
        let entry = pool
            .entries
            .iter()
            .find(|e| e.discovered)
            .expect("discovered");
        assert_eq!(
            entry.addr.user().as_deref(),
            Some("u"),
            "credentials of the configured URL"
        );
        assert_eq!(
            entry.addr.tls_name(),
            Some("seed"),
            "verified as the announcing server"
        );
        assert!(pool
            .update(
                &["seed:4222".into(), "10.0.0.2:4222".into()],
                Some(&current)
            )
            .is_empty());
        // A later INFO without it: gone. Configured servers stay whatever INFO says.
        pool.update(&["10.0.0.3:4222".into()], Some(&current));
        assert_eq!(pool.discovered(), ["tls://10.0.0.3:4222"]);
        assert_eq!(pool.configured().len(), 1);
        // An empty list is a server outside a cluster: nothing changes.
        assert!(pool.update(&[], Some(&current)).is_empty());
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn the_current_server_stays_even_when_discovered_and_unlisted() {
        let mut pool = ServerPool::new(addrs(&["seed:1"]), false);
        pool.update(&["other:2".into()], None);
        let current: ServerAddr = "nats://other:2".parse().expect("address");
        pool.update(&["third:3".into()], Some(&current));
        let mut discovered = pool.discovered();
        discovered.sort();
        assert_eq!(discovered, ["nats://other:2", "nats://third:3"]);
    }

    #[test]
    fn failures_count_per_server_and_remove_it_at_the_limit() {
        let mut pool = ServerPool::new(addrs(&["a:1", "b:2"]), false);
        let a: ServerAddr = "a:1".parse().expect("address");
        let failing = |pool: &mut ServerPool| pool.find(&a).and_then(|e| e.failing_since).is_some();
        pool.record(&a, Outcome::Failed, Some(3), Duration::ZERO);
        pool.record(&a, Outcome::Connected, Some(3), Duration::ZERO);
        assert!(failing(&mut pool), "settled when the connection ends");
        pool.lost(&a, Duration::ZERO);
        assert!(
            !failing(&mut pool),
            "a connection that lasted: the server works"
        );
        pool.record(&a, Outcome::Failed, Some(3), Duration::ZERO);
        pool.record(&a, Outcome::Connected, Some(3), Duration::ZERO);
        pool.lost(&a, Duration::from_secs(60));
        assert!(failing(&mut pool), "lost at once: a failure");
        pool.record(&a, Outcome::Failed, Some(3), Duration::ZERO);
        assert_eq!(pool.len(), 2);
        pool.record(&a, Outcome::Failed, Some(3), Duration::ZERO);
        assert_eq!(
            pool.configured(),
            addrs(&["b:2"]),
            "the third failure in a row"
        );
    }

    #[test]
    fn failures_count_at_most_once_per_interval() {
        let mut pool = ServerPool::new(addrs(&["a:1", "b:2"]), false);
        let a: ServerAddr = "a:1".parse().expect("address");
        for _ in 0..10 {
            pool.record(&a, Outcome::Failed, Some(2), Duration::from_secs(60));
        }
        assert_eq!(pool.len(), 2, "ten quick failures count as one");
    }

    #[test]
    fn credentials_refused_twice_by_every_server() {
        let mut pool = ServerPool::new(addrs(&["a:1", "b:2"]), false);
        let (a, b): (ServerAddr, ServerAddr) =
            ("a:1".parse().expect("a"), "b:2".parse().expect("b"));
        let record = |pool: &mut ServerPool, addr: &ServerAddr, outcome| {
            pool.record(addr, outcome, None, Duration::ZERO);
        };
        for _ in 0..2 {
            record(&mut pool, &a, Outcome::AuthFailed);
        }
        record(&mut pool, &b, Outcome::AuthFailed);
        assert!(!pool.all_refuse_credentials());
        record(&mut pool, &b, Outcome::Failed);
        record(&mut pool, &b, Outcome::AuthFailed);
        assert!(!pool.all_refuse_credentials(), "not in a row");
        record(&mut pool, &b, Outcome::AuthFailed);
        assert!(pool.all_refuse_credentials());
        assert!(pool.has_other_than(&a));
    }
}
