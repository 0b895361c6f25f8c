//! Bad request bodies to `POST /api/chat/send`: each refusal is a clear 400 (or the status the
//! contract names) that names the field at fault, and nothing is written.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::TestApp;
use support::refusals::*;

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
