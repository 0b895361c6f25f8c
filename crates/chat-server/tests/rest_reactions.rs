//! Reactions over REST, on PostgreSQL: an emoji (URL-encoded) or a short name per member, the
//! record's `reactions` with `me` per reader, idempotent changes, refusals naming `key`, a
//! stranger's 404, and sync listing each change with its count.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

async fn react(
    app: &TestApp,
    user: i64,
    method: Method,
    message: &Value,
    key: &str,
) -> (u16, Value) {
    let path = format!("/api/chat/messages/{}/reactions/{key}", message["id"]);
    call(app.as_user(user, method, &path)).await
}

#[tokio::test]
async fn members_react_each_reader_sees_me_and_sync_lists_each_change() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let (_, before) = call(app.as_user(2, Method::GET, "/api/chat/sync")).await;
    let since = before["data"]["next"].as_str().unwrap().to_owned();
    let message = app.send(1, 2, "ship it?").await;
    assert!(message.get("reactions").is_none(), "no reactions: no field");
    let thumbs = "%F0%9F%91%8D"; // 👍
    let (status, body) = react(&app, 2, Method::PUT, &message, thumbs).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!([{ "key": "👍", "count": 1, "me": true }])
    );
    assert_eq!(react(&app, 2, Method::PUT, &message, thumbs).await.0, 200);
    let (status, body) = react(&app, 1, Method::PUT, &message, "shipit").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!([{ "key": "👍", "count": 1, "me": false }, { "key": "shipit", "count": 1, "me": true }])
    );
    let (status, body) = react(&app, 1, Method::PUT, &message, "Not%20a%20key").await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("key")),
        "{body}"
    );
    assert_eq!(
        react(&app, 3, Method::PUT, &message, thumbs).await.0,
        404,
        "a stranger"
    );

    // Each reader sees the counts, and `me` for themselves.
    let path = format!(
        "/api/chat/conversations/{}/messages",
        message["conversation_id"]
    );
    let (_, page) = call(app.as_user(2, Method::GET, &path)).await;
    assert_eq!(
        page["data"]["messages"][0]["reactions"],
        json!([{ "key": "👍", "count": 1, "me": true }, { "key": "shipit", "count": 1, "me": false }])
    );
    let (status, body) = react(&app, 2, Method::DELETE, &message, thumbs).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!([{ "key": "shipit", "count": 1, "me": false }])
    );

    let (_, synced) =
        call(app.as_user(2, Method::GET, &format!("/api/chat/sync?since={since}"))).await;
    let changes: Vec<(String, String, i64)> = synced["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"].as_str().unwrap().starts_with("reaction"))
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_owned(),
                c["key"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, i64)> = [
        ("reaction_added", "👍", 1),
        ("reaction_added", "shipit", 1),
        ("reaction_removed", "👍", 0),
    ]
    .iter()
    .map(|(t, k, c)| ((*t).to_owned(), (*k).to_owned(), *c))
    .collect();
    assert_eq!(changes, expected);
}
