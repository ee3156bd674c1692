//! Judging from a node's `/varz` and `/routez` whether its routes to the other
//! nodes of a cluster are all up.
//!
//! Since nats-server 2.10 two nodes are joined by several route connections:
//! a pool of `cluster.pool_size` connections (3 by default, reported in
//! `/varz`) shared by most accounts, plus one connection per pinned account,
//! and the system account is always pinned when pooling is on. `/routez`
//! lists every connection, with the peer's `server_name` as `remote_name` and
//! the pinned account, if any, as `account`; its `num_routes` counts
//! connections, not peers (8 on each node of a default 3-node cluster).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The route connections one node has to one peer.
#[derive(Default)]
struct PeerRoutes {
    /// Connections of the shared pool.
    pooled: usize,
    /// Accounts with a dedicated connection.
    pinned: BTreeSet<String>,
}

/// Lists what is missing before the node described by `varz` and `routez` has
/// every route to every server named in `peers`; empty once all are up.
pub(crate) fn missing(varz: &Value, routez: &Value, peers: &[String]) -> Vec<String> {
    let pool_size = varz
        .pointer("/cluster/pool_size")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let pooled_wanted = usize::try_from(pool_size).unwrap_or(0).max(1);

    let mut by_peer: BTreeMap<&str, PeerRoutes> = BTreeMap::new();
    let routes = routez
        .get("routes")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for route in routes {
        let Some(name) = route.get("remote_name").and_then(Value::as_str) else {
            continue;
        };
        let peer = by_peer.entry(name).or_default();
        match route.get("account").and_then(Value::as_str) {
            Some(account) if !account.is_empty() => {
                peer.pinned.insert(account.to_owned());
            }
            _ => peer.pooled += 1,
        }
    }

    // Every account pinned towards one peer is pinned towards all of them.
    let mut pinned_wanted: BTreeSet<String> = by_peer
        .values()
        .flat_map(|peer| peer.pinned.iter().cloned())
        .collect();
    if pool_size > 0 {
        if let Some(system) = varz.get("system_account").and_then(Value::as_str) {
            if !system.is_empty() {
                pinned_wanted.insert(system.to_owned());
            }
        }
    }

    let none = PeerRoutes::default();
    let mut missing = Vec::new();
    for name in peers {
        let peer = by_peer.get(name.as_str()).unwrap_or(&none);
        if peer.pooled < pooled_wanted {
            missing.push(format!(
                "{name}: {} of {pooled_wanted} pooled routes",
                peer.pooled
            ));
        }
        for account in pinned_wanted.difference(&peer.pinned) {
            missing.push(format!("{name}: no route pinned to account {account}"));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::missing;

    fn varz(pool_size: i64) -> Value {
        json!({"system_account": "$SYS", "cluster": {"name": "test", "pool_size": pool_size}})
    }

    fn route(name: &str, account: Option<&str>) -> Value {
        match account {
            Some(account) => json!({"remote_name": name, "account": account}),
            None => json!({"remote_name": name}),
        }
    }

    fn peers() -> Vec<String> {
        vec!["n1".to_owned(), "n2".to_owned()]
    }

    #[test]
    fn complete_pools_and_system_routes() {
        let mut routes = Vec::new();
        for name in ["n1", "n2"] {
            routes.extend((0..3).map(|_| route(name, None)));
            routes.push(route(name, Some("$SYS")));
        }
        let routez = json!({"num_routes": 8, "routes": routes});
        assert!(missing(&varz(3), &routez, &peers()).is_empty());
    }

    #[test]
    fn reports_missing_peers_and_connections() {
        let routez = json!({"routes": [
            route("n1", None),
            route("n1", None),
            route("n1", Some("$SYS")),
        ]});
        let found = missing(&varz(3), &routez, &peers());
        assert_eq!(
            found,
            [
                "n1: 2 of 3 pooled routes",
                "n2: 0 of 3 pooled routes",
                "n2: no route pinned to account $SYS",
            ]
        );
    }

    #[test]
    fn pooling_off_wants_one_route_per_peer() {
        let routez = json!({"routes": [route("n1", None), route("n2", None)]});
        assert!(missing(&varz(-1), &routez, &peers()).is_empty());
        let none = json!({"num_routes": 0});
        assert_eq!(missing(&varz(-1), &none, &peers()).len(), 2);
    }
}
