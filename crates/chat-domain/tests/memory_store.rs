//! The store conformance suite on the in-memory store.

use chat_domain::memory::MemoryStore;

async fn fresh_store() -> (MemoryStore, ()) {
    (MemoryStore::new(), ())
}

chat_domain::store_conformance_tests!(fresh_store);
