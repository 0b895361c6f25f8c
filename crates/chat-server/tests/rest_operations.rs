//! Operating the API: outages answer 503 (never hang) and recover, rate limits answer 429
//! with Retry-After, every response carries a request id, and CORS admits the frontend only.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use support::{TestApp, call};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_503_with_a_request_id_then_recovers() {
    let (app, proxy) = TestApp::behind_a_cuttable_database("2000").await;
    app.users(&[1, 2]).await;
    app.send(1, 2, "before the outage").await;
    // A hang would fail the test on this timeout rather than block it.
    let unread = || {
        app.as_user(2, Method::GET, "/api/chat/unread-count")
            .timeout(Duration::from_secs(20))
    };

    proxy.cut();
    let response = unread().send().await.unwrap();
    assert_eq!(response.status(), 503);
    let header_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "unavailable");
    assert_eq!(
        body["requestId"],
        header_id.as_str(),
        "the body names the logged request"
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        !message.contains("127.0.0.1") && !message.contains("chat_test"),
        "no internals: {message}"
    );
    let (status, _) = call(
        app.request(Method::GET, "/readyz")
            .timeout(Duration::from_secs(20)),
    )
    .await;
    assert_eq!(status, 503);
    let (status, _) = call(
        app.as_user(1, Method::POST, "/api/chat/send")
            .timeout(Duration::from_secs(20))
            .json(&json!({ "receiverId": 2, "content": "during the outage" })),
    )
    .await;
    assert_eq!(status, 503);

    proxy.restore();
    let (status, body) = call(unread()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["unreadCount"], 1,
        "the refused send wrote nothing"
    );
    assert_eq!(call(app.request(Method::GET, "/readyz")).await.0, 200);
    // The writer reconnects too: sends are stored again.
    app.send(1, 2, "after the outage").await;
    let (_, body) = call(unread()).await;
    assert_eq!(body["data"]["unreadCount"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_faster_than_the_rate_gets_429_with_retry_after() {
    // The default rate lets 200 messages through at once; this test lowers it to see the limit.
    let app =
        TestApp::spawn_with(&[("CHAT_SEND_RATE_PER_SEC", "0.01"), ("CHAT_SEND_BURST", "2")]).await;
    app.users(&[1, 2]).await;
    app.send(1, 2, "one").await;
    app.send(1, 2, "two").await;
    let response = app
        .as_user(1, Method::POST, "/api/chat/send")
        .json(&json!({ "receiverId": 2, "content": "three" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    app.send(2, 1, "bob has his own allowance").await;
    let (_, unread) = call(app.as_user(2, Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(
        unread["data"]["unreadCount"], 0,
        "bob's reply read the two; the third was never stored"
    );
    let (_, list) = call(app.as_user(2, Method::GET, "/api/chat/conversations")).await;
    assert_eq!(list["data"]["conversations"][0]["last_seq"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id_and_plain_incoming_ids_are_kept() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a fresh uuid: {id}");
    let response = app
        .request(Method::GET, "/api/chat/unread")
        .header("X-Request-Id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["x-request-id"], "trace-42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_admits_the_frontend_with_credentials_and_no_one_else() {
    let app = TestApp::spawn_with(&[("FRONTEND_URL", "http://localhost:3000")]).await;
    let preflight = |origin: &str| {
        app.request(Method::OPTIONS, "/api/chat/send")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
    };
    let allowed = preflight("http://localhost:3000").send().await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let refused = preflight("https://evil.example").send().await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let simple = app
        .request(Method::GET, "/healthz")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        simple
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
