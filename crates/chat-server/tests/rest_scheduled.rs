//! Scheduled messages over REST and Socket.IO, on PostgreSQL: scheduling with `sendAt`, the
//! sender's list, edit and cancel, refusals, delivery at the time as `new_message`; across a
//! SIGKILL of the server between scheduling and `sendAt`; and two nodes on one database
//! sending each scheduled message once.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use chat_store_pg::test_support::TestDatabase;
use chrono::{SecondsFormat, TimeDelta, Utc};
use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::binary::{signal, start_binary};
use support::ws::{connected_socket, next_text};
use support::{TestApp, call, token};
use tokio_tungstenite::tungstenite::Message;

/// The bound on waiting for scheduled messages to go out (only a failure waits this long).
const PATIENCE: Duration = Duration::from_secs(30);

fn in_ms(ms: i64) -> String {
    (Utc::now() + TimeDelta::milliseconds(ms)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn schedule(app: &TestApp, from: i64, body: Value) -> (u16, Value) {
    call(
        app.as_user(from, Method::POST, "/api/chat/send")
            .json(&body),
    )
    .await
}

async fn scheduled_of(app: &TestApp, user: i64) -> Vec<Value> {
    let (status, body) = call(app.as_user(user, Method::GET, "/api/chat/scheduled")).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["scheduled"].as_array().unwrap().clone()
}

/// The texts of a conversation over REST at `base`, oldest first (every page).
async fn texts_at(
    client: &reqwest::Client,
    base: &str,
    user: i64,
    conversation: i64,
) -> Vec<String> {
    let mut texts: Vec<String> = Vec::new();
    for page in 1.. {
        let url =
            format!("{base}/api/chat/conversations/{conversation}/messages?limit=100&page={page}");
        let (status, body) = call(client.get(url).bearer_auth(token(user))).await;
        assert_eq!(status, 200, "{body}");
        let messages = body["data"]["messages"].as_array().unwrap();
        texts.extend(
            messages
                .iter()
                .map(|m| m["content"].as_str().unwrap().to_owned()),
        );
        if messages.len() < 100 {
            break;
        }
    }
    texts.reverse();
    texts
}

/// Waits until the conversation holds `count` messages (bounded by [`PATIENCE`]).
async fn until_count(
    client: &reqwest::Client,
    base: &str,
    user: i64,
    conversation: i64,
    count: usize,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let texts = texts_at(client, base, user, conversation).await;
        if texts.len() >= count || tokio::time::Instant::now() > deadline {
            return texts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn scheduled_sends_are_listed_edited_cancelled_and_delivered_at_their_time() {
    let app = TestApp::spawn_with(&[("CHAT_SCHEDULE_POLL_MS", "50")]).await;
    app.users(&[1, 2]).await;
    let hello = app.send(1, 2, "hello").await;
    let conversation = hello["conversation_id"].as_i64().unwrap();

    let (status, body) = schedule(
        &app,
        1,
        json!({ "receiverId": 2, "content": "see you soon", "sendAt": in_ms(1_500) }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "Message scheduled");
    let soon = body["data"].clone();
    assert_eq!(soon["status"], "scheduled");
    assert_eq!(soon["receiver_id"], 2);
    assert_eq!(soon["clientMessageId"], format!("scheduled:{}", soon["id"]));
    let path = format!("/api/chat/conversations/{conversation}/messages");
    let (status, body) = call(
        app.as_user(2, Method::POST, &path)
            .json(&json!({ "content": "a reply, later", "sendAt": in_ms(3_600_000) })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let later = body["data"].clone();
    assert_eq!(later["conversation_id"], conversation);

    // The sender's alone, soonest first.
    assert_eq!(scheduled_of(&app, 1).await, std::slice::from_ref(&soon));
    assert_eq!(scheduled_of(&app, 2).await, std::slice::from_ref(&later));
    assert_eq!(
        texts_at(&app.client, &app.address, 2, conversation).await,
        ["hello"]
    );

    // Edit and cancel: only one's own.
    let edit = format!("/api/chat/scheduled/{}", soon["id"]);
    let (status, body) = call(
        app.as_user(1, Method::PATCH, &edit)
            .json(&json!({ "content": "see you very soon" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["content"], "see you very soon");
    let (status, _) = call(
        app.as_user(2, Method::PATCH, &edit)
            .json(&json!({ "content": "hijacked" })),
    )
    .await;
    assert_eq!(status, 404);
    let cancel = format!("/api/chat/scheduled/{}", later["id"]);
    assert_eq!(call(app.as_user(1, Method::DELETE, &cancel)).await.0, 404);
    assert_eq!(call(app.as_user(2, Method::DELETE, &cancel)).await.0, 200);
    assert_eq!(call(app.as_user(2, Method::DELETE, &cancel)).await.0, 404);
    assert!(scheduled_of(&app, 2).await.is_empty());

    // Refusals name their field.
    for (body, field) in [
        (
            json!({ "receiverId": 2, "content": "x", "sendAt": in_ms(-1_000) }),
            "sendAt",
        ),
        (
            json!({ "receiverId": 2, "content": "x", "sendAt": "tomorrow" }),
            "sendAt",
        ),
        (
            json!({ "receiverId": 2, "content": "x", "sendAt": 5 }),
            "sendAt",
        ),
        (
            json!({ "receiverId": 2, "content": "x", "sendAt": in_ms(366 * 86_400_000) }),
            "sendAt",
        ),
        (
            json!({ "receiverId": 2, "content": "", "sendAt": in_ms(60_000) }),
            "content",
        ),
        (
            json!({ "receiverId": 2, "content": "x", "clientMessageId": "scheduled:1" }),
            "clientMessageId",
        ),
    ] {
        let (status, answer) = schedule(&app, 1, body.clone()).await;
        let named = answer["errors"][0]["field"].as_str();
        assert_eq!((status, named), (400, Some(field)), "{body}: {answer}");
    }
    let (status, body) = call(app.as_user(1, Method::PATCH, &edit).json(&json!({}))).await;
    assert_eq!(status, 400, "{body}");

    // At its time it is sent like any message, to the receiver's socket too.
    let mut socket = connected_socket(&app, 2).await;
    socket
        .send(Message::text(format!(
            "42{}",
            json!(["join_conversation", { "conversationId": conversation }])
        )))
        .await
        .unwrap();
    let delivered = loop {
        let frame = next_text(&mut socket).await;
        if let Some(event) = frame.strip_prefix("42") {
            let event: Value = serde_json::from_str(event).unwrap();
            if event[0] == "new_message" {
                break event[1].clone();
            }
        }
    };
    assert_eq!(delivered["content"], "see you very soon");
    assert_eq!(delivered["sender_id"], 1);
    assert_eq!(delivered["clientMessageId"], soon["clientMessageId"]);
    assert_eq!(delivered["seq"], 2);
    assert!(scheduled_of(&app, 1).await.is_empty());
    assert_eq!(
        texts_at(&app.client, &app.address, 2, conversation).await,
        ["hello", "see you very soon"]
    );
    assert_eq!(
        call(
            app.as_user(1, Method::PATCH, &edit)
                .json(&json!({ "content": "late" }))
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn a_socket_send_with_send_at_is_scheduled_and_acknowledged() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2]).await;
    let mut socket = connected_socket(&app, 1).await;
    let send_at = in_ms(3_600_000);
    socket
        .send(Message::text(format!(
            "421{}",
            json!(["send_message", { "receiverId": 2, "content": "tomorrow", "sendAt": send_at }])
        )))
        .await
        .unwrap();
    let ack = loop {
        let frame = next_text(&mut socket).await;
        if let Some(ack) = frame.strip_prefix("431") {
            break serde_json::from_str::<Value>(ack).unwrap()[0].clone();
        }
    };
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["data"]["status"], "scheduled");
    assert_eq!(ack["data"]["sendAt"], send_at);
    assert_eq!(scheduled_of(&app, 1).await.len(), 1);
}

#[tokio::test]
async fn scheduled_messages_survive_a_kill_and_go_out_once_after_the_restart() {
    let db = TestDatabase::create().await;
    let fast = [("CHAT_SCHEDULE_POLL_MS", "50")];
    let (first, port) = start_binary(&db, &fast).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let send = |from: i64, body: Value| {
        call(
            client
                .post(format!("{base}/api/chat/send"))
                .bearer_auth(token(from))
                .json(&body),
        )
    };
    for user in [1, 2] {
        let me = client
            .get(format!("{base}/api/users/me"))
            .bearer_auth(token(user));
        assert_eq!(call(me).await.0, 200, "user {user} is provisioned");
    }
    let (status, hello) = send(1, json!({ "receiverId": 2, "content": "hello" })).await;
    assert_eq!(status, 201, "{hello}");
    let conversation = hello["data"]["conversation_id"].as_i64().unwrap();
    for i in 0..3 {
        let body =
            json!({ "receiverId": 2, "content": format!("later {i}"), "sendAt": in_ms(2_000) });
        assert_eq!(send(1, body).await.0, 201);
    }
    signal(&first, "KILL");
    drop(first);

    let (_second, port) = start_binary(&db, &fast).await;
    let base = format!("http://127.0.0.1:{port}");
    let texts = until_count(&client, &base, 2, conversation, 4).await;
    assert_eq!(texts[0], "hello");
    let mut rest = texts[1..].to_vec();
    rest.sort();
    assert_eq!(rest, ["later 0", "later 1", "later 2"]);
    let (_, list) = call(
        client
            .get(format!("{base}/api/chat/scheduled"))
            .bearer_auth(token(1)),
    )
    .await;
    assert_eq!(list["data"]["scheduled"], json!([]));
}

#[tokio::test]
async fn two_nodes_send_each_scheduled_message_once() {
    // Small batches and short pauses, so that the two nodes' claims interleave.
    let settings = [
        ("CHAT_SCHEDULE_POLL_MS", "20"),
        ("CHAT_SCHEDULE_BATCH", "7"),
    ];
    let one = TestApp::spawn_with(&settings).await;
    let url = one.db.url().to_owned();
    let mut shared = settings.to_vec();
    shared.push(("DATABASE_URL", &url));
    let two = TestApp::spawn_with(&shared).await;
    one.users(&[1, 2, 3]).await;
    let hello = one.send(1, 2, "hello").await;
    let conversation = hello["conversation_id"].as_i64().unwrap();
    let path = format!("/api/chat/conversations/{conversation}/messages");
    let send_at = in_ms(1_500);
    let mut expected = Vec::new();
    for i in 0..120 {
        let (node, sender) = if i % 2 == 0 { (&one, 1) } else { (&two, 2) };
        let content = format!("m{i:03}");
        let (status, body) = call(
            node.as_user(sender, Method::POST, &path)
                .json(&json!({ "content": content, "sendAt": send_at })),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        expected.push(content);
    }
    let texts = until_count(&one.client, &one.address, 1, conversation, 121).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for text in &texts {
        *counts.entry(text.as_str()).or_default() += 1;
    }
    assert!(counts.values().all(|n| *n == 1), "sent twice: {counts:?}");
    let mut sent: Vec<String> = texts[1..].to_vec();
    sent.sort();
    assert_eq!(sent, expected);
    assert!(scheduled_of(&one, 1).await.is_empty());
    assert!(scheduled_of(&two, 2).await.is_empty());
}
