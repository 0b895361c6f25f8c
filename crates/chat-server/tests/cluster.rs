//! Drives `tests/socketio/cluster.faults.mjs`: three chat-server nodes on one fresh database,
//! with a Redis of their own, behind HAProxy, and the real `socket.io-client` against them while
//! a node is killed, Redis is restarted and PostgreSQL becomes unreachable. The Node file starts
//! every process itself (`cluster-harness.mjs`); it needs `redis-server` and `haproxy` (on PATH,
//! or named by `CHAT_TEST_REDIS_SERVER` and `CHAT_TEST_HAPROXY`).

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chat_store_pg::test_support::TestDatabase;
use support::{SECRET, token};

/// The whole file's bound: its own tests are bounded one by one, this catches anything else.
const NODE_DEADLINE: Duration = Duration::from_secs(240);

/// Messages, group changes, typing and presence cross nodes; a sid of one node is unknown to
/// another; a node killed under load, Redis restarted under load and PostgreSQL unreachable
/// lose nothing acknowledged, repeat nothing, and answer 503 rather than 500 or silence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_keeps_every_acknowledged_message_exactly_once_through_node_redis_and_database_faults()
 {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio");
    assert!(
        dir.join("node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in {} (`cargo xtask test` does)",
        dir.display()
    );
    let db = TestDatabase::create().await;
    let tokens: HashMap<String, String> =
        (1..=80_i64).map(|id| (id.to_string(), token(id))).collect();
    let mut node = tokio::process::Command::new("node");
    node.args([
        "--test",
        "--test-reporter=spec",
        "--test-concurrency=1",
        "cluster.faults.mjs",
    ])
    .current_dir(&dir)
    .env("TOKENS", serde_json::to_string(&tokens).unwrap())
    .env("SERVER_BIN", env!("CARGO_BIN_EXE_chat-server"))
    .env("DATABASE_URL", db.url())
    .env("JWT_SECRET", SECRET)
    .kill_on_drop(true);
    let output = tokio::time::timeout(NODE_DEADLINE, node.output())
        .await
        .expect("the Node tests finish within their deadline")
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
