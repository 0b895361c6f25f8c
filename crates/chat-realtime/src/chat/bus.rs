//! The fan-out seam: the domain publishes committed events to a bus, and the bus hands them
//! to every hub that delivers them. This process's bus is [`LocalBus`]; a cluster's carries
//! events between nodes. A bus may drop, repeat or reorder events: hubs deliver by stream
//! position and read what is missing from the store.

use std::sync::{Arc, PoisonError, RwLock, Weak};

use chat_domain::{EventSink, StreamEvent};

use super::hub::Hub;

/// Carries committed events from where they were written to every subscribed hub.
pub trait Bus: EventSink {
    /// Hands every event published from now on to `hub` (for as long as it lives).
    fn subscribe(&self, hub: &Arc<Hub>);
}

/// The in-process bus: publishing delivers to this process's hubs at once.
#[derive(Default)]
pub struct LocalBus {
    hubs: RwLock<Vec<Weak<Hub>>>,
}

impl EventSink for LocalBus {
    fn publish(&self, event: StreamEvent) {
        let hubs = self.hubs.read().unwrap_or_else(PoisonError::into_inner);
        if let [only] = hubs.as_slice() {
            if let Some(hub) = only.upgrade() {
                hub.receive(event);
            }
            return;
        }
        for hub in hubs.iter().filter_map(Weak::upgrade) {
            hub.receive(event.clone());
        }
    }
}

impl Bus for LocalBus {
    fn subscribe(&self, hub: &Arc<Hub>) {
        let mut hubs = self.hubs.write().unwrap_or_else(PoisonError::into_inner);
        hubs.retain(|known| known.strong_count() > 0);
        hubs.push(Arc::downgrade(hub));
    }
}
