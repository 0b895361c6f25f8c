//! Editing over REST, on PostgreSQL: only the sender edits, within `CHAT_EDIT_WINDOW_SECS`;
//! the record gains `editedAt`, every member reads the history, a stranger sees nothing, and
//! sync lists each edit in order; refusals write nothing.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

async fn edit(app: &TestApp, user: i64, message: &Value, content: &str) -> (u16, Value) {
    let path = format!("/api/chat/messages/{}", message["id"]);
    call(
        app.as_user(user, Method::PATCH, &path)
            .json(&json!({ "content": content })),
    )
    .await
}

async fn history(app: &TestApp, user: i64, message: &Value) -> (u16, Value) {
    let path = format!("/api/chat/messages/{}/history", message["id"]);
    call(app.as_user(user, Method::GET, &path)).await
}

#[tokio::test]
async fn the_sender_edits_members_read_the_history_and_sync_lists_each_edit() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let (_, before) = call(app.as_user(2, Method::GET, "/api/chat/sync")).await;
    let since = before["data"]["next"].as_str().unwrap().to_owned();
    let sent = app.send(1, 2, "see you at 9").await;
    assert!(sent.get("editedAt").is_none(), "never edited: no editedAt");

    // Bob cannot edit Alice's message, Carol cannot even see it.
    for user in [2, 3] {
        let (status, body) = edit(&app, user, &sent, "hijacked").await;
        assert_eq!(status, 404, "{body}");
    }
    let (status, body) = edit(&app, 1, &sent, "   ").await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("content")),
        "{body}"
    );

    let (status, body) = edit(&app, 1, &sent, "see you at 10").await;
    assert_eq!(status, 200, "{body}");
    let edited = &body["data"];
    assert_eq!(
        (edited["id"].clone(), edited["seq"].clone()),
        (sent["id"].clone(), sent["seq"].clone())
    );
    assert_eq!(edited["content"], "see you at 10");
    assert!(edited["editedAt"].is_string(), "{edited}");
    assert_eq!(edited["receiver"]["id"], 2);
    let (status, body) = edit(&app, 1, &sent, "see you at 10:30").await;
    assert_eq!(status, 200, "{body}");

    // Both see the text of now in the history page and the conversation list.
    let conversation = sent["conversation_id"].as_i64().unwrap();
    let path = format!("/api/chat/conversations/{conversation}/messages");
    let (_, page) = call(app.as_user(2, Method::GET, &path)).await;
    assert_eq!(page["data"]["messages"][0]["content"], "see you at 10:30");
    let (_, list) = call(app.as_user(2, Method::GET, "/api/chat/conversations")).await;
    assert_eq!(
        list["data"]["conversations"][0]["last_message"], "see you at 10:30",
        "{list}"
    );

    let (status, body) = history(&app, 2, &sent).await;
    assert_eq!(status, 200, "{body}");
    let versions: Vec<(i64, &str)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (1, "see you at 9"),
            (2, "see you at 10"),
            (3, "see you at 10:30")
        ]
    );
    assert_eq!(body["data"][0]["writtenAt"], sent["createdAt"]);
    let (status, _) = history(&app, 3, &sent).await;
    assert_eq!(status, 404, "a stranger reads no history");

    // Sync: the message as sent, then each edit with the text it wrote.
    let (_, synced) =
        call(app.as_user(2, Method::GET, &format!("/api/chat/sync?since={since}"))).await;
    let changes: Vec<(&str, &str)> = synced["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["message"]["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("message", "see you at 9"),
            ("edited", "see you at 10"),
            ("edited", "see you at 10:30")
        ]
    );

    // Deleted: no edit, no history.
    let delete = format!("/api/chat/messages/{}", sent["id"]);
    let (status, _) = call(app.as_user(1, Method::DELETE, &delete)).await;
    assert_eq!(status, 200);
    assert_eq!(edit(&app, 1, &sent, "back").await.0, 404);
    assert_eq!(history(&app, 1, &sent).await.0, 404);
}

#[tokio::test]
async fn past_the_edit_window_an_edit_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn_with(&[("CHAT_EDIT_WINDOW_SECS", "0")]).await;
    app.users(&[1, 2]).await;
    let sent = app.send(1, 2, "final words").await;
    let (status, body) = edit(&app, 1, &sent, "second thoughts").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (status, body) = history(&app, 2, &sent).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["data"][0]["content"], "final words");
    let (status, body) = call(
        app.as_user(1, Method::PATCH, "/api/chat/messages/abc")
            .json(&json!({ "content": "x" })),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("id")),
        "{body}"
    );
}
