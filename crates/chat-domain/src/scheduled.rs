//! Scheduled messages: a send with `sendAt` is stored, visible only to its sender (who may
//! list, edit and cancel it), and sent at that time like any message: a new `seq`,
//! `new_message`, notifications, webhooks.
//!
//! Each node runs [`ChatService::send_due`] in a loop. A due message is claimed with a lease
//! (the PostgreSQL store: `FOR UPDATE SKIP LOCKED`, so that one node has it), sent with the
//! client message id `scheduled:<id>`, and then removed. A node that dies in between leaves the
//! claim to run out; the next claim sends again, and the store answers the repeated client
//! message id with the message already stored: a crash neither loses nor doubles a message.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use crate::{
    ChatError, ChatService, ClientMessageId, ConversationId, EventSink, MessageBody, MessageId,
    Recipient, ScheduledId, SendMessage, Store, UserId,
};

/// The prefix of the client message id a scheduled message is sent with; clients may not
/// use it for their own sends.
pub const SCHEDULED_CLIENT_ID_PREFIX: &str = "scheduled:";

/// The furthest ahead a message may be scheduled.
pub const MAX_SCHEDULE_AHEAD: TimeDelta = TimeDelta::days(365);

/// The Prometheus counter of scheduled messages that went out (`outcome="sent"`) or were
/// kept unsent for good (`outcome="failed"`).
pub const SCHEDULED_METRIC: &str = "chat_scheduled_messages_total";

/// How long a claim holds a due message before another node may take it.
pub const SCHEDULE_LEASE: Duration = Duration::from_secs(60);

/// A message waiting for its time, as its sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledMessage {
    /// Its id (not the id the message gets when sent).
    pub id: ScheduledId,
    /// Who sends it.
    pub sender_id: UserId,
    /// Where it goes.
    pub to: Recipient,
    /// The text.
    pub content: String,
    /// An optional attachment link.
    pub attachment_url: Option<String>,
    /// The message it will reply to.
    pub reply_to_id: Option<MessageId>,
    /// When it is to be sent.
    pub send_at: DateTime<Utc>,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Why it could not be sent when its time came (the sender had left the conversation,
    /// say); it stays, unsent, until cancelled.
    pub failure: Option<String>,
}

impl ScheduledMessage {
    /// The client message id it is sent with.
    pub fn client_message_id(&self) -> ClientMessageId {
        ClientMessageId::scheduled(self.id)
    }
}

/// A message to schedule, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScheduled {
    /// The send, as at once (its client message id, if any, makes the scheduling itself
    /// safe to retry).
    pub send: SendMessage,
    /// When to send it.
    pub send_at: DateTime<Utc>,
}

/// A change to a scheduled message: a new text, a new time, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledEdit {
    /// The new text.
    pub content: Option<MessageBody>,
    /// The new time.
    pub send_at: Option<DateTime<Utc>>,
}

