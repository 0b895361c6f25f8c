//! The repository traits that a store implements, with their write forms.
//!
//! Methods return `impl Future + Send` so that stores can be used from multi-threaded
//! runtimes without boxing. Every read that names a conversation takes the caller too and
//! finds nothing in a conversation the caller is not a member of: the scoping lives in the
//! query as well as in the service.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::{
    AttachmentUrl, ChatError, ClientMessageId, ConversationDetail, ConversationId, Edited,
    GroupChange, GroupWrite, Message, MessageBody, MessageId, MessageVersion, MessageWindow,
    NewGroup, PageRequest, Paged, Pin, PinWrite, Reaction, ReactionKey, ReactionWrite, ReadReceipt,
    RecoveryRepo, SearchQuery, Seq, StreamEvent, StreamPosition, StreamToken, UnreadCount, User,
    UserId, Username,
};

/// A user record to create, or to refresh when it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertUser {
    /// The host application's id.
    pub id: UserId,
    /// The handle to show.
    pub username: Username,
    /// A longer name, if known.
    pub display_name: Option<String>,
    /// A picture, if known.
    pub avatar_url: Option<String>,
}

/// Two distinct users, in a canonical order, which is what keys their direct conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DirectPair {
    low: UserId,
    high: UserId,
}

impl DirectPair {
    /// Orders the two users; a user cannot form a pair with themselves.
    pub fn new(a: UserId, b: UserId) -> Result<Self, ChatError> {
        if a == b {
            return Err(ChatError::invalid(
                "receiverId",
                "cannot start a conversation with yourself",
            ));
        }
        Ok(DirectPair {
            low: a.min(b),
            high: a.max(b),
        })
    }

    /// The smaller id.
    pub fn low(self) -> UserId {
        self.low
    }

    /// The larger id.
    pub fn high(self) -> UserId {
        self.high
    }
}

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
}

/// Whose profiles a user may find: everyone (built-in accounts, an open directory) or only
/// the people they already share a conversation with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directory {
    /// Every user is findable.
    Everyone,
    /// Only users who share a conversation with the caller (and the caller).
    Contacts,
}

/// Users: the people who chat.
pub trait UserRepo {
    /// Creates the user or refreshes its profile.
    fn upsert_user(&self, user: UpsertUser)
    -> impl Future<Output = Result<User, ChatError>> + Send;

    /// Creates or refreshes many users in one write (the host's batch provisioning).
    fn upsert_users(
        &self,
        users: Vec<UpsertUser>,
    ) -> impl Future<Output = Result<Vec<User>, ChatError>> + Send;

    /// Makes sure a user known from a valid token exists: creates it (named `username`, or
    /// `user<id>`) or, when a name is given and differs, renames it.
    fn ensure_user(
        &self,
        id: UserId,
        username: Option<Username>,
    ) -> impl Future<Output = Result<User, ChatError>> + Send;

    /// The user with this id, if any.
    fn user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, ChatError>> + Send;

    /// Users other than `viewer` whose username starts with `prefix` ignoring case (the key
    /// of the term is a prefix of the username's [`case_key`](crate::case_key)), ordered by
    /// that key then id, within `directory`.
    fn search_users(
        &self,
        viewer: UserId,
        prefix: Option<&SearchQuery>,
        page: PageRequest,
        directory: Directory,
    ) -> impl Future<Output = Result<Paged<User>, ChatError>> + Send;

    /// The users who share at least one conversation with `user` (not `user`): whom their
    /// presence concerns.
    fn contacts(&self, user: UserId)
    -> impl Future<Output = Result<Vec<UserId>, ChatError>> + Send;

    /// The user with this id if `viewer` may see them within `directory`.
    fn visible_user(
        &self,
        viewer: UserId,
        id: UserId,
        directory: Directory,
    ) -> impl Future<Output = Result<Option<User>, ChatError>> + Send;
}

/// Built-in accounts: usernames (unique ignoring case, by [`Username::key`]) with password
/// hashes.
pub trait AccountRepo {
    /// Creates a user with a generated id and its account; a taken username is a `Conflict`.
    fn create_account(
        &self,
        username: Username,
        password_hash: String,
    ) -> impl Future<Output = Result<User, ChatError>> + Send;

    /// The user and password hash of an account, found by username ignoring case.
    fn account(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<(User, String)>, ChatError>> + Send;
}

/// Conversations, their members and read watermarks.
pub trait ConversationRepo {
    /// The direct conversation of a pair, created with both users as members if it does not
    /// exist; concurrent calls for one pair all get the same conversation. Both users must
    /// exist.
    fn direct_conversation(
        &self,
        pair: DirectPair,
    ) -> impl Future<Output = Result<ConversationDetail, ChatError>> + Send;

    /// The direct conversation of a pair if it exists, without creating it.
    fn find_direct_conversation(
        &self,
        pair: DirectPair,
    ) -> impl Future<Output = Result<Option<ConversationDetail>, ChatError>> + Send;

