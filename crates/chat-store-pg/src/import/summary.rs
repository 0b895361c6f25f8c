//! What an import did: per kind of row, how many were imported, found already present or
//! skipped (grouped by reason, with the first ids of each), and the words an operator reads.

use std::collections::BTreeMap;
use std::fmt;

/// Ids kept per skip reason, so that an operator can look rows up without a flood of output.
const EXAMPLES: usize = 5;

/// Rows of one reason for skipping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// How many rows were skipped for this reason.
    pub count: u64,
    /// The source ids of the first few of them, in import order.
    pub examples: Vec<i64>,
}

/// The outcome of one kind of row (users, conversations or messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Rows written by this run.
    pub imported: u64,
    /// Rows the target already held with the same id and meaning (an earlier run's).
    pub present: u64,
    /// Rows not imported, by reason.
    pub skipped: BTreeMap<String, Skipped>,
}

impl Tally {
    pub(crate) fn skip(&mut self, reason: String, id: i64) {
        let entry = self.skipped.entry(reason).or_default();
        entry.count += 1;
        if entry.examples.len() < EXAMPLES {
            entry.examples.push(id);
        }
    }

    /// How many rows were skipped, whatever the reason.
    pub fn skipped_count(&self) -> u64 {
        self.skipped.values().map(|s| s.count).sum()
    }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// The users the source's conversations and messages name.
    pub users: Tally,
    /// `"Conversations"` rows, as direct conversations.
    pub conversations: Tally,
    /// `"Messages"` rows.
    pub messages: Tally,
    /// Read watermarks this run moved (one per member whose read messages it imported).
    pub read_positions: u64,
    /// Imported users the source had no usable username for, named `user<id>`.
    pub named_by_id: u64,
    /// Whether every row was read; false when the run was stopped between batches.
    pub complete: bool,
    /// Whether this was a dry run, whose writes were rolled back.
    pub dry_run: bool,
}

impl ImportSummary {
    /// Whether the run wrote (or would write) anything.
    pub fn changed(&self) -> bool {
        self.users.imported + self.conversations.imported + self.messages.imported > 0
            || self.read_positions > 0
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        if self.dry_run {
            writeln!(f, "Dry run: nothing was written.")?;
        }
        for (kind, tally) in [
            ("users", &self.users),
            ("conversations", &self.conversations),
            ("messages", &self.messages),
        ] {
            writeln!(
                f,
                "{kind:>13}: {} {verb}, {} already present, {} skipped",
                tally.imported,
                tally.present,
                tally.skipped_count()
            )?;
        }
        writeln!(f, "read positions: {} set", self.read_positions)?;
        if self.named_by_id > 0 {
            writeln!(
                f,
                "{} users had no usable username in the source and are named user<id>",
                self.named_by_id
            )?;
        }
        for (kind, tally) in [
            ("user", &self.users),
            ("conversation", &self.conversations),
            ("message", &self.messages),
        ] {
            for (reason, skipped) in &tally.skipped {
                let ids: Vec<String> = skipped.examples.iter().map(i64::to_string).collect();
                let more = if skipped.count > skipped.examples.len() as u64 {
                    ", ..."
                } else {
                    ""
                };
                writeln!(
                    f,
                    "skipped {} {kind}(s): {reason} (ids {}{more})",
                    skipped.count,
                    ids.join(", ")
                )?;
            }
        }
        if !self.complete {
            writeln!(
                f,
                "Stopped between batches: run the same command again to continue."
            )?;
        } else if !self.changed() {
            writeln!(f, "Nothing to change: everything was already imported.")?;
        }
        Ok(())
    }
}
