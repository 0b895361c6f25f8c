//! Behind a reverse proxy the operator names in `CHAT_TRUSTED_PROXIES`, per-address limits count
//! the client the proxy forwarded for, not the proxy; from anywhere else `X-Forwarded-For` is
//! ignored, since anyone can write it.

use reqwest::Method;
use serde_json::json;

use crate::support::{TestApp, call};

/// Registers `username` through a proxy that says the client is `client`.
async fn register_from(app: &TestApp, client: &str, username: &str) -> u16 {
    let body = json!({ "username": username, "password": "password123" });
    let request = app
        .request(Method::POST, "/api/auth/register")
        .header("X-Forwarded-For", client)
        .json(&body);
    call(request).await.0
}

/// A server that allows one registration per address.
async fn one_registration_per_address(trusted: Option<&str>) -> TestApp {
    let mut vars = vec![
        ("CHAT_REGISTER_RATE_PER_MIN", "1"),
        ("CHAT_REGISTER_BURST", "1"),
    ];
    if let Some(trusted) = trusted {
        vars.push(("CHAT_TRUSTED_PROXIES", trusted));
    }
    TestApp::spawn_with(&vars).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = one_registration_per_address(Some("127.0.0.0/8, ::1")).await;
    assert_eq!(register_from(&app, "198.51.100.1", "first").await, 201);
    assert_eq!(
        register_from(&app, "198.51.100.2", "second").await,
        201,
        "another client behind the same proxy"
    );
    assert_eq!(
        register_from(&app, "203.0.113.9, 198.51.100.1", "third").await,
        429,
        "the address the proxy appended counts, not one the client wrote before it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let app = one_registration_per_address(None).await;
    assert_eq!(register_from(&app, "198.51.100.1", "first").await, 201);
    assert_eq!(
        register_from(&app, "198.51.100.2", "second").await,
        429,
        "a client cannot pick its own address"
    );
}
