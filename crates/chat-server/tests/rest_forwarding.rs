//! Forwarding over REST, on PostgreSQL: copies into the caller's conversations with
//! `forwarded_from`, each a send the target's members read (and nothing else of the source's
//! conversation), refusals naming `conversationIds` or answering 404 that write nothing.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

async fn forward(app: &TestApp, user: i64, message: &Value, targets: Value) -> (u16, Value) {
    let path = format!("/api/chat/messages/{}/forward", message["id"]);
    call(
        app.as_user(user, Method::POST, &path)
            .json(&json!({ "conversationIds": targets })),
    )
    .await
}

async fn history(app: &TestApp, user: i64, conversation: &Value) -> Vec<Value> {
    let path = format!("/api/chat/conversations/{conversation}/messages");
    let (status, body) = call(app.as_user(user, Method::GET, &path)).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_forward_copies_the_message_into_each_conversation_named() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3, 4]).await;
    let original = app.send(1, 2, "launch at 9 🚀").await;
    let with_carol = app.send(2, 3, "hi carol").await["conversation_id"].clone();
    let with_dave = app.send(2, 4, "hi dave").await["conversation_id"].clone();
    // Alice reacts to the original: nothing of it travels with the copies.
    let react = format!("/api/chat/messages/{}/reactions/thumbsup", original["id"]);
    assert_eq!(call(app.as_user(1, Method::PUT, &react)).await.0, 200);

    let (status, body) = forward(
        &app,
        2,
        &original,
        json!([with_carol, with_dave.to_string(), with_carol]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "Message forwarded");
    let copies = body["data"].as_array().unwrap();
    assert_eq!(copies.len(), 2, "a repeated id counts once: {body}");
    let origin = json!({
        "messageId": original["id"],
        "conversationId": original["conversation_id"],
        "senderId": 1,
    });
    for (copy, conversation) in copies.iter().zip([&with_carol, &with_dave]) {
        assert_eq!(&copy["conversation_id"], conversation);
        assert_eq!(copy["sender_id"], 2);
        assert_eq!(copy["content"], "launch at 9 🚀");
        assert_eq!(copy["forwarded_from"], origin);
        assert!(copy.get("reactions").is_none(), "{copy}");
    }
    let carol_sees = history(&app, 3, &with_carol).await;
    assert_eq!(carol_sees[0]["forwarded_from"], origin);
    assert_eq!(carol_sees[0]["content"], "launch at 9 🚀");
    assert!(carol_sees[0].get("reactions").is_none());
}

#[tokio::test]
async fn a_refused_forward_says_why_and_sends_nothing() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let original = app.send(1, 2, "between alice and bob").await;
    let with_carol = app.send(2, 3, "hi carol").await["conversation_id"].clone();
    for (case, targets) in [
        ("empty", json!([])),
        ("not a list", json!(with_carol)),
        ("zero", json!([0])),
        ("letters", json!(["abc"])),
        ("too many", json!((1..=11).collect::<Vec<i64>>())),
    ] {
        let (status, body) = forward(&app, 2, &original, targets).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert_eq!(
            body["errors"][0]["field"], "conversationIds",
            "{case}: {body}"
        );
    }
    // Carol cannot see the original; Alice does not belong to Bob and Carol's conversation.
    assert_eq!(
        forward(&app, 3, &original, json!([with_carol])).await.0,
        404
    );
    let (status, body) = forward(
        &app,
        1,
        &original,
        json!([original["conversation_id"], with_carol]),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let path = "/api/chat/messages/987654321/forward";
    let (status, _) = call(
        app.as_user(2, Method::POST, path)
            .json(&json!({ "conversationIds": [with_carol] })),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        history(&app, 3, &with_carol).await.len(),
        1,
        "nothing forwarded"
    );
    assert_eq!(
        history(&app, 1, &original["conversation_id"]).await.len(),
        1,
        "not even into the conversation Alice may use"
    );
}
