//! The bus of a cluster of chat nodes, on Redis.
//!
//! Every node publishes what it committed (messages, reads, deletions, group changes, each at
//! its place in the event stream) and the ephemeral events of its sockets (typing, a socket
//! leaving a room, presence) to one Redis pub/sub channel, and hands what the other nodes
//! publish to its hub. Redis pub/sub is at-most-once: an event lost on the way (Redis
//! restarting, a connection cut) is read from PostgreSQL by position by the hub, which
//! already orders and fills gaps for concurrent senders on one node. PostgreSQL stays the one
//! source of truth; Redis only carries fan-out, and presence: a user is online while any node
//! holds one of their sockets, and a node that stops beating is forgotten after a TTL.
//!
//! Keys and channels share one hash tag (`{chat}` by default), so that they sit in one slot of
//! a Redis Cluster and the presence scripts stay atomic there too.

mod bus;
mod envelope;
mod link;
mod presence;
mod publisher;
mod subscriber;

pub use bus::{BusError, RedisBus, RedisBusConfig, check_url};
pub use presence::RedisPresence;
