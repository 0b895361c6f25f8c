//! Bad path ids, query parameters and search terms on `/api/chat`, and requests without a
//! token: each refusal is a clear 400 or 401 that names what is wrong, and nothing is written.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use support::refusals::*;
use support::{TestApp, call};

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
