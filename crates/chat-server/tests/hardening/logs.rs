//! A flood of refused requests cannot flood the log: their access lines are written at `info`
//! with the client's address, a few a second per status, and the next line written says how
//! many were held back.

use std::time::Duration;

use chat_store_pg::test_support::TestDatabase;
use serde_json::{Value, json};

use crate::support::binary::start_binary_logged;

/// How many requests the flood makes.
const FLOOD: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refused_requests_writes_a_few_lines_and_counts_the_rest() {
    let db = TestDatabase::create().await;
    let (_server, port, mut log) = start_binary_logged(
        &db,
        &[
            ("CHAT_LOGIN_IP_RATE_PER_MIN", "1"),
            ("CHAT_LOGIN_IP_BURST", "1"),
        ],
    )
    .await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let guess = json!({ "username": "nobody", "password": "a wrong guess" });
    let mut limited = 0;
    for _ in 0..FLOOD {
        let response = client
            .post(format!("{base}/api/auth/login"))
            .json(&guess)
            .send()
            .await
            .unwrap();
        limited += usize::from(response.status() == 429);
    }
    assert!(limited >= FLOOD - 1, "the flood is refused: {limited}");
    // A request of another status after the flood: its line is written, and reports the flood.
    let missing = client
        .get(format!("{base}/api/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let (mut refused_lines, mut held) = (0, 0);
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), log.next_line())
            .await
            .expect("the 404 is logged")
            .unwrap()
            .expect("the server is running");
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["message"] != "request refused" {
            continue;
        }
        assert_eq!(event["level"], "INFO", "{event}");
        held += event["suppressed"].as_u64().unwrap();
        if event["status"] == 404 {
            break;
        }
        refused_lines += 1;
        assert!(
            event["peer"]
                .as_str()
                .is_some_and(|p| p.contains("127.0.0.1")),
            "{event}"
        );
    }
    assert!(
        refused_lines < FLOOD / 4,
        "{refused_lines} lines for {FLOOD} refusals"
    );
    assert_eq!(
        usize::try_from(held).unwrap() + refused_lines,
        FLOOD,
        "every line held back is counted by the next one written"
    );
}
