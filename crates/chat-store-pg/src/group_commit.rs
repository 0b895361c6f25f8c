//! Group commit: appends that arrive while a commit is under way wait for the next one and
//! share its statement and its WAL flush, so that throughput grows with concurrency instead
//! of stopping at one flush per message. Each caller still gets its answer only after the
//! transaction holding its message has committed.
//!
//! Appends are spread over lanes by conversation (by its stream writer); a lane runs one batch
//! at a time, so a conversation's appends keep their order and two batches never contend for
//! its row lock or its writer's.
//! An idle lane commits the first message at once: batching adds no wait at low load. Each
//! lane has a connection of its own besides the pool.

use chat_domain::{Appended, ChatError, NewMessage, writer_of};
use diesel::OptionalExtension;
use diesel::result::Error as DieselError;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use tokio::sync::{mpsc, oneshot};

use crate::PgConfig;
use crate::append_batch::{AppendBatch, BatchRow};
use crate::error::query_error;
use crate::lane::{self, ConnectionLost, Job, Target, fail_all};
use crate::messages::earlier_send;

/// What one append gets back: the stored message, or `None` when the sender is not a member.
pub(crate) type AppendResult = Result<Option<Appended>, ChatError>;

/// One queued append and where its answer goes.
struct Pending {
    message: NewMessage,
    /// Whether the message gets its row in the webhook outbox.
    outbox: bool,
    reply: oneshot::Sender<AppendResult>,
}

/// The lanes' queues. Dropping the last handle lets each lane finish its batch and stop.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    lanes: Box<[mpsc::Sender<Pending>]>,
    outbox: bool,
}

impl GroupCommit {
    /// Starts the configured number of writer lanes on the current Tokio runtime.
    pub(crate) fn start(config: &PgConfig) -> Self {
        let lanes = (0..config.write_lanes.max(1))
            .map(|_| lane::start(Target::of(config), config.max_write_batch))
            .collect();
        GroupCommit {
            lanes,
            outbox: config.webhook_outbox,
        }
    }

    /// Queues the append on its conversation's lane and waits for its commit. Lanes are chosen
    /// by the conversation's stream writer, so that each writer belongs to one lane: two
    /// batches in flight never bump the same writer row (and never wait for each other's).
    pub(crate) async fn append(&self, message: NewMessage) -> AppendResult {
        let lane = writer_of(message.conversation_id) % self.lanes.len().max(1);
        let outbox = self.outbox;
        lane::ask(&self.lanes[lane], |reply| Pending {
            message,
            outbox,
            reply,
        })
        .await
    }
}

impl Job for Pending {
    async fn commit_all(
        conn: &mut AsyncPgConnection,
        batch: &mut Vec<Self>,
    ) -> Result<(), ConnectionLost> {
        commit(conn, batch).await
    }

    fn fail(self, error: ChatError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The Prometheus histogram of how many messages each group commit wrote (docs/operations.md).
pub const BATCH_SIZE_METRIC: &str = "chat_store_group_commit_batch_messages";

/// Appends the batch in one statement and answers every caller. When the statement fails for
/// a reason that may lie in one message (a reused client message id, say), nothing of it was
/// written, and each message is retried on its own so that only the culprit fails; a reused
/// client message id is then answered as a retry when it is one.
async fn commit(
    conn: &mut AsyncPgConnection,
    batch: &mut Vec<Pending>,
) -> Result<(), ConnectionLost> {
    metrics::histogram!(BATCH_SIZE_METRIC).record(batch.len() as f64);
    let outbox = batch.iter().any(|p| p.outbox);
    let rows: Result<Vec<BatchRow>, DieselError> =
        AppendBatch::new(batch.iter().map(|p| &p.message), outbox)
            .load(conn)
            .await;
    match rows {
        Ok(rows) => answer_batch(batch, rows),
        Err(e) => match query_error(e) {
            unavailable @ ChatError::Unavailable(_) => {
                fail_all(batch, &unavailable);
                return Err(ConnectionLost);
            }
            _ => {
                let mut lost = false;
                for pending in batch.drain(..) {
                    let single: Result<Option<BatchRow>, DieselError> =
                        AppendBatch::new(std::iter::once(&pending.message), pending.outbox)
                            .get_result(conn)
                            .await
                            .optional();
                    let result = match single.map_err(query_error) {
                        Ok(row) => Ok(row.map(BatchRow::appended)),
                        Err(ChatError::Conflict(_)) => earlier_send(conn, &pending.message).await,
                        Err(other) => Err(other),
                    };
                    lost |= matches!(result, Err(ChatError::Unavailable(_)));
                    let _ = pending.reply.send(result);
                }
                if lost {
                    return Err(ConnectionLost);
                }
            }
        },
    }
    Ok(())
}

/// Gives each caller its row; a caller without one was not a member of the conversation.
fn answer_batch(batch: &mut Vec<Pending>, rows: Vec<BatchRow>) {
    let mut stored: Vec<Option<BatchRow>> = batch.iter().map(|_| None).collect();
    for row in rows {
        let slot = usize::try_from(row.ord - 1)
            .ok()
            .and_then(|i| stored.get_mut(i));
        if let Some(slot) = slot {
            *slot = Some(row);
        }
    }
    for (pending, row) in batch.drain(..).zip(stored) {
        let _ = pending.reply.send(Ok(row.map(BatchRow::appended)));
    }
}

#[cfg(test)]
#[path = "group_commit_tests.rs"]
mod tests;
