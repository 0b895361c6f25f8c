//! Whether the node's connections to Redis work, and the log lines that say when that
//! changes: once when the bus is lost, once when it is back, never once per message.

use std::sync::atomic::{AtomicBool, Ordering};

/// One connection's state: the subscription (events from other nodes) or commands (publishing
/// and presence).
#[derive(Debug)]
pub(crate) struct Link {
    /// What the log lines call it.
    name: &'static str,
    up: AtomicBool,
}

impl Link {
    /// A link that is not up yet.
    pub(crate) const fn new(name: &'static str) -> Self {
        Link {
            name,
            up: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// The link works; logged when it did not.
    pub(crate) fn up(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            tracing::info!(link = self.name, "Redis bus connected");
        }
    }

    /// The link failed with `error`; logged when it worked. Meanwhile the node is not ready,
    /// sends keep succeeding and other nodes' sockets get the events from PostgreSQL.
    pub(crate) fn down(&self, error: &dyn std::fmt::Display) {
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                link = self.name,
                %error,
                "Redis bus lost: other nodes catch up from PostgreSQL until it returns"
            );
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
        link.up();
        link.up();
        assert!(link.is_up());
        link.down(&"refused");
        link.down(&"refused");
        assert!(!link.is_up());
    }
}
