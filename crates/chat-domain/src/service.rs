//! The rules of chat, in one place: who may read, write and delete what, and what is
//! announced afterwards. Transports parse input into the domain's types and call one method.

use std::sync::Arc;

use crate::{
    ChatError, ChatEvent, ConversationDetail, ConversationId, Entity, EventSink, KeyedLimiter,
    Limits, Message, MessageDeleted, MessageId, MessageWindow, MessagesRead, PageRequest, Paged,
    Policy, ReadReceipt, SearchQuery, Store, StreamEvent, StreamPosition, UnreadCount, UpsertUser,
    User, UserId, Username,
    detail_cache::{MemberCache, PairCache},
    ports::DirectPair,
};

/// A slice of one conversation's history and the size of the list it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationMessages {
    /// The conversation, with its members and their watermarks.
    pub conversation: ConversationDetail,
    /// The messages, newest first.
    pub messages: Vec<Message>,
    /// How many messages the whole list holds.
    pub total: i64,
}

/// The chat rules over any store and any event sink. Cheap to clone: it is shared by every
/// request handler and socket.
pub struct ChatService<S, E> {
    store: S,
    events: Arc<E>,
    policy: Arc<Policy>,
    /// Sends, group creations and member additions per user.
    pub(crate) send_rate: Arc<KeyedLimiter<UserId>>,
    pub(crate) pairs: Arc<PairCache>,
    /// Conversations sent into by id, with their members; forgotten when their members change.
    pub(crate) groups: Arc<MemberCache>,
    /// Members' names as mentions compare them.
    pub(crate) username_keys: Arc<crate::UsernameKeys>,
}

impl<S: Clone, E> Clone for ChatService<S, E> {
    fn clone(&self) -> Self {
        ChatService {
            store: self.store.clone(),
            events: Arc::clone(&self.events),
            policy: Arc::clone(&self.policy),
            send_rate: Arc::clone(&self.send_rate),
            pairs: Arc::clone(&self.pairs),
            groups: Arc::clone(&self.groups),
            username_keys: Arc::clone(&self.username_keys),
        }
    }
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Wires the rules to a store and a sink.
    pub fn new(store: S, events: E, policy: Policy) -> Self {
        ChatService {
            store,
            events: Arc::new(events),
            send_rate: Arc::new(KeyedLimiter::new(policy.send_rate).counted_as("send")),
            policy: Arc::new(policy),
            pairs: Arc::default(),
            groups: Arc::default(),
            username_keys: Arc::default(),
        }
    }

    /// The bounds input is validated against.
    pub fn limits(&self) -> &Limits {
        &self.policy.limits
    }

    /// The store, for embedders that need a port the service does not wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Succeeds when the store can serve requests.
    pub async fn ready(&self) -> Result<(), ChatError> {
        self.store.ping().await
    }

    /// Whether the events this service publishes reach every node now ([`EventSink::connected`]).
    pub fn events_connected(&self) -> bool {
        self.events.connected()
    }

    /// Creates or refreshes a user known to the host application.
    pub async fn upsert_user(&self, user: UpsertUser) -> Result<User, ChatError> {
        let written = self.store.upsert_user(user).await;
        self.names_changed();
        written
    }

    /// Creates or refreshes many users at once, for hosts that provision ahead of time.
    pub async fn upsert_users(&self, users: Vec<UpsertUser>) -> Result<Vec<User>, ChatError> {
        let written = self.store.upsert_users(users).await;
        self.names_changed();
        written
    }

    /// Makes sure the user behind a valid token exists, so that a first request never fails
    /// for want of a profile.
    pub async fn provision_user(
        &self,
        id: UserId,
        username: Option<Username>,
    ) -> Result<User, ChatError> {
        let renames = username.is_some();
        let user = self.store.ensure_user(id, username).await;
        if renames {
            self.names_changed();
        }
        user
    }

    /// A user's own profile.
    pub async fn user(&self, id: UserId) -> Result<User, ChatError> {
        self.store
            .user(id)
            .await?
            .ok_or(ChatError::not_found(Entity::User))
    }

    /// Another user's profile, if the directory lets the caller see it.
    pub async fn visible_user(&self, caller: UserId, id: UserId) -> Result<User, ChatError> {
        self.store
            .visible_user(caller, id, self.policy.directory)
            .await?
            .ok_or(ChatError::not_found(Entity::User))
    }

    /// People the caller may message, by username prefix.
    pub async fn find_users(
        &self,
        caller: UserId,
        prefix: Option<&SearchQuery>,
        page: PageRequest,
    ) -> Result<Paged<User>, ChatError> {
        self.store
            .search_users(caller, prefix, page, self.policy.directory)
            .await
    }

    /// The direct conversation between the caller and another user, created if needed; the
    /// other user must exist.
    pub async fn conversation_between(
        &self,
        caller: UserId,
        other: UserId,
    ) -> Result<ConversationDetail, ChatError> {
        let pair = DirectPair::new(caller, other)?;
        // One call: the store finds the pair's conversation or creates it, and answers
        // NotFound(User), writing nothing, when either user is missing (the conformance suite
        // checks both stores for it).
        self.store.direct_conversation(pair).await
    }

