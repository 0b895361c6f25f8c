//! The store conformance suite on PostgreSQL: the same test bodies as the in-memory store, each
//! on a fresh database.

use chat_store_pg::PgStore;
use chat_store_pg::test_support::TestDatabase;

async fn fresh_store() -> (PgStore, TestDatabase) {
    let db = TestDatabase::create().await;
    (db.store().await, db)
}

chat_domain::store_conformance_tests!(fresh_store);
