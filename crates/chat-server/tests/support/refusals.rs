//! Helpers for the bad-input tests: the refusal envelope, and proof that nothing was written.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::{TestApp, call};

pub(crate) const ALICE: i64 = 1;
pub(crate) const BOB: i64 = 2;

/// Asserts a 400 in the error envelope with code `invalid_input`, naming `field` when given.
pub(crate) fn assert_invalid(case: &str, (status, body): &(u16, Value), field: Option<&str>) {
    assert_eq!(*status, 400, "{case}: {body}");
    assert_eq!(body["success"], false, "{case}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{case}: a message for a person: {body}"
    );
    assert_eq!(body["code"], "invalid_input", "{case}: {body}");
    if let Some(field) = field {
        assert_eq!(body["errors"][0]["field"], field, "{case}: {body}");
    }
}

/// `POST /api/chat/send` from Alice with a JSON body.
pub(crate) async fn send_json(app: &TestApp, body: &Value) -> (u16, Value) {
    call(
        app.as_user(ALICE, Method::POST, "/api/chat/send")
            .json(body),
    )
    .await
}

/// `POST /api/chat/send` from Alice with a raw body of the given content type.
pub(crate) async fn send_raw(
    app: &TestApp,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = app
        .as_user(ALICE, Method::POST, "/api/chat/send")
        .body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    call(request).await
}

/// Asserts that neither Alice nor Bob has a conversation or an unread message.
pub(crate) async fn assert_nothing_written(app: &TestApp) {
    for user in [ALICE, BOB] {
        let (_, list) = call(app.as_user(user, Method::GET, "/api/chat/conversations")).await;
        assert_eq!(
            list["data"]["pagination"]["total"], 0,
            "user {user} has no conversation: {list}"
        );
        assert_eq!(list["data"]["conversations"], json!([]), "user {user}");
        let (_, count) = call(app.as_user(user, Method::GET, "/api/chat/unread-count")).await;
        assert_eq!(
            count["data"]["unreadCount"], 0,
            "user {user} has no unread message: {count}"
        );
    }
}

/// What Alice and Bob see of everything: conversation lists and unread counts.
pub(crate) async fn everything_seen(app: &TestApp) -> Value {
    let mut seen = serde_json::Map::new();
    for user in [ALICE, BOB] {
        for path in [
            "/api/chat/conversations",
            "/api/chat/unread-count",
            "/api/chat/unread",
        ] {
            let (status, body) = call(app.as_user(user, Method::GET, path)).await;
            assert_eq!(status, 200, "user {user} GET {path}: {body}");
            seen.insert(format!("user{user} {path}"), body["data"].clone());
        }
    }
    Value::Object(seen)
}

/// Alice has sent Bob one message; returns the conversation id and the message id.
pub(crate) async fn one_message_from_alice_to_bob(app: &TestApp) -> (i64, i64) {
    app.users(&[ALICE, BOB]).await;
    let message = app.send(ALICE, BOB, "hello").await;
    (
        message["conversation_id"].as_i64().unwrap(),
        message["id"].as_i64().unwrap(),
    )
}
