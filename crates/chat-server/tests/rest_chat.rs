//! The seed's eight `/api/chat` endpoints, happy paths with the exact wire fields.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

const ALICE: i64 = 1;
const BOB: i64 = 2;

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_answers_201_with_the_seeds_message_record() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let (status, body) = call(
        app.as_user(ALICE, Method::POST, "/api/chat/send")
            .json(&json!({ "receiverId": BOB, "content": "Hello!", "attachmentUrl": "https://cdn.example.com/a.png" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Message sent successfully");
    let message = &body["data"];
    assert_eq!(
        keys(message),
        [
            "attachment_url",
            "content",
            "conversation_id",
            "createdAt",
            "id",
            "is_read",
            "read_at",
            "receiver",
            "receiver_id",
            "sender",
            "sender_id",
            "seq",
            "updatedAt",
        ]
    );
    assert_eq!(message["sender_id"], ALICE);
    assert_eq!(message["receiver_id"], BOB);
    assert_eq!(message["content"], "Hello!");
    assert_eq!(message["attachment_url"], "https://cdn.example.com/a.png");
    assert_eq!(message["is_read"], false);
    assert_eq!(message["read_at"], Value::Null);
    assert_eq!(message["seq"], 1);
    assert_eq!(
        message["sender"],
        json!({ "id": ALICE, "username": "user1" })
    );
    assert_eq!(
        message["receiver"],
        json!({ "id": BOB, "username": "user2" })
    );
    let created = message["createdAt"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == 24,
        "ISO-8601 with ms: {created}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_list_the_pair_with_the_seeds_fields() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    app.send(BOB, ALICE, "first").await;
    let (status, body) = call(app.as_user(ALICE, Method::GET, "/api/chat/conversations")).await;
    assert_eq!(status, 200, "{body}");
    let conversation = &body["data"]["conversations"][0];
    assert_eq!(
        keys(conversation),
        [
            "createdAt",
            "id",
            "last_message",
            "last_message_at",
            "last_seq",
            "participant1",
            "participant2",
            "participant_1_id",
            "participant_2_id",
            "updatedAt",
        ]
    );
    assert_eq!(conversation["participant_1_id"], ALICE);
    assert_eq!(conversation["participant_2_id"], BOB);
    assert_eq!(
        conversation["participant2"],
        json!({ "id": BOB, "username": "user2" })
    );
    assert_eq!(conversation["last_message"], "first");
    assert_eq!(
        body["data"]["pagination"],
        json!({ "total": 1, "page": 1, "limit": 20, "totalPages": 1 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_conversation_updates_unread_counts() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let first = app.send(ALICE, BOB, "one").await;
    app.send(ALICE, BOB, "two").await;
    let conversation = first["conversation_id"].as_i64().unwrap();

    let (_, count) = call(app.as_user(BOB, Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(
        count,
        json!({ "success": true, "data": { "unreadCount": 2 } })
    );
    let (_, per) = call(app.as_user(BOB, Method::GET, "/api/chat/unread")).await;
    assert_eq!(
        per["data"],
        json!([{ "conversation_id": conversation, "unread_count": 2 }])
    );

    let path = format!("/api/chat/conversations/{conversation}/read");
    let (status, read) = call(app.as_user(BOB, Method::PUT, &path)).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["data"], json!({ "updated": 2 }));
    let (_, count) = call(app.as_user(BOB, Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(count["data"]["unreadCount"], 0);
    let (_, per) = call(app.as_user(BOB, Method::GET, "/api/chat/unread")).await;
    assert_eq!(per["data"], json!([]));

    let path = format!("/api/chat/conversations/{conversation}/messages");
    let (_, history) = call(app.as_user(ALICE, Method::GET, &path)).await;
    let newest = &history["data"]["messages"][0];
    assert_eq!(
        (newest["content"].as_str(), newest["is_read"].as_bool()),
        (Some("two"), Some(true))
    );
    assert!(newest["read_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_over_25_messages_show_each_once() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let mut conversation = 0;
    for i in 1..=27 {
        conversation = app.send(ALICE, BOB, &format!("m{i}")).await["conversation_id"]
            .as_i64()
            .unwrap();
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let path = format!("/api/chat/conversations/{conversation}/messages?page={page}&limit=10");
        let (status, body) = call(app.as_user(BOB, Method::GET, &path)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["pagination"],
            json!({ "total": 27, "page": page, "limit": 10, "totalPages": 3 })
        );
        for m in body["data"]["messages"].as_array().unwrap() {
            seen.push(m["content"].as_str().unwrap().to_owned());
        }
    }
    let expected: Vec<String> = (1..=27).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);

    let path = format!("/api/chat/conversations/{conversation}/messages?before=5&limit=3");
    let (_, body) = call(app.as_user(BOB, Method::GET, &path)).await;
    let seqs: Vec<i64> = body["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 3, 2]);
    let path = format!("/api/chat/conversations/{conversation}/messages?after=25");
    let (_, body) = call(app.as_user(BOB, Method::GET, &path)).await;
    let seqs: Vec<i64> = body["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [27, 26]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ignores_case_and_matches_wildcards_literally() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let conversation = app.send(ALICE, BOB, "Hello THERE").await["conversation_id"]
        .as_i64()
        .unwrap();
    for text in ["100% done", "snake_case", "1000 done", "snakeXcase"] {
        app.send(BOB, ALICE, text).await;
    }
    let search = |q: &str| {
        let path = format!("/api/chat/conversations/{conversation}/search");
        let request = app.as_user(ALICE, Method::GET, &path).query(&[("q", q)]);
        async move {
            let (status, body) = call(request).await;
            assert_eq!(status, 200, "{body}");
            let found: Vec<String> = body["data"]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["content"].as_str().unwrap().to_owned())
                .collect();
            (body["data"]["pagination"]["total"].as_i64().unwrap(), found)
        }
    };
    assert_eq!(
        search("hello there").await,
        (1, vec!["Hello THERE".to_owned()])
    );
    assert_eq!(search("0%").await, (1, vec!["100% done".to_owned()]));
    assert_eq!(search("e_c").await, (1, vec!["snake_case".to_owned()]));
    assert_eq!(search("done").await.0, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_is_gone_from_history_search_and_unread() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    app.send(ALICE, BOB, "keep me").await;
    let doomed = app.send(ALICE, BOB, "delete me").await;
    let conversation = doomed["conversation_id"].as_i64().unwrap();
    let path = format!("/api/chat/messages/{}", doomed["id"]);

    let (status, _) = call(app.as_user(BOB, Method::DELETE, &path)).await;
    assert_eq!(status, 404, "only the sender deletes");
    let (status, body) = call(app.as_user(ALICE, Method::DELETE, &path)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "success": true, "message": "Message deleted successfully" })
    );
    let (status, _) = call(app.as_user(ALICE, Method::DELETE, &path)).await;
    assert_eq!(status, 404, "already deleted");

    let history = format!("/api/chat/conversations/{conversation}/messages");
    let (_, body) = call(app.as_user(BOB, Method::GET, &history)).await;
    let contents: Vec<&str> = body["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["keep me"]);
    assert_eq!(body["data"]["pagination"]["total"], 1);
    let search = format!("/api/chat/conversations/{conversation}/search?q=delete");
    let (_, body) = call(app.as_user(BOB, Method::GET, &search)).await;
    assert_eq!(body["data"]["pagination"]["total"], 0);
    let (_, count) = call(app.as_user(BOB, Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(count["data"]["unreadCount"], 1);
    let (_, list) = call(app.as_user(BOB, Method::GET, "/api/chat/conversations")).await;
    assert_eq!(list["data"]["conversations"][0]["last_message"], "keep me");
}
