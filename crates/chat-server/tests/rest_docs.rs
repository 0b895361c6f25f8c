//! The curl examples of `docs/rest.md` run against a real server, so that they cannot go stale:
//! every ```sh block runs, in order, under `bash -euo pipefail`, and must exit 0 (`curl -f`
//! turns an HTTP error into a failure) and print JSON with `"success": true`. The examples
//! must also cover every documented endpoint.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chat_api::Endpoint;
use serde_json::Value;
use support::{TestApp, token};

const ALICE: i64 = 1;
const BOB: i64 = 2;
const CAROL: i64 = 3;
const ADMIN_TOKEN: &str = "docs-admin-token-0123456789";

/// The ```sh blocks of a Markdown text, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an ```sh block is not closed");
    blocks
}

/// `(METHOD, /path/{id})` of each curl command of a block: `-X` gives the method (GET when
/// absent); ids given as numbers or as `$VARIABLES` become `{id}`.
fn curl_routes(block: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for command in block.replace("\\\n", " ").lines() {
        if !command.trim_start().starts_with("curl ") {
            continue;
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        let method = words
            .iter()
            .position(|w| *w == "-X")
            .map_or("GET", |at| words[at + 1]);
        let start = command.find("\"$BASE").expect("the URL is \"$BASE/...\"") + 6;
        let url = &command[start..];
        let path = &url[..url.find(['"', '?']).unwrap()];
        let path: Vec<&str> = path
            .split('/')
            .map(|segment| {
                let id = segment.starts_with('$')
                    || (!segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()));
                if id { "{id}" } else { segment }
            })
            .collect();
        routes.push((method.to_owned(), path.join("/")));
    }
    routes
}

