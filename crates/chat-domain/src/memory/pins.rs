//! Pins in the in-memory store: the same rules as PostgreSQL's (`chat-store-pg` `pins.rs`).

use chrono::{DateTime, Utc};

use super::state::State;
use crate::{
    ChatError, ChatEvent, ConversationId, Entity, MessageId, Pin, PinChanged, PinWrite, UserId,
    may_pin, too_many_pins,
};

impl State {
    /// See [`crate::MessageRepo::set_pin`].
    pub(super) fn set_pin(
        &mut self,
        actor: UserId,
        conversation: ConversationId,
        message: MessageId,
        pinned: bool,
        max_pins: usize,
        now: DateTime<Utc>,
    ) -> Result<Option<PinWrite>, ChatError> {
        let (Some(member), Some(held)) = (
            self.members.get(&(conversation, actor)),
            self.conversations.get(&conversation),
        ) else {
            return Ok(None);
        };
        may_pin(held.conversation.kind, member.role)?;
        let Some(target) = self.message(conversation, message) else {
            return Err(ChatError::not_found(Entity::Message));
        };
        if self.pins.contains_key(&message) == pinned {
            return Ok(Some(PinWrite::Unchanged));
        }
        if pinned {
            let held = self.pins.values().filter(|p| p.0 == conversation).count();
            if held >= max_pins {
                return Err(too_many_pins(max_pins));
            }
            self.pins.insert(message, (conversation, actor, now));
        } else {
            self.pins.remove(&message);
        }
        let changed = PinChanged {
            conversation_id: conversation,
            message_id: message,
            seq: target.seq,
            by: actor,
        };
        let event = if pinned {
            ChatEvent::MessagePinned(changed.clone())
        } else {
            ChatEvent::MessageUnpinned(changed.clone())
        };
        let position = self.record(event);
        Ok(Some(PinWrite::Changed(changed, position)))
    }

    /// See [`crate::MessageRepo::pins`].
    pub(super) fn pins_of(&self, viewer: UserId, conversation: ConversationId) -> Option<Vec<Pin>> {
        if !self.is_member(conversation, viewer) {
            return None;
        }
        let mut pins: Vec<Pin> = self
            .pins
            .iter()
            .filter(|(_, (c, _, _))| *c == conversation)
            .filter_map(|(id, (_, by, at))| {
                Some(Pin {
                    message: self.message(conversation, *id)?,
                    pinned_by: *by,
                    pinned_at: *at,
                })
            })
            .collect();
        pins.sort_by_key(|pin| std::cmp::Reverse((pin.pinned_at, pin.message.seq)));
        Some(pins)
    }
}
