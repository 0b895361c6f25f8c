//! Schema invariants: migrations are reversible, and every foreign key is served by an index.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_store_pg::MIGRATIONS;
use chat_store_pg::test_support::TestDatabase;
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

async fn lines(url: &str, sql: &str) -> Vec<String> {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Line> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    let mut lines: Vec<String> = rows.into_iter().map(|r| r.line).collect();
    lines.sort();
    lines
}

/// Columns, indexes and constraints of the chat schema, one line each.
async fn schema_snapshot(url: &str) -> Vec<String> {
    lines(
        url,
        "SELECT format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type,
                       is_nullable, coalesce(column_default, '-')) AS line
           FROM information_schema.columns WHERE table_schema = 'chat'
         UNION ALL
         SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'chat'
         UNION ALL
         SELECT format('constraint %s %s', conname, pg_get_constraintdef(oid))
           FROM pg_constraint WHERE connamespace = 'chat'::regnamespace",
    )
    .await
}

/// Runs a synchronous migration step on a connection working in the chat schema.
async fn with_harness<T: Send + 'static>(
    url: &str,
    step: impl FnOnce(&mut AsyncConnectionWrapper<AsyncPgConnection>) -> T + Send + 'static,
) -> T {
    let conn = AsyncPgConnection::establish(url).await.unwrap();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        conn.batch_execute("SET search_path TO chat").unwrap();
        step(&mut conn)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_down_and_up_again_to_the_same_schema() {
    let db = TestDatabase::create().await;
    let migrated = schema_snapshot(db.url()).await;
    assert!(
        migrated
            .iter()
            .any(|l| l.starts_with("column messages.seq"))
    );

    with_harness(db.url(), |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(|v| v.len())
            .unwrap()
    })
    .await;
    let reverted = schema_snapshot(db.url()).await;
    assert!(
        reverted
            .iter()
            .all(|l| l.contains("__diesel_schema_migrations")),
        "down migrations left objects behind: {reverted:#?}"
    );

    with_harness(db.url(), |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|v| v.len())
            .unwrap()
    })
    .await;
    assert_eq!(schema_snapshot(db.url()).await, migrated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_foreign_key_is_served_by_an_index() {
    let db = TestDatabase::create().await;
    let unindexed = lines(
        db.url(),
        "SELECT format('%s %s', c.conrelid::regclass, c.conname) AS line
           FROM pg_constraint c
          WHERE c.contype = 'f' AND c.connamespace = 'chat'::regnamespace
            AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                 WHERE i.indrelid = c.conrelid
                   AND array_to_string((i.indkey::int2[])[0:cardinality(c.conkey) - 1], ',')
                       = array_to_string(c.conkey, ','))",
    )
    .await;
    assert!(
        unindexed.is_empty(),
        "foreign keys without an index: {unindexed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_tables_live_in_their_own_schema() {
    let db = TestDatabase::create().await;
    let public = lines(
        db.url(),
        "SELECT table_name::text AS line FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await;
    assert!(public.is_empty(), "tables leaked into public: {public:?}");
    let chat = lines(
        db.url(),
        "SELECT table_name::text AS line FROM information_schema.tables WHERE table_schema = 'chat'",
    )
    .await;
    for table in ["conversation_members", "conversations", "messages", "users"] {
        assert!(chat.iter().any(|t| t == table), "missing chat.{table}");
    }
}
