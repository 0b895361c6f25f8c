//! Both searches read through their indexes on a large history: the seed's substring search
//! in a conversation of 100,000 messages, and full-text search across a user's conversations.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_domain::{Limits, SearchQuery, TextSearch};
use diesel::QueryDsl;
use diesel::pg::Pg;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::messages::substring_query;
use crate::plans::plan;
use crate::search::search_sql;
use crate::test_support::TestDatabase;

/// 1,000 users; user 1 talks with each of the others (20 messages each), and with user 2 in a
/// conversation of 100,000 messages. Words are numbers and hex digests, so that any one
/// of them is rare; "zebra" is in 3 messages of the long conversation.
const HISTORY: &str = "
INSERT INTO users (id, username) SELECT g, 'u' || g FROM generate_series(1, 1000) g;
INSERT INTO conversations (id, kind, direct_user_low, direct_user_high, last_seq, message_count)
     OVERRIDING SYSTEM VALUE
     SELECT g, 'direct', 1, g + 1, 20, 20 FROM generate_series(1, 999) g;
INSERT INTO conversation_members (conversation_id, user_id)
     SELECT id, direct_user_low FROM conversations
     UNION ALL SELECT id, direct_user_high FROM conversations;
INSERT INTO messages (conversation_id, seq, sender_id, content)
     SELECT c.id, s, c.direct_user_high, 'note ' || s || ' ' || md5(c.id || '.' || s)
       FROM conversations c, generate_series(1, 20) s WHERE c.id > 1;
INSERT INTO messages (conversation_id, seq, sender_id, content)
     SELECT 1, s, 1 + s % 2,
            CASE WHEN s % 33333 = 0 THEN 'a zebra, at last' ELSE 'line ' || s || ' ' || md5(s::text) END
       FROM generate_series(1, 100000) s;
ANALYZE;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_use_their_indexes_on_a_large_history() {
    let db = TestDatabase::create().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute("SET search_path TO chat").await.unwrap();
    conn.batch_execute(HISTORY).await.unwrap();

    let substring = substring_query(1, 1, "%zebra%".to_owned()).count();
    let shown = diesel::debug_query::<Pg, _>(&substring).to_string();
    let (sql, _) = shown.split_once(" -- binds: ").unwrap();
    let sql = sql
        .replace("$1", "1")
        .replace("$2", "'%zebra%'")
        .replace("$3", "'\\'")
        .replace("$4", "1")
        .replace("$5", "1");
    let substring_plan = plan(&mut conn, &sql).await;
    println!("-- substring search\n{substring_plan}\n");
    assert!(
        substring_plan.contains("messages_content_trgm_idx"),
        "the substring search does not read the trigram index:\n{substring_plan}"
    );

    let search = TextSearch {
        query: SearchQuery::parse("zebra", &Limits::default()).unwrap(),
        conversation: None,
        sender: None,
        before: None,
        after: None,
        cursor: None,
        limit: 20,
    };
    let sql = search_sql("simple", &search)
        .replace("$1", "'zebra'")
        .replace("$2", "1")
        .replace("$3", "''")
        .replace("$4", "20");
    let text_plan = plan(&mut conn, &sql).await;
    println!("-- text search\n{text_plan}\n");
    assert!(
        text_plan.contains("messages_search_simple_idx"),
        "full-text search does not read its index:\n{text_plan}"
    );
    assert!(!text_plan.contains("Seq Scan on messages"), "{text_plan}");
}