    /// The conversation with its members, if `viewer` is one of them.
    fn conversation_for(
        &self,
        viewer: UserId,
        id: ConversationId,
    ) -> impl Future<Output = Result<Option<ConversationDetail>, ChatError>> + Send;

    /// The conversations `user` belongs to, newest activity first.
    fn conversations_of(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Paged<ConversationDetail>, ChatError>> + Send;

    /// Moves `user`'s watermark to the conversation's newest message, if they are a member,
    /// and records the move in the stream (even when nothing became read: the receipt is
    /// announced all the same).
    fn mark_read(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> impl Future<Output = Result<Option<(ReadReceipt, StreamPosition)>, ChatError>> + Send;

    /// Messages from others above `user`'s watermarks, over all their conversations.
    fn unread_count(&self, user: UserId) -> impl Future<Output = Result<i64, ChatError>> + Send;

    /// The same count per conversation, only for conversations with unread messages.
    fn unread_by_conversation(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<UnreadCount>, ChatError>> + Send;
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

    /// One visible message of a conversation, if `viewer` is a member.
    fn message(
        &self,
        viewer: UserId,
        conversation: ConversationId,
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

    /// The pins of a conversation `viewer` belongs to, the latest first; `None` otherwise.
    fn pins(
        &self,
        viewer: UserId,
        conversation: ConversationId,
    ) -> impl Future<Output = Result<Option<Vec<Pin>>, ChatError>> + Send;
}

/// Groups: creating them and changing their members and settings. Each write checks the
/// actor's role with [`crate::authorize`] inside its own transaction and records what it did
/// in the stream, like a message.
pub trait GroupRepo {
    /// Creates a group owned by its creator, with the listed members, and records its
    /// creation. Every listed user must exist: otherwise [`ChatError::UnknownUsers`] names
    /// the others and nothing is written. A `client_request_id` the creator used before
    /// answers with the group it created, and no events.
    fn create_group(
        &self,
        group: NewGroup,
    ) -> impl Future<Output = Result<GroupWrite, ChatError>> + Send;

    /// Applies `change` for `actor`: `None` when the actor is not a member of the
    /// conversation (or it does not exist), [`ChatError::Forbidden`] when their role does not
    /// allow it, `NotFound` (user) when it names someone who is not a member (removal, role),
    /// [`ChatError::UnknownUsers`] when it adds ids that name nobody. Members already in are
    /// not added again and a role set to what it is changes nothing: such a change writes no
    /// event. When the last owner leaves, [`crate::successor`] becomes owner in the same
    /// transaction.
    fn change_group(
        &self,
        actor: UserId,
        id: ConversationId,
        change: GroupChange,
    ) -> impl Future<Output = Result<Option<GroupWrite>, ChatError>> + Send;
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

/// Where each of a reader's conversations is to be read from: the conversations named in
/// `rooms` from their own token, every other conversation of the reader from `others` (not at
/// all when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamScope {
    /// Conversations with a token of their own.
    pub rooms: Vec<(ConversationId, StreamToken)>,
    /// The token of the reader's other conversations.
    pub others: Option<StreamToken>,
}

/// The event stream, read back: its head, one writer's range (to fill a gap) and a reader's
/// events since a token (to replay or to sync). Every read returns messages with their
/// members, as they were published, ordered by writer then position.
pub trait StreamRepo {
    /// The last position of every writer.
    fn stream_head(&self) -> impl Future<Output = Result<StreamToken, ChatError>> + Send;

    /// The events of `writer` after position `after`, up to `upto` included.
    fn stream_range(
        &self,
        writer: usize,
        after: i64,
        upto: i64,
    ) -> impl Future<Output = Result<Vec<StreamEvent>, ChatError>> + Send;

    /// The highest `seq` among a conversation's messages at or below `upto` in the stream:
    /// where a catch-up that joins at `upto` stops and live delivery takes over. Messages
    /// stored before the stream existed count as below every token.
    fn seq_at(
        &self,
        conversation: ConversationId,
        upto: StreamToken,
    ) -> impl Future<Output = Result<Seq, ChatError>> + Send;

    /// The events of `reader`'s conversations after the scope's tokens and up to `upto`, at
    /// most `limit`; only conversations `reader` is a member of now.
    fn stream_for(
        &self,
        reader: UserId,
        scope: &StreamScope,
        upto: StreamToken,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StreamEvent>, ChatError>> + Send;
}

/// Whether the store can serve requests now.
pub trait Health {
    /// Succeeds when the store answers.
    fn ping(&self) -> impl Future<Output = Result<(), ChatError>> + Send;
}

/// Everything the service needs from a store, in one bound.
pub trait Store:
    UserRepo
    + AccountRepo
    + ConversationRepo
    + GroupRepo
    + MessageRepo
    + StreamRepo
    + RecoveryRepo
    + Health
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: UserRepo
        + AccountRepo
        + ConversationRepo
        + GroupRepo
        + MessageRepo
        + StreamRepo
        + RecoveryRepo
        + Health
        + Clone
        + Send
        + Sync
        + 'static
{
}
