//! Drives the Node tests in `tests/socketio/`: the real `socket.io-client` from npm against
//! this server on a free port with a fresh database. `cargo xtask test` installs the client
//! with `npm ci` first.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chat_store_pg::test_support::TestDatabase;
use support::{SECRET, TestApp, token};

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
    let users: Vec<i64> = (1..=44).collect();
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

/// `groups.test.mjs` again, on a server with four workers: a group's sends from a socket and
/// over REST at once are handled on several threads, and every member's sockets (two devices
/// for one of them) must still see them once each, in seq order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_sends_reach_every_member_in_seq_order_on_four_workers() {
    node_tests();
    let app = TestApp::spawn_with(&[("CHAT_WORKERS", "4")]).await;
    let users: Vec<i64> = (1..=36).collect();
    app.users(&users).await;
    run_node(&app, &users, &["groups.test.mjs"]).await;
}

/// `recovery.restart.mjs`: connection state recovery with no client option, after a cut
/// mid-burst (both transports), a drop before any event, three drops in a row the server has
/// not noticed, 12 s offline, and the server stopped with SIGTERM or killed with SIGKILL and
/// started again on the same port and database. The Node file starts the server binary itself
/// (two workers) behind a TCP proxy it can cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_recovers_exactly_after_cuts_restarts_and_crashes() {
    let dir = node_tests();
    let db = TestDatabase::create().await;
    let users: Vec<i64> = (1..=20).collect();
    let mut node = node_command(&dir, &users, &["recovery.restart.mjs"]);
    node.env("SERVER_BIN", env!("CARGO_BIN_EXE_chat-server"))
        .env("DATABASE_URL", db.url())
        .env("JWT_SECRET", SECRET);
    check_node(node).await;
}

/// `node --test` on `files` (every `*.test.mjs` when empty) in `dir`, with a token for each of
/// `users`.
fn node_command(dir: &Path, users: &[i64], files: &[&str]) -> tokio::process::Command {
    let tokens: HashMap<String, String> = users
        .iter()
        .map(|id| (id.to_string(), token(*id)))
        .collect();
    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
        .args(files)
        .current_dir(dir)
        .env("TOKENS", serde_json::to_string(&tokens).unwrap());
    node
}

/// Runs `node --test` on `files` (every `*.test.mjs` when empty) against `app`, with a token
/// for each of `users`, and fails with the Node output unless every test passed.
async fn run_node(app: &TestApp, users: &[i64], files: &[&str]) {
    let mut node = node_command(&node_tests(), users, files);
    node.env("SERVER_URL", &app.address);
    check_node(node).await;
}

/// Runs the Node tests and fails with their output unless every one passed.
async fn check_node(mut node: tokio::process::Command) {
    let output = node
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
