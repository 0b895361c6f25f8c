//! The server under what real clients, reconnect storms and attackers send: credential floods,
//! many first requests at once, names in every script and form, browsers' preflights, stalled
//! bodies, and requests for what does not exist. One test binary, so the server links once.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod body_timeout;
mod credentials;
mod logs;
mod proxies;
mod storms;
mod surface;
mod unicode;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

/// The admin token of the servers that need the admin API.
pub(crate) const ADMIN_TOKEN: &str = "admin-token-for-hardening-tests";

/// `POST /api/auth/register`.
pub(crate) async fn register(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let body = json!({ "username": username, "password": password });
    call(app.request(Method::POST, "/api/auth/register").json(&body)).await
}

/// `POST /api/auth/login`, with the response's headers.
pub(crate) async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let body = json!({ "username": username, "password": password });
    app.request(Method::POST, "/api/auth/login")
        .json(&body)
        .send()
        .await
        .expect("request reaches the server")
}

/// Creates users through the host's admin API, as a host provisions them ahead of time (the
/// server has not seen them yet: their first request provisions nothing new).
pub(crate) async fn host_provisions(app: &TestApp, users: &[(i64, &str)]) {
    let users: Vec<Value> = users
        .iter()
        .map(|(id, name)| json!({ "id": id, "username": name }))
        .collect();
    let (status, body) = call(
        app.request(Method::PUT, "/api/admin/users")
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "users": users })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Asserts a refusal in the envelope with this status and code, and returns its body.
pub(crate) async fn assert_refused(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// The `Retry-After` of a response, in seconds.
pub(crate) fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds")
}
