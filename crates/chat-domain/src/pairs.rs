//! The direct conversations this process has seen, by pair, so that a send to a known pair
//! goes straight to the store's append without a lookup. Membership of a direct conversation
//! never changes, and the append checks it again anyway; names are refreshed by clearing the
//! cache whenever a profile may have changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{ConversationDetail, DirectPair};

/// Pairs remembered beyond this many start the cache over, bounding memory.
const MAX_PAIRS: usize = 100_000;

/// The cache; cheap to share.
#[derive(Debug, Default)]
pub(crate) struct PairCache {
    // A std Mutex: held for one map operation, never across an await.
    pairs: Mutex<HashMap<DirectPair, Arc<ConversationDetail>>>,
}

impl PairCache {
    pub(crate) fn get(&self, pair: DirectPair) -> Option<Arc<ConversationDetail>> {
        self.lock().get(&pair).cloned()
    }

    pub(crate) fn insert(&self, pair: DirectPair, conversation: Arc<ConversationDetail>) {
        let mut pairs = self.lock();
        if pairs.len() >= MAX_PAIRS {
            pairs.clear();
        }
        pairs.insert(pair, conversation);
    }

    pub(crate) fn forget(&self, pair: DirectPair) {
        self.lock().remove(&pair);
    }

    /// Forgets everything: a user's name may have changed.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DirectPair, Arc<ConversationDetail>>> {
        self.pairs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
