//! A third user who is not a member learns nothing: for every scoped endpoint Carol gets
//! exactly the answer a missing id gets, her own lists stay empty, and her attempts change
//! nothing for Alice and Bob.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use support::{TestApp, call};

const ALICE: i64 = 1;
const BOB: i64 = 2;
const CAROL: i64 = 3;

/// An id that no conversation or message has.
const MISSING: i64 = 999_999;

/// Alice and Bob talking; Carol is a real user who is not part of it.
struct Scene {
    app: TestApp,
    conversation: i64,
    /// The id of a message Alice sent.
    alices_message: i64,
}

async fn alice_and_bob_talk_while_carol_watches() -> Scene {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB, CAROL]).await;
    // Bob speaks first: a send moves the sender's own read watermark, so Alice's two
    // messages after it stay unread for Bob.
    app.send(BOB, ALICE, "anything new?").await;
    let alices = app.send(ALICE, BOB, "the secret plan").await;
    app.send(ALICE, BOB, "the plan is secret").await;
    Scene {
        conversation: alices["conversation_id"].as_i64().unwrap(),
        alices_message: alices["id"].as_i64().unwrap(),
        app,
    }
}

/// Status and the exact body text, so that two answers can be compared byte for byte.
async fn call_raw(request: RequestBuilder) -> (u16, String) {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Asserts that `caller` asking for `real` gets exactly what asking for `missing` gets: a 404
/// in the error envelope with `message`, byte-identical to the missing id's answer.
async fn assert_same_as_missing(
    app: &TestApp,
    endpoint: &str,
    (caller, method, real, missing): (i64, Method, &str, &str),
    message: &str,
) {
    let (status, body) = call_raw(app.as_user(caller, method.clone(), real)).await;
    let (missing_status, missing_body) = call_raw(app.as_user(caller, method, missing)).await;
    assert_eq!(
        missing_status, 404,
        "{endpoint} for a missing id: {missing_body}"
    );
    assert_eq!(status, 404, "{endpoint} for user {caller}: {body}");
    assert_eq!(
        body, missing_body,
        "{endpoint}: user {caller}'s answer differs from a missing id's"
    );
    let parsed: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{endpoint}: body is not JSON ({e}): {body}"));
    assert_eq!(
        parsed,
        json!({ "success": false, "message": message, "code": "not_found" }),
        "{endpoint}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conversation_endpoint_answers_an_outsider_as_for_a_missing_conversation() {
    let scene = alice_and_bob_talk_while_carol_watches().await;
    let endpoints = [
        ("GET messages", Method::GET, "messages"),
        ("GET messages?before=", Method::GET, "messages?before=3"),
        ("GET messages?after=", Method::GET, "messages?after=1"),
        (
            "GET messages?page=",
            Method::GET,
            "messages?page=1&limit=10",
        ),
        ("PUT read", Method::PUT, "read"),
        ("GET search", Method::GET, "search?q=secret"),
    ];
    for (endpoint, method, tail) in endpoints {
        let real = format!("/api/chat/conversations/{}/{tail}", scene.conversation);
        let missing = format!("/api/chat/conversations/{MISSING}/{tail}");
        assert_same_as_missing(
            &scene.app,
            endpoint,
            (CAROL, method, &real, &missing),
            "Conversation not found",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_someone_elses_message_answers_as_for_a_missing_message() {
    let scene = alice_and_bob_talk_while_carol_watches().await;
    let real = format!("/api/chat/messages/{}", scene.alices_message);
    let missing = format!("/api/chat/messages/{MISSING}");
    for (endpoint, caller) in [
        ("DELETE Alice's message as Carol", CAROL),
        ("DELETE Alice's message as Bob", BOB),
    ] {
        assert_same_as_missing(
            &scene.app,
            endpoint,
            (caller, Method::DELETE, &real, &missing),
            "Message not found",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsiders_own_lists_show_nothing_of_others_conversations() {
    let scene = alice_and_bob_talk_while_carol_watches().await;
    let app = &scene.app;

    let (status, list) = call(app.as_user(CAROL, Method::GET, "/api/chat/conversations")).await;
    assert_eq!(status, 200, "GET /conversations: {list}");
    assert_eq!(
        list["data"],
        json!({
            "conversations": [],
            "pagination": { "total": 0, "page": 1, "limit": 20, "totalPages": 0 },
        }),
        "GET /conversations"
    );

    let (status, count) = call(app.as_user(CAROL, Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(status, 200, "GET /unread-count: {count}");
    assert_eq!(
        count["data"],
        json!({ "unreadCount": 0 }),
        "GET /unread-count"
    );

    let (status, unread) = call(app.as_user(CAROL, Method::GET, "/api/chat/unread")).await;
    assert_eq!(status, 200, "GET /unread: {unread}");
    assert_eq!(unread["data"], json!([]), "GET /unread");
}

/// What Alice and Bob see of their conversation: history, unread counts and lists.
async fn members_view(scene: &Scene) -> Value {
    let app = &scene.app;
    let history = format!("/api/chat/conversations/{}/messages", scene.conversation);
    let mut view = serde_json::Map::new();
    for user in [ALICE, BOB] {
        let mut seen = serde_json::Map::new();
        for path in [
            history.as_str(),
            "/api/chat/conversations",
            "/api/chat/unread-count",
            "/api/chat/unread",
        ] {
            let (status, body) = call(app.as_user(user, Method::GET, path)).await;
            assert_eq!(status, 200, "user {user} GET {path}: {body}");
            seen.insert(path.to_owned(), body["data"].clone());
        }
        view.insert(format!("user{user}"), Value::Object(seen));
    }
    Value::Object(view)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsiders_attempts_change_nothing_for_the_members() {
    let scene = alice_and_bob_talk_while_carol_watches().await;
    let app = &scene.app;
    let before = members_view(&scene).await;
    assert_eq!(
        before["user2"]["/api/chat/unread-count"]["unreadCount"], 2,
        "Bob has two unread messages to start with"
    );

    let conversation = format!("/api/chat/conversations/{}", scene.conversation);
    let message = format!("/api/chat/messages/{}", scene.alices_message);
    let attempts = [
        (CAROL, Method::PUT, format!("{conversation}/read")),
        (CAROL, Method::DELETE, message.clone()),
        (BOB, Method::DELETE, message),
        (CAROL, Method::GET, format!("{conversation}/messages")),
        (CAROL, Method::GET, format!("{conversation}/search?q=plan")),
    ];
    for (caller, method, path) in attempts {
        let (status, body) = call(app.as_user(caller, method.clone(), &path)).await;
        assert_eq!(status, 404, "user {caller} {method} {path}: {body}");
    }

    let after = members_view(&scene).await;
    assert_eq!(
        after["user2"]["/api/chat/unread-count"], before["user2"]["/api/chat/unread-count"],
        "Carol's PUT read marked nothing of Bob's as read"
    );
    let history = format!("{conversation}/messages");
    let still_there = after["user1"][history.as_str()]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == scene.alices_message);
    assert!(still_there, "Alice's message survived the deletes: {after}");
    assert_eq!(
        after, before,
        "the members see exactly what they saw before"
    );
}
