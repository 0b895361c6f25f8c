//! The scheduled-message loops of a node: each sends what is due, at once again while whole
//! batches come back, else after a pause. Every node runs a few, so that one batch commits
//! while the next is claimed and sent; the store's claims give each due message to one loop
//! of one node.

use std::time::Duration;

use chat_domain::{ChatService, EventSink, Store};
use chrono::Utc;

/// How the loops run (`CHAT_SCHEDULE_POLL_MS`, `CHAT_SCHEDULE_BATCH`,
/// `CHAT_SCHEDULE_CONCURRENCY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// The pause after a round that found less than a batch due: the most a message waits
    /// past its time on an idle node.
    pub poll: Duration,
    /// The most due messages one round claims and sends together.
    pub batch: u32,
    /// Loops on this node, each claiming batches of its own.
    pub concurrency: usize,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            poll: Duration::from_millis(250),
            batch: 1_000,
            concurrency: 4,
        }
    }
}

/// Starts the loops on the current runtime; they run until the runtime stops (a message one
/// claimed but did not send is claimed again when its lease runs out).
pub(crate) fn start<S: Store, E: EventSink>(chat: ChatService<S, E>, settings: ScheduleSettings) {
    for _ in 0..settings.concurrency {
        tokio::spawn(run(chat.clone(), settings));
    }
}

/// One loop: a round, then at once another while whole batches come back, else a pause.
async fn run<S: Store, E: EventSink>(chat: ChatService<S, E>, settings: ScheduleSettings) {
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
}
