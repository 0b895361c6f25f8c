//! Replies and threads over REST, on PostgreSQL: `replyToId` on both send endpoints (a number
//! or a string of digits), `reply_to` on the answer and in history, `reply_count` on the
//! parent, the thread paged by cursor, refusals naming `replyToId` that write nothing, a
//! deleted parent shown as deleted (never its text), also to a reply sent after the deletion,
//! and a stranger's 404.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

/// A reply from `from` to `to` (direct), answered with its status and body.
async fn reply(app: &TestApp, from: i64, to: i64, content: &str, parent: Value) -> (u16, Value) {
    call(
        app.as_user(from, Method::POST, "/api/chat/send")
            .json(&json!({ "receiverId": to, "content": content, "replyToId": parent })),
    )
    .await
}

async fn get(app: &TestApp, user: i64, path: &str) -> (u16, Value) {
    call(app.as_user(user, Method::GET, path)).await
}

fn texts(page: &Value) -> Vec<&str> {
    page["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn replies_show_their_parent_and_a_thread_pages_by_cursor() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let parent = app.send(1, 2, "Which day works? 🗓️").await;
    assert!(parent.get("reply_to").is_none() && parent.get("reply_count").is_none());
    let (status, first) = reply(&app, 2, 1, "Tuesday", parent["id"].clone()).await;
    assert_eq!(status, 201, "{first}");
    let quoted = json!({
        "id": parent["id"],
        "sender": { "id": 1, "username": "user1" },
        "excerpt": "Which day works? 🗓️",
        "deleted": false,
    });
    assert_eq!(first["data"]["reply_to"], quoted);
    // A string of digits is read as the id, on the endpoint that sends by conversation too.
    let conversation = parent["conversation_id"].as_i64().unwrap();
    let (status, second) = call(
        app.as_user(
            1,
            Method::POST,
            &format!("/api/chat/conversations/{conversation}/messages"),
        )
        .json(&json!({ "content": "Or Friday", "replyToId": parent["id"].to_string() })),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["data"]["reply_to"], quoted);
    app.send(2, 1, "unrelated").await;

    let history = format!("/api/chat/conversations/{conversation}/messages");
    let (_, page) = get(&app, 2, &history).await;
    assert_eq!(
        texts(&page),
        ["unrelated", "Or Friday", "Tuesday", "Which day works? 🗓️"]
    );
    let messages = page["data"]["messages"].as_array().unwrap();
    assert_eq!(messages[3]["reply_count"], 2);
    assert_eq!(messages[1]["reply_to"], quoted);
    assert!(messages[0].get("reply_to").is_none());

    let thread = format!("/api/chat/messages/{}/replies", parent["id"]);
    let (status, page) = get(&app, 1, &thread).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(texts(&page), ["Or Friday", "Tuesday"]);
    assert_eq!(page["data"]["pagination"]["total"], 2);
    let newest = page["data"]["messages"][0]["seq"].as_i64().unwrap();
    let (_, older) = get(&app, 2, &format!("{thread}?before={newest}&limit=5")).await;
    assert_eq!(texts(&older), ["Tuesday"]);
    let (_, oldest) = get(&app, 2, &format!("{thread}?after=0&limit=1")).await;
    assert_eq!(texts(&oldest), ["Tuesday"]);
    assert_eq!(get(&app, 3, &thread).await.0, 404, "a stranger");
    assert_eq!(
        get(&app, 1, "/api/chat/messages/987654321/replies").await.0,
        404
    );
    let (status, body) = get(&app, 1, "/api/chat/messages/x/replies").await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("id"))
    );
}

#[tokio::test]
async fn a_bad_reply_names_reply_to_id_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let elsewhere = app.send(2, 3, "between bob and carol").await;
    let ours = app.send(1, 2, "hello bob").await;
    let conversation = ours["conversation_id"].as_i64().unwrap();
    for (case, parent) in [
        ("another conversation's message", elsewhere["id"].clone()),
        ("no such message", json!(987_654_321)),
        ("zero", json!(0)),
        ("negative", json!(-4)),
        ("a fraction", json!(1.5)),
        ("past i64", json!(u64::MAX)),
        ("an object", json!({ "id": 1 })),
        ("letters", json!("abc")),
    ] {
        let (status, body) = reply(&app, 1, 2, "leak?", parent).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert_eq!(body["errors"][0]["field"], "replyToId", "{case}: {body}");
    }
    // `null` is no reply at all.
    let (status, body) = reply(&app, 1, 2, "plain", Value::Null).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["data"].get("reply_to").is_none());
    let (_, page) = get(
        &app,
        2,
        &format!("/api/chat/conversations/{conversation}/messages"),
    )
    .await;
    assert_eq!(
        texts(&page),
        ["plain", "hello bob"],
        "the refusals wrote nothing"
    );
}

#[tokio::test]
async fn a_deleted_parent_shows_as_deleted_and_its_thread_stays() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2]).await;
    let parent = app.send(1, 2, "a secret plan").await;
    let (_, kept) = reply(&app, 2, 1, "count me in", parent["id"].clone()).await;
    let path = format!("/api/chat/messages/{}", parent["id"]);
    let (status, body) = call(app.as_user(1, Method::DELETE, &path)).await;
    assert_eq!(status, 200, "{body}");
    let history = format!(
        "/api/chat/conversations/{}/messages",
        parent["conversation_id"]
    );
    let (_, page) = get(&app, 2, &history).await;
    let shown = &page["data"]["messages"][0];
    assert_eq!(shown["content"], "count me in");
    assert_eq!(
        shown["reply_to"],
        json!({
            "id": parent["id"],
            "sender": { "id": 1, "username": "user1" },
            "excerpt": null,
            "deleted": true,
        })
    );
    assert!(!page.to_string().contains("secret plan"), "{page}");
    let (_, thread) = get(&app, 2, &format!("{path}/replies")).await;
    assert_eq!(texts(&thread), ["count me in"]);
    assert_eq!(kept["data"]["id"], thread["data"]["messages"][0]["id"]);
    // A reply to the deleted parent shows it deleted too.
    let (status, late) = reply(&app, 2, 1, "too late", parent["id"].clone()).await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(late["data"]["reply_to"]["deleted"], true);
    assert_eq!(late["data"]["reply_to"]["excerpt"], Value::Null);
}
