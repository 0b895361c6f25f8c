//! `chat-server import-sequelize`: the Node service's tables, created as Sequelize creates
//! them in a database of their own, imported into the server's database by the real binary
//! (and by the library, to interrupt it between batches), then read through a server started
//! on the result.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ops::ControlFlow;
use std::process::Output;

use chat_store_pg::import::{BatchDone, ImportOptions, ImportProgress, Phase, import_sequelize};
use chat_store_pg::test_support::TestDatabase;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::Method;
use serde_json::{Value, json};
use support::{SECRET, TestApp, call};

const SCHEMA: &str = include_str!("fixtures/sequelize_schema.sql");
const ROWS: &str = include_str!("fixtures/sequelize_rows.sql");

/// The source URL's password: the test cluster trusts local connections, so it is accepted
/// and ignored, and it must never appear in what the import prints.
const PASSWORD: &str = "n0de-s3cret";

const ALICE: i64 = 1;
const BOB: i64 = 2;
const CAROL: i64 = 3;
const DAVE: i64 = 4;

/// The Node service's database, with the fixture's rows.
async fn node_database() -> TestDatabase {
    let db = TestDatabase::empty().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(SCHEMA).await.unwrap();
    conn.batch_execute(ROWS).await.unwrap();
    db
}

/// The database's URL with [`PASSWORD`] in it.
fn with_password(db: &TestDatabase) -> String {
    let url = db.url();
    let start = url.find("://").unwrap() + 3;
    let at = start + url[start..].find('@').unwrap();
    assert!(
        !url[start..at].contains(':'),
        "the test URL has no password"
    );
    format!("{}:{PASSWORD}{}", &url[..at], &url[at..])
}

/// Runs the real binary's import into `target` with `flags` after `--from`.
async fn import(source: &TestDatabase, target: &TestDatabase, flags: &[&str]) -> (String, Output) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .env_clear()
        .current_dir(std::env::temp_dir())
        .envs([("DATABASE_URL", target.url()), ("JWT_SECRET", SECRET)])
        .args(["import-sequelize", "--from", &with_password(source)])
        .args(flags)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password is never printed: {stdout}\n{stderr}"
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    (stdout, output)
}

#[derive(QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    json: String,
}

/// A query's JSON answer.
async fn query(db: &TestDatabase, sql: &str) -> Value {
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let row: Json = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
    serde_json::from_str(&row.json).unwrap()
}

