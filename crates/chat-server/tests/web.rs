//! What the server serves to browsers: the socket.io-client bundle under `/socket.io/`, byte
//! for byte the npm package's files with the Node server's headers, and the web app at `/`,
//! driven in headless Chromium by `web/tests/chat.browser.mjs`. `cargo xtask test` installs
//! the package and the browser driver (`npm ci` in `web/`) and finds Chromium.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};

use chat_api::CLIENT_FILES;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH,
};
use serde_json::Value;
use support::TestApp;

/// `web/` at the workspace root.
fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

/// The installed package's `dist/`, as the server is pointed at it.
fn bundle_dir() -> PathBuf {
    let dir = web_dir().join("node_modules/socket.io-client/dist");
    assert!(
        dir.join("socket.io.js").is_file(),
        "socket.io-client is not installed: run `npm ci` in {} (`cargo xtask test` does)",
        web_dir().display()
    );
    dir
}

async fn serving_the_bundle(extra: &[(&str, &str)]) -> TestApp {
    let dir = bundle_dir();
    let mut vars = vec![("CHAT_CLIENT_DIR", dir.to_str().unwrap())];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// The answer of a path no route takes.
async fn assert_unknown_path(app: &TestApp, path: &str) {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "No such path", "{path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundle_file_is_served_byte_for_byte_with_the_node_servers_headers() {
    let app = serving_the_bundle(&[]).await;
    for name in CLIENT_FILES {
        let expected = std::fs::read(bundle_dir().join(name)).unwrap();
        let response = app.get(&format!("/socket.io/{name}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let headers = response.headers().clone();
        let content_type = if name.ends_with(".map") {
            "application/json; charset=utf-8"
        } else {
            "application/javascript; charset=utf-8"
        };
        assert_eq!(headers[CONTENT_TYPE], content_type, "{name}");
        assert_eq!(headers[CACHE_CONTROL], "public, max-age=0", "{name}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{name}");
        assert!(headers.get(CONTENT_ENCODING).is_none(), "{name}");
        let body = response.bytes().await.unwrap();
        assert!(body == expected, "{name} differs from the package's file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_etag_is_answered_304_and_a_changed_one_gets_the_file() {
    let app = serving_the_bundle(&[]).await;
    let path = "/socket.io/socket.io.min.js";
    let first = app.get(path).await;
    let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".into(),
    ] {
        let again = app
            .request(reqwest::Method::GET, path)
            .header(IF_NONE_MATCH, &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(
            again.status(),
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {tag}"
        );
        assert_eq!(again.headers()[ETAG], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let changed = app
        .request(reqwest::Method::GET, path)
        .header(IF_NONE_MATCH, "\"an-older-version\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    // Each file has its own tag.
    let map = app.get("/socket.io/socket.io.min.js.map").await;
    assert_ne!(map.headers()[ETAG], etag.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_accepts_gzip_gets_the_same_file_compressed() {
    let app = serving_the_bundle(&[]).await;
    let expected = std::fs::read(bundle_dir().join("socket.io.js")).unwrap();
    let response = app
        .request(reqwest::Method::GET, "/socket.io/socket.io.js")
        .header(ACCEPT_ENCODING, "br;q=1, gzip;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .split(", ")
            .next(),
        Some("Accept-Encoding")
    );
    let compressed = response.bytes().await.unwrap();
    assert!(compressed.len() < expected.len() / 2);
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut unpacked)
        .unwrap();
    assert!(unpacked == expected, "the gzip copy unpacks to the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_paths_under_socket_io_are_unknown_and_the_endpoint_still_answers() {
    let app = serving_the_bundle(&[]).await;
    for path in [
        "/socket.io/socket.io.esm.js",
        "/socket.io/socket.io.js.gz",
        "/socket.io/package.json",
        "/socket.io/..%2Fsocket.io.js",
    ] {
        assert_unknown_path(&app, path).await;
    }
    let handshake = app.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(handshake.status(), StatusCode::OK);
    assert!(handshake.text().await.unwrap().starts_with("0{"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_serve_client_false_turns_the_bundle_off() {
    let app = serving_the_bundle(&[("CHAT_SERVE_CLIENT", "false")]).await;
    for name in CLIENT_FILES {
        assert_unknown_path(&app, &format!("/socket.io/{name}")).await;
    }
    let handshake = app.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(handshake.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bundle_leaves_the_server_running_and_its_paths_unknown() {
    let app =
        TestApp::spawn_with(&[("CHAT_CLIENT_DIR", "/nonexistent/socket.io-client/dist")]).await;
    assert_unknown_path(&app, "/socket.io/socket.io.js").await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_is_served_at_the_root_under_its_content_security_policy() {
    let app = serving_the_bundle(&[]).await;
    let page = app.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/socket.io/socket.io.js"></script>"#));
    let expected = std::fs::read(web_dir().join("app/app.js")).unwrap();
    let script = app.get("/app/app.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(
        script.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(script.bytes().await.unwrap() == expected);
    assert_unknown_path(&app, "/app/missing.js").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_web_app_false_turns_the_app_off() {
    let app = serving_the_bundle(&[("CHAT_WEB_APP", "false")]).await;
    assert_unknown_path(&app, "/").await;
    assert_unknown_path(&app, "/app/app.js").await;
    assert_eq!(
        app.get("/socket.io/socket.io.js").await.status(),
        StatusCode::OK
    );
}

/// Chromium: `CHAT_TEST_CHROMIUM` (which `cargo xtask test` sets), else `chromium` on `PATH`
/// or in /usr/bin.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHAT_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .expect("Chromium is not installed: on Debian/Ubuntu run `apt-get install -y chromium` (or set CHAT_TEST_CHROMIUM)")
}

/// `web/tests/chat.browser.mjs`: two people sign up in the app, chat both ways, see typing
/// and read receipts, scroll back through history, make a group and add a member; one loses
/// the network (offline, and every connection cut) while the other writes, and shows every
/// message once, in order, after reconnecting. `CHAT_SCREENSHOTS=<dir>` (relative to the
/// workspace root) also writes the README's screenshots there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_chat_in_the_web_app_and_one_recovers_after_a_network_cut() {
    let chromium = chromium();
    assert!(
        web_dir().join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci` in {} (`cargo xtask test` does)",
        web_dir().display()
    );
    let app = serving_the_bundle(&[]).await;
    let mut node = tokio::process::Command::new("node");
    node.arg("tests/chat.browser.mjs")
        .current_dir(web_dir())
        .env("SERVER_URL", &app.address)
        .env("CHROMIUM", chromium);
    if let Some(dir) = std::env::var_os("CHAT_SCREENSHOTS") {
        // Relative to the workspace root, where `cargo test` is usually typed.
        node.env("SCREENSHOTS", web_dir().join("..").join(dir));
    }
    let output = node
        .output()
        .await
        .expect("node runs (install Node.js 18 or newer)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("web app: all checks passed"), "{stdout}");
}
