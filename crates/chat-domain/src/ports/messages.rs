//! The messages port: appending (which assigns `seq`), reading, searching, editing, deleting,
//! pins and reactions.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::{
    AttachmentUrl, ChatError, ClientMessageId, ConversationId, Edited, ForwardedFrom, Message,
    MessageBody, MessageId, MessageVersion, MessageWindow, PageRequest, Paged, Pin, PinWrite,
    Reaction, ReactionKey, ReactionWrite, ReplyTo, SearchHit, SearchQuery, StreamPosition,
    TextSearch, Thread, UserId,
};

/// A message to append to a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Where it goes.
    pub conversation_id: ConversationId,
    /// Who sends it; must be a member.
    pub sender_id: UserId,
    /// The text.
    pub content: MessageBody,
    /// An optional attachment link.
    pub attachment_url: Option<AttachmentUrl>,
    /// The sender's own id for the send.
    pub client_message_id: Option<ClientMessageId>,
    /// The message of the same conversation it replies to (checked by the service).
    pub reply_to: Option<MessageId>,
    /// Where it was forwarded from, for a forwarded copy.
    pub forwarded_from: Option<ForwardedFrom>,
    /// The members it mentions ([`crate::mentioned`]).
    pub mentions: Vec<UserId>,
}

/// Messages: appending, reading, searching and deleting.
pub trait MessageRepo {
    /// Appends a message with the conversation's next `seq`, updates its counters, moves the
    /// sender's watermark and records it in the stream, all in one transaction. `None` when
    /// the sender is not a member. A client message id the sender used before answers with
    /// the stored message ([`Appended::Retried`]) when the conversation, content and
    /// attachment are the same, and is a `Conflict` otherwise.
    fn append_message(
        &self,
        message: NewMessage,
    ) -> impl Future<Output = Result<Option<Appended>, ChatError>> + Send;

    /// The window of visible messages, newest first; empty unless `viewer` is a member.
    fn messages(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        window: MessageWindow,
    ) -> impl Future<Output = Result<Vec<Message>, ChatError>> + Send;

    /// Visible messages containing the query (literally, ignoring case), newest first, with
    /// the number of matches; empty unless `viewer` is a member.
    fn search_messages(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        query: &SearchQuery,
        page: PageRequest,
    ) -> impl Future<Output = Result<Paged<Message>, ChatError>> + Send;

    /// The visible messages of every conversation `viewer` belongs to that match a search
    /// ([`TextSearch`]), best first, at most its limit, each with its rank and excerpt.
    fn search_text(
        &self,
        viewer: UserId,
        search: &TextSearch,
    ) -> impl Future<Output = Result<Vec<SearchHit>, ChatError>> + Send;

    /// One visible message of a conversation, if `viewer` is a member.
    fn message(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        id: MessageId,
    ) -> impl Future<Output = Result<Option<Message>, ChatError>> + Send;

    /// A visible message of a conversation `viewer` belongs to, by id alone.
    fn visible_message(
        &self,
        viewer: UserId,
        id: MessageId,
    ) -> impl Future<Output = Result<Option<Message>, ChatError>> + Send;

    /// Soft-deletes a visible message if `sender` sent it, keeping the conversation's counters
    /// and last-message preview right, and records it in the stream. Returns the message as
    /// it was.
    fn delete_message(
        &self,
        sender: UserId,
        id: MessageId,
    ) -> impl Future<Output = Result<Option<(Message, StreamPosition)>, ChatError>> + Send;

