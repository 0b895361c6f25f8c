//! Pins over REST, on PostgreSQL: members pin in a direct conversation, admins and the owner
//! in a group (403 for a plain member), a stranger gets 404, the list is the latest pin first,
//! sync lists each pin in order, and `CHAT_MAX_PINS` answers 409.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

async fn pin(app: &TestApp, user: i64, method: Method, message: &Value) -> (u16, Value) {
    let path = format!(
        "/api/chat/conversations/{}/pins/{}",
        message["conversation_id"], message["id"]
    );
    call(app.as_user(user, method, &path)).await
}

fn pinned_ids(body: &Value) -> Vec<i64> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn members_pin_and_unpin_strangers_cannot_and_sync_lists_each_pin() {
    let app = TestApp::spawn_with(&[("CHAT_MAX_PINS", "2")]).await;
    app.users(&[1, 2, 3]).await;
    let (_, before) = call(app.as_user(2, Method::GET, "/api/chat/sync")).await;
    let since = before["data"]["next"].as_str().unwrap().to_owned();
    let first = app.send(1, 2, "the plan").await;
    let second = app.send(2, 1, "the address").await;
    let third = app.send(1, 2, "the time").await;

    let (status, body) = pin(&app, 2, Method::PUT, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(pinned_ids(&body), [first["id"].as_i64().unwrap()]);
    assert_eq!(body["data"][0]["pinnedBy"], 2);
    let (status, body) = pin(&app, 1, Method::PUT, &second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        pinned_ids(&body),
        [
            second["id"].as_i64().unwrap(),
            first["id"].as_i64().unwrap()
        ]
    );
    let (status, body) = pin(&app, 1, Method::PUT, &third).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    assert_eq!(pin(&app, 3, Method::PUT, &third).await.0, 404, "a stranger");
    let list = format!("/api/chat/conversations/{}/pins", first["conversation_id"]);
    assert_eq!(call(app.as_user(3, Method::GET, &list)).await.0, 404);

    let (status, body) = pin(&app, 2, Method::DELETE, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(pinned_ids(&body), [second["id"].as_i64().unwrap()]);
    let (status, _) = pin(&app, 2, Method::DELETE, &first).await;
    assert_eq!(status, 200, "unpinning what is not pinned changes nothing");

    let (_, synced) =
        call(app.as_user(2, Method::GET, &format!("/api/chat/sync?since={since}"))).await;
    let pins: Vec<(&str, i64)> = synced["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "pinned" || c["type"] == "unpinned")
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["messageId"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pins,
        [
            ("pinned", first["id"].as_i64().unwrap()),
            ("pinned", second["id"].as_i64().unwrap()),
            ("unpinned", first["id"].as_i64().unwrap()),
        ]
    );
}

#[tokio::test]
async fn in_a_group_only_admins_and_the_owner_pin() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let (status, group) = call(
        app.as_user(1, Method::POST, "/api/chat/groups")
            .json(&json!({ "title": "Team", "memberIds": [2, 3] })),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    let id = group["data"]["id"].as_i64().unwrap();
    let (status, posted) = call(
        app.as_user(
            3,
            Method::POST,
            &format!("/api/chat/conversations/{id}/messages"),
        )
        .json(&json!({ "content": "agenda" })),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let message = &posted["data"];
    let (status, body) = pin(&app, 3, Method::PUT, message).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, body) = pin(&app, 1, Method::PUT, message).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(app.as_user(
        3,
        Method::GET,
        &format!("/api/chat/conversations/{id}/pins"),
    ))
    .await;
    assert_eq!(
        (status, pinned_ids(&body)),
        (200, vec![message["id"].as_i64().unwrap()])
    );
    // A deleted message leaves the list.
    let (status, _) = call(app.as_user(
        3,
        Method::DELETE,
        &format!("/api/chat/messages/{}", message["id"]),
    ))
    .await;
    assert_eq!(status, 200);
    let (_, body) = call(app.as_user(
        1,
        Method::GET,
        &format!("/api/chat/conversations/{id}/pins"),
    ))
    .await;
    assert_eq!(pinned_ids(&body), Vec::<i64>::new());
}
