//! Whether the node's connections to Redis work, and the log lines that say when that
//! changes: once when the bus is lost (or cannot be reached at start-up, with the reason),
//! once when it is back, never once per message.

use std::sync::atomic::{AtomicU8, Ordering};

/// Not connected yet, nor failed.
const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// One connection's state: the subscription (events from other nodes) or commands (publishing
/// and presence).
#[derive(Debug)]
pub(crate) struct Link {
    /// What the log lines call it.
    name: &'static str,
    state: AtomicU8,
}

impl Link {
    /// A link that is not up yet.
    pub(crate) const fn new(name: &'static str) -> Self {
        Link {
            name,
            state: AtomicU8::new(STARTING),
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.state.load(Ordering::Acquire) == UP
    }

    /// The link works; logged when it did not.
    pub(crate) fn up(&self) {
        if self.state.swap(UP, Ordering::AcqRel) != UP {
            tracing::info!(link = self.name, "Redis bus connected");
        }
    }

    /// The link failed with `error`; logged when it worked, or at its first attempt (a wrong
    /// address or password is then said at start-up). Meanwhile the node is not ready, sends
    /// keep succeeding and other nodes' sockets get the events from PostgreSQL.
    pub(crate) fn down(&self, error: &dyn std::fmt::Display) {
        match self.state.swap(DOWN, Ordering::AcqRel) {
            UP => tracing::warn!(
                link = self.name,
                %error,
                "Redis bus lost: other nodes catch up from PostgreSQL until it returns"
            ),
            STARTING => tracing::warn!(
                link = self.name,
                %error,
                "Redis bus not connected: this node is not ready until it connects (retrying)"
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_reports_each_change_once() {
        let link = Link::new("test");
        assert!(!link.is_up());
        link.down(&"refused");
        link.down(&"refused");
        assert!(!link.is_up());
        link.up();
        link.up();
        assert!(link.is_up());
        link.down(&"refused");
        assert!(!link.is_up());
    }
}
