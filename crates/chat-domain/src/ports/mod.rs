//! The repository traits that a store implements, with their write forms.
//!
//! Methods return `impl Future + Send` so that stores can be used from multi-threaded
//! runtimes without boxing. Every read that names a conversation takes the caller too and
//! finds nothing in a conversation the caller is not a member of: the scoping lives in the
//! query as well as in the service.

use std::future::Future;

use crate::{
    ChatError, ConversationDetail, ConversationId, GroupChange, GroupWrite, NewGroup, PageRequest,
    Paged, ReadReceipt, RecoveryRepo, SearchQuery, Seq, StreamEvent, StreamPosition, StreamToken,
    UnreadCount, User, UserId, Username,
};

mod messages;
mod scheduled;

pub use messages::{Appended, MessageRepo, NewMessage};
pub use scheduled::ScheduleRepo;

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
    + ScheduleRepo
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
        + ScheduleRepo
        + StreamRepo
        + RecoveryRepo
        + Health
        + Clone
        + Send
        + Sync
        + 'static
{
}
