//! Replies in memory: parents as replies show them, reply counts and thread windows.

use std::collections::{HashMap, HashSet};

use super::state::State;
use crate::{
    ConversationId, Message, MessageId, MessageWindow, ReplyTo, StreamEvent, Thread, UserId,
    excerpt,
};

impl State {
    /// See [`crate::MessageRepo::reply_parents`].
    pub(super) fn reply_parents(
        &self,
        conversation: ConversationId,
        ids: &[MessageId],
    ) -> HashMap<MessageId, ReplyTo> {
        ids.iter()
            .filter_map(|id| {
                let stored = self
                    .messages
                    .get(id)
                    .filter(|m| m.message.conversation_id == conversation)?;
                let parent = ReplyTo {
                    id: *id,
                    sender: self.user_ref(stored.message.sender_id),
                    excerpt: (!stored.deleted).then(|| excerpt(&stored.message.content)),
                };
                Some((*id, parent))
            })
            .collect()
    }

    /// See [`crate::MessageRepo::reply_counts`].
    pub(super) fn reply_counts(&self, ids: &[MessageId]) -> HashMap<MessageId, i64> {
        let wanted: HashSet<&MessageId> = ids.iter().collect();
        let mut counts = HashMap::new();
        for parent in self
            .messages
            .values()
            .filter(|m| !m.deleted)
            .filter_map(|m| m.message.reply_to_id)
            .filter(|parent| wanted.contains(parent))
        {
            *counts.entry(parent).or_insert(0) += 1;
        }
        counts
    }

    /// See [`crate::MessageRepo::replies`].
    pub(super) fn replies(
        &self,
        viewer: UserId,
        parent: MessageId,
        window: MessageWindow,
    ) -> Option<Thread> {
        let conversation = self.messages.get(&parent)?.message.conversation_id;
        if !self.is_member(conversation, viewer) {
            return None;
        }
        let thread: Vec<&Message> = self
            .visible(conversation)
            .filter(|m| m.reply_to_id == Some(parent))
            .collect();
        Some(Thread {
            conversation,
            total: i64::try_from(thread.len()).unwrap_or(i64::MAX),
            replies: super::state::pick_window(thread, window),
        })
    }

    /// A replayed event's message with its parent as it is now (a parent deleted since shows
    /// as deleted).
    pub(super) fn with_parent_now(&self, mut event: StreamEvent) -> StreamEvent {
        let Some(message) = event.event.message_mut() else {
            return event;
        };
        if let Some(parent) = message.reply_to_id {
            message.reply_to = self
                .reply_parents(message.conversation_id, &[parent])
                .remove(&parent);
        }
        event
    }
}
