//! Conversations this process has sent into, with their members, so that a send to a known
//! destination goes straight to the store's append without a lookup: by pair for direct sends
//! ([`PairCache`]), by id for sends into a conversation ([`MemberCache`]). The append checks
//! the sender's membership again; a member list (whom a message is announced to) is forgotten
//! whenever this process changes a group's members, or hears from its cluster's bus that
//! another node did ([`ChatService::observe_remote`](crate::ChatService::observe_remote)), and
//! both are cleared whenever a profile may have changed here (names).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{ConversationDetail, ConversationId, DirectPair};

/// Entries remembered beyond this many start the cache over, bounding memory.
const MAX_ENTRIES: usize = 100_000;

/// Direct conversations by pair: a direct conversation's members never change.
pub(crate) type PairCache = DetailCache<DirectPair>;

/// Conversations by id, forgotten when their members change.
pub(crate) type MemberCache = DetailCache<ConversationId>;

/// The cache; cheap to share.
#[derive(Debug)]
pub(crate) struct DetailCache<K> {
    // A std Mutex: held for one map operation, never across an await.
    entries: Mutex<HashMap<K, Arc<ConversationDetail>>>,
}

impl<K> Default for DetailCache<K> {
    fn default() -> Self {
        DetailCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash> DetailCache<K> {
    pub(crate) fn get(&self, key: &K) -> Option<Arc<ConversationDetail>> {
        self.lock().get(key).cloned()
    }

    pub(crate) fn insert(&self, key: K, conversation: Arc<ConversationDetail>) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, conversation);
    }

    pub(crate) fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Forgets everything: a user's name may have changed.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Arc<ConversationDetail>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
