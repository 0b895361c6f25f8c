//! Mentions over REST, on PostgreSQL: `@username` in a send resolved against the members
//! (ignoring case; a non-member's name and an e-mail address are text), `mentions` on the
//! record and in history, and `GET /api/chat/mentions` paged by `before` with `nextBefore`,
//! without deleted messages or another user's mentions.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

async fn mentions(app: &TestApp, user: i64, query: &str) -> Value {
    let (status, body) =
        call(app.as_user(user, Method::GET, &format!("/api/chat/mentions{query}"))).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

fn texts(page: &Value) -> Vec<&str> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn mentions_are_resolved_at_send_and_listed_newest_first() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let first = app
        .send(1, 2, "@USER2 lunch? (cc @user3, mail user2@example.com)")
        .await;
    assert_eq!(first["mentions"], json!([2]), "{first}");
    let plain = app.send(2, 1, "sure").await;
    assert!(plain.get("mentions").is_none(), "{plain}");
    let second = app.send(1, 2, "@user2 where?").await;
    let deleted = app.send(1, 2, "@user2 oops").await;
    let path = format!("/api/chat/messages/{}", deleted["id"]);
    assert_eq!(call(app.as_user(1, Method::DELETE, &path)).await.0, 200);

    let page = mentions(&app, 2, "?limit=1").await;
    assert_eq!(texts(&page), ["@user2 where?"]);
    assert_eq!(page["messages"][0]["mentions"], json!([2]));
    assert_eq!(page["nextBefore"], second["id"]);
    let rest = mentions(&app, 2, &format!("?before={}&limit=5", page["nextBefore"])).await;
    assert_eq!(texts(&rest), [first["content"].as_str().unwrap()]);
    assert_eq!(rest["nextBefore"], Value::Null);
    assert!(
        texts(&mentions(&app, 3, "").await).is_empty(),
        "user 3 is no member"
    );
    assert!(texts(&mentions(&app, 1, "").await).is_empty());

    let history = format!(
        "/api/chat/conversations/{}/messages",
        first["conversation_id"]
    );
    let (_, page) = call(app.as_user(2, Method::GET, &history)).await;
    let oldest = page["data"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(oldest["mentions"], json!([2]));
    for (query, field) in [
        ("before=x", "before"),
        ("page=2", "page"),
        ("after=3", "after"),
    ] {
        let path = format!("/api/chat/mentions?{query}");
        let (status, body) = call(app.as_user(2, Method::GET, &path)).await;
        let named = body["errors"][0]["field"].as_str();
        assert_eq!((status, named), (400, Some(field)), "{query}: {body}");
    }
}