/// A route's path with every parameter (`{userId}`, `{messageId}`, ...) written `{id}`, as
/// [`curl_routes`] writes the ids of an example.
fn any_id(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a block's output is what a successful example prints: one or more JSON objects,
/// each an envelope with `"success": true` (or a probe's `{"status": ...}`).
fn succeeded(stdout: &str) -> bool {
    let values: Vec<Value> = match serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .collect()
    {
        Ok(values) => values,
        Err(_) => return false,
    };
    !values.is_empty()
        && values.iter().all(|v| {
            v["success"] == true || (v.get("success").is_none() && v["status"].is_string())
        })
}

async fn require_curl() {
    let found = tokio::process::Command::new("curl")
        .arg("--version")
        .output()
        .await
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "curl is not installed: install curl (e.g. `apt-get install -y curl`) to run the \
         docs/rest.md examples"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_curl_example_in_docs_rest_md_succeeds() {
    require_curl().await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rest.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/rest.md is readable");
    let blocks = sh_blocks(&markdown);

    // Every documented endpoint has an example.
    let shown: BTreeSet<(String, String)> = blocks.iter().flat_map(|b| curl_routes(b)).collect();
    // The metrics are not JSON: docs/operations.md shows them and tests/metrics.rs scrapes them.
    let missing: Vec<String> = Endpoint::ALL
        .iter()
        .filter(|e| e.in_api_document() && **e != Endpoint::Metrics)
        .map(|e| (e.method().to_string(), any_id(e.path())))
        .filter(|route| !shown.contains(route))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "no curl example for {missing:?}");

    // What the examples assume: Alice, Bob and Carol exist, Alice sent Bob a first message,
    // and Alice made a group with Bob and wrote in it; webhooks go to a port nobody listens
    // on and are given up at the first failure, so that the messages to Bob (never
    // connected) are dead letters.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::spawn_with(&[
        ("CHAT_ADMIN_TOKEN", ADMIN_TOKEN),
        ("CHAT_WEBHOOK_URL", &nowhere),
        ("CHAT_WEBHOOK_SECRET", "docs-webhook-secret-0123"),
        ("CHAT_WEBHOOK_MAX_ATTEMPTS", "1"),
        ("CHAT_WEBHOOK_POLL_MS", "20"),
    ])
    .await;
    app.users(&[ALICE, BOB, CAROL]).await;
    let first = app.send(ALICE, BOB, "Hello Bob, welcome!").await;
    let group = app
        .as_user(ALICE, reqwest::Method::POST, "/api/chat/groups")
        .json(&serde_json::json!({ "title": "Launch", "memberIds": [BOB] }));
    let (status, group) = support::call(group).await;
    assert_eq!(status, 201, "{group}");
    let posted = app
        .as_user(
            ALICE,
            reqwest::Method::POST,
            &format!("/api/chat/conversations/{}/messages", group["data"]["id"]),
        )
        .json(&serde_json::json!({ "content": "Kick-off at ten" }));
    let (status, posted) = support::call(posted).await;
    assert_eq!(status, 201, "{posted}");
    let send_at = (chrono::Utc::now() + chrono::TimeDelta::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let scheduled = app
        .as_user(ALICE, reqwest::Method::POST, "/api/chat/send")
        .json(
            &serde_json::json!({ "receiverId": BOB, "content": "Good night", "sendAt": send_at }),
        );
    let (status, scheduled) = support::call(scheduled).await;
    assert_eq!(status, 201, "{scheduled}");
    let dead_letter = first_dead_letter(&app).await;
    let vars = [
        ("BASE", app.address.clone()),
        ("DEAD_LETTER", dead_letter.to_string()),
        ("TOKEN", token(ALICE)),
        ("BOB_TOKEN", token(BOB)),
        ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("CONVERSATION", first["conversation_id"].to_string()),
        ("MESSAGE", first["id"].to_string()),
        ("GROUP", group["data"]["id"].to_string()),
        ("GROUP_MESSAGE", posted["data"]["id"].to_string()),
        ("SCHEDULED", scheduled["data"]["id"].to_string()),
        ("SEND_AT", send_at),
    ];

    for (number, block) in blocks.iter().enumerate() {
        let run = tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", block])
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("block {} timed out:\n{block}", number + 1))
            .expect("bash runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && succeeded(&stdout),
            "block {} of docs/rest.md failed ({}):\n{block}\nstdout: {stdout}\nstderr: {stderr}",
            number + 1,
            output.status,
        );
    }
}

/// The id of the first dead-lettered webhook event, once there is one.
async fn first_dead_letter(app: &TestApp) -> i64 {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let list = app
                .request(reqwest::Method::GET, "/api/admin/webhooks/dead")
                .bearer_auth(ADMIN_TOKEN);
            let (status, body) = support::call(list).await;
            assert_eq!(status, 200, "{body}");
            if let Some(id) = body["data"]["events"][0]["id"].as_i64() {
                return id;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("a message to Bob is dead-lettered in time")
}

#[test]
fn the_extractors_read_blocks_and_routes() {
    let markdown = "text\n```sh\ncurl -fsS -X PUT \"$BASE/api/chat/conversations/$CONVERSATION/read\" \\\n  -H x\n```\n```json\n{}\n```\n```sh\ncurl -fsS \"$BASE/api/users/2?x=1\"\n```\n";
    let blocks = sh_blocks(markdown);
    assert_eq!(blocks.len(), 2);
    assert_eq!(
        curl_routes(&blocks[0]),
        [(
            "PUT".to_owned(),
            "/api/chat/conversations/{id}/read".to_owned()
        )]
    );
    assert_eq!(
        curl_routes(&blocks[1]),
        [("GET".to_owned(), "/api/users/{id}".to_owned())]
    );
    assert!(succeeded(
        "{\"success\": true}\n{\"success\": true, \"data\": 1}"
    ));
    assert!(succeeded("{\"status\":\"ok\"}"));
    assert!(!succeeded("{\"success\": false}"));
    assert!(!succeeded(""));
    assert!(!succeeded("not json"));
}
