//! What the server acknowledged survives SIGKILL: concurrent senders keep the group commit's
//! batches full, the process is killed while sends are in flight, and every message that got
//! its 201 must then be in PostgreSQL.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chat_store_pg::test_support::TestDatabase;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use tokio::sync::Notify;

use support::binary::{signal, start_binary};
use support::token;

/// Senders, in pairs that write to each other.
const CLIENTS: i64 = 16;
/// Acknowledged sends after which the server is killed.
const KILL_AFTER: usize = 300;
/// The most sends one client makes, so that the test ends even if the kill never lands.
const MAX_SENDS_PER_CLIENT: usize = 1_000;

#[derive(QueryableByName)]
struct StoredId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Sends back to back until the server stops answering; returns the ids it acknowledged.
async fn send_until_refused(
    base: String,
    from: i64,
    acked: Arc<AtomicUsize>,
    kill: Arc<Notify>,
) -> Vec<i64> {
    let client = reqwest::Client::new();
    let to = if from % 2 == 0 { from - 1 } else { from + 1 };
    let mut ids = Vec::new();
    for n in 0..MAX_SENDS_PER_CLIENT {
        let sent = client
            .post(format!("{base}/api/chat/send"))
            .bearer_auth(token(from))
            .json(&json!({ "receiverId": to, "content": format!("{from}-{n}") }))
            .send()
            .await;
        let Ok(response) = sent else { break };
        if response.status() != 201 {
            break;
        }
        let Ok(body) = response.json::<serde_json::Value>().await else {
            break;
        };
        ids.push(
            body["data"]["id"]
                .as_i64()
                .expect("a 201 carries the message id"),
        );
        if acked.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
            kill.notify_one();
        }
    }
    // A sender that stops early (the server refused it) ends the wait too; the count of
    // acknowledged sends then tells what happened.
    kill.notify_one();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_send_is_stored_when_the_server_is_killed_mid_load() {
    let db = TestDatabase::create().await;
    let (mut child, port) = start_binary(
        &db,
        &[
            ("CHAT_SEND_RATE_PER_SEC", "100000"),
            ("CHAT_SEND_BURST", "100000"),
        ],
    )
    .await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for id in 1..=CLIENTS {
        let me = client
            .get(format!("{base}/api/users/me"))
            .bearer_auth(token(id))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
    }

    let acked = Arc::new(AtomicUsize::new(0));
    let kill = Arc::new(Notify::new());
    let senders: Vec<_> = (1..=CLIENTS)
        .map(|from| {
            tokio::spawn(send_until_refused(
                base.clone(),
                from,
                Arc::clone(&acked),
                Arc::clone(&kill),
            ))
        })
        .collect();
    kill.notified().await;
    signal(&child, "KILL");
    child.wait().await.unwrap();
    let mut acknowledged = BTreeSet::new();
    for sender in senders {
        acknowledged.extend(sender.await.unwrap());
    }
    assert!(acknowledged.len() >= KILL_AFTER, "{}", acknowledged.len());

    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let stored: BTreeSet<i64> = diesel::sql_query("SELECT id FROM chat.messages")
        .load::<StoredId>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    let missing: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged sends are not stored: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
}