    /// A conversation with its members, if the caller is one of them: what a transport checks
    /// before letting a socket into the conversation's room.
    pub async fn conversation(
        &self,
        caller: UserId,
        conversation: ConversationId,
    ) -> Result<ConversationDetail, ChatError> {
        self.member_view(caller, conversation).await
    }

    /// Whom a user's presence concerns: everyone they share a conversation with.
    pub async fn contacts(&self, user: UserId) -> Result<Vec<UserId>, ChatError> {
        self.store.contacts(user).await
    }

    /// A window of a conversation's history, newest first.
    pub async fn messages(
        &self,
        caller: UserId,
        conversation: ConversationId,
        window: MessageWindow,
    ) -> Result<ConversationMessages, ChatError> {
        let detail = self.member_view(caller, conversation).await?;
        let mut messages = self.store.messages(caller, conversation, window).await?;
        self.decorate(caller, &mut messages).await?;
        Ok(ConversationMessages {
            total: detail.conversation.message_count,
            conversation: detail,
            messages,
        })
    }

    /// The caller's conversations, newest activity first.
    pub async fn conversations(
        &self,
        caller: UserId,
        page: PageRequest,
    ) -> Result<Paged<ConversationDetail>, ChatError> {
        self.store.conversations_of(caller, page).await
    }

    /// Marks everything in a conversation read for the caller and announces it.
    pub async fn mark_read(
        &self,
        caller: UserId,
        conversation: ConversationId,
    ) -> Result<ReadReceipt, ChatError> {
        let (receipt, position) = self
            .store
            .mark_read(caller, conversation)
            .await?
            .ok_or(ChatError::not_found(Entity::Conversation))?;
        self.announce(
            position,
            ChatEvent::MessagesRead(MessagesRead {
                conversation_id: receipt.conversation_id,
                user_id: receipt.user_id,
                last_read_seq: receipt.last_read_seq,
                read_at: receipt.read_at,
            }),
        );
        Ok(receipt)
    }

    /// How many messages from others the caller has not read, over all conversations.
    pub async fn unread_count(&self, caller: UserId) -> Result<i64, ChatError> {
        self.store.unread_count(caller).await
    }

    /// The caller's unread counts per conversation (only conversations with unread messages).
    pub async fn unread_by_conversation(
        &self,
        caller: UserId,
    ) -> Result<Vec<UnreadCount>, ChatError> {
        self.store.unread_by_conversation(caller).await
    }

    /// Messages of one conversation that contain the query, newest first.
    pub async fn search(
        &self,
        caller: UserId,
        conversation: ConversationId,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<ConversationMessages, ChatError> {
        let detail = self.member_view(caller, conversation).await?;
        let mut found = self
            .store
            .search_messages(caller, conversation, query, page)
            .await?;
        self.decorate(caller, &mut found.items).await?;
        Ok(ConversationMessages {
            conversation: detail,
            messages: found.items,
            total: found.total,
        })
    }

    /// Soft-deletes one of the caller's own messages and announces it; anyone else's message
    /// is reported as not found.
    pub async fn delete_message(
        &self,
        caller: UserId,
        message: MessageId,
    ) -> Result<Message, ChatError> {
        let (deleted, position) = self
            .store
            .delete_message(caller, message)
            .await?
            .ok_or(ChatError::not_found(Entity::Message))?;
        self.announce(
            position,
            ChatEvent::MessageDeleted(MessageDeleted {
                conversation_id: deleted.conversation_id,
                message_id: deleted.id,
                seq: deleted.seq,
                deleted_by: caller,
            }),
        );
        Ok(deleted)
    }

    /// Takes in an event another node committed (carried by a cluster's bus), so that what
    /// this process caches follows it: a group whose members or settings changed elsewhere is
    /// read again at its next send, so that the send is announced to its members of now.
    pub fn observe_remote(&self, event: &ChatEvent) {
        match event {
            ChatEvent::ConversationCreated(_)
            | ChatEvent::ConversationUpdated(_)
            | ChatEvent::MemberAdded(_)
            | ChatEvent::MemberRemoved(_)
            | ChatEvent::MemberRoleChanged(_) => self.groups.forget(&event.conversation_id()),
            ChatEvent::MessageSent(_)
            | ChatEvent::MessagesRead(_)
            | ChatEvent::MessageDeleted(_)
            | ChatEvent::MessageEdited(_)
            | ChatEvent::MessagePinned(_)
            | ChatEvent::MessageUnpinned(_)
            | ChatEvent::ReactionAdded(_)
            | ChatEvent::ReactionRemoved(_) => {}
        }
    }

    /// Forgets the cached member lists, whose names may be out of date.
    fn names_changed(&self) {
        self.pairs.clear();
        self.groups.clear();
    }

    /// Publishes what a committed write did, at its place in the stream.
    pub(crate) fn announce(&self, position: StreamPosition, event: ChatEvent) {
        self.events.publish(StreamEvent { position, event });
    }

    pub(crate) async fn member_view(
        &self,
        caller: UserId,
        conversation: ConversationId,
    ) -> Result<ConversationDetail, ChatError> {
        self.store
            .conversation_for(caller, conversation)
            .await?
            .ok_or(ChatError::not_found(Entity::Conversation))
    }
}