    /// Replaces the text of a visible message `editor` sent, if it was sent at or after
    /// `not_before` (the edit window), keeping the text it replaces as a version, the
    /// conversation's preview right when it is the newest message, and recording the edit in
    /// the stream (with its text, so that a replay shows each edit). `None` when the message
    /// is not the editor's visible message; [`ChatError::Conflict`] when it is but was sent
    /// before `not_before`. The text it already has changes nothing ([`Edited::Unchanged`]).
    fn edit_message(
        &self,
        editor: UserId,
        id: MessageId,
        content: String,
        not_before: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<Option<Edited>, ChatError>> + Send;

    /// Every version of a visible message of a conversation `viewer` belongs to, oldest first
    /// (what was sent, then each edit's text); `None` outside the viewer's reach.
    fn message_history(
        &self,
        viewer: UserId,
        id: MessageId,
    ) -> impl Future<Output = Result<Option<Vec<MessageVersion>>, ChatError>> + Send;

    /// Pins (`pinned`) or unpins a visible message of `conversation` for `actor`, checking
    /// [`crate::may_pin`] in the same transaction, and records it in the stream. `None` when
    /// the actor is not a member of the conversation; `NotFound` (message) for a message not
    /// visible in it; [`crate::too_many_pins`] when it holds `max_pins` already;
    /// [`PinWrite::Unchanged`] when there is nothing to do.
    fn set_pin(
        &self,
        actor: UserId,
        conversation: ConversationId,
        message: MessageId,
        pinned: bool,
        max_pins: usize,
    ) -> impl Future<Output = Result<Option<PinWrite>, ChatError>> + Send;

    /// Adds (`on`) or removes `actor`'s reaction `key` on a visible message of a conversation
    /// they belong to, and records it in the stream with the key's count after it. `None`
    /// when the message is not visible to the actor; [`crate::too_many_reaction_kinds`] when
    /// the key is new and the message has `max_kinds` keys already; [`ReactionWrite::Unchanged`]
    /// when there is nothing to do.
    fn set_reaction(
        &self,
        actor: UserId,
        message: MessageId,
        key: ReactionKey,
        on: bool,
        max_kinds: usize,
    ) -> impl Future<Output = Result<Option<ReactionWrite>, ChatError>> + Send;

    /// The reactions of some messages as `viewer` sees them (`me`), by message, keys in the
    /// order they were first used; messages without reactions are absent. The caller has
    /// already checked that `viewer` may see the messages.
    fn reactions_for(
        &self,
        viewer: UserId,
        messages: &[MessageId],
    ) -> impl Future<Output = Result<HashMap<MessageId, Vec<Reaction>>, ChatError>> + Send;

    /// The messages of `conversation` among `ids` as their replies show them, deleted ones
    /// included (with no excerpt); ids of other conversations, or unknown, are absent. The
    /// caller has already checked that the reader may see the conversation.
    fn reply_parents(
        &self,
        conversation: ConversationId,
        ids: &[MessageId],
    ) -> impl Future<Output = Result<HashMap<MessageId, ReplyTo>, ChatError>> + Send;

    /// How many visible replies each of some messages has (a reply is always in its parent's
    /// conversation); messages without replies are absent.
    fn reply_counts(
        &self,
        ids: &[MessageId],
    ) -> impl Future<Output = Result<HashMap<MessageId, i64>, ChatError>> + Send;

    /// A window of the visible replies to `parent` (deleted or not), ordered as history
    /// windows are, if `viewer` belongs to its conversation; `None` otherwise.
    fn replies(
        &self,
        viewer: UserId,
        parent: MessageId,
        window: MessageWindow,
    ) -> impl Future<Output = Result<Option<Thread>, ChatError>> + Send;

    /// The visible messages that mention `viewer`, of conversations they belong to, newest
    /// first: at most `limit`, with an id below `before` when given.
    fn mentions_of(
        &self,
        viewer: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Message>, ChatError>> + Send;

    /// The pins of a conversation `viewer` belongs to, the latest first; `None` otherwise.
    fn pins(
        &self,
        viewer: UserId,
        conversation: ConversationId,
    ) -> impl Future<Output = Result<Option<Vec<Pin>>, ChatError>> + Send;
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The message was stored at this place in the stream.
    New(Message, StreamPosition),
    /// The sender had sent this message before with the same client message id: nothing was
    /// written, and this is the stored message (a retry after a lost answer).
    Retried(Message),
}

impl Appended {
    /// The stored message.
    pub fn message(&self) -> &Message {
        match self {
            Appended::New(message, _) | Appended::Retried(message) => message,
        }
    }
}
