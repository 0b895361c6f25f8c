//! The OpenAPI document and the docs page, against a real server.
//!
//! Route coverage: `chat_api::Endpoint::ALL` is the one list of routes. `chat_api::configure`
//! registers exactly that list (an exhaustive `match` gives each entry its handler), so a route
//! cannot be served without being in it. The tests below then check, both ways, that the
//! served OpenAPI document describes exactly the listed routes and that the server routes every
//! documented operation; and a scan of the sources checks that nothing registers a route
//! outside the table (a `.route(`, `.service(`, `web::scope(`, `#[get(`, ... anywhere else in
//! chat-api or chat-server fails the test). Adding a route therefore means adding an
//! `Endpoint` and its `#[utoipa::path]`, or this file fails.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chat_api::Endpoint;
use reqwest::Method;
use serde_json::{Value, json};
use support::TestApp;

async fn fetch_document(app: &TestApp) -> Value {
    let response = app.get(chat_api::OPENAPI_PATH).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let app = TestApp::spawn().await;
    let documented = documented_operations(&fetch_document(&app).await);
    let listed: BTreeSet<(String, String)> = Endpoint::ALL
        .iter()
        .filter(|e| e.in_api_document())
        .map(|e| (e.method().to_string(), e.path().to_owned()))
        .collect();
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the document: {undocumented:?}"
    );
    let unserved: Vec<_> = documented.difference(&listed).collect();
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );

    // The server really routes each documented operation: without credentials every one
    // answers with a JSON body (401, 400, or the probe's status; the metrics their text), never the fallback's "no
    // such path" or "method not allowed", which the two controls get.
    for (method, path) in &documented {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let concrete = path.replace("{id}", "1");
        let mut request = app.request(method.clone(), &concrete);
        if method == Method::POST || method == Method::PUT {
            request = request.json(&json!({}));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        if path == chat_api::METRICS_PATH {
            // Open without CHAT_METRICS_TOKEN, and in the Prometheus text format.
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                status == 200 && kind.starts_with("text/plain"),
                "{status} {kind}"
            );
            continue;
        }
        let body = response.text().await.unwrap();
        assert!(
            serde_json::from_str::<Value>(&body).is_ok_and(|v| v.is_object() && !unrouted(&v)),
            "{method} {concrete} is not routed: {status} {body:?}"
        );
    }
    for (method, path, status) in [
        (Method::GET, "/api/chat/nothing", 404),
        (Method::POST, "/healthz", 405),
    ] {
        let response = app.request(method, path).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(unrouted(&body), "{path}: {body}");
    }
}

/// Whether an answer is the fallback's, given to requests no route takes.
fn unrouted(body: &Value) -> bool {
    body["code"] == "method_not_allowed"
        || (body["code"] == "not_found" && body["message"] == "No such path")
}

/// Calls that register a route with actix-web.
const REGISTRATIONS: &[&str] = &[
    ".route(",
    ".service(",
    ".default_service(",
    "web::resource(",
    "web::scope(",
    "Resource::new(",
    "Scope::new(",
    "#[get(",
    "#[post(",
    "#[put(",
    "#[patch(",
    "#[delete(",
    "#[head(",
    "#[route(",
    "#[routes]",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(file, line)` of every route registration in the sources under `dir`, comments aside.
fn registrations(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut found = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let code = line.trim_start();
            if !code.starts_with("//") && REGISTRATIONS.iter().any(|r| code.contains(r)) {
                found.push((file.clone(), code.to_owned()));
            }
        }
    }
    found
}

#[test]
fn routes_are_registered_only_through_the_route_table() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let table = crates.join("chat-api/src/routes/table.rs");
    let outside: Vec<_> = registrations(&crates.join("chat-api/src"))
        .into_iter()
        .filter(|(file, _)| *file != table)
        .collect();
    assert!(
        outside.is_empty(),
        "chat-api registers routes outside routes/table.rs; add an `Endpoint` instead: {outside:?}"
    );
    assert!(
        registrations(table.parent().unwrap())
            .iter()
            .any(|(file, _)| *file == table),
        "the scan finds the table's own registration"
    );
    // The server mounts chat-api with `configure`; the only other HTTP surface it may mount is
    // the Socket.IO transport (chat-realtime), which is not REST and not in the document.
    let server: Vec<_> = registrations(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .into_iter()
        .filter(|(_, line)| {
            let line = line.to_lowercase();
            !["chat_realtime", "socket", "engineio", "engine_io"]
                .iter()
                .any(|t| line.contains(t))
        })
        .collect();
    assert!(
        server.is_empty(),
        "chat-server registers REST routes outside chat_api::configure; add an `Endpoint` instead: {server:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_as_openapi_3_json() {
    let app = TestApp::spawn().await;
    let response = app.get("/api-docs/openapi.json").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let doc: Value = response.json().await.unwrap();
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    assert!(doc["info"]["title"].is_string());
    let bearer = &doc["components"]["securitySchemes"]["bearer_jwt"];
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
    let send = &doc["paths"]["/api/chat/send"]["post"];
    assert_eq!(send["security"], json!([{ "bearer_jwt": [] }]));
    let statuses: BTreeSet<&str> = send["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for status in [
        "201", "400", "401", "404", "409", "413", "429", "500", "503",
    ] {
        assert!(statuses.contains(status), "send documents {status}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Message",
        "Conversation",
        "User",
        "Pagination",
        "ErrorEnvelope",
    ] {
        assert!(schemas.contains_key(name), "schema {name}");
    }
    let message = schemas["Message"]["properties"].as_object().unwrap();
    for field in ["sender_id", "receiver_id", "createdAt", "updatedAt", "seq"] {
        assert!(message.contains_key(field), "Message.{field}");
    }
}

/// Every `http://` or `https://` URL in `text`.
fn absolute_urls(text: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for scheme in ["http://", "https://"] {
        for (at, _) in text.match_indices(scheme) {
            let url: String = text[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"'<>)`".contains(*c))
                .collect();
            urls.push(url);
        }
    }
    urls
}

/// The values of `src="..."` and `href="..."` attributes.
fn linked(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            links.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    links
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_served_from_the_server_alone() {
    let app = TestApp::spawn().await;
    // `/docs` redirects to `/docs/` (reqwest follows it), where relative assets resolve.
    let response = app.get("/docs").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/docs/");
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "a Swagger UI page");

    let foreign: Vec<String> = absolute_urls(&html)
        .into_iter()
        .filter(|url| !url.starts_with(&app.address))
        .collect();
    assert!(
        foreign.is_empty(),
        "the page loads from elsewhere: {foreign:?}"
    );
    let links = linked(&html);
    assert!(!links.is_empty());
    for link in &links {
        assert!(!link.starts_with("//"), "protocol-relative URL {link}");
        let url = format!("{}/docs/{}", app.address, link.trim_start_matches("./"));
        let asset = app.client.get(&url).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{url}");
    }

    // The script that starts Swagger UI points at our document and at no other host (the
    // online validator is off).
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status(), 200);
    let init = init.text().await.unwrap();
    assert!(init.contains(chat_api::OPENAPI_PATH), "{init}");
    assert!(absolute_urls(&init).is_empty(), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");
}
