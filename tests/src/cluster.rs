//! A cluster of `nats-server` processes, joined by routes, owned by one test.

use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use crate::certs::TestPki;
use crate::logs::Listener;
use crate::monitor;
use crate::routes;
use crate::security::{route_tls_conf, tls_conf, TlsMode};
use crate::server::NatsServer;

/// The cluster name every node is given.
const CLUSTER_NAME: &str = "test";

/// How long [`NatsCluster::wait_for_routes`] waits for the routes to come up.
const ROUTES_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`NatsCluster::wait_for_routes`] asks the nodes.
const ROUTES_POLL: Duration = Duration::from_millis(25);

/// Command-line arguments of every node: a monitoring port the server picks.
const NODE_ARGS: &[&str] = &["-m", "-1"];

/// A node counts as started once it has announced all of these.
const NODE_LISTENERS: &[Listener] = &[Listener::Client, Listener::Route, Listener::Monitor];

/// A port nothing listens on (the privileged `tcpmux` port), for the route
/// node 0 starts with; it logs one `connection refused` error for it.
const NOWHERE_PORT: u16 = 1;

/// How many of a lagging node's latest log lines a timeout message shows.
const LOG_LINES_SHOWN: usize = 30;

/// Several `nats-server` nodes on `127.0.0.1` forming one cluster named
/// `test`, all killed when dropped.
///
/// Node `i` is a [`NatsServer`] named `n{i}` (its `server_name`, which
/// JetStream clusters need), with its own store directory and a monitoring
/// port. Every node picks its client, route and monitoring ports itself; the
/// harness reads them back from the startup logs, so clusters of tests running
/// in parallel never race for ports. Node 0 starts first and the others route
/// to it (gossip then joins them to each other); once all run, every node's
/// config is rewritten to listen on the route port it got and to route to
/// every other node, so a node restarted
/// with [`restart`](Self::restart) (or through [`node_mut`](Self::node_mut))
/// comes back on the same client and route ports and rejoins directly.
///
/// ```no_run
/// let cluster = nats_tests::NatsCluster::spawn(3);
/// // every node has routes to the two others here
/// println!("seed servers: {:?}", cluster.urls());
/// ```
pub struct NatsCluster {
    nodes: Vec<NatsServer>,
    /// Config text shared by every node.
    extra_conf: String,
    /// Config text inside every node's `cluster` block.
    cluster_conf: String,
}

impl NatsCluster {
    /// Starts an `n`-node cluster and waits until every node has routes to
    /// every other one.
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0, if a node does not start (as
    /// [`NatsServer::spawn`]), or if the routes are not all up within 10
    /// seconds.
    pub fn spawn(n: usize) -> Self {
        Self::spawn_with_config(n, "")
    }

    /// Starts an `n`-node cluster whose nodes all share `extra_conf_text`, such
    /// as `jetstream: enabled`, an `authorization { ... }` block or
    /// `accounts { ... }`, and waits until the routes are all up.
    ///
    /// The harness writes `server_name` and the `cluster` block itself, after
    /// the shared text, so the text must not set them; the address, ports and
    /// store directory on the command line override the file's.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_with_config(n: usize, extra_conf_text: &str) -> Self {
        Self::spawn_with_cluster_config(n, extra_conf_text, "")
    }