/// Checks a requested send time: after `now`, at most [`MAX_SCHEDULE_AHEAD`] later.
pub fn check_send_at(send_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ChatError> {
    if send_at <= now {
        return Err(ChatError::invalid("sendAt", "must be in the future"));
    }
    if send_at > now + MAX_SCHEDULE_AHEAD {
        return Err(ChatError::invalid("sendAt", "must be at most a year ahead"));
    }
    Ok(())
}

/// What one round of [`ChatService::send_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueRound {
    /// Due messages claimed.
    pub claimed: usize,
    /// Sent (or found already sent by an earlier claim) and removed.
    pub sent: usize,
    /// Refused for good (kept with their failure).
    pub failed: usize,
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Schedules a send for later; counts against the send rate like a send. Where it goes is
    /// checked now (a conversation the sender belongs to, or an existing other user) and again
    /// when it is sent. A retry with the same client message id answers the stored schedule.
    pub async fn schedule_message(
        &self,
        mut new: NewScheduled,
        now: DateTime<Utc>,
    ) -> Result<ScheduledMessage, ChatError> {
        // To the millisecond, as the API shows times (and as a retry repeats them).
        new.send_at = new.send_at.trunc_subsecs(3);
        check_send_at(new.send_at, now)?;
        self.rate_limit(new.send.sender)?;
        // The conversation it lands in, when there is one already (a first direct message
        // makes its conversation only when it is sent).
        let conversation = match new.send.to {
            Recipient::Conversation(id) => {
                self.member_view(new.send.sender, id).await?;
                Some(id)
            }
            Recipient::User(receiver) => {
                let pair = crate::ports::DirectPair::new(new.send.sender, receiver)?;
                self.user(receiver).await?;
                let found = self.store().find_direct_conversation(pair).await?;
                found.map(|detail| detail.conversation.id)
            }
        };
        // A reply names a message of that conversation, as a send's must.
        if let Some(parent) = new.send.reply_to {
            let conversation = conversation.ok_or_else(crate::threads::not_a_parent)?;
            self.reply_parent(conversation, parent).await?;
        }
        let max = self.limits().max_scheduled_per_user;
        self.store().schedule(new, max).await
    }

    /// The caller's scheduled messages, soonest first.
    pub async fn scheduled(&self, caller: UserId) -> Result<Vec<ScheduledMessage>, ChatError> {
        self.store().scheduled_of(caller).await
    }

    /// Changes one of the caller's scheduled messages; one being sent is a conflict.
    pub async fn edit_scheduled(
        &self,
        caller: UserId,
        id: ScheduledId,
        mut edit: ScheduledEdit,
        now: DateTime<Utc>,
    ) -> Result<ScheduledMessage, ChatError> {
        edit.send_at = edit.send_at.map(|t| t.trunc_subsecs(3));
        if let Some(send_at) = edit.send_at {
            check_send_at(send_at, now)?;
        }
        self.rate_limit(caller)?;
        self.store().edit_scheduled(caller, id, edit, now).await
    }

    /// Cancels one of the caller's scheduled messages; one being sent is a conflict.
    pub async fn cancel_scheduled(
        &self,
        caller: UserId,
        id: ScheduledId,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.store().cancel_scheduled(caller, id, now).await
    }

    /// Sends the messages due at `now`, at most `limit` of them, each as its sender's send
    /// (without the send rate, spent when it was scheduled). Several nodes may call this at
    /// once: each message is claimed by one of them.
    pub async fn send_due(&self, now: DateTime<Utc>, limit: u32) -> Result<DueRound, ChatError> {
        let due = self.store().claim_due(now, limit, SCHEDULE_LEASE).await?;
        let mut round = DueRound {
            claimed: due.len(),
            ..DueRound::default()
        };
        // One destination's messages one after the other, in the order they are due (each
        // takes the next `seq`); destinations at once.
        let mut queues: Vec<(ConversationId, Vec<&ScheduledMessage>)> = Vec::new();
        let mut refused: Vec<(ScheduledId, Result<(), ChatError>)> = Vec::new();
        for scheduled in &due {
            // Where it lands (a direct conversation named by id or by user alike), from the
            // caches when known; the send checks again.
            match self.destination(scheduled.sender_id, scheduled.to).await {
                Ok(detail) => {
                    let key = detail.conversation.id;
                    match queues.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, queue)) => queue.push(scheduled),
                        None => queues.push((key, vec![scheduled])),
                    }
                }
                Err(error) => refused.push((scheduled.id, Err(error))),
            }
        }
        let queues = queues.into_iter().map(|(_, queue)| async move {
            let mut outcomes = Vec::with_capacity(queue.len());
            for scheduled in queue {
                outcomes.push(self.send_scheduled(scheduled).await);
            }
            outcomes
        });
        let mut sent = Vec::new();
        let outcomes = futures_util::future::join_all(queues).await;
        for (id, outcome) in outcomes.into_iter().flatten().chain(refused) {
            match outcome {
                Ok(()) => sent.push(id),
                // The database or the network: the claim runs out and a later round retries.
                Err(ChatError::Unavailable(_) | ChatError::Internal(_)) => {}
                Err(refused) => {
                    round.failed += 1;
                    self.store()
                        .fail_scheduled(id, &refused.client_message())
                        .await?;
                }
            }
        }
        round.sent = sent.len();
        self.store().finish_scheduled(&sent).await?;
        metrics::counter!(SCHEDULED_METRIC, "outcome" => "sent").increment(sent.len() as u64);
        metrics::counter!(SCHEDULED_METRIC, "outcome" => "failed").increment(round.failed as u64);
        Ok(round)
    }

    /// Sends one claimed message as its sender's send, with its client message id.
    async fn send_scheduled(
        &self,
        scheduled: &ScheduledMessage,
    ) -> (ScheduledId, Result<(), ChatError>) {
        let send = SendMessage::parse_to(
            scheduled.sender_id,
            scheduled.to,
            scheduled.content.clone(),
            scheduled.attachment_url.clone(),
            None,
            self.limits(),
        )
        .map(|mut send| {
            send.client_message_id = Some(scheduled.client_message_id());
            send.reply_to = scheduled.reply_to_id;
            send
        });
        match send {
            Ok(send) => (scheduled.id, self.deliver(send).await.map(|_| ())),
            Err(refused) => (scheduled.id, Err(refused)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_times_are_in_the_future_within_a_year() {
        let now = Utc::now();
        assert!(check_send_at(now + TimeDelta::seconds(1), now).is_ok());
        assert!(check_send_at(now + MAX_SCHEDULE_AHEAD, now).is_ok());
        for bad in [
            now,
            now - TimeDelta::seconds(1),
            now + MAX_SCHEDULE_AHEAD + TimeDelta::seconds(1),
        ] {
            assert!(check_send_at(bad, now).is_err(), "{bad}");
        }
    }
}
