//! The scheduled-message loop of a node: sends what is due, at once again while whole batches
//! come back, else after a pause. Every node runs one; the store's claims give each due
//! message to one of them.

use std::time::Duration;

use chat_domain::{ChatService, EventSink, Store};
use chrono::Utc;

/// How the loop runs (`CHAT_SCHEDULE_POLL_MS`, `CHAT_SCHEDULE_BATCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// The pause after a round that found less than a batch due: the most a message waits
    /// past its time on an idle node.
    pub poll: Duration,
    /// The most due messages one round claims and sends together.
    pub batch: u32,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            poll: Duration::from_millis(250),
            batch: 1_000,
        }
    }
}

/// Starts the loop on the current runtime; it runs until the runtime stops (a message it
/// claimed but did not send is claimed again when its lease runs out).
pub(crate) fn start<S: Store, E: EventSink>(chat: ChatService<S, E>, settings: ScheduleSettings) {
    tokio::spawn(async move {
        loop {
            match chat.send_due(Utc::now(), settings.batch).await {
                Ok(round) if round.claimed >= settings.batch as usize => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "sending due scheduled messages failed; trying again");
                }
            }
            tokio::time::sleep(settings.poll).await;
        }
    });
}
