//! Edits and deletions in the in-memory store: the same rules as PostgreSQL's (`chat-store-pg`
//! `edits.rs`, `messages.rs`).

use chrono::{DateTime, Utc};

use super::state::State;
use crate::{
    ChatError, ChatEvent, Edited, Message, MessageDeleted, MessageEdited, MessageId,
    MessageVersion, StreamPosition, UserId, edit_window_passed,
};

impl State {
    /// See [`crate::MessageRepo::delete_message`]; a deletion takes the message's versions,
    /// pin and reactions along.
    pub(super) fn delete(
        &mut self,
        sender: UserId,
        id: MessageId,
        now: DateTime<Utc>,
    ) -> Option<(Message, StreamPosition)> {
        let stored = self.messages.get_mut(&id)?;
        if stored.deleted || stored.message.sender_id != sender {
            return None;
        }
        stored.deleted = true;
        stored.versions.clear();
        self.pins.remove(&id);
        self.reactions.remove(&id);
        let message = stored.message.clone();
        let newest = self
            .visible(message.conversation_id)
            .next_back()
            .map(|m| (m.seq, m.content.clone()));
        let stored = self.conversations.get_mut(&message.conversation_id)?;
        stored.conversation.message_count -= 1;
        stored.conversation.updated_at = now;
        if stored.last_message_seq == Some(message.seq) {
            stored.last_message_seq = newest.as_ref().map(|(seq, _)| *seq);
            stored.conversation.last_message = newest.map(|(_, content)| content);
        }
        let position = self.record(ChatEvent::MessageDeleted(MessageDeleted {
            conversation_id: message.conversation_id,
            message_id: message.id,
            seq: message.seq,
            deleted_by: sender,
        }));
        Some((message, position))
    }

    /// See [`crate::MessageRepo::edit_message`].
    pub(super) fn edit(
        &mut self,
        editor: UserId,
        id: MessageId,
        content: String,
        not_before: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Edited>, ChatError> {
        let Some(stored) = self.messages.get(&id) else {
            return Ok(None);
        };
        let conversation = stored.message.conversation_id;
        if stored.deleted
            || stored.message.sender_id != editor
            || !self.is_member(conversation, editor)
        {
            return Ok(None);
        }
        if not_before.is_some_and(|earliest| stored.message.created_at < earliest) {
            return Err(edit_window_passed());
        }
        if stored.message.content == content {
            return Ok(Some(Edited::Unchanged(stored.message.clone())));
        }
        let Some(stored) = self.messages.get_mut(&id) else {
            return Ok(None);
        };
        let replaced = MessageVersion {
            version: i32::try_from(stored.versions.len() + 1).unwrap_or(i32::MAX),
            content: std::mem::replace(&mut stored.message.content, content),
            written_at: stored
                .message
                .edited_at
                .unwrap_or(stored.message.created_at),
        };
        stored.versions.push(replaced);
        stored.message.edited_at = Some(now);
        stored.message.updated_at = now;
        let message = stored.message.clone();
        if let Some(held) = self.conversations.get_mut(&conversation)
            && held.last_message_seq == Some(message.seq)
        {
            held.conversation.last_message = Some(message.content.clone());
        }
        let detail = self.detail(conversation);
        let edited = MessageEdited {
            message,
            members: detail.members.into_iter().map(|m| m.user).collect(),
            kind: detail.conversation.kind,
        };
        let position = self.record(ChatEvent::MessageEdited(edited.clone()));
        Ok(Some(Edited::Changed(edited, position)))
    }

    /// Whether the event is about a message deleted since (a replay leaves it out: its
    /// deletion follows).
    pub(super) fn about_deleted(&self, event: &ChatEvent) -> bool {
        let id = match event {
            ChatEvent::MessageSent(sent) => sent.message.id,
            ChatEvent::MessageEdited(edited) => edited.message.id,
            _ => return false,
        };
        self.messages.get(&id).is_some_and(|stored| stored.deleted)
    }

    /// See [`crate::MessageRepo::message_history`].
    pub(super) fn history(&self, viewer: UserId, id: MessageId) -> Option<Vec<MessageVersion>> {
        let stored = self.messages.get(&id)?;
        if stored.deleted || !self.is_member(stored.message.conversation_id, viewer) {
            return None;
        }
        let mut versions = stored.versions.clone();
        versions.push(MessageVersion {
            version: i32::try_from(versions.len() + 1).unwrap_or(i32::MAX),
            content: stored.message.content.clone(),
            written_at: stored
                .message
                .edited_at
                .unwrap_or(stored.message.created_at),
        });
        Some(versions)
    }
}
