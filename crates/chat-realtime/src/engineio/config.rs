//! The Engine.IO server's settings: the heartbeat the handshake announces, the payload limit and
//! the per-session outbound queue.

use std::time::Duration;

/// Settings of one [`Engine`](super::Engine), read once at start-up and shared by every session.
///
/// The defaults are the reference server's (`engine.io` 6), except `max_payload`, which follows
/// the reference's `maxHttpBufferSize` of 1 MB, and `outbound_queue` and `max_sessions_per_ip`,
/// which are ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// How often the server pings each session (`pingInterval`).
    pub ping_interval: Duration,
    /// How long the server waits for the pong after a ping before it drops the session
    /// (`pingTimeout`).
    pub ping_timeout: Duration,
    /// The largest message a client may send in bytes: a WebSocket message, or the body of one
    /// polling POST (`maxPayload`). Also the size the server aims at for one polling answer.
    pub max_payload: usize,
    /// How many frames may wait for one session before it counts as too slow and is closed
    /// with [`DisconnectReason::SlowClient`](super::DisconnectReason::SlowClient): what it missed,
    /// a client recovers from the store by sequence number, so a slow client never holds memory
    /// nor stalls the sender.
    pub outbound_queue: usize,
    /// How long a WebSocket may take to complete the upgrade from polling (`2probe` ... `5`)
    /// before it is dropped.
    pub upgrade_timeout: Duration,
    /// Most sessions open at once from one client IP address (every transport, authenticated
    /// or not); a handshake over it is answered HTTP 429. Sized for many users behind one NAT.
    pub max_sessions_per_ip: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1_000_000,
            outbound_queue: 1024,
            upgrade_timeout: Duration::from_secs(10),
            max_sessions_per_ip: 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_reference_servers() {
        let config = EngineConfig::default();
        assert_eq!(config.ping_interval, Duration::from_millis(25_000));
        assert_eq!(config.ping_timeout, Duration::from_millis(20_000));
        assert_eq!(config.max_payload, 1_000_000);
        assert_eq!(config.outbound_queue, 1024);
        assert_eq!(config.upgrade_timeout, Duration::from_millis(10_000));
        assert_eq!(config.max_sessions_per_ip, 1000);
    }
}
