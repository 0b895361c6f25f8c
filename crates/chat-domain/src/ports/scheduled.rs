//! The scheduled messages port: storing sends for later, and claiming them when due.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{ChatError, NewScheduled, ScheduledEdit, ScheduledId, ScheduledMessage, UserId};

/// Scheduled messages. A message is "being sent" from a claim until its lease runs out or it
/// is finished; meanwhile its sender can neither edit nor cancel it.
pub trait ScheduleRepo {
    /// Stores a send for later, unless its sender already has `max` scheduled messages
    /// (`Conflict`). A client message id the sender used for another scheduled message answers
    /// that one when it is the same send at the same time, and is a `Conflict` otherwise.
    fn schedule(
        &self,
        new: NewScheduled,
        max: u32,
    ) -> impl Future<Output = Result<ScheduledMessage, ChatError>> + Send;

    /// The sender's scheduled messages, soonest first.
    fn scheduled_of(
        &self,
        sender: UserId,
    ) -> impl Future<Output = Result<Vec<ScheduledMessage>, ChatError>> + Send;

    /// Changes the text or time of one of the sender's scheduled messages: `NotFound` when it
    /// has no such message (or it was sent), `Conflict` while it is being sent at `now`. A
    /// failed message that gets a new time is scheduled again.
    fn edit_scheduled(
        &self,
        sender: UserId,
        id: ScheduledId,
        edit: ScheduledEdit,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<ScheduledMessage, ChatError>> + Send;

    /// Removes one of the sender's scheduled messages, as `edit_scheduled` finds it.
    fn cancel_scheduled(
        &self,
        sender: UserId,
        id: ScheduledId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;

    /// Claims up to `limit` messages due at `now` (soonest first) that are neither failed nor
    /// being sent, for `lease`: until then no other claim returns them.
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<ScheduledMessage>, ChatError>> + Send;

    /// Removes messages that were sent.
    fn finish_scheduled(
        &self,
        ids: &[ScheduledId],
    ) -> impl Future<Output = Result<(), ChatError>> + Send;

    /// Keeps a claimed message unsent for good, with the reason, until its sender edits its
    /// time or cancels it.
    fn fail_scheduled(
        &self,
        id: ScheduledId,
        reason: &str,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;
}
