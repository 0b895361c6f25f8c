//! Webhooks for offline users against a real HTTP receiver that fails, hangs past the timeout
//! and recovers: the event names the members with no socket, is signed, keeps its id and body
//! across attempts, is dead-lettered after the last one, and comes back through the admin API.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use support::ws::connected_socket;
use support::{TestApp, call};
use tokio::sync::mpsc;

const WEBHOOK_SECRET: &str = "webhook-secret-0123456789";
const ADMIN: &str = "admin-token-0123456789";
/// The longest any one expected request may take to arrive; only a bound on a failure.
const PATIENCE: Duration = Duration::from_secs(20);

/// What the receiver does with the next request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers: the server's timeout ends the attempt.
    Hang,
}

/// A request as the receiver got it.
#[derive(Debug)]
struct Received {
    id: String,
    attempt: String,
    signature: String,
    body: String,
}

/// The receiver's script and where it hands requests.
type Shared = (
    Arc<Mutex<VecDeque<Answer>>>,
    mpsc::UnboundedSender<Received>,
);

/// A real HTTP server on a free port that answers from a script (200 once it is empty) and
/// hands every request to the test.
struct Receiver {
    url: String,
    requests: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    async fn start(script: &[Answer]) -> Receiver {
        let queue = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let (tx, requests) = mpsc::unbounded_channel();
        let state: Shared = (queue, tx);
        let server = HttpServer::new(move || {
            let state = state.clone();
            App::new().app_data(web::Data::new(state)).route(
                "/hook",
                web::post().to(
                    |request: HttpRequest, body: String, state: web::Data<Shared>| async move {
                        let header = |name: &str| {
                            request
                                .headers()
                                .get(name)
                                .unwrap()
                                .to_str()
                                .unwrap()
                                .to_owned()
                        };
                        let received = Received {
                            id: header("x-chat-webhook-id"),
                            attempt: header("x-chat-webhook-attempt"),
                            signature: header("x-chat-signature"),
                            body,
                        };
                        let answer = state.0.lock().unwrap().pop_front();
                        let _ = state.1.send(received);
                        match answer {
                            Some(Answer::Hang) => {
                                futures_util::future::pending::<()>().await;
                                HttpResponse::Ok().finish()
                            }
                            Some(Answer::Status(code)) => HttpResponse::build(
                                actix_web::http::StatusCode::from_u16(code).unwrap(),
                            )
                            .finish(),
                            None => HttpResponse::Ok().finish(),
                        }
                    },
                ),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            requests,
        }
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.requests.recv())
            .await
            .expect("a webhook request in time")
            .unwrap()
    }
}

async fn app_posting_to(receiver: &Receiver) -> TestApp {
    TestApp::spawn_with(&[
        ("CHAT_WEBHOOK_URL", &receiver.url),
        ("CHAT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CHAT_WEBHOOK_TIMEOUT_MS", "300"),
        ("CHAT_WEBHOOK_BACKOFF_MS", "20"),
        ("CHAT_WEBHOOK_MAX_ATTEMPTS", "4"),
        ("CHAT_WEBHOOK_POLL_MS", "20"),
        ("CHAT_ADMIN_TOKEN", ADMIN),
    ])
    .await
}

/// Checks the signature as a receiver would, with HMAC-SHA256 of `<t>.<body>`.
fn signed_correctly(header: &str, body: &str) -> bool {
    let (t, v1) = header.split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (0..60).contains(&age) && expected == v1
}

#[derive(QueryableByName)]
struct State {
    #[diesel(sql_type = Text)]
    state: String,
}

/// The outbox state of `message`'s event once it is no longer pending.
async fn settled_state(app: &TestApp, message: i64) -> String {
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    tokio::time::timeout(PATIENCE, async {
        loop {
            let rows: Vec<State> =
                diesel::sql_query("SELECT state FROM chat.webhook_outbox WHERE message_id = $1")
                    .bind::<BigInt, _>(message)
                    .load(&mut conn)
                    .await
                    .unwrap();
            assert_eq!(rows.len(), 1, "one outbox row per message");
            if rows[0].state != "pending" {
                return rows[0].state.clone();
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the event is settled in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_member_gets_one_signed_event_after_errors_and_a_timeout() {
    let mut receiver = Receiver::start(&[Answer::Status(500), Answer::Hang]).await;
    let app = app_posting_to(&receiver).await;
    app.users(&[1, 2, 3]).await;
    let _socket = connected_socket(&app, 3).await;

    let to_online = app.send(1, 3, "you are here").await;
    let to_offline = app.send(1, 2, "hello @user2").await;

    let mut attempts = Vec::new();
    for _ in 0..3 {
        attempts.push(receiver.next().await);
    }
    assert_eq!(
        settled_state(&app, to_offline["id"].as_i64().unwrap()).await,
        "delivered"
    );
    assert_eq!(
        settled_state(&app, to_online["id"].as_i64().unwrap()).await,
        "skipped",
        "a member with a socket gets no webhook"
    );
    let numbers: Vec<&str> = attempts.iter().map(|r| r.attempt.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3"]);
    for attempt in &attempts {
        assert_eq!(attempt.id, attempts[0].id, "one id across attempts");
        assert_eq!(attempt.body, attempts[0].body, "one body across attempts");
        assert!(
            signed_correctly(&attempt.signature, &attempt.body),
            "{}",
            attempt.signature
        );
    }
    assert!(!signed_correctly(
        &attempts[0].signature,
        &attempts[0].body.replace("hello", "hullo")
    ));
    let event: Value = serde_json::from_str(&attempts[0].body).unwrap();
    assert_eq!(event["id"], attempts[0].id.as_str());
    assert_eq!(event["type"], "offline_message");
    assert_eq!(event["message"]["id"], to_offline["id"]);
    assert_eq!(event["message"]["content"], "hello @user2");
    assert_eq!(event["message"]["sender_username"], "user1");
    assert_eq!(
        event["recipients"],
        json!([{ "user_id": 2, "mentioned": true }])
    );
    assert!(
        receiver.requests.try_recv().is_err(),
        "nothing more was posted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_dead_lettered_after_its_last_attempt_and_requeued_by_the_admin_api() {
    let mut receiver = Receiver::start(&[Answer::Status(503); 4]).await;
    let app = app_posting_to(&receiver).await;
    app.users(&[1, 2]).await;
    let sent = app.send(1, 2, "nobody is listening").await;
    let message = sent["id"].as_i64().unwrap();
    for n in 1..=4 {
        assert_eq!(receiver.next().await.attempt, n.to_string());
    }
    assert_eq!(settled_state(&app, message).await, "dead");

    let dead = app
        .request(Method::GET, "/api/admin/webhooks/dead")
        .bearer_auth(ADMIN);
    let (status, body) = call(dead).await;
    assert_eq!(status, 200, "{body}");
    let events = body["data"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["messageId"], message);
    assert_eq!(events[0]["attempts"], 4);
    assert_eq!(events[0]["lastError"], "HTTP 503");
    assert_eq!(events[0]["payload"]["recipients"][0]["user_id"], 2);
    assert_eq!(body["data"]["nextBefore"], Value::Null);

    let (status, _) = call(app.request(Method::GET, "/api/admin/webhooks/dead")).await;
    assert_eq!(status, 401, "the admin token is required");
    let id = events[0]["id"].as_i64().unwrap();
    let retry = |id: i64| {
        app.request(
            Method::POST,
            &format!("/api/admin/webhooks/dead/{id}/retry"),
        )
        .bearer_auth(ADMIN)
    };
    let (status, body) = call(retry(id + 1000)).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = call(retry(id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({ "id": id, "requeued": true }));

    let again = receiver.next().await;
    assert_eq!(again.id, id.to_string(), "the same event");
    assert_eq!(again.attempt, "1", "attempts counted afresh");
    assert_eq!(settled_state(&app, message).await, "delivered");
    let (_, body) = call(
        app.request(Method::GET, "/api/admin/webhooks/dead")
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(body["data"]["events"], json!([]));
}