/// Everything an import writes, and the next ids the server would take.
async fn dump(db: &TestDatabase) -> Value {
    query(
        db,
        "SELECT json_build_object(
           'users', (SELECT json_agg(u ORDER BY u.id) FROM
                      (SELECT id, username, username_key, display_name FROM chat.users) u),
           'conversations', (SELECT json_agg(c ORDER BY c.id) FROM
                      (SELECT id, kind, direct_user_low, direct_user_high, last_seq, message_count,
                              last_message_seq, last_message, last_message_at, created_at,
                              updated_at FROM chat.conversations) c),
           'members', (SELECT json_agg(m ORDER BY m.conversation_id, m.user_id)
                         FROM chat.conversation_members m),
           'messages', (SELECT json_agg(m ORDER BY m.id) FROM
                      (SELECT id, conversation_id, seq, sender_id, content, attachment_url,
                              deleted_at, created_at, updated_at FROM chat.messages) m),
           'events', (SELECT count(*) FROM chat.stream_events),
           'sequences', json_build_array(pg_sequence_last_value('chat.users_id_seq'),
                                         pg_sequence_last_value('chat.conversations_id_seq'),
                                         pg_sequence_last_value('chat.messages_id_seq'))
         )::text AS json",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_keeps_ids_orders_by_creation_and_reads_as_the_node_service_did() {
    let node = node_database().await;
    let target = TestDatabase::create().await;
    let (out, _) = import(&node, &target, &[]).await;
    for line in [
        "users: 7 imported, 0 already present, 0 skipped",
        "conversations: 4 imported, 0 already present, 2 skipped",
        "messages: 11 imported, 0 already present, 7 skipped",
        "read positions: 3 set",
        "1 users had no usable username in the source and are named user<id>",
        "skipped 1 conversation(s): the same user is in it twice (ids 12)",
        "skipped 1 conversation(s): its two users already have a conversation (one per pair) (ids 13)",
        "skipped 2 message(s): its conversation was skipped (ids 120, 130)",
        "skipped 1 message(s): content must not be empty (ids 106)",
        "skipped 1 message(s): content must be at most 5000 characters (ids 107)",
        "skipped 1 message(s): the sender is not a participant of its conversation (ids 108)",
        "skipped 1 message(s): attachmentUrl must be an absolute http(s) URL (ids 150)",
        "skipped 1 message(s): the receiver is not the other participant (ids 152)",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }

    let users = query(
        &target,
        "SELECT json_agg(json_build_array(id, username) ORDER BY id)::text AS json FROM chat.users",
    )
    .await;
    assert_eq!(
        users,
        json!([
            [1, "alice"],
            [2, "bob"],
            [3, "carol"],
            [4, "dave"],
            [5, "erin"],
            [6, "frank"],
            [7, "user7"]
        ]),
        "every user the rows name, the one only in a message too; a refused name is user<id>"
    );
    let messages = query(
        &target,
        "SELECT json_agg(json_build_array(id, conversation_id, seq, deleted_at IS NOT NULL)
                         ORDER BY conversation_id, seq)::text AS json FROM chat.messages",
    )
    .await;
    assert_eq!(
        messages,
        json!([
            [101, 10, 1, false],
            [102, 10, 2, false],
            [105, 10, 3, false],
            [103, 10, 4, true],
            [104, 10, 5, false],
            [109, 10, 6, false],
            [110, 10, 7, true],
            [111, 11, 1, false],
            [112, 11, 2, false],
            [113, 11, 3, false],
            [151, 15, 1, false]
        ]),
        "ids kept, seq by createdAt then id, deleted messages kept deleted"
    );
    let conversations = query(
        &target,
        "SELECT json_agg(json_build_array(id, kind, direct_user_low, direct_user_high, last_seq,
                                          message_count, last_message_seq, last_message)
                         ORDER BY id)::text AS json FROM chat.conversations",
    )
    .await;
    assert_eq!(
        conversations,
        json!([
            [10, "direct", 1, 2, 7, 5, 6, "unread for bob"],
            [11, "direct", 1, 3, 3, 3, 3, "again"],
            [14, "direct", 4, 5, 0, 0, null, null],
            [15, "direct", 4, 7, 1, 1, 1, "with a picture"]
        ])
    );
    let watermarks = query(
        &target,
        "SELECT json_agg(json_build_array(conversation_id, user_id, last_read_seq)
                         ORDER BY conversation_id, user_id)::text AS json
           FROM chat.conversation_members",
    )
    .await;
    assert_eq!(
        watermarks,
        json!([
            [10, 1, 2],
            [10, 2, 3],
            [11, 1, 1],
            [11, 3, 0],
            [14, 4, 0],
            [14, 5, 0],
            [15, 4, 0],
            [15, 7, 0]
        ]),
        "each member's watermark is the last message the seed marks read for them"
    );

    let app = TestApp::spawn_on(target, &[]).await;
    for (user, unread) in [(ALICE, 2), (BOB, 1), (CAROL, 1), (DAVE, 0)] {
        let (_, count) = call(app.as_user(user, Method::GET, "/api/chat/unread-count")).await;
        assert_eq!(count["data"]["unreadCount"], unread, "user {user}: {count}");
    }
    let (_, per) = call(app.as_user(ALICE, Method::GET, "/api/chat/unread")).await;
    let mut per: Vec<Value> = per["data"].as_array().unwrap().clone();
    per.sort_by_key(|c| c["conversation_id"].as_i64());
    assert_eq!(
        per,
        vec![
            json!({ "conversation_id": 10, "unread_count": 1 }),
            json!({ "conversation_id": 11, "unread_count": 1 })
        ]
    );
    let (_, history) = call(app.as_user(
        ALICE,
        Method::GET,
        "/api/chat/conversations/10/messages?limit=100",
    ))
    .await;
    let seen: Vec<(i64, i64)> = history["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["seq"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [(109, 6), (104, 5), (105, 3), (102, 2), (101, 1)],
        "newest first, without the deleted ones"
    );

    let sent = app.send(ALICE, BOB, "after the import").await;
    assert_eq!(
        (
            sent["id"].clone(),
            sent["seq"].clone(),
            sent["conversation_id"].clone()
        ),
        (json!(153), json!(8), json!(10)),
        "a fresh id after the imported ones, the conversation's next seq"
    );
    let first = app.send(ALICE, DAVE, "a new pair").await;
    assert_eq!(
        (first["conversation_id"].clone(), first["seq"].clone()),
        (json!(16), json!(1)),
        "a new conversation gets a fresh id too"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_changes_nothing_and_says_so() {
    let node = node_database().await;
    let target = TestDatabase::create().await;
    import(&node, &target, &[]).await;
    let before = dump(&target).await;
    let (out, _) = import(&node, &target, &[]).await;
    assert_eq!(dump(&target).await, before);
    for line in [
        "users: 0 imported, 7 already present, 0 skipped",
        "conversations: 0 imported, 4 already present, 2 skipped",
        "messages: 0 imported, 11 already present, 7 skipped",
        "read positions: 0 set",
        "Nothing to change: everything was already imported.",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_and_says_what_it_would_do() {
    let node = node_database().await;
    let target = TestDatabase::create().await;
    let before = dump(&target).await;
    let (out, _) = import(&node, &target, &["--dry-run"]).await;
    assert_eq!(dump(&target).await, before, "nothing written, no id taken");
    for line in [
        "Dry run: nothing was written.",
        "users: 7 would import, 0 already present, 0 skipped",
        "conversations: 4 would import, 0 already present, 2 skipped",
        "messages: 11 would import, 0 already present, 7 skipped",
        "read positions: 3 set",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    let (out, _) = import(&node, &target, &[]).await;
    assert!(
        out.contains("messages: 11 imported"),
        "the real run after it imports everything: {out}"
    );
}

/// Stops an import after the first batch that wrote something.
struct StopAfterAWrite {
    batches: usize,
}

impl ImportProgress for StopAfterAWrite {
    fn phase_started(&mut self, _: Phase, _: u64) {}

    fn batch_done(&mut self, batch: BatchDone) -> ControlFlow<()> {
        self.batches += 1;
        if batch.written > 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Lets an import run to its end.
struct Unhurried;

impl ImportProgress for Unhurried {
    fn phase_started(&mut self, _: Phase, _: u64) {}

    fn batch_done(&mut self, _: BatchDone) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_interrupted_after_each_batch_resumes_to_the_same_end_state() {
    let node = node_database().await;
    let whole = TestDatabase::create().await;
    let options = ImportOptions::default();
    let summary = import_sequelize(node.url(), &whole.config(), &options, &mut Unhurried)
        .await
        .unwrap();
    assert!(summary.complete && summary.changed());

    // Two rows a batch: conversation 10's messages span four batches, and every run stops
    // after the first batch that wrote.
    let resumed = TestDatabase::create().await;
    let options = ImportOptions {
        batch_size: 2,
        ..ImportOptions::default()
    };
    let mut interrupted = 0;
    loop {
        let mut stop = StopAfterAWrite { batches: 0 };
        let summary = import_sequelize(node.url(), &resumed.config(), &options, &mut stop)
            .await
            .unwrap();
        if summary.complete {
            assert!(
                !summary.changed(),
                "the run that completes has nothing left"
            );
            break;
        }
        interrupted += 1;
        assert!(interrupted < 50, "every run makes progress");
    }
    assert!(
        interrupted >= 10,
        "stopped after each writing batch ({interrupted} runs)"
    );
    assert_eq!(dump(&resumed).await, dump(&whole).await);
}
