//! Reconnect storms: after a deploy, every user's first request reaches a server that has not
//! seen them yet. Provisioning must never hold one pooled connection while waiting for
//! another, or a small pool deadlocks and answers 503 (or "Authentication error" on sockets).

use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{TestApp, token};
use crate::{ADMIN_TOKEN, host_provisions};

const USERS: i64 = 200;
const FIRST_ID: i64 = 1000;

/// A server with a pool of 4 and 200 users the host created before it started.
async fn server_after_a_deploy() -> TestApp {
    let app = TestApp::spawn_with(&[
        ("CHAT_DB_POOL_SIZE", "4"),
        ("CHAT_ADMIN_TOKEN", ADMIN_TOKEN),
    ])
    .await;
    let users: Vec<(i64, String)> = (FIRST_ID..FIRST_ID + USERS)
        .map(|id| (id, format!("user{id}")))
        .collect();
    let users: Vec<(i64, &str)> = users.iter().map(|(id, n)| (*id, n.as_str())).collect();
    host_provisions(&app, &users).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_first_requests_at_once_all_succeed_with_a_pool_of_four() {
    let app = server_after_a_deploy().await;
    let requests = (FIRST_ID..FIRST_ID + USERS).map(|id| {
        let request = app.as_user(id, Method::GET, "/api/users/me");
        async move { request.send().await.expect("reaches the server").status() }
    });
    let statuses = tokio::time::timeout(Duration::from_secs(60), join_all(requests))
        .await
        .expect("the storm is served, not stuck");
    let failed: Vec<_> = statuses.iter().filter(|s| !s.is_success()).collect();
    assert!(
        failed.is_empty(),
        "{} of {USERS} failed: {failed:?}",
        failed.len()
    );
}

/// Opens a raw Socket.IO connection as `user` and returns the answer to its CONNECT.
async fn connect(address: &str, user: i64) -> String {
    let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut answers = Vec::new();
    while let Some(Ok(frame)) = ws.next().await {
        let Message::Text(text) = frame else { continue };
        let text = text.to_string();
        if text.starts_with('0') {
            let connect = format!("40{}", json!({ "token": token(user) }));
            ws.send(Message::text(connect)).await.unwrap();
        } else if text.starts_with("40") || text.starts_with("44") {
            return text;
        } else {
            answers.push(text);
        }
    }
    panic!("the connection ended before CONNECT was answered: {answers:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_first_sockets_at_once_are_all_connected_with_a_pool_of_four() {
    let app = server_after_a_deploy().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let sockets = (FIRST_ID..FIRST_ID + USERS).map(|id| connect(&address, id));
    let answers = tokio::time::timeout(Duration::from_secs(60), join_all(sockets))
        .await
        .expect("the storm is served, not stuck");
    let refused: Vec<_> = answers.iter().filter(|a| !a.starts_with("40")).collect();
    assert!(
        refused.is_empty(),
        "{} of {USERS} refused: {:?}",
        refused.len(),
        refused.first()
    );
}
