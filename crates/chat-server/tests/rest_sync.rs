//! Catching up over REST and retrying safely: `GET /api/chat/sync` pages every change since a
//! token exactly once, also while changes keep arriving, refuses tokens it did not issue, and
//! shows nothing of others' conversations; a send retried with its client message id is
//! answered with the stored message and stored once.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

/// Reads every change for `user` from `since` in pages of `limit`; returns them and the token
/// that continues after them.
async fn sync_all(app: &TestApp, user: i64, since: &str, limit: usize) -> (Vec<Value>, String) {
    let mut changes = Vec::new();
    let mut next = since.to_owned();
    loop {
        let path = format!("/api/chat/sync?since={next}&limit={limit}");
        let (status, body) = call(app.as_user(user, Method::GET, &path)).await;
        assert_eq!(status, 200, "{body}");
        let page = body["data"]["changes"].as_array().unwrap().clone();
        assert!(page.len() <= limit);
        changes.extend(page);
        next = body["data"]["next"].as_str().unwrap().to_owned();
        if body["data"]["hasMore"] == false {
            return (changes, next);
        }
    }
}

/// The token of now, for `user`.
async fn now_token(app: &TestApp, user: i64) -> String {
    let (status, body) = call(app.as_user(user, Method::GET, "/api/chat/sync")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["changes"], json!([]));
    body["data"]["next"].as_str().unwrap().to_owned()
}

fn kind_and_seq(change: &Value) -> (String, i64) {
    let kind = change["type"].as_str().unwrap().to_owned();
    let seq = match kind.as_str() {
        "message" => change["message"]["seq"].as_i64(),
        "deleted" => change["seq"].as_i64(),
        _ => change["lastReadSeq"].as_i64(),
    };
    (kind, seq.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_pages_every_change_since_a_token_once_in_order() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let since = now_token(&app, 2).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(
            app.send(1, 2, &format!("m{n}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (status, _) =
        call(app.as_user(1, Method::DELETE, &format!("/api/chat/messages/{}", ids[1]))).await;
    assert_eq!(status, 200);
    let conversation = app.send(1, 2, "m6").await["conversation_id"]
        .as_i64()
        .unwrap();
    let read = format!("/api/chat/conversations/{conversation}/read");
    assert_eq!(call(app.as_user(2, Method::PUT, &read)).await.0, 200);

    let (changes, next) = sync_all(&app, 2, &since, 2).await;
    let got: Vec<(String, i64)> = changes.iter().map(kind_and_seq).collect();
    let want: Vec<(String, i64)> = [
        ("message", 1),
        ("message", 3),
        ("message", 4),
        ("message", 5),
        ("deleted", 2),
        ("message", 6),
        ("read", 6),
    ]
    .iter()
    .map(|(k, s)| ((*k).to_owned(), *s))
    .collect();
    assert_eq!(
        got, want,
        "a deleted message's text is not sent again; its deletion is"
    );
    assert!(changes.iter().all(|c| c["conversationId"] == conversation));
    assert_eq!(changes[0]["message"]["content"], "m1");
    let (after, _) = sync_all(&app, 2, &next, 2).await;
    assert!(after.is_empty(), "nothing is sent twice: {after:?}");
    let (strangers, _) = sync_all(&app, 3, &since, 100).await;
    assert!(strangers.is_empty(), "a third user sees nothing of it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_committed_while_a_client_syncs_are_neither_lost_nor_doubled() {
    const SENDS: usize = 150;
    let app = TestApp::spawn().await;
    app.users(&[1, 2]).await;
    let mut next = now_token(&app, 2).await;
    let sender = {
        let (client, address) = (app.client.clone(), app.address.clone());
        tokio::spawn(async move {
            for n in 0..SENDS {
                let sent = client
                    .post(format!("{address}/api/chat/send"))
                    .bearer_auth(support::token(1))
                    .json(&json!({ "receiverId": 2, "content": format!("m{n}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(sent.status(), 201);
            }
        })
    };
    let mut seqs = Vec::new();
    while seqs.len() < SENDS {
        let (changes, after) = sync_all(&app, 2, &next, 7).await;
        seqs.extend(changes.iter().map(|c| kind_and_seq(c).1));
        next = after;
        if sender.is_finished() && changes.is_empty() {
            break;
        }
    }
    sender.await.unwrap();
    let (rest, _) = sync_all(&app, 2, &next, 7).await;
    seqs.extend(rest.iter().map(|c| kind_and_seq(c).1));
    let want: Vec<i64> = (1..=i64::try_from(SENDS).unwrap()).collect();
    assert_eq!(seqs, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_limits_sync_did_not_issue_are_400_naming_them() {
    let app = TestApp::spawn().await;
    app.users(&[1]).await;
    for (query, field) in [
        ("since=abc", "since"),
        ("since=1.2.3", "since"),
        ("since=1.2.3.4.5.6.7.-8", "since"),
        ("since=999999999.0.0.0.0.0.0.0", "since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
    ] {
        let (status, body) =
            call(app.as_user(1, Method::GET, &format!("/api/chat/sync?{query}"))).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["success"], false);
        let named = body["errors"][0]["field"] == field
            || body["message"].as_str().unwrap().contains(field);
        assert!(named, "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_retried_with_its_client_message_id_is_answered_and_stored_once() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2]).await;
    let since = now_token(&app, 2).await;
    let body = json!({ "receiverId": 2, "content": "once", "clientMessageId": "retry-1" });
    let send = || call(app.as_user(1, Method::POST, "/api/chat/send").json(&body));
    let (first_status, first) = send().await;
    assert_eq!(first_status, 201, "{first}");
    for _ in 0..3 {
        let (status, again) = send().await;
        assert_eq!(status, 200, "a retry is answered: {again}");
        assert_eq!(again["data"], first["data"], "with the stored message");
    }
    let changed = json!({ "receiverId": 2, "content": "twice", "clientMessageId": "retry-1" });
    let (status, conflict) = call(
        app.as_user(1, Method::POST, "/api/chat/send")
            .json(&changed),
    )
    .await;
    assert_eq!(status, 409, "{conflict}");
    let (changes, _) = sync_all(&app, 2, &since, 100).await;
    assert_eq!(changes.len(), 1, "stored and delivered once: {changes:?}");
}
