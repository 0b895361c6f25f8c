//! An in-memory store implementing every port, for unit tests and for embedders that need no
//! persistence. It follows the same contract as the PostgreSQL store; the conformance suite
//! proves it.

mod edits;
mod groups;
mod pins;
mod reactions;
mod scheduled;
mod state;
mod stream;
mod text_search;
mod threads;
mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::{
    AccountRepo, Appended, ChatError, ChatEvent, ConversationDetail, ConversationId,
    ConversationRepo, Directory, Edited, EventSink, Health, Message, MessageId, MessageRepo,
    MessageVersion, MessageWindow, PageRequest, Paged, Pin, PinWrite, Reaction, ReactionKey,
    ReactionWrite, ReadReceipt, ReplyTo, SearchHit, SearchQuery, StreamEvent, StreamPosition,
    TextSearch, Thread, UnreadCount, UpsertUser, User, UserId, UserRepo, Username,
    ports::{DirectPair, NewMessage},
};
use state::State;

/// The in-memory store. Clones share one state.
///
/// The state sits behind a std `Mutex` rather than an async one: every method takes the lock,
/// changes plain data and releases it without ever awaiting, so no task can hold it across a
/// suspension point and the cheaper lock is safe.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave a half-applied write behind (each
        // method validates before it mutates), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl UserRepo for MemoryStore {
    async fn upsert_user(&self, user: UpsertUser) -> Result<User, ChatError> {
        Ok(self.lock().upsert_user(user, Utc::now()))
    }

    async fn upsert_users(&self, users: Vec<UpsertUser>) -> Result<Vec<User>, ChatError> {
        let mut state = self.lock();
        let now = Utc::now();
        Ok(users
            .into_iter()
            .map(|u| state.upsert_user(u, now))
            .collect())
    }

    async fn ensure_user(&self, id: UserId, username: Option<Username>) -> Result<User, ChatError> {
        Ok(self.lock().ensure_user(id, username, Utc::now()))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, ChatError> {
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn search_users(
        &self,
        viewer: UserId,
        prefix: Option<&SearchQuery>,
        page: PageRequest,
        directory: Directory,
    ) -> Result<Paged<User>, ChatError> {
        Ok(self.lock().search_users(viewer, prefix, page, directory))
    }

    async fn contacts(&self, user: UserId) -> Result<Vec<UserId>, ChatError> {
        Ok(self.lock().contacts(user))
    }

    async fn visible_user(
        &self,
        viewer: UserId,
        id: UserId,
        directory: Directory,
    ) -> Result<Option<User>, ChatError> {
        let state = self.lock();
        let visible = directory == Directory::Everyone || state.knows(viewer, id);
        Ok(state.users.get(&id).filter(|_| visible).cloned())
    }
}

impl AccountRepo for MemoryStore {
    async fn create_account(
        &self,
        username: Username,
        password_hash: String,
    ) -> Result<User, ChatError> {
        self.lock()
            .create_account(username, password_hash, Utc::now())
    }

    async fn account(&self, username: &Username) -> Result<Option<(User, String)>, ChatError> {
        Ok(self.lock().account(username))
    }
}

impl ConversationRepo for MemoryStore {
    async fn direct_conversation(&self, pair: DirectPair) -> Result<ConversationDetail, ChatError> {
        self.lock().direct_conversation(pair, Utc::now())
    }

    async fn find_direct_conversation(
        &self,
        pair: DirectPair,
    ) -> Result<Option<ConversationDetail>, ChatError> {
        let state = self.lock();
        Ok(state.direct.get(&pair).map(|id| state.detail(*id)))
    }

    async fn conversation_for(
        &self,
        viewer: UserId,
        id: ConversationId,
    ) -> Result<Option<ConversationDetail>, ChatError> {
        let state = self.lock();
        Ok(state.is_member(id, viewer).then(|| state.detail(id)))
    }

    async fn conversations_of(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Paged<ConversationDetail>, ChatError> {
        Ok(self.lock().conversations_of(user, page))
    }

    async fn mark_read(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> Result<Option<(ReadReceipt, StreamPosition)>, ChatError> {
        Ok(self.lock().mark_read(user, id, Utc::now()))
    }

    async fn unread_count(&self, user: UserId) -> Result<i64, ChatError> {
        Ok(self
            .lock()
            .unread(user)
            .iter()
            .map(|u| u.unread_count)
            .sum())
    }

    async fn unread_by_conversation(&self, user: UserId) -> Result<Vec<UnreadCount>, ChatError> {
        Ok(self.lock().unread(user))
    }
}

impl MessageRepo for MemoryStore {
    async fn append_message(&self, message: NewMessage) -> Result<Option<Appended>, ChatError> {
        self.lock().append(message, Utc::now())
    }

    async fn messages(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        window: MessageWindow,
    ) -> Result<Vec<Message>, ChatError> {
        let state = self.lock();
        if !state.is_member(conversation, viewer) {
            return Ok(Vec::new());
        }
        Ok(state.window(conversation, window))
    }

    async fn search_messages(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<Paged<Message>, ChatError> {
        let state = self.lock();
        if !state.is_member(conversation, viewer) {
            return Ok(Paged {
                items: Vec::new(),
                total: 0,
            });
        }
        Ok(state.search(conversation, query, page))
    }

    async fn search_text(
        &self,
        viewer: UserId,
        search: &TextSearch,
    ) -> Result<Vec<SearchHit>, ChatError> {
        Ok(self.lock().search_text(viewer, search))
    }

    async fn message(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        id: MessageId,
    ) -> Result<Option<Message>, ChatError> {
        let state = self.lock();
        if !state.is_member(conversation, viewer) {
            return Ok(None);
        }
        Ok(state.message(conversation, id))
    }

    async fn visible_message(
        &self,
        viewer: UserId,
        id: MessageId,
    ) -> Result<Option<Message>, ChatError> {
        let state = self.lock();
        Ok(state
            .messages
            .get(&id)
            .filter(|m| !m.deleted && state.is_member(m.message.conversation_id, viewer))
            .map(|m| m.message.clone()))
    }

    async fn delete_message(
        &self,
        sender: UserId,
        id: MessageId,
    ) -> Result<Option<(Message, StreamPosition)>, ChatError> {
        Ok(self.lock().delete(sender, id, Utc::now()))
    }

    async fn edit_message(
        &self,
        editor: UserId,
        id: MessageId,
        content: String,
        not_before: Option<DateTime<Utc>>,
    ) -> Result<Option<Edited>, ChatError> {
        self.lock()
            .edit(editor, id, content, not_before, Utc::now())
    }

    async fn message_history(
        &self,
        viewer: UserId,
        id: MessageId,
    ) -> Result<Option<Vec<MessageVersion>>, ChatError> {
        Ok(self.lock().history(viewer, id))
    }

    async fn set_pin(
        &self,
        actor: UserId,
        conversation: ConversationId,
        message: MessageId,
        pinned: bool,
        max_pins: usize,
    ) -> Result<Option<PinWrite>, ChatError> {
        self.lock()
            .set_pin(actor, conversation, message, pinned, max_pins, Utc::now())
    }

    async fn pins(
        &self,
        viewer: UserId,
        conversation: ConversationId,
    ) -> Result<Option<Vec<Pin>>, ChatError> {
        Ok(self.lock().pins_of(viewer, conversation))
    }

    async fn set_reaction(
        &self,
        actor: UserId,
        message: MessageId,
        key: ReactionKey,
        on: bool,
        max_kinds: usize,
    ) -> Result<Option<ReactionWrite>, ChatError> {
        self.lock().set_reaction(actor, message, key, on, max_kinds)
    }

    async fn reactions_for(
        &self,
        viewer: UserId,
        messages: &[MessageId],
    ) -> Result<HashMap<MessageId, Vec<Reaction>>, ChatError> {
        Ok(self.lock().reactions_for(viewer, messages))
    }

    async fn mentions_of(
        &self,
        viewer: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        let state = self.lock();
        Ok(state
            .messages
            .range(..before.unwrap_or(MessageId(i64::MAX)))
            .rev()
            .map(|(_, stored)| stored)
            .filter(|stored| {
                !stored.deleted
                    && stored.message.mentions.contains(&viewer)
                    && state.is_member(stored.message.conversation_id, viewer)
            })
            .take(limit as usize)
            .map(|stored| stored.message.clone())
            .collect())
    }

    async fn reply_parents(
        &self,
        conversation: ConversationId,
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, ReplyTo>, ChatError> {
        Ok(self.lock().reply_parents(conversation, ids))
    }

    async fn reply_counts(&self, ids: &[MessageId]) -> Result<HashMap<MessageId, i64>, ChatError> {
        Ok(self.lock().reply_counts(ids))
    }

    async fn replies(
        &self,
        viewer: UserId,
        parent: MessageId,
        window: MessageWindow,
    ) -> Result<Option<Thread>, ChatError> {
        Ok(self.lock().replies(viewer, parent, window))
    }
}

impl Health for MemoryStore {
    async fn ping(&self) -> Result<(), ChatError> {
        Ok(())
    }
}

/// An event sink that keeps what it is told, so tests can assert on it.
#[derive(Debug, Clone, Default)]
pub struct RecordedEvents {
    events: Arc<Mutex<Vec<StreamEvent>>>,
}

impl RecordedEvents {
    /// Takes every event recorded so far, oldest first, without their positions.
    pub fn take(&self) -> Vec<ChatEvent> {
        self.take_positioned()
            .into_iter()
            .map(|e| e.event)
            .collect()
    }

    /// Takes every event recorded so far, oldest first, with their positions.
    pub fn take_positioned(&self) -> Vec<StreamEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl EventSink for RecordedEvents {
    fn publish(&self, event: StreamEvent) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}

impl crate::ScheduleRepo for MemoryStore {
    async fn schedule(
        &self,
        new: crate::NewScheduled,
        max: u32,
    ) -> Result<crate::ScheduledMessage, ChatError> {
        self.lock().schedule(new, max, Utc::now())
    }

    async fn scheduled_of(
        &self,
        sender: UserId,
    ) -> Result<Vec<crate::ScheduledMessage>, ChatError> {
        Ok(self.lock().scheduled_of(sender))
    }

    async fn edit_scheduled(
        &self,
        sender: UserId,
        id: crate::ScheduledId,
        edit: crate::ScheduledEdit,
        now: DateTime<Utc>,
    ) -> Result<crate::ScheduledMessage, ChatError> {
        self.lock().edit_scheduled(sender, id, edit, now)
    }

    async fn cancel_scheduled(
        &self,
        sender: UserId,
        id: crate::ScheduledId,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.lock().cancel_scheduled(sender, id, now)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<crate::ScheduledMessage>, ChatError> {
        Ok(self.lock().claim_due(now, limit, lease))
    }

    async fn finish_scheduled(&self, ids: &[crate::ScheduledId]) -> Result<(), ChatError> {
        self.lock().finish_scheduled(ids);
        Ok(())
    }

    async fn fail_scheduled(&self, id: crate::ScheduledId, reason: &str) -> Result<(), ChatError> {
        self.lock().fail_scheduled(id, reason);
        Ok(())
    }
}
