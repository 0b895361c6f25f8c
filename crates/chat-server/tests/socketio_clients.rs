//! Drives the Node tests in `tests/socketio/`: the real `socket.io-client` from npm against
//! this server on a free port with a fresh database. `cargo xtask test` installs the client
//! with `npm ci` first.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use support::{TestApp, token};

fn node_tests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_passes_the_node_suite() {
    let dir = node_tests();
    assert!(
        dir.join("node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in {} (`cargo xtask test` does)",
        dir.display()
    );
    let app = TestApp::spawn().await;
    let users: Vec<i64> = (1..=20).collect();
    app.users(&users).await;
    let first = app.send(1, 2, "conversation 1").await;
    assert_eq!(
        first["conversation_id"], 1,
        "the seed's example expects conversation 1"
    );
    let tokens: HashMap<String, String> = users
        .iter()
        .map(|id| (id.to_string(), token(*id)))
        .collect();

    let output = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
        .current_dir(&dir)
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
