//! The host on real PostgreSQL: the example service run as a process, and the forwarder
//! filling what a full queue dropped from the database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use chat_domain::{Policy, SendMessage, UpsertUser, UserId, Username};
use chat_embed_example::{Forwarder, Host, QueueSink};
use chat_store_pg::test_support::TestDatabase;

/// Runs the example service against `url`; returns its JSON lines.
fn run_service(url: &str) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_chat-embed-example"))
        .env("DATABASE_URL", url)
        .output()
        .expect("start the example service");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(
        stderr.contains(&format!("forwarded {} events", lines.len())),
        "{stderr}"
    );
    lines
}

fn kinds(lines: &[serde_json::Value]) -> Vec<&str> {
    lines.iter().map(|l| l["kind"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_example_service_forwards_its_events_as_json_lines() {
    let db = TestDatabase::create().await;

    let lines = run_service(db.url());
    assert_eq!(
        kinds(&lines),
        [
            "message_sent",
            "message_sent",
            "message_sent",
            "messages_read"
        ]
    );
    let contents: Vec<&str> = lines[..3]
        .iter()
        .map(|l| l["event"]["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Welcome, alice!", "Welcome, bob!", "Hello Bob"]);
    let read = &lines[3];
    assert_eq!(read["event"]["user_id"], 3);
    assert_eq!(read["conversation_id"], lines[2]["conversation_id"]);
    assert_eq!(read["writer"], lines[2]["writer"]);
    assert_eq!(read["position"], lines[2]["position"].as_i64().unwrap() + 1);

    // Run again on the same database: the users and their welcomes are there already, so
    // only the new message and its receipt go out.
    let again = run_service(db.url());
    assert_eq!(kinds(&again), ["message_sent", "messages_read"]);
    assert_eq!(again[0]["event"]["message"]["seq"], 2);
}

#[tokio::test]
async fn the_forwarder_reads_what_a_full_queue_dropped_from_postgres() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let (sink, queue) = QueueSink::channel(1);
    let forwarder = Forwarder::new(store.clone(), queue).await.unwrap();
    let bot = UpsertUser {
        id: UserId(1),
        username: Username::parse("bot").unwrap(),
        display_name: None,
        avatar_url: None,
    };
    let host = Host::new(store, sink.clone(), Policy::default(), bot)
        .await
        .unwrap();
    for id in 2..=4 {
        let user = UpsertUser {
            id: UserId(id),
            username: Username::parse(format!("user{id}")).unwrap(),
            display_name: None,
            avatar_url: None,
        };
        host.sign_up(user).await.unwrap();
    }
    let send = SendMessage::parse(
        UserId(2),
        UserId(3),
        "between users".to_owned(),
        None,
        None,
        host.chat().limits(),
    )
    .unwrap();
    host.chat().send_message(send).await.unwrap();

    assert_eq!(sink.dropped(), 3, "the queue holds one event");
    drop((host, sink));
    let mut out = Vec::new();
    assert_eq!(forwarder.run(&mut out).await.unwrap(), 4);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut contents: Vec<&str> = lines
        .iter()
        .map(|l| l["event"]["message"]["content"].as_str().unwrap())
        .collect();
    contents.sort_unstable();
    assert_eq!(
        contents,
        [
            "Welcome, user2!",
            "Welcome, user3!",
            "Welcome, user4!",
            "between users"
        ]
    );
}
