//! Editing a message: its sender replaces its text, within the edit window
//! (`CHAT_EDIT_WINDOW_SECS`); every earlier version is kept, and the edit travels the ordered,
//! replayable stream like the message itself (`message_edited`).

use chrono::Utc;

use crate::{
    ChatError, ChatEvent, ChatService, ConversationDetail, Entity, EventSink, Message, MessageBody,
    MessageEdited, MessageId, MessageVersion, Store, StreamPosition, UserId,
};

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edited {
    /// The text changed: the message as it is now, at this place in the stream.
    Changed(MessageEdited, StreamPosition),
    /// The text was already this: nothing was written, and this is the message.
    Unchanged(Message),
}

/// The refusal of an edit after the window (`CHAT_EDIT_WINDOW_SECS`); 409 over REST.
pub fn edit_window_passed() -> ChatError {
    ChatError::Conflict("this message can no longer be edited (the edit window has passed)".into())
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Replaces the text of one of the caller's own messages and announces it; an edit that
    /// changes nothing is answered with the message and announced to nobody. Errors:
    /// `Invalid` (`content`) as for a send, `NotFound` for a message that is not the caller's
    /// (or is deleted), `Conflict` once the edit window has passed (always, with a window of
    /// zero), `RateLimited` beyond the send budget, which edits share.
    pub async fn edit_message(
        &self,
        caller: UserId,
        id: MessageId,
        content: String,
    ) -> Result<(ConversationDetail, Message), ChatError> {
        let body = MessageBody::parse(content, self.limits())?;
        self.rate_limit(caller)?;
        let not_before = match self.limits().edit_window {
            None => None,
            Some(window) => {
                let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
                Some(
                    Utc::now()
                        .checked_sub_signed(window)
                        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC),
                )
            }
        };
        let mut message = match self
            .store()
            .edit_message(caller, id, body.as_str().to_owned(), not_before)
            .await?
        {
            None => return Err(ChatError::not_found(Entity::Message)),
            Some(Edited::Unchanged(message)) => message,
            Some(Edited::Changed(mut edited, position)) => {
                let conversation = edited.message.conversation_id;
                self.with_parents(conversation, std::slice::from_mut(&mut edited.message))
                    .await?;
                let message = edited.message.clone();
                self.announce(position, ChatEvent::MessageEdited(edited));
                message
            }
        };
        let conversation = self.member_view(caller, message.conversation_id).await?;
        self.decorate(caller, std::slice::from_mut(&mut message))
            .await?;
        Ok((conversation, message))
    }

    /// Every version of a message the caller can see, oldest first: what was sent, then what
    /// each edit wrote (the last is its text now). `NotFound` outside the caller's
    /// conversations, or for a deleted message.
    pub async fn message_history(
        &self,
        caller: UserId,
        id: MessageId,
    ) -> Result<Vec<MessageVersion>, ChatError> {
        self.store()
            .message_history(caller, id)
            .await?
            .ok_or(ChatError::not_found(Entity::Message))
    }
}