    /// Starts an `n`-node cluster with TLS: for clients in `client_tls` mode
    /// (as [`tls_conf`]) unless it is `None`, and between the routes (as
    /// [`route_tls_conf`]) if `route_tls`; waits until the routes are all up.
    ///
    /// The route ports, client ports and monitoring ports stay as in
    /// [`spawn`](Self::spawn); the monitoring endpoint stays plain HTTP. Keep
    /// `pki` alive as long as nodes may start or restart.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_with_tls(
        n: usize,
        pki: &TestPki,
        client_tls: Option<TlsMode>,
        route_tls: bool,
    ) -> Self {
        let client_conf = client_tls.map_or_else(String::new, |mode| tls_conf(pki, mode));
        let route_conf = if route_tls {
            route_tls_conf(pki)
        } else {
            String::new()
        };
        Self::spawn_with_cluster_config(n, &client_conf, &route_conf)
    }

    /// Starts an `n`-node cluster whose nodes all share `extra_conf_text` (as
    /// [`spawn_with_config`](Self::spawn_with_config)) and have
    /// `cluster_conf_text` inside their `cluster` block, such as the
    /// `tls { ... }` block of [`route_tls_conf`], `pool_size: 1` or an
    /// `authorization { ... }` block for routes; waits until the routes are
    /// all up.
    ///
    /// The harness writes the cluster's `name`, `listen` and `routes` itself,
    /// so the text must not set them.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_with_cluster_config(
        n: usize,
        extra_conf_text: &str,
        cluster_conf_text: &str,
    ) -> Self {
        assert!(n > 0, "a cluster needs at least one node");
        let start = |index: usize, routes: &[u16]| {
            let conf = node_config(extra_conf_text, cluster_conf_text, index, None, routes);
            NatsServer::start(Some(&conf), NODE_ARGS, NODE_LISTENERS)
        };
        // No other node's route port is known yet when node 0 starts, but a
        // clustered JetStream server refuses to start without a route in its
        // config: route it to a port where nothing listens. The others route
        // to node 0 and learn about each other from it.
        let seed = start(0, &[NOWHERE_PORT]);
        let seed_port = route_port(&seed);
        let mut nodes = vec![seed];
        nodes.extend((1..n).map(|index| start(index, &[seed_port])));

        let cluster = Self {
            nodes,
            extra_conf: extra_conf_text.to_owned(),
            cluster_conf: cluster_conf_text.to_owned(),
        };
        cluster.pin_configs();
        cluster.wait_for_routes();
        cluster
    }

    /// Waits until every running node has all its routes to every other
    /// running node: for each peer, the whole connection pool plus the routes
    /// of pinned accounts (such as the system account), as `/routez` lists
    /// them. Stopped and [paused](NatsServer::pause) nodes are left out.
    ///
    /// Call it after [`restart`](Self::restart) to wait for the node to rejoin.
    ///
    /// # Panics
    ///
    /// Panics, with what is missing and the lagging nodes' logs, if the
    /// routes are not all up within 10 seconds.
    pub fn wait_for_routes(&self) {
        let deadline = Instant::now() + ROUTES_TIMEOUT;
        loop {
            let lagging = self.lagging_nodes();
            if lagging.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                let mut report = String::new();
                for (index, what) in &lagging {
                    let _ = write!(
                        report,
                        "\nnode {index} ({}): {}\nits latest log lines:\n{}",
                        self.nodes[*index].url(),
                        what.join("; "),
                        last_lines(&self.nodes[*index].logs(), LOG_LINES_SHOWN)
                    );
                }
                panic!("cluster routes not up within {ROUTES_TIMEOUT:?}:{report}");
            }
            thread::sleep(ROUTES_POLL);
        }
    }

    /// The number of nodes, running or not.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a cluster has at least one node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The cluster name, `test`.
    pub fn name(&self) -> &'static str {
        CLUSTER_NAME
    }

    /// The `server_name` of node `index`: `n{index}`.
    pub fn server_name(&self, index: usize) -> String {
        server_name(index)
    }

    /// Node `index`.
    ///
    /// # Panics
    ///
    /// Panics if `index >= len()`.
    pub fn node(&self, index: usize) -> &NatsServer {
        &self.nodes[index]
    }

    /// Node `index`, to pause or restart it directly.
    ///
    /// # Panics
    ///
    /// Panics if `index >= len()`.
    pub fn node_mut(&mut self, index: usize) -> &mut NatsServer {
        &mut self.nodes[index]
    }

    /// All nodes, in index order.
    pub fn nodes(&self) -> &[NatsServer] {
        &self.nodes
    }

    /// The client URL of node `index`: `nats://127.0.0.1:PORT`.
    ///
    /// # Panics
    ///
    /// Panics if `index >= len()`.
    pub fn url(&self, index: usize) -> String {
        self.nodes[index].url()
    }

    /// The client URLs of all nodes, in index order, whether running or not.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(NatsServer::url).collect()
    }

    /// The index of the node whose client port is `port`.
    pub fn index_of_port(&self, port: u16) -> Option<usize> {
        self.nodes.iter().position(|node| node.port() == port)
    }

    /// The index of the node a URL such as `nats://127.0.0.1:PORT` or
    /// `127.0.0.1:PORT` points at, judged by its port.
    pub fn index_of_url(&self, url: &str) -> Option<usize> {
        let (_, port) = url.trim_end_matches('/').rsplit_once(':')?;
        self.index_of_port(port.parse().ok()?)
    }

    /// Kills node `index`, as a crash would; [`restart`](Self::restart) brings
    /// it back.
    ///
    /// # Panics
    ///
    /// Panics if `index >= len()`.
    pub fn kill(&mut self, index: usize) {
        self.nodes[index].stop();
    }

    /// Kills node `index` if it runs and starts it again on the same client and
    /// route ports with the same store directory. Does not wait for its routes:
    /// call [`wait_for_routes`](Self::wait_for_routes) for that.
    ///
    /// # Panics
    ///
    /// Panics if `index >= len()`, if the node does not start within 10
    /// seconds, or if it did not get its old ports back (say, because another
    /// process took one meanwhile).
    pub fn restart(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        let (port, cluster_port) = (node.port(), node.cluster_port());
        if !node.is_stopped() {
            node.stop();
        }
        node.start_again();
        assert_eq!(
            (node.port(), node.cluster_port()),
            (port, cluster_port),
            "node {index} came back on other ports; its stderr:\n{}",
            node.logs()
        );
    }

    /// Rewrites every node's config with the route port it got and routes to
    /// every other node, for later restarts.
    ///
    /// A lone node routes to itself, which the server detects and ignores,
    /// so that JetStream still finds a configured route.
    fn pin_configs(&self) {
        let ports: Vec<u16> = self.nodes.iter().map(route_port).collect();
        for (index, node) in self.nodes.iter().enumerate() {
            let others: Vec<u16> = ports
                .iter()
                .enumerate()
                .filter(|&(other, _)| other != index || ports.len() == 1)
                .map(|(_, &port)| port)
                .collect();
            node.rewrite_config(&node_config(
                &self.extra_conf,
                &self.cluster_conf,
                index,
                Some(ports[index]),
                &others,
            ));
        }
    }

    /// The running, unpaused nodes that lack routes, with what each lacks.
    fn lagging_nodes(&self) -> Vec<(usize, Vec<String>)> {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|&index| !self.nodes[index].is_stopped() && !self.nodes[index].is_paused())
            .collect();
        let mut lagging = Vec::new();
        for &index in &live {
            let peers: Vec<String> = live
                .iter()
                .filter(|&&other| other != index)
                .map(|&other| server_name(other))
                .collect();
            let what = match self.node_missing(index, &peers) {
                Ok(what) => what,
                Err(err) => vec![err],
            };
            if !what.is_empty() {
                lagging.push((index, what));
            }
        }
        lagging
    }

    /// What node `index` lacks of its routes to `peers`.
    fn node_missing(&self, index: usize, peers: &[String]) -> Result<Vec<String>, String> {
        let node = &self.nodes[index];
        let port = node
            .monitor_port()
            .ok_or_else(|| "no monitoring port".to_owned())?;
        let varz = monitor::get_json(port, "/varz")?;
        let routez = monitor::get_json(port, "/routez")?;
        Ok(routes::missing(&varz, &routez, peers))
    }
}

