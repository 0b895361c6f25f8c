//! The HTTP surface at its edges: cursors at their natural ends, browsers' preflights as the
//! `cors` middleware answers them, the envelope for paths and methods that do not exist,
//! headers every answer carries, and registration when the host took the next ids.

use reqwest::Method;

use crate::support::{TestApp, call};
use crate::{ADMIN_TOKEN, assert_refused, host_provisions, register};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_zero_reads_history_from_the_first_message() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2]).await;
    let first = app.send(1, 2, "one").await;
    app.send(2, 1, "two").await;
    let conversation = first["conversation_id"].as_i64().unwrap();
    let path = format!("/api/chat/conversations/{conversation}/messages?after=0");
    let (status, body) = call(app.as_user(1, Method::GET, &path)).await;
    assert_eq!(status, 200, "{body}");
    let contents: Vec<&str> = body["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, ["two", "one"], "newest first, from the start");
}

/// The values of a comma-separated header, lowercased.
fn listed(response: &reqwest::Response, name: &str) -> Vec<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_from_the_frontend_get_the_headers_and_methods_they_ask_for() {
    let origin = "http://localhost:3000";
    let app = TestApp::spawn_with(&[("FRONTEND_URL", origin)]).await;
    let asked = [
        "x-requested-with",
        "cache-control",
        "x-request-id",
        "authorization",
        "content-type",
    ];
    for (path, method) in [
        ("/api/chat/send", "POST"),
        ("/api/chat/messages/1", "PATCH"),
        ("/api/chat/conversations/1/read", "PUT"),
        ("/socket.io/?EIO=4&transport=polling", "POST"),
    ] {
        let preflight = app
            .request(Method::OPTIONS, path)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", asked.join(","))
            .send()
            .await
            .unwrap();
        assert!(
            preflight.status().is_success(),
            "{path}: {}",
            preflight.status()
        );
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            origin,
            "{path}"
        );
        assert_eq!(
            preflight.headers()["access-control-allow-credentials"],
            "true"
        );
        let headers = listed(&preflight, "access-control-allow-headers");
        for header in asked {
            assert!(
                headers.contains(&header.to_owned()),
                "{path}: {header} in {headers:?}"
            );
        }
        let methods = listed(&preflight, "access-control-allow-methods");
        assert!(
            methods.contains(&method.to_ascii_lowercase()),
            "{path}: {methods:?}"
        );
    }
    let answer = app
        .request(Method::GET, "/healthz")
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    let exposed = listed(&answer, "access-control-expose-headers");
    for header in ["x-request-id", "retry-after"] {
        assert!(
            exposed.contains(&header.to_owned()),
            "{header} in {exposed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_a_foreign_origin_is_refused_in_the_envelope() {
    let app = TestApp::spawn_with(&[("FRONTEND_URL", "http://localhost:3000")]).await;
    for path in ["/api/chat/send", "/socket.io/?EIO=4&transport=polling"] {
        let response = app
            .request(Method::OPTIONS, path)
            .header("Origin", "http://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin"),
            "{path}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_refused(response, 400, "invalid_input").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_wrong_methods_answer_in_the_envelope() {
    let app = TestApp::spawn().await;
    for path in ["/api/chat/nothing-here", "/nothing", "/api"] {
        let response = app.request(Method::GET, path).send().await.unwrap();
        assert_refused(response, 404, "not_found").await;
    }
    let response = app
        .as_user(1, Method::DELETE, "/api/chat/send")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_refused(response, 405, "method_not_allowed").await;
    let response = app
        .request(Method::POST, "/api/users/7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    assert_refused(response, 405, "method_not_allowed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_never_sniffed_api_answers_never_stored_and_the_docs_never_framed() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/api/users/me", "/nothing", "/docs/"] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    let me = app
        .as_user(1, Method::GET, "/api/users/me")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert_eq!(me.headers()["x-content-type-options"], "nosniff");
    let refused = app.get("/api/users/me").await;
    assert_eq!(refused.headers()["cache-control"], "no-store", "a 401 too");
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    let policy = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "frame-ancestors 'none'",
        "script-src 'self'",
        "default-src 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    let page = docs.text().await.unwrap();
    assert!(
        !page.contains("<script>"),
        "Swagger UI runs with no inline script"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_succeeds_when_the_host_took_the_next_ids() {
    let app = TestApp::spawn_with(&[("CHAT_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    let names: Vec<String> = (1..=40).map(|id| format!("host{id}")).collect();
    let users: Vec<(i64, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (i64::try_from(i).unwrap() + 1, n.as_str()))
        .collect();
    host_provisions(&app, &users).await;
    let (status, body) = register(&app, "newcomer", "password123").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["data"]["id"].as_i64().unwrap() > 40, "{body}");
    let (status, body) = register(&app, "second", "password123").await;
    assert_eq!(status, 201, "{body}");
}
