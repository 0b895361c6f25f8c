//! Pinned messages: a conversation's short list of messages its members keep in view. Any
//! member pins in a direct conversation, an admin or the owner in a group (Slack and
//! Mattermost let channel admins decide; Matrix ties it to a power level). Each pin and unpin
//! travels the ordered, replayable stream (`message_pinned`, `message_unpinned`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    ChatError, ChatEvent, ChatService, ConversationId, ConversationKind, Entity, EventSink,
    Message, MessageId, Role, Seq, Store, StreamPosition, UserId,
};

/// A message was pinned or unpinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinChanged {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: MessageId,
    /// Its place in the conversation.
    pub seq: Seq,
    /// Who pinned or unpinned it.
    pub by: UserId,
}

/// A pinned message, with who pinned it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The message as it is now.
    pub message: Message,
    /// Who pinned it.
    pub pinned_by: UserId,
    /// When.
    pub pinned_at: DateTime<Utc>,
}

/// What a pin or unpin did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinWrite {
    /// Pinned or unpinned, at this place in the stream.
    Changed(PinChanged, StreamPosition),
    /// It already was: nothing written.
    Unchanged,
}

/// Whether a member with `role` may pin or unpin in a conversation of `kind`.
pub fn may_pin(kind: ConversationKind, role: Role) -> Result<(), ChatError> {
    match (kind, role) {
        (ConversationKind::Direct, _) | (_, Role::Owner | Role::Admin) => Ok(()),
        _ => Err(ChatError::forbidden(
            "only an admin or the owner may pin or unpin in a group",
        )),
    }
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Pins (`pinned`) or unpins a visible message of a conversation the caller belongs to,
    /// and announces it; pinning a pinned message or unpinning one that is not changes
    /// nothing. Errors: `NotFound` (conversation) outside the caller's conversations,
    /// `NotFound` (message) for a message not in it, `Forbidden` for a plain member of a
    /// group, `Conflict` beyond `CHAT_MAX_PINS` pins.
    pub async fn set_pin(
        &self,
        caller: UserId,
        conversation: ConversationId,
        message: MessageId,
        pinned: bool,
    ) -> Result<(), ChatError> {
        self.rate_limit(caller)?;
        let max = self.limits().max_pins;
        match self
            .store()
            .set_pin(caller, conversation, message, pinned, max)
            .await?
        {
            None => Err(ChatError::not_found(Entity::Conversation)),
            Some(PinWrite::Unchanged) => Ok(()),
            Some(PinWrite::Changed(changed, position)) => {
                let event = if pinned {
                    ChatEvent::MessagePinned(changed)
                } else {
                    ChatEvent::MessageUnpinned(changed)
                };
                self.announce(position, event);
                Ok(())
            }
        }
    }

    /// The pinned messages of a conversation the caller belongs to, the latest pin first.
    pub async fn pins(
        &self,
        caller: UserId,
        conversation: ConversationId,
    ) -> Result<(crate::ConversationDetail, Vec<Pin>), ChatError> {
        let detail = self.member_view(caller, conversation).await?;
        let mut pins = self
            .store()
            .pins(caller, conversation)
            .await?
            .ok_or(ChatError::not_found(Entity::Conversation))?;
        let mut messages: Vec<Message> = pins.iter().map(|pin| pin.message.clone()).collect();
        self.decorate(caller, &mut messages).await?;
        for (pin, message) in pins.iter_mut().zip(messages) {
            pin.message = message;
        }
        Ok((detail, pins))
    }
}

/// The refusal of a pin beyond the limit.
pub fn too_many_pins(max: usize) -> ChatError {
    ChatError::Conflict(format!(
        "a conversation holds at most {max} pinned messages; unpin one first"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anyone_pins_in_a_direct_conversation_and_managers_in_a_group() {
        assert!(may_pin(ConversationKind::Direct, Role::Member).is_ok());
        assert!(may_pin(ConversationKind::Group, Role::Owner).is_ok());
        assert!(may_pin(ConversationKind::Group, Role::Admin).is_ok());
        assert!(matches!(
            may_pin(ConversationKind::Group, Role::Member),
            Err(ChatError::Forbidden(_))
        ));
    }
}
