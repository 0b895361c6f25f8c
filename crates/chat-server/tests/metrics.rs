//! `/metrics`: the Prometheus text format behind `CHAT_METRICS_TOKEN`, and the values moving
//! with what clients do: sessions by transport, events in and out, send latency, group-commit
//! batches, rate-limit refusals, disconnects, recoveries and the database pool.
//!
//! The recorder is process-wide, so this binary holds one test and reads differences.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::json;
use support::ws::{connected_socket, next_text};
use support::{TestApp, call};
use tokio_tungstenite::tungstenite::Message;

const METRICS_TOKEN: &str = "scrape-token-0123456789";

/// The value of the series `series` (name and labels exactly as rendered), 0 when absent.
fn value(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .request(Method::GET, "/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_follow_sockets_events_sends_and_refusals() {
    let app = TestApp::spawn_with(&[
        ("CHAT_METRICS_TOKEN", METRICS_TOKEN),
        ("CHAT_SEND_BURST", "3"),
        ("CHAT_SEND_RATE_PER_SEC", "0.001"),
    ])
    .await;
    app.users(&[1, 2]).await;

    // The token: missing or wrong is a JSON 401, like the rest of the API.
    let (status, body) = call(app.request(Method::GET, "/metrics")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, _) = call(
        app.request(Method::GET, "/metrics")
            .bearer_auth("scrape-token-0123456780"),
    )
    .await;
    assert_eq!(status, 401);

    let before = scrape(&app).await;

    // A WebSocket session that sends a known event, an unknown one and a message.
    let mut ws = connected_socket(&app, 1).await;
    let sends = [
        r#"421["no_such_event",{}]"#,
        r#"422["send_message",{"receiverId":2,"content":"over the socket"}]"#,
    ];
    for packet in sends {
        ws.send(Message::text(packet)).await.unwrap();
    }
    let mut acks = 0;
    while acks < 2 {
        if next_text(&mut ws).await.starts_with("43") {
            acks += 1;
        }
    }
    let during = scrape(&app).await;
    let websocket = r#"chat_engineio_sessions{transport="websocket"}"#;
    assert_eq!(value(&during, websocket) - value(&before, websocket), 1.0);
    for (series, grew) in [
        (
            r#"chat_socketio_events_received_total{event="unknown"}"#,
            1.0,
        ),
        (
            r#"chat_socketio_events_received_total{event="send_message"}"#,
            1.0,
        ),
        ("chat_message_send_duration_seconds_count", 1.0),
        ("chat_store_group_commit_batch_messages_count", 1.0),
    ] {
        assert_eq!(
            value(&during, series) - value(&before, series),
            grew,
            "{series}\n{during}"
        );
    }
    assert!(
        value(
            &during,
            r#"chat_socketio_events_sent_total{event="user_online"}"#
        ) + value(
            &during,
            r#"chat_socketio_events_sent_total{event="new_message"}"#
        ) + value(
            &during,
            r#"chat_socketio_events_sent_total{event="message_notification"}"#
        ) > 0.0,
        "{during}"
    );
    assert!(value(&during, r#"chat_db_pool_max_connections"#) >= 1.0);
    assert!(during.contains(r#"chat_db_pool_connections{state="idle"}"#));
    assert!(during.contains("chat_message_send_duration_seconds_bucket{le=\"0.005\"}"));

    // The burst of 3 is spent by two more sends; the fourth is refused and counted.
    for n in 0..3 {
        let (status, _) = call(
            app.as_user(1, Method::POST, "/api/chat/send")
                .json(&json!({ "receiverId": 2, "content": format!("rest {n}") })),
        )
        .await;
        assert_eq!(status, if n < 2 { 201 } else { 429 }, "send {n}");
    }

    // The client closes; the session leaves the gauge and its reason is counted.
    ws.send(Message::text("1")).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    let after = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let now = scrape(&app).await;
            if value(&now, websocket) == value(&before, websocket) {
                break now;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the closed session leaves the gauge");
    let refusals = r#"chat_rate_limit_refusals_total{limit="send"}"#;
    assert_eq!(value(&after, refusals) - value(&before, refusals), 1.0);
    let closed = r#"chat_engineio_disconnects_total{reason="client_close"}"#;
    assert_eq!(value(&after, closed) - value(&before, closed), 1.0);
    let sends = "chat_message_send_duration_seconds_count";
    assert_eq!(value(&after, sends) - value(&before, sends), 3.0);
}
