//! Where a client of the bench connects: straight to a server, or to one chosen node of a
//! cluster through its load balancer. The balancer keeps a client on a node by a cookie
//! (HAProxy's `cookie CHATNODE insert`, one value per node: `node1`, `node2`, ...); sending that
//! cookie from the start pins a socket or a REST connection to the node, through the balancer,
//! so that a scenario knows which node holds each socket and can make its deliveries cross
//! nodes, as Socket.IO's long-polling clients are kept on their node.

use std::net::SocketAddr;

/// The balancer's stickiness cookie (see `deploy/haproxy.cfg`).
pub(crate) const NODE_COOKIE: &str = "CHATNODE";

/// An address and, through a balancer, the cookie naming the node to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// Where to connect.
    pub(crate) addr: SocketAddr,
    /// The `Cookie` header's value, when the balancer must pick a given node.
    pub(crate) cookie: Option<String>,
}

impl Route {
    /// Straight to the server at `addr`.
    pub(crate) fn direct(addr: SocketAddr) -> Self {
        Self { addr, cookie: None }
    }

    /// To node `n` (from 1) behind the balancer at `balancer`.
    pub(crate) fn node(balancer: SocketAddr, n: usize) -> Self {
        Self {
            addr: balancer,
            cookie: Some(format!("{NODE_COOKIE}=node{n}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn a_node_route_carries_its_cookie() {
        let lb = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(Route::node(lb, 2).cookie.as_deref(), Some("CHATNODE=node2"));
        assert_eq!(Route::direct(lb).cookie, None);
    }
}
