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

mod source;
mod summary;
mod target;
mod validate;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use chat_domain::Limits;
use diesel_async::{AsyncConnection, AsyncPgConnection};

pub use summary::{ImportSummary, Skipped, Tally};

use crate::PgConfig;
use source::Source;
use target::{Identity, advance_identity, target_error};
use validate::{ConversationFate, ConversationRecord, MessageRecord, UserRecord};

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
    let mut run = Run {
        conn,
        options,
        summary: ImportSummary {
            dry_run: options.dry_run,
            ..ImportSummary::default()
        },
        fates: HashMap::new(),
        highest: Highest::default(),
    };
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
            return Ok(run.summary);
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
            return Ok(run.summary);
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
            return Ok(run.summary);
        }
    }
    run.summary.complete = true;
    Ok(run.summary)
}

/// An import in progress: the target, and what the messages need to know of the
/// conversations.
struct Run<'o> {
    conn: AsyncPgConnection,
    options: &'o ImportOptions,
    summary: ImportSummary,
    fates: HashMap<i64, ConversationFate>,
    /// The highest source id read so far, per table: the identity sequences go past it.
    highest: Highest,
}

/// The highest source ids read, by table.
#[derive(Default)]
struct Highest {
    users: i64,
    conversations: i64,
    messages: i64,
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// What a batch decided for one row it wrote or found.
enum Outcome {
    New,
    Present,
    Skip(String),
}

impl Run<'_> {
    async fn users(&mut self, rows: Vec<source::SourceUser>) -> Result<BatchDone, ImportError> {
        let read = count(rows.len());
        self.highest.users = rows.iter().map(|r| r.id).fold(self.highest.users, i64::max);
        let floor = self.highest.users;
        let mut records: Vec<UserRecord> = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match validate::user(row) {
                Ok(record) => records.push(record),
                Err(reason) => self.summary.users.skip(reason, id),
            }
        }
        let keep = !self.options.dry_run;
        let written = self
            .conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let written = target::write_users(conn, &records).await?;
                if keep {
                    advance_identity(conn, Identity::Users, floor).await?;
                }
                Ok(written)
            })
            .await
            .map_err(target_error)?;
        let written: HashSet<i64> = written.into_iter().collect();
        let users = &mut self.summary.users;
        users.imported += count(written.len());
        users.present += count(records.len() - written.len());
        self.summary.named_by_id += count(
            records
                .iter()
                .filter(|r| r.named_by_id && written.contains(&r.id))
                .count(),
        );
        Ok(BatchDone {
            phase: Phase::Users,
            read,
            written: count(written.len()),
        })
    }

    async fn conversations(
        &mut self,
        rows: Vec<source::SourceConversation>,
    ) -> Result<BatchDone, ImportError> {
        let read = count(rows.len());
        self.highest.conversations = rows
            .iter()
            .map(|r| r.id)
            .fold(self.highest.conversations, i64::max);
        let floor = self.highest.conversations;
        let mut records: Vec<ConversationRecord> = Vec::with_capacity(rows.len());
        for row in &rows {
            match validate::conversation(row) {
                Ok(record) => records.push(record),
                Err(reason) => {
                    self.fates.insert(row.id, ConversationFate::Skipped);
                    self.summary.conversations.skip(reason, row.id);
                }
            }
        }
        let keep = !self.options.dry_run;
        let outcomes = self
            .conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let there = target::conversations_there(conn, &records).await?;
                let mut claimed = HashSet::new();
                let outcomes: Vec<Outcome> = records
                    .iter()
                    .map(|c| match there.with_id(c.id) {
                        Some(Some(pair)) if pair == (c.low, c.high) => Outcome::Present,
                        Some(_) => Outcome::Skip(
                            "its id belongs to another conversation in the target".to_owned(),
                        ),
                        None if there.of_pair(c.low, c.high).is_some()
                            || !claimed.insert((c.low, c.high)) =>
                        {
                            Outcome::Skip(
                                "its two users already have a conversation (one per pair)"
                                    .to_owned(),
                            )
                        }
                        None => Outcome::New,
                    })
                    .collect();
                let new: Vec<ConversationRecord> = records
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| matches!(o, Outcome::New))
                    .map(|(c, _)| *c)
                    .collect();
                target::write_conversations(conn, &new).await?;
                if keep {
                    advance_identity(conn, Identity::Conversations, floor).await?;
                }
                Ok(outcomes)
            })
            .await
            .map_err(target_error)?;
        let tally = &mut self.summary.conversations;
        let mut written = 0;
        for (record, outcome) in records.iter().zip(outcomes) {
            let fate = match outcome {
                Outcome::New => {
                    written += 1;
                    ConversationFate::Kept {
                        low: record.low,
                        high: record.high,
                    }
                }
                Outcome::Present => {
                    tally.present += 1;
                    ConversationFate::Kept {
                        low: record.low,
                        high: record.high,
                    }
                }
                Outcome::Skip(reason) => {
                    tally.skip(reason, record.id);
                    ConversationFate::Skipped
                }
            };
            self.fates.insert(record.id, fate);
        }
        tally.imported += written;
        Ok(BatchDone {
            phase: Phase::Conversations,
            read,
            written,
        })
    }

    async fn messages(
        &mut self,
        rows: Vec<source::SourceMessage>,
    ) -> Result<BatchDone, ImportError> {
        let read = count(rows.len());
        self.highest.messages = rows
            .iter()
            .map(|r| r.id)
            .fold(self.highest.messages, i64::max);
        let floor = self.highest.messages;
        let mut records: Vec<MessageRecord> = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            match validate::message(row, &self.fates, &self.options.limits) {
                Ok(record) => records.push(record),
                Err(reason) => self.summary.messages.skip(reason, id),
            }
        }
        let keep = !self.options.dry_run;
        let (outcomes, moved) = self
            .conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let ids: Vec<i64> = records.iter().map(|m| m.id).collect();
                let there = target::messages_there(conn, &ids).await?;
                let outcomes: Vec<Outcome> = records
                    .iter()
                    .map(|m| match there.get(&m.id) {
                        None => Outcome::New,
                        Some(c) if *c == m.conversation_id => Outcome::Present,
                        Some(_) => Outcome::Skip(
                            "its id belongs to a message of another conversation in the target"
                                .to_owned(),
                        ),
                    })
                    .collect();
                let new: Vec<MessageRecord> = records
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| matches!(o, Outcome::New))
                    .map(|(m, _)| m.clone())
                    .collect();
                let moved = target::write_messages(conn, &new).await?;
                if keep {
                    advance_identity(conn, Identity::Messages, floor).await?;
                }
                Ok((outcomes, moved))
            })
            .await
            .map_err(target_error)?;
        let tally = &mut self.summary.messages;
        let mut written = 0;
        for (record, outcome) in records.iter().zip(outcomes) {
            match outcome {
                Outcome::New => written += 1,
                Outcome::Present => tally.present += 1,
                Outcome::Skip(reason) => tally.skip(reason, record.id),
            }
        }
        tally.imported += written;
        self.summary.read_positions += moved;
        Ok(BatchDone {
            phase: Phase::Messages,
            read,
            written,
        })
    }
}
