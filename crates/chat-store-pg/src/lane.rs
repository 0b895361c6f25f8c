//! A writer lane: a task with a PostgreSQL connection of its own that commits whatever has
//! queued up while its previous batch was committing, one batch at a time, so that concurrent
//! writes share one statement, one transaction and one WAL flush. The message appends
//! (`group_commit.rs`) and the creation of direct conversations (`first_contact.rs`) each run
//! on lanes of their own.

use std::time::Duration;

use chat_domain::ChatError;
use diesel_async::AsyncPgConnection;
use tokio::sync::{mpsc, oneshot};

use crate::PgConfig;
use crate::pool::connect_within;

/// The connection failed under a batch: the next one opens a new connection.
#[derive(Debug)]
pub(crate) struct ConnectionLost;

/// One queued request of a lane, which knows how its batch is committed and answered.
pub(crate) trait Job: Send + Sized + 'static {
    /// Commits the batch and answers every job in it, leaving it empty.
    fn commit_all(
        conn: &mut AsyncPgConnection,
        batch: &mut Vec<Self>,
    ) -> impl Future<Output = Result<(), ConnectionLost>> + Send;

    /// Answers the job with an error, without touching the database.
    fn fail(self, error: ChatError);
}

/// How a lane's connection plans: once per statement, without sequential scans (see
/// [`Target::connect`]).
pub(crate) const LANE_SETTINGS: &str =
    "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off";

/// Where a lane connects. A lane owns its connection, opened on the lane's own runtime, so that
/// a batch's round trip never hops to the thread of whoever opened a pooled connection.
pub(crate) struct Target {
    url: String,
    schema: String,
    timeout: Duration,
}

impl Target {
    /// The database and schema of the store's configuration.
    pub(crate) fn of(config: &PgConfig) -> Self {
        Target {
            url: config.url.clone(),
            schema: config.schema.clone(),
            timeout: config.connect_timeout,
        }
    }

    /// Opens the lane's connection. It runs only batch statements, whose plan does not depend
    /// on the batch: planning them anew for every batch (PostgreSQL's choice for a statement
    /// whose array parameters it cannot size) would cost more than executing them. A plan made
    /// once may be made while the tables are nearly empty, where scanning a whole table looks
    /// cheapest; every table these statements touch is reached by key, so sequential scans are
    /// off on this connection, lest such a plan be kept while the tables grow (it made each
    /// batch read every membership row).
    async fn connect(&self) -> Result<AsyncPgConnection, ChatError> {
        connect_within(&self.url, &self.schema, LANE_SETTINGS, self.timeout)
            .await
            .map_err(|e| ChatError::Unavailable(Box::new(e)))
    }
}

/// Starts a lane on the current Tokio runtime and returns its queue. Dropping every sender
/// lets the lane finish its batch and stop.
pub(crate) fn start<J: Job>(target: Target, max_batch: usize) -> mpsc::Sender<J> {
    let max_batch = max_batch.max(1);
    let (tx, rx) = mpsc::channel(max_batch * 4);
    tokio::spawn(run(target, rx, max_batch));
    tx
}

/// Commits whatever has queued up, one batch at a time, until every handle is gone. The
/// connection is opened on the first batch and again after it broke.
async fn run<J: Job>(target: Target, mut queue: mpsc::Receiver<J>, max_batch: usize) {
    let mut conn: Option<AsyncPgConnection> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        let usable = match conn.as_mut() {
            Some(conn) => conn,
            None => match target.connect().await {
                Ok(opened) => conn.insert(opened),
                Err(error) => {
                    fail_all(&mut batch, &error);
                    continue;
                }
            },
        };
        if J::commit_all(usable, &mut batch).await.is_err() {
            conn = None;
        }
        // Whatever a commit left unanswered learns that the store could not take it.
        fail_all(&mut batch, &stopped());
    }
}

/// Queues the job `job` builds around its reply channel on `lane` and waits for the answer
/// its batch gives it.
pub(crate) async fn ask<J: Job, T>(
    lane: &mpsc::Sender<J>,
    job: impl FnOnce(oneshot::Sender<Result<T, ChatError>>) -> J,
) -> Result<T, ChatError> {
    let (reply, answer) = oneshot::channel();
    lane.send(job(reply)).await.map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// The error of a request whose lane is gone.
pub(crate) fn stopped() -> ChatError {
    ChatError::Unavailable("the store's writer has stopped".into())
}

/// Tells every job that the store is unavailable, and why (the error itself is not `Clone`).
pub(crate) fn fail_all<J: Job>(batch: &mut Vec<J>, error: &ChatError) {
    let reason = std::error::Error::source(error)
        .map_or_else(|| error.to_string(), |cause| cause.to_string());
    for job in batch.drain(..) {
        job.fail(ChatError::Unavailable(reason.clone().into()));
    }
}
