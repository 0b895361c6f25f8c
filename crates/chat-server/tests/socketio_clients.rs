//! Drives the Node tests in `tests/socketio/`: the real `socket.io-client` from npm against
//! this server on a free port with a fresh database. `cargo xtask test` installs the client
//! with `npm ci` first.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use support::{TestApp, token};

/// The Node tests' directory, with the client installed.
fn node_tests() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio");
    assert!(
        dir.join("node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in {} (`cargo xtask test` does)",
        dir.display()
    );
    dir
}

/// Every `*.test.mjs`, on one worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_passes_the_node_suite() {
    // Fails before a server is started when the client is not installed.
    node_tests();
    let app = TestApp::spawn().await;
    let users: Vec<i64> = (1..=20).collect();
    app.users(&users).await;
    let first = app.send(1, 2, "conversation 1").await;
    assert_eq!(
        first["conversation_id"], 1,
        "the seed's example expects conversation 1"
    );
    run_node(&app, &users, &[]).await;
}

/// `burst-order.stress.mjs`, which the suite above leaves out: four sockets of one user burst
/// 100 un-acked sends each, 20 rounds per transport, on a server with four workers, so that
/// the senders' events are handled on several threads at once; both receiving sockets must
/// see every round's 400 messages in the stored seq order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bursts_reach_every_receiving_socket_in_stored_seq_order_on_four_workers() {
    node_tests();
    let app = TestApp::spawn_with(&[("CHAT_WORKERS", "4")]).await;
    // A pair of users per round: 20 rounds on each of the two transports.
    let users: Vec<i64> = (1..=80).collect();
    app.users(&users).await;
    run_node(&app, &users, &["burst-order.stress.mjs"]).await;
}

/// Runs `node --test` on `files` (every `*.test.mjs` when empty) against `app`, with a token
/// for each of `users`, and fails with the Node output unless every test passed.
async fn run_node(app: &TestApp, users: &[i64], files: &[&str]) {
    let tokens: HashMap<String, String> = users
        .iter()
        .map(|id| (id.to_string(), token(*id)))
        .collect();
    let output = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
        .args(files)
        .current_dir(node_tests())
        .env("SERVER_URL", &app.address)
        .env("TOKENS", serde_json::to_string(&tokens).unwrap())
        .output()
        .await
        .expect("node runs (install Node.js 18 or newer)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node tests failed:\n{stdout}\n{stderr}"
    );
    // The spec reporter closes with `ℹ tests N`, `ℹ pass N`, `ℹ fail 0`.
    assert!(stdout.contains("ℹ fail 0"), "{stdout}");
    assert!(!stdout.contains("ℹ pass 0"), "no Node test ran:\n{stdout}");
}
