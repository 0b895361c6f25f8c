//! Importing the Node service's data (`chat-server import-sequelize`): its users,
//! conversations and messages, read from its own database and written into the server's with
//! their ids kept.
//!
//! Three phases, each read in the source's order through one cursor and written in batches,
//! each batch in a transaction of its own: the users the rows name (by id), the conversations
//! (by id), then the messages (by conversation, `createdAt`, id), each message taking its
//! conversation's next `seq`. There is no separate watermark: a batch first reads what the
//! target holds of its ids and writes only the rest, so a run interrupted between batches (or
//! killed inside one, whose transaction then rolls back) continues where it stopped when run
//! again, and a run after a complete one writes nothing. Because batches commit in the
//! source's order, the messages an earlier run imported are the first ones of each
//! conversation, so the new ones get the seqs after them. A dry run does all of it inside one
//! transaction that is never committed, and leaves the identity sequences alone.

mod batches;
mod messages;
mod source;
mod summary;
mod target;
mod validate;

use std::ops::ControlFlow;

use chat_domain::Limits;
use diesel_async::AsyncConnection;

pub use summary::{ImportSummary, Skipped, Tally};

use crate::PgConfig;
use batches::Run;
use source::Source;
use target::target_error;

/// Why an import stopped before its end. Nothing of the batch in progress was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source could not be reached or read.
    #[error("source database: {0}")]
    Source(String),
    /// The source lacks a table or column the import needs.
    #[error("source database: {0}")]
    Layout(String),
    /// The target could not be reached, migrated or written.
    #[error("target database: {0}")]
    Target(String),
    /// A dry run found the target without the server's migrations (it applies none).
    #[error(
        "target database: not migrated yet; start the server once, or run the import without --dry-run"
    )]
    NotMigrated,
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Rows read and written per transaction.
    pub batch_size: usize,
    /// Do everything in a transaction that is rolled back, and report what would happen.
    pub dry_run: bool,
    /// The host application's users table, from which usernames are taken (`id` and
    /// `username` columns); `None` looks for `users`, then `Users`, and names users
    /// `user<id>` when there is neither.
    pub users_table: Option<String>,
    /// The server's input limits: a row a client could not have sent is skipped.
    pub limits: Limits,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batch_size: 1000,
            dry_run: false,
            users_table: None,
            limits: Limits::default(),
        }
    }
}

/// The phases of an import, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The users the source's rows name.
    Users,
    /// The `"Conversations"` rows.
    Conversations,
    /// The `"Messages"` rows.
    Messages,
}

impl Phase {
    /// The phase's name, for a progress bar.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Users => "users",
            Phase::Conversations => "conversations",
            Phase::Messages => "messages",
        }
    }
}

/// One committed batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchDone {
    /// The phase it belongs to.
    pub phase: Phase,
    /// Source rows it read.
    pub read: u64,
    /// Rows it wrote (users, conversations or messages); 0 when all were present or skipped.
    pub written: u64,
}

/// Follows an import as it goes, and may stop it between batches.
pub trait ImportProgress {
    /// A phase starts with `total` source rows to read.
    fn phase_started(&mut self, phase: Phase, total: u64);
    /// A batch committed; `Break` stops the import here (a later run continues from it).
    fn batch_done(&mut self, batch: BatchDone) -> ControlFlow<()>;
}

/// Imports the Node service's database at `source_url` into the server's database
/// (`target`, migrated first unless a dry run). Returns what it did; a run stopped by
/// `progress` returns with `complete: false`. The URL's password appears in no error.
pub async fn import_sequelize<P: ImportProgress>(
    source_url: &str,
    target: &PgConfig,
    options: &ImportOptions,
    progress: &mut P,
) -> Result<ImportSummary, ImportError> {
    let mut source = Source::open(source_url, options.users_table.as_deref()).await?;
    let mut conn = target::open(target, options.dry_run).await?;
    if options.dry_run {
        // Every batch's transaction becomes a savepoint of this one, which is never committed.
        conn.begin_test_transaction().await.map_err(target_error)?;
    }
    let totals = source.totals().await?;
    let mut run = Run::new(conn, options);
    let batch = options.batch_size.max(1);

    progress.phase_started(Phase::Users, totals.users);
    source.start_users().await?;
    loop {
        let rows = source.users(batch).await?;
        if rows.is_empty() {
            break;
        }
        let done = run.users(rows).await?;
        if progress.batch_done(done).is_break() {
            return Ok(run.finish(false));
        }
    }
    progress.phase_started(Phase::Conversations, totals.conversations);
    source.start_conversations().await?;
    loop {
        let rows = source.conversations(batch).await?;
        if rows.is_empty() {
            break;
        }
        let done = run.conversations(rows).await?;
        if progress.batch_done(done).is_break() {
            return Ok(run.finish(false));
        }
    }
    progress.phase_started(Phase::Messages, totals.messages);
    source.start_messages().await?;
    loop {
        let rows = source.messages(batch).await?;
        if rows.is_empty() {
            break;
        }
        let done = run.messages(rows).await?;
        if progress.batch_done(done).is_break() {
            return Ok(run.finish(false));
        }
    }
    Ok(run.finish(true))
}
