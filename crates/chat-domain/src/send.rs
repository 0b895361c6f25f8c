//! A send as every transport hands it to the [`crate::ChatService`]: where it goes, its
//! validated fields, and what it stored.

use std::sync::Arc;

use crate::{
    AttachmentUrl, ChatError, ChatEvent, ChatService, ClientMessageId, ConversationDetail,
    ConversationId, Entity, EventSink, Limits, Message, MessageBody, MessageId, MessageSent,
    ReplyTo, Store, UserId, fields,
    ports::{Appended, DirectPair, NewMessage},
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

/// The Prometheus histogram of how long a send took, in seconds, from the request (REST or
/// Socket.IO) to its commit: checks, first contact, the group-commit queue and the commit.
/// Retries answered from the store are not in it.
pub const SEND_DURATION_METRIC: &str = "chat_message_send_duration_seconds";

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

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Sends a message into a conversation the sender belongs to (for a direct send, the
    /// pair's conversation, created on first contact) and announces it once stored.
    pub async fn send_message(&self, cmd: SendMessage) -> Result<SentMessage, ChatError> {
        self.send_rate
            .check(&cmd.sender)
            .map_err(|retry_after| ChatError::RateLimited { retry_after })?;
        self.deliver(cmd).await
    }

    /// [`ChatService::send_message`] without the send rate (spent earlier, as a scheduled
    /// message's was when it was scheduled).
    pub(crate) async fn deliver(&self, cmd: SendMessage) -> Result<SentMessage, ChatError> {
        let started = std::time::Instant::now();
        let conversation = self.destination(cmd.sender, cmd.to).await?;
        let parent = match cmd.reply_to {
            Some(id) => Some(self.reply_parent(conversation.conversation.id, id).await?),
            None => None,
        };
        let message = NewMessage {
            conversation_id: conversation.conversation.id,
            sender_id: cmd.sender,
            attachment_url: cmd.attachment_url,
            client_message_id: cmd.client_message_id,
            reply_to: cmd.reply_to,
            forwarded_from: None,
            mentions: crate::mentioned(
                cmd.content.as_str(),
                &conversation.members,
                cmd.sender,
                &self.username_keys,
            ),
            content: cmd.content,
        };
        let sent = self.append(&conversation, message, parent).await?;
        if let Some(sent) = &sent
            && !sent.replayed
        {
            metrics::histogram!(SEND_DURATION_METRIC).record(started.elapsed().as_secs_f64());
        }
        sent.ok_or_else(|| {
            self.forget(cmd.sender, cmd.to, conversation.conversation.id);
            ChatError::not_found(Entity::Conversation)
        })
    }

    /// Appends a checked message to `conversation` and announces it; `None` when the sender
    /// turned out not to be a member (what the caches knew was stale).
    pub(crate) async fn append(
        &self,
        conversation: &ConversationDetail,
        message: NewMessage,
        parent: Option<ReplyTo>,
    ) -> Result<Option<SentMessage>, ChatError> {
        let (message, replayed) = match self.store().append_message(message).await? {
            Some(Appended::New(mut message, position)) => {
                message.reply_to = parent;
                let members = conversation.members.iter().map(|m| m.user.clone());
                self.announce(
                    position,
                    ChatEvent::MessageSent(MessageSent {
                        message: message.clone(),
                        members: members.collect(),
                        kind: conversation.conversation.kind,
                    }),
                );
                (message, false)
            }
            Some(Appended::Retried(mut message)) => {
                message.reply_to = parent;
                (message, true)
            }
            None => return Ok(None),
        };
        Ok(Some(SentMessage {
            conversation: conversation.clone(),
            message,
            replayed,
        }))
    }

    /// The conversation a send goes to, with its members, from the caches when known.
    pub(crate) async fn destination(
        &self,
        sender: UserId,
        to: Recipient,
    ) -> Result<Arc<ConversationDetail>, ChatError> {
        match to {
            Recipient::User(receiver) => {
                let pair = DirectPair::new(sender, receiver)?;
                if let Some(known) = self.pairs.get(&pair) {
                    return Ok(known);
                }
                let found = Arc::new(self.conversation_between(sender, receiver).await?);
                self.pairs.insert(pair, Arc::clone(&found));
                Ok(found)
            }
            Recipient::Conversation(id) => {
                if let Some(known) = self.groups.get(&id) {
                    return Ok(known);
                }
                let found = Arc::new(self.member_view(sender, id).await?);
                self.groups.insert(id, Arc::clone(&found));
                Ok(found)
            }
        }
    }

    /// Drops what the caches know of a send's destination, which turned out stale.
    pub(crate) fn forget(&self, sender: UserId, to: Recipient, conversation: ConversationId) {
        if let Recipient::User(receiver) = to
            && let Ok(pair) = DirectPair::new(sender, receiver)
        {
            self.pairs.forget(&pair);
        }
        self.groups.forget(&conversation);
    }
}
