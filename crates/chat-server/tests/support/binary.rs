//! The real `chat-server` binary, started as an operator would and stopped by signals.

use std::process::{Command, Stdio};

use chat_store_pg::test_support::TestDatabase;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};

/// The log of a running binary: one JSON object per line.
pub(crate) type Log = Lines<BufReader<tokio::process::ChildStdout>>;

/// The chat-server binary on a fresh database with `extra` variables, and the port it logged.
pub(crate) async fn start_binary(
    db: &TestDatabase,
    extra: &[(&str, &str)],
) -> (tokio::process::Child, u16) {
    let (child, port, mut lines) = start_binary_logged(db, extra).await;
    // Keep draining the log so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

/// Like [`start_binary`], with the rest of the server's log for the test to read (read it,
/// or the server blocks once the pipe is full).
pub(crate) async fn start_binary_logged(
    db: &TestDatabase,
    extra: &[(&str, &str)],
) -> (tokio::process::Child, u16, Log) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .env_clear()
        .current_dir(std::env::temp_dir())
        .envs([
            ("DATABASE_URL", db.url()),
            ("JWT_SECRET", super::SECRET),
            ("PORT", "0"),
            ("CHAT_HOST", "127.0.0.1"),
            ("LOG_FORMAT", "json"),
        ])
        .envs(extra.iter().copied())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the server logs its port");
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "chat-server listening" {
            break u16::try_from(event["port"].as_u64().unwrap()).unwrap();
        }
    };
    (child, port, lines)
}

/// Sends `signal` (`TERM`, `KILL`) to the server.
pub(crate) fn signal(child: &tokio::process::Child, signal: &str) {
    let pid = child.id().expect("the server still runs").to_string();
    assert!(
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// Stops the server with SIGTERM and returns how it exited.
pub(crate) async fn terminate(child: &mut tokio::process::Child) -> std::process::ExitStatus {
    signal(child, "TERM");
    tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .unwrap()
}
