//! The binary's start-up failures: each exits non-zero, fast, naming the cause.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};

use support::binary::{start_binary, terminate};

fn run_server(vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-server"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    // Run where no .env file can be picked up.
    command.current_dir(std::env::temp_dir());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("the server binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_non_numeric_db_port_fails_naming_db_port() {
    let output = run_server(&[("DB_NAME", "chat"), ("DB_PORT", "abc"), ("JWT_SECRET", "s")]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("DB_PORT"), "{}", stderr(&output));
}

#[test]
fn a_missing_jwt_secret_fails_naming_jwt_secret() {
    let output = run_server(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/chat")]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("JWT_SECRET"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_database_fails_fast_naming_the_database() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let output = run_server(&[
        ("DATABASE_URL", "postgres://postgres:pw@127.0.0.1:1/chat"),
        ("JWT_SECRET", "s"),
        ("PORT", "0"),
    ]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("could not connect to the database"), "{err}");
    assert!(!err.contains(":pw@"), "the password is not printed: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_then_exits_cleanly_on_sigterm() {
    let db = chat_store_pg::test_support::TestDatabase::create().await;
    let (mut child, port) = start_binary(&db, &[]).await;
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let status = terminate(&mut child).await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tells_every_socket_to_go_so_that_clients_reconnect_elsewhere() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let db = chat_store_pg::test_support::TestDatabase::create().await;
    let (mut child, port) = start_binary(&db, &[]).await;
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let token = support::token(1);
    ws.send(Message::text(format!(
        "40{}",
        serde_json::json!({ "token": token })
    )))
    .await
    .unwrap();
    let mut texts = Vec::new();
    while !texts.iter().any(|t: &String| t.starts_with("40")) {
        if let Some(Ok(Message::Text(text))) = ws.next().await {
            texts.push(text.to_string());
        }
    }

    let status = terminate(&mut child).await;
    assert!(status.success(), "{status:?}");
    let mut rest = Vec::new();
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            rest.push(text.to_string());
        }
    }
    assert_eq!(
        rest.last().map(String::as_str),
        Some("1"),
        "an Engine.IO close came before the end: {rest:?}"
    );
}
