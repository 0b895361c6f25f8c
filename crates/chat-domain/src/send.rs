//! A send as every transport hands it to the [`crate::ChatService`]: where it goes, its
//! validated fields, and what it stored.

use crate::{
    AttachmentUrl, ChatError, ClientMessageId, ConversationDetail, ConversationId, Limits, Message,
    MessageBody, MessageId, UserId, fields,
};

/// Where a message goes: to a user (their direct conversation with the sender, created on
/// first contact, as the seed's `receiverId`) or into a conversation by id (direct or group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The direct conversation with this user.
    User(UserId),
    /// This conversation, of which the sender must be a member.
    Conversation(ConversationId),
}

/// A validated request to send a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    /// The caller.
    pub sender: UserId,
    /// Where it goes.
    pub to: Recipient,
    /// The text.
    pub content: MessageBody,
    /// An optional attachment link.
    pub attachment_url: Option<AttachmentUrl>,
    /// The sender's own id for the send, for recognising retries.
    pub client_message_id: Option<ClientMessageId>,
    /// The message of the same conversation it replies to (`replyToId`).
    pub reply_to: Option<MessageId>,
}

impl SendMessage {
    /// Validates a direct send's raw fields as every transport receives them.
    pub fn parse(
        sender: UserId,
        receiver: UserId,
        content: String,
        attachment_url: Option<String>,
        client_message_id: Option<String>,
        limits: &Limits,
    ) -> Result<Self, ChatError> {
        Self::parse_to(
            sender,
            Recipient::User(receiver),
            content,
            attachment_url,
            client_message_id,
            limits,
        )
    }

    /// Validates a send's raw fields for any recipient.
    pub fn parse_to(
        sender: UserId,
        to: Recipient,
        content: String,
        attachment_url: Option<String>,
        client_message_id: Option<String>,
        limits: &Limits,
    ) -> Result<Self, ChatError> {
        Ok(SendMessage {
            sender,
            to,
            content: MessageBody::parse(content, limits)?,
            attachment_url: attachment_url
                .map(|url| AttachmentUrl::parse(url, limits))
                .transpose()?,
            client_message_id: client_message_id.map(ClientMessageId::parse).transpose()?,
            reply_to: None,
        })
    }

    /// The same send, replying to the message a client's `replyToId` names (a positive
    /// integer, or a string of digits; absent or `null` for no reply).
    pub fn replying_to(mut self, raw: Option<&serde_json::Value>) -> Result<Self, ChatError> {
        self.reply_to = fields::optional_positive_integer("replyToId", raw)?.map(MessageId);
        Ok(self)
    }
}

/// A stored message and the conversation it landed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The conversation, with its members.
    pub conversation: ConversationDetail,
    /// The message, with its `seq`.
    pub message: Message,
    /// Whether this was a retry of a send already stored (same client message id and
    /// content): nothing was written or announced again.
    pub replayed: bool,
}
