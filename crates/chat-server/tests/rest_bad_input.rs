//! Bad input to `/api/chat`: each refusal is a clear 400 (or the status the contract names)
//! that names the field at fault, and nothing is written when a request is refused.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use support::{TestApp, call};

const ALICE: i64 = 1;
const BOB: i64 = 2;

/// Asserts a 400 in the error envelope with code `invalid_input`, naming `field` when given.
fn assert_invalid(case: &str, (status, body): &(u16, Value), field: Option<&str>) {
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
async fn send_json(app: &TestApp, body: &Value) -> (u16, Value) {
    call(
        app.as_user(ALICE, Method::POST, "/api/chat/send")
            .json(body),
    )
    .await
}

/// `POST /api/chat/send` from Alice with a raw body of the given content type.
async fn send_raw(app: &TestApp, content_type: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = app
        .as_user(ALICE, Method::POST, "/api/chat/send")
        .body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    call(request).await
}

/// Asserts that neither Alice nor Bob has a conversation or an unread message.
async fn assert_nothing_written(app: &TestApp) {
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
async fn everything_seen(app: &TestApp) -> Value {
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
async fn one_message_from_alice_to_bob(app: &TestApp) -> (i64, i64) {
    app.users(&[ALICE, BOB]).await;
    let message = app.send(ALICE, BOB, "hello").await;
    (
        message["conversation_id"].as_i64().unwrap(),
        message["id"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_without_usable_content_is_400_naming_content() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let cases = [
        ("missing content", json!({ "receiverId": BOB })),
        (
            "null content",
            json!({ "receiverId": BOB, "content": null }),
        ),
        ("empty content", json!({ "receiverId": BOB, "content": "" })),
        (
            "whitespace-only content",
            json!({ "receiverId": BOB, "content": " \n\t " }),
        ),
        (
            "numeric content",
            json!({ "receiverId": BOB, "content": 5 }),
        ),
        (
            "object content",
            json!({ "receiverId": BOB, "content": { "text": "hi" } }),
        ),
    ];
    for (case, body) in cases {
        assert_invalid(case, &send_json(&app, &body).await, Some("content"));
    }
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_over_the_configured_limit_is_400_and_the_limit_itself_is_accepted() {
    let app = TestApp::spawn_with(&[("CHAT_MAX_MESSAGE_CHARS", "10")]).await;
    app.users(&[ALICE, BOB]).await;
    let over = json!({ "receiverId": BOB, "content": "a".repeat(11) });
    assert_invalid(
        "11 characters",
        &send_json(&app, &over).await,
        Some("content"),
    );
    assert_nothing_written(&app).await;

    // Ten characters, twelve bytes: the limit counts characters.
    let exact = "héllo wörl";
    let (status, body) = send_json(&app, &json!({ "receiverId": BOB, "content": exact })).await;
    assert_eq!(status, 201, "10 characters: {body}");
    assert_eq!(body["data"]["content"], exact);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_without_a_positive_integer_receiver_id_is_400_naming_receiver_id() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let cases = [
        ("missing receiverId", json!({ "content": "hi" })),
        (
            "null receiverId",
            json!({ "receiverId": null, "content": "hi" }),
        ),
        (
            "receiverId \"abc\"",
            json!({ "receiverId": "abc", "content": "hi" }),
        ),
        (
            "receiverId \"\"",
            json!({ "receiverId": "", "content": "hi" }),
        ),
        (
            "receiverId true",
            json!({ "receiverId": true, "content": "hi" }),
        ),
        (
            "receiverId 1.5",
            json!({ "receiverId": 1.5, "content": "hi" }),
        ),
        (
            "receiverId -2",
            json!({ "receiverId": -2, "content": "hi" }),
        ),
        ("receiverId 0", json!({ "receiverId": 0, "content": "hi" })),
        (
            "receiverId [2]",
            json!({ "receiverId": [2], "content": "hi" }),
        ),
    ];
    for (case, body) in cases {
        assert_invalid(case, &send_json(&app, &body).await, Some("receiverId"));
    }
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_id_as_a_numeric_string_is_accepted() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let (status, body) = send_json(&app, &json!({ "receiverId": "2", "content": "hi" })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["receiver_id"], BOB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_to_oneself_is_400_naming_receiver_id() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let body = json!({ "receiverId": ALICE, "content": "note to self" });
    assert_invalid(
        "send to oneself",
        &send_json(&app, &body).await,
        Some("receiverId"),
    );
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_to_an_unknown_receiver_is_404() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let (status, body) = send_json(&app, &json!({ "receiverId": 424_242, "content": "hi" })).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], "not_found", "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_url_that_is_not_absolute_http_is_400_naming_attachment_url() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    for url in [
        json!("javascript:alert(1)"),
        json!("data:text/html,x"),
        json!("/relative.png"),
        json!("ftp://x/y"),
        json!("https://"),
        json!(42),
    ] {
        let body = json!({ "receiverId": BOB, "content": "look", "attachmentUrl": url });
        assert_invalid(
            &format!("attachmentUrl {url}"),
            &send_json(&app, &body).await,
            Some("attachmentUrl"),
        );
    }
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absolute_https_attachment_url_is_accepted() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let url = "https://cdn.example.com/a.png";
    let body = json!({ "receiverId": BOB, "content": "look", "attachmentUrl": url });
    let (status, body) = send_json(&app, &body).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["attachment_url"], url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_json_object_is_400() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let json = Some("application/json");
    let cases = [
        ("malformed JSON", json, r#"{"receiverId": 2,"#),
        ("an empty body", json, ""),
        (
            "a JSON array",
            json,
            r#"[{"receiverId": 2, "content": "hi"}]"#,
        ),
        ("a JSON string", json, r#""hi""#),
        (
            "text/plain",
            Some("text/plain"),
            r#"{"receiverId": 2, "content": "hi"}"#,
        ),
        (
            "no content type",
            None,
            r#"{"receiverId": 2, "content": "hi"}"#,
        ),
    ];
    for (case, content_type, body) in cases {
        assert_invalid(case, &send_raw(&app, content_type, body).await, None);
    }
    assert_nothing_written(&app).await;
}

/// Serde reads a struct from an array of its fields in order, so `[receiverId, content,
/// attachmentUrl, clientMessageId]` could pass for a send; the wire has no such form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_array_of_the_send_fields_in_order_is_400_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let answer = send_raw(&app, Some("application/json"), r#"[2, "hi", null, null]"#).await;
    assert_invalid("a JSON array of the fields", &answer, None);
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_size_limit_is_413() {
    let app = TestApp::spawn_with(&[("CHAT_MAX_BODY_BYTES", "1024")]).await;
    app.users(&[ALICE, BOB]).await;
    let body = json!({ "receiverId": BOB, "content": "x".repeat(2000) });
    let (status, body) = send_json(&app, &body).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], "payload_too_large", "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_id_that_is_not_a_positive_integer_is_400_naming_id() {
    let app = TestApp::spawn().await;
    one_message_from_alice_to_bob(&app).await;
    let before = everything_seen(&app).await;
    let cases = [
        (BOB, Method::GET, "/api/chat/conversations/abc/messages"),
        (BOB, Method::PUT, "/api/chat/conversations/0/read"),
        (BOB, Method::PUT, "/api/chat/conversations/-1/read"),
        (BOB, Method::GET, "/api/chat/conversations/-1/search?q=x"),
        (ALICE, Method::DELETE, "/api/chat/messages/1.5"),
        (ALICE, Method::DELETE, "/api/chat/messages/abc"),
        (
            ALICE,
            Method::DELETE,
            "/api/chat/messages/99999999999999999999",
        ),
    ];
    for (user, method, path) in cases {
        let answer = call(app.as_user(user, method.clone(), path)).await;
        assert_invalid(&format!("{method} {path}"), &answer, Some("id"));
    }
    assert_eq!(everything_seen(&app).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_or_limit_that_is_not_a_positive_integer_is_400_naming_it() {
    let app = TestApp::spawn().await;
    let (conversation, _) = one_message_from_alice_to_bob(&app).await;
    let lists = [
        "/api/chat/conversations?".to_owned(),
        format!("/api/chat/conversations/{conversation}/messages?"),
        format!("/api/chat/conversations/{conversation}/search?q=hello&"),
    ];
    let bad = [
        ("page", "page=0"),
        ("page", "page=-1"),
        ("page", "page=abc"),
        ("page", "page="),
        ("limit", "limit=0"),
        ("limit", "limit=-5"),
        ("limit", "limit=abc"),
    ];
    for list in &lists {
        for (field, query) in bad {
            let path = format!("{list}{query}");
            let answer = call(app.as_user(BOB, Method::GET, &path)).await;
            assert_invalid(&format!("GET {path}"), &answer, Some(field));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_over_100_is_clamped_to_100() {
    let app = TestApp::spawn().await;
    let (conversation, _) = one_message_from_alice_to_bob(&app).await;
    for path in [
        "/api/chat/conversations?limit=1000".to_owned(),
        format!("/api/chat/conversations/{conversation}/messages?limit=1000"),
        format!("/api/chat/conversations/{conversation}/search?q=hello&limit=1000"),
    ] {
        let (status, body) = call(app.as_user(BOB, Method::GET, &path)).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert_eq!(
            body["data"]["pagination"]["limit"], 100,
            "GET {path}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_that_is_not_a_positive_integer_is_400_naming_it() {
    let app = TestApp::spawn().await;
    let (conversation, _) = one_message_from_alice_to_bob(&app).await;
    let messages = format!("/api/chat/conversations/{conversation}/messages");
    for (field, query) in [
        ("before", "before=abc"),
        ("before", "before=0"),
        ("after", "after=abc"),
        ("after", "after=-1"),
    ] {
        let path = format!("{messages}?{query}");
        let answer = call(app.as_user(BOB, Method::GET, &path)).await;
        assert_invalid(&format!("GET {path}"), &answer, Some(field));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_and_after_together_are_400() {
    let app = TestApp::spawn().await;
    let (conversation, _) = one_message_from_alice_to_bob(&app).await;
    let path = format!("/api/chat/conversations/{conversation}/messages?before=5&after=1");
    let answer = call(app.as_user(BOB, Method::GET, &path)).await;
    assert_invalid(&format!("GET {path}"), &answer, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_without_a_usable_q_is_400_naming_q() {
    let app = TestApp::spawn().await;
    let (conversation, _) = one_message_from_alice_to_bob(&app).await;
    let search = format!("/api/chat/conversations/{conversation}/search");
    let too_long = "x".repeat(201);
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("missing q", &[]),
        ("empty q", &[("q", "")]),
        ("whitespace-only q", &[("q", "   ")]),
        ("q over 200 characters", &[("q", too_long.as_str())]),
    ];
    for (case, query) in cases {
        let answer = call(app.as_user(BOB, Method::GET, &search).query(query)).await;
        assert_invalid(case, &answer, Some("q"));
    }

    let at_the_limit = "x".repeat(200);
    let (status, body) = call(
        app.as_user(BOB, Method::GET, &search)
            .query(&[("q", &at_the_limit)]),
    )
    .await;
    assert_eq!(status, 200, "q of 200 characters: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_takes_percent_and_underscore_literally() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let conversation = app.send(ALICE, BOB, "50% off").await["conversation_id"]
        .as_i64()
        .unwrap();
    for text in ["a_b", "axb", "plain text"] {
        app.send(ALICE, BOB, text).await;
    }
    let search = format!("/api/chat/conversations/{conversation}/search");
    let found = |q: &'static str| {
        let request = app.as_user(BOB, Method::GET, &search).query(&[("q", q)]);
        async move {
            let (status, body) = call(request).await;
            assert_eq!(status, 200, "q={q}: {body}");
            body["data"]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["content"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(found("%").await, ["50% off"], "q=%");
    assert_eq!(found("_").await, ["a_b"], "q=_");
    assert_eq!(found("a_b").await, ["a_b"], "q=a_b");
    assert_eq!(found("a%b").await, Vec::<String>::new(), "q=a%b");
}

/// Every `/api/chat` endpoint, with real ids so that only the missing token is wrong.
fn chat_endpoints(conversation: i64, message: i64) -> Vec<(Method, String)> {
    let c = format!("/api/chat/conversations/{conversation}");
    vec![
        (Method::POST, "/api/chat/send".to_owned()),
        (Method::GET, "/api/chat/conversations".to_owned()),
        (Method::GET, format!("{c}/messages")),
        (Method::PUT, format!("{c}/read")),
        (Method::GET, "/api/chat/unread-count".to_owned()),
        (Method::GET, "/api/chat/unread".to_owned()),
        (Method::GET, format!("{c}/search?q=hello")),
        (Method::DELETE, format!("/api/chat/messages/{message}")),
    ]
}

fn assert_unauthorized(case: &str, (status, body): &(u16, Value)) {
    assert_eq!(*status, 401, "{case}: {body}");
    assert_eq!(body["success"], false, "{case}: {body}");
    assert!(body["message"].is_string(), "{case}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chat_endpoint_without_a_token_is_401() {
    let app = TestApp::spawn().await;
    let (conversation, message) = one_message_from_alice_to_bob(&app).await;
    let before = everything_seen(&app).await;
    for (method, path) in chat_endpoints(conversation, message) {
        let request = app
            .request(method.clone(), &path)
            .json(&json!({ "receiverId": BOB, "content": "hi" }));
        assert_unauthorized(&format!("{method} {path}"), &call(request).await);
    }
    assert_eq!(everything_seen(&app).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_is_401_before_any_input_is_validated() {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB]).await;
    let malformed = app
        .request(Method::POST, "/api/chat/send")
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"receiverId": 2,"#);
    assert_unauthorized("malformed body", &call(malformed).await);
    let invalid = app
        .request(Method::POST, "/api/chat/send")
        .json(&json!({ "receiverId": "abc", "content": "" }));
    assert_unauthorized("invalid fields", &call(invalid).await);
    for path in [
        "/api/chat/conversations/abc/messages",
        "/api/chat/conversations?page=0",
        "/api/chat/conversations/1/search",
    ] {
        assert_unauthorized(
            &format!("GET {path}"),
            &call(app.request(Method::GET, path)).await,
        );
    }
    assert_nothing_written(&app).await;
}
