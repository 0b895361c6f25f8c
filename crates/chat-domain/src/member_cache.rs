//! The conversations this process has sent into by id, with their members, so that a send to
//! a known conversation goes straight to the store's append without a lookup. The append
//! checks the sender's membership again; the member list (whom a message is announced to) is
//! forgotten whenever this process changes a group's members, and when names may have changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{ConversationDetail, ConversationId};

/// Conversations remembered beyond this many start the cache over, bounding memory.
const MAX_CONVERSATIONS: usize = 100_000;

/// The cache; cheap to share.
#[derive(Debug, Default)]
pub(crate) struct MemberCache {
    // A std Mutex: held for one map operation, never across an await.
    conversations: Mutex<HashMap<ConversationId, Arc<ConversationDetail>>>,
}

impl MemberCache {
    pub(crate) fn get(&self, id: ConversationId) -> Option<Arc<ConversationDetail>> {
        self.lock().get(&id).cloned()
    }

    pub(crate) fn insert(&self, id: ConversationId, conversation: Arc<ConversationDetail>) {
        let mut conversations = self.lock();
        if conversations.len() >= MAX_CONVERSATIONS {
            conversations.clear();
        }
        conversations.insert(id, conversation);
    }

    pub(crate) fn forget(&self, id: ConversationId) {
        self.lock().remove(&id);
    }

    /// Forgets everything: a user's name may have changed.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, Arc<ConversationDetail>>> {
        self.conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
