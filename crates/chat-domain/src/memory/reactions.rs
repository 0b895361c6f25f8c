//! Reactions in the in-memory store: the same rules as PostgreSQL's (`chat-store-pg`
//! `reactions.rs`).

use std::collections::HashMap;

use super::state::State;
use crate::{
    ChatError, ChatEvent, MessageId, Reaction, ReactionChanged, ReactionKey, ReactionWrite, UserId,
    too_many_reaction_kinds,
};

impl State {
    /// See [`crate::MessageRepo::set_reaction`].
    pub(super) fn set_reaction(
        &mut self,
        actor: UserId,
        message: MessageId,
        key: ReactionKey,
        on: bool,
        max_kinds: usize,
    ) -> Result<Option<ReactionWrite>, ChatError> {
        let Some(stored) = self.messages.get(&message) else {
            return Ok(None);
        };
        let (conversation, seq) = (stored.message.conversation_id, stored.message.seq);
        if stored.deleted || !self.is_member(conversation, actor) {
            return Ok(None);
        }
        let keys = self.reactions.entry(message).or_default();
        let present = keys
            .iter()
            .any(|(k, users)| *k == key && users.contains(&actor));
        if present == on {
            return Ok(Some(ReactionWrite::Unchanged));
        }
        let count = if on {
            let kinds = keys.len();
            match keys.iter_mut().find(|(k, _)| *k == key) {
                Some((_, users)) => {
                    users.push(actor);
                    users.len()
                }
                None if kinds >= max_kinds => return Err(too_many_reaction_kinds(max_kinds)),
                None => {
                    keys.push((key.clone(), vec![actor]));
                    1
                }
            }
        } else {
            let mut left = 0;
            if let Some((_, users)) = keys.iter_mut().find(|(k, _)| *k == key) {
                users.retain(|user| *user != actor);
                left = users.len();
            }
            keys.retain(|(_, users)| !users.is_empty());
            left
        };
        let changed = ReactionChanged {
            conversation_id: conversation,
            message_id: message,
            seq,
            key,
            user_id: actor,
            count: i64::try_from(count).unwrap_or(i64::MAX),
        };
        let event = if on {
            ChatEvent::ReactionAdded(changed.clone())
        } else {
            ChatEvent::ReactionRemoved(changed.clone())
        };
        let position = self.record(event);
        Ok(Some(ReactionWrite::Changed(changed, position)))
    }

    /// See [`crate::MessageRepo::reactions_for`].
    pub(super) fn reactions_for(
        &self,
        viewer: UserId,
        messages: &[MessageId],
    ) -> HashMap<MessageId, Vec<Reaction>> {
        messages
            .iter()
            .filter_map(|id| {
                let keys = self.reactions.get(id).filter(|keys| !keys.is_empty())?;
                let seen = keys
                    .iter()
                    .map(|(key, users)| Reaction {
                        key: key.clone(),
                        count: i64::try_from(users.len()).unwrap_or(i64::MAX),
                        me: users.contains(&viewer),
                    })
                    .collect();
                Some((*id, seen))
            })
            .collect()
    }
}
