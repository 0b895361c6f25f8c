//! Scenario `reactions`: 16 closed-loop clients in 4 busy groups (4 members each, 50 messages
//! each) add and take back reactions on their group's messages, back to back over REST
//! (`PUT` then `DELETE /api/chat/messages/{id}/reactions/{key}`), so that the members of a
//! group contend for the same messages' locks. Then every group's counts are checked against
//! what the clients left on: a reaction counted twice or lost fails the run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::stats::Latencies;
use crate::users;

/// Groups, each a busy conversation.
const GROUPS: usize = 4;
/// Members of each group, each one client.
const MEMBERS: usize = 4;
/// Messages of each group that the clients react to (its last 50).
const MESSAGES: usize = 50;
/// The keys the clients use.
const KEYS: [&str; 4] = ["thumbsup", "heart", "eyes", "tada"];
/// The first id of this scenario's users, a range of its own.
const BASE: i64 = 5_000_000;

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let outcome = tokio::time::timeout(ctx.duration() + Duration::from_secs(120), once(ctx))
        .await
        .context("reactions did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// One group: its id, its messages, and its members' tokens.
struct Group {
    id: i64,
    messages: Vec<i64>,
    tokens: Vec<String>,
}

/// Creates the groups and posts their messages (unmeasured).
async fn seed(ctx: &Ctx) -> Result<Vec<Group>> {
    let ids: Vec<i64> = (1..=i64::try_from(GROUPS * MEMBERS)?)
        .map(|i| BASE + i)
        .collect();
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids).await?;
    let mut conn = HttpConn::new(ctx.addr);
    let mut groups = Vec::with_capacity(GROUPS);
    for (g, members) in ids.chunks(MEMBERS).enumerate() {
        let tokens: Vec<String> = tokens[g * MEMBERS..(g + 1) * MEMBERS].to_vec();
        let body = json!({ "title": format!("reactions {g}"), "memberIds": &members[1..] });
        let created = conn
            .request(
                "POST",
                "/api/chat/groups",
                Some(&tokens[0]),
                Some(body.to_string().as_bytes()),
            )
            .await?;
        if created.status != 201 {
            bail!("creating a group answered {}", created.status);
        }
        let id = created.json()?["data"]["id"]
            .as_i64()
            .context("a group without an id")?;
        let path = format!("/api/chat/conversations/{id}/messages");
        let mut messages = Vec::with_capacity(MESSAGES);
        for i in 0..MESSAGES {
            let body = json!({ "content": users::MESSAGE }).to_string();
            let sent = conn
                .request(
                    "POST",
                    &path,
                    Some(&tokens[i % MEMBERS]),
                    Some(body.as_bytes()),
                )
                .await?;
            if sent.status != 201 {
                bail!("posting into a group answered {}", sent.status);
            }
            messages.push(
                sent.json()?["data"]["id"]
                    .as_i64()
                    .context("no message id")?,
            );
        }
        groups.push(Group {
            id,
            messages,
            tokens,
        });
    }
    Ok(groups)
}

/// What one client did: its latencies, failures, and the reactions it left on.
#[derive(Default)]
struct ClientResult {
    latencies: Latencies,
    errors: u64,
    /// (message, key) pairs this client's reaction is on at the end.
    on: Vec<(i64, &'static str)>,
}

/// One client: walks its group's messages and keys, adding a reaction then taking it back.
async fn client(
    addr: std::net::SocketAddr,
    token: String,
    messages: Vec<i64>,
    start: usize,
    deadline: Instant,
) -> ClientResult {
    let mut conn = HttpConn::new(addr);
    let mut result = ClientResult::default();
    let mut step = start;
    let mut on: Option<(i64, &'static str)> = None;
    while Instant::now() < deadline {
        let (message, key, method) = match on {
            Some((message, key)) => (message, key, "DELETE"),
            None => {
                step += 1;
                let key = KEYS[step % KEYS.len()];
                (messages[step % messages.len()], key, "PUT")
            }
        };
        let path = format!("/api/chat/messages/{message}/reactions/{key}");
        let sent = Instant::now();
        match conn.request(method, &path, Some(&token), None).await {
            Ok(r) if r.status == 200 => {
                result.latencies.record(sent.elapsed());
                on = if method == "PUT" {
                    Some((message, key))
                } else {
                    None
                };
            }
            _ => {
                result.errors += 1;
                // A failed request may or may not have applied: read the truth at the end.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    result.on.extend(on);
    result
}

async fn once(ctx: &Ctx) -> Result<Outcome> {
    let groups = seed(ctx).await?;
    let deadline = Instant::now() + ctx.duration();
    let before = ctx.meter.start();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for (m, token) in group.tokens.iter().enumerate() {
            // Members start at different messages and keys, and meet as they go round.
            let start = m * 7 + g;
            tasks.push(tokio::spawn(client(
                ctx.addr,
                token.clone(),
                group.messages.clone(),
                start,
                deadline,
            )));
        }
    }
    let mut latencies = Latencies::default();
    let (mut errors, mut expected) = (0u64, HashMap::<(i64, &str), i64>::new());
    for task in tasks {
        let result = task.await.context("a reacting client panicked")?;
        latencies.merge(result.latencies);
        errors += result.errors;
        for pair in result.on {
            *expected.entry(pair).or_default() += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let usage = ctx.meter.since(&before);
    let mut details = serde_json::Map::new();
    details.insert("clients".into(), json!(GROUPS * MEMBERS));
    details.insert("groups".into(), json!(GROUPS));
    details.insert("messages_per_group".into(), json!(MESSAGES));
    details.insert("keys".into(), json!(KEYS.len()));
    if errors == 0 {
        let counted = counts(ctx, &groups).await?;
        let expected: HashMap<(i64, String), i64> = expected
            .into_iter()
            .map(|((message, key), n)| ((message, key.to_owned()), n))
            .collect();
        if counted != expected {
            details.insert(
                "fail".into(),
                json!(format!(
                    "the stored counts differ from what the clients left on: {counted:?} vs {expected:?}"
                )),
            );
        }
    }
    let latency = latencies.summary();
    let ok = latency.count as u64;
    let rate = ok as f64 / elapsed;
    Ok(Outcome {
        scenario: "reactions".to_owned(),
        duration_s: elapsed,
        ok,
        errors,
        rate_per_s: Some(rate),
        ratio_to_c: ctx.calibration.map(|c| rate / c),
        latency,
        usage,
        details,
    })
}

/// Every group's reaction counts as the server reads them, by (message, key).
async fn counts(ctx: &Ctx, groups: &[Group]) -> Result<HashMap<(i64, String), i64>> {
    let mut conn = HttpConn::new(ctx.addr);
    let mut counted = HashMap::new();
    for group in groups {
        let path = format!(
            "/api/chat/conversations/{}/messages?limit={MESSAGES}",
            group.id
        );
        let page = conn.get_ok(&path, &group.tokens[0]).await?.json()?;
        let messages = page["data"]["messages"]
            .as_array()
            .context("a page without messages")?;
        for message in messages {
            let id = message["id"].as_i64().context("a message without an id")?;
            for reaction in message["reactions"].as_array().into_iter().flatten() {
                let key = reaction["key"].as_str().unwrap_or_default().to_owned();
                let count = reaction["count"].as_i64().unwrap_or(0);
                counted.insert((id, key), count);
            }
        }
    }
    Ok(counted)
}