impl std::fmt::Debug for NatsCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsCluster")
            .field("name", &CLUSTER_NAME)
            .field("nodes", &self.nodes)
            .finish_non_exhaustive()
    }
}

/// The `server_name` of node `index`.
fn server_name(index: usize) -> String {
    format!("n{index}")
}

/// The route port of a started node.
fn route_port(node: &NatsServer) -> u16 {
    node.cluster_port()
        .unwrap_or_else(|| unreachable!("cluster nodes wait for their route listener"))
}

/// The config file of node `index`: the shared text, then its name and a
/// `cluster` block listening on `listen` (or a port the server picks) with
/// routes to `routes`, and the `cluster_conf` text, indented, at its end.
fn node_config(
    extra_conf: &str,
    cluster_conf: &str,
    index: usize,
    listen: Option<u16>,
    routes: &[u16],
) -> String {
    let listen = listen.map_or_else(|| "-1".to_owned(), |port| port.to_string());
    let mut conf = String::new();
    if !extra_conf.is_empty() {
        conf.push_str(extra_conf);
        conf.push('\n');
    }
    let _ = writeln!(conf, "server_name: {}", server_name(index));
    let _ = writeln!(conf, "cluster {{");
    let _ = writeln!(conf, "  name: {CLUSTER_NAME}");
    let _ = writeln!(conf, "  listen: \"127.0.0.1:{listen}\"");
    if !routes.is_empty() {
        let _ = writeln!(conf, "  routes: [");
        for port in routes {
            let _ = writeln!(conf, "    \"nats-route://127.0.0.1:{port}\"");
        }
        let _ = writeln!(conf, "  ]");
    }
    for line in cluster_conf.lines() {
        let _ = writeln!(conf, "  {line}");
    }
    let _ = writeln!(conf, "}}");
    conf
}

/// The last `count` lines of `text`.
fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::node_config;

    #[test]
    fn first_config_lets_the_server_pick_the_route_port() {
        let conf = node_config("", "", 0, None, &[]);
        assert_eq!(
            conf,
            "server_name: n0\ncluster {\n  name: test\n  listen: \"127.0.0.1:-1\"\n}\n"
        );
    }

    #[test]
    fn pinned_config_keeps_ports_and_shared_text() {
        let conf = node_config("jetstream: enabled", "", 2, Some(4248), &[4246, 4247]);
        assert_eq!(
            conf,
            "jetstream: enabled\nserver_name: n2\ncluster {\n  name: test\n  \
             listen: \"127.0.0.1:4248\"\n  routes: [\n    \
             \"nats-route://127.0.0.1:4246\"\n    \"nats-route://127.0.0.1:4247\"\n  ]\n}\n"
        );
    }

    #[test]
    fn cluster_text_goes_inside_the_cluster_block() {
        let conf = node_config("", "tls {\n  verify: true\n}\n", 1, Some(4248), &[4246]);
        assert_eq!(
            conf,
            "server_name: n1\ncluster {\n  name: test\n  listen: \"127.0.0.1:4248\"\n  \
             routes: [\n    \"nats-route://127.0.0.1:4246\"\n  ]\n  tls {\n    \
             verify: true\n  }\n}\n"
        );
    }
}
