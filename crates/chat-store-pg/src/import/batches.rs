//! The three phases' batches: each validates what it read, then in one transaction reads
//! what the target holds of its ids and writes only the rest, and adds its outcome to the
//! summary.

use std::collections::{HashMap, HashSet};

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::source::{SourceConversation, SourceMessage, SourceUser};
use super::target::{self, Identity, advance_identity, target_error};
use super::validate::{self, ConversationFate, ConversationRecord, MessageRecord, UserRecord};
use super::{BatchDone, ImportError, ImportOptions, ImportSummary, Phase, messages};

/// An import in progress: the target, and what the messages need to know of the
/// conversations.
pub(super) struct Run<'o> {
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

impl<'o> Run<'o> {
    /// A run writing into `conn`, with nothing done yet.
    pub(super) fn new(conn: AsyncPgConnection, options: &'o ImportOptions) -> Self {
        Run {
            conn,
            options,
            summary: ImportSummary {
                dry_run: options.dry_run,
                ..ImportSummary::default()
            },
            fates: HashMap::new(),
            highest: Highest::default(),
        }
    }

    /// What the run did; `complete` when every row was read.
    pub(super) fn finish(mut self, complete: bool) -> ImportSummary {
        self.summary.complete = complete;
        self.summary
    }

    pub(super) async fn users(&mut self, rows: Vec<SourceUser>) -> Result<BatchDone, ImportError> {
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

    pub(super) async fn conversations(
        &mut self,
        rows: Vec<SourceConversation>,
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

    pub(super) async fn messages(
        &mut self,
        rows: Vec<SourceMessage>,
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
                let there = messages::messages_there(conn, &ids).await?;
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
                let moved = messages::write_messages(conn, &new).await?;
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
