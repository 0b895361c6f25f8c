//! Scheduled messages in memory, with the PostgreSQL store's rules: a bound per sender, a
//! client message id that makes scheduling safe to retry, claims with a lease, and no edit or
//! cancel while a message is being sent or once it was sent.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    ChatError, Entity, NewScheduled, ScheduledEdit, ScheduledId, ScheduledMessage, UserId,
};

use super::state::State;

/// One stored scheduled message.
#[derive(Debug)]
struct Entry {
    message: ScheduledMessage,
    client_message_id: Option<String>,
    locked_until: Option<DateTime<Utc>>,
}

/// Every scheduled message, by id.
#[derive(Debug, Default)]
pub(super) struct Schedules {
    entries: BTreeMap<ScheduledId, Entry>,
    last_id: i64,
}

impl State {
    /// Whether the sender has a message with the client message id of `scheduled`.
    fn was_sent(&self, scheduled: &ScheduledMessage) -> bool {
        let id = scheduled.client_message_id();
        self.messages.values().any(|stored| {
            stored.message.sender_id == scheduled.sender_id
                && stored.message.client_message_id.as_deref() == Some(id.as_str())
        })
    }

    /// The sender's entry `id` if they may change it at `now`.
    fn changeable(
        &mut self,
        sender: UserId,
        id: ScheduledId,
        now: DateTime<Utc>,
    ) -> Result<&mut Entry, ChatError> {
        let not_found = || ChatError::not_found(Entity::ScheduledMessage);
        let entry = self
            .schedules
            .entries
            .get(&id)
            .filter(|e| e.message.sender_id == sender)
            .ok_or_else(not_found)?;
        if self.was_sent(&entry.message) {
            return Err(not_found());
        }
        if entry.locked_until.is_some_and(|until| until > now) {
            return Err(ChatError::Conflict(
                "the scheduled message is being sent".into(),
            ));
        }
        self.schedules.entries.get_mut(&id).ok_or_else(not_found)
    }

    pub(super) fn schedule(
        &mut self,
        new: NewScheduled,
        max: u32,
        now: DateTime<Utc>,
    ) -> Result<ScheduledMessage, ChatError> {
        let send = new.send;
        let client_id = send.client_message_id.map(|c| c.as_str().to_owned());
        let mine = || {
            self.schedules
                .entries
                .values()
                .filter(move |e| e.message.sender_id == send.sender)
        };
        if let Some(earlier) =
            mine().find(|e| client_id.is_some() && e.client_message_id == client_id)
        {
            let same = earlier.message.content == send.content.as_str()
                && earlier.message.send_at == new.send_at
                && earlier.message.to == send.to
                && earlier.message.attachment_url.as_deref()
                    == send.attachment_url.as_ref().map(|u| u.as_str())
                && earlier.message.reply_to_id == send.reply_to;
            return if same {
                Ok(earlier.message.clone())
            } else {
                Err(ChatError::Conflict(
                    "clientMessageId was used for another scheduled message".into(),
                ))
            };
        }
        if mine().count() >= max as usize {
            return Err(ChatError::Conflict(format!(
                "at most {max} scheduled messages per user"
            )));
        }
        self.schedules.last_id += 1;
        let id = ScheduledId(self.schedules.last_id);
        let message = ScheduledMessage {
            id,
            sender_id: send.sender,
            to: send.to,
            content: send.content.as_str().to_owned(),
            attachment_url: send.attachment_url.map(|u| u.as_str().to_owned()),
            reply_to_id: send.reply_to,
            send_at: new.send_at,
            created_at: now,
            updated_at: now,
            failure: None,
        };
        self.schedules.entries.insert(
            id,
            Entry {
                message: message.clone(),
                client_message_id: client_id,
                locked_until: None,
            },
        );
        Ok(message)
    }

    pub(super) fn scheduled_of(&self, sender: UserId) -> Vec<ScheduledMessage> {
        let mut list: Vec<ScheduledMessage> = self
            .schedules
            .entries
            .values()
            .filter(|e| e.message.sender_id == sender)
            .map(|e| e.message.clone())
            .collect();
        list.sort_by_key(|m| (m.send_at, m.id));
        list
    }

    pub(super) fn edit_scheduled(
        &mut self,
        sender: UserId,
        id: ScheduledId,
        edit: ScheduledEdit,
        now: DateTime<Utc>,
    ) -> Result<ScheduledMessage, ChatError> {
        let entry = self.changeable(sender, id, now)?;
        if let Some(content) = edit.content {
            entry.message.content = content.as_str().to_owned();
        }
        if let Some(send_at) = edit.send_at {
            entry.message.send_at = send_at;
            entry.message.failure = None;
        }
        entry.message.updated_at = now;
        Ok(entry.message.clone())
    }

    pub(super) fn cancel_scheduled(
        &mut self,
        sender: UserId,
        id: ScheduledId,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        // A failed one goes whatever its message says (as in the PostgreSQL store).
        let failed = self
            .schedules
            .entries
            .get(&id)
            .is_some_and(|e| e.message.sender_id == sender && e.message.failure.is_some());
        if !failed {
            self.changeable(sender, id, now)?;
        }
        self.schedules.entries.remove(&id);
        Ok(())
    }

    pub(super) fn claim_due(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Vec<ScheduledMessage> {
        let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
        let mut due: Vec<&mut Entry> = self
            .schedules
            .entries
            .values_mut()
            .filter(|e| {
                e.message.send_at <= now
                    && e.message.failure.is_none()
                    && e.locked_until.is_none_or(|t| t <= now)
            })
            .collect();
        due.sort_by_key(|e| (e.message.send_at, e.message.id));
        due.into_iter()
            .take(limit as usize)
            .map(|e| {
                e.locked_until = Some(until);
                e.message.clone()
            })
            .collect()
    }

    pub(super) fn finish_scheduled(&mut self, ids: &[ScheduledId]) {
        for id in ids {
            self.schedules.entries.remove(id);
        }
    }

    pub(super) fn fail_scheduled(&mut self, id: ScheduledId, reason: &str) {
        if let Some(entry) = self.schedules.entries.get_mut(&id) {
            entry.message.failure = Some(reason.to_owned());
            entry.locked_until = None;
        }
    }
}
