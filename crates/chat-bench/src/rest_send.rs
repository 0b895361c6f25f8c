//! Scenario `rest-send`: closed-loop clients sending `POST /api/chat/send` back to back, each
//! between its own fixed pair of users (one conversation per client, like the calibration);
//! then `rest-send/random`: the same clients sending from a random user to a random user among
//! 1,000, so that most sends open a conversation (a new user's first messages).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::stats::Latencies;
use crate::users::{self, Rng};

/// Client counts, in the order they run.
pub(crate) const CLIENTS: &[usize] = &[16, 64];

/// Users of `rest-send/random`.
const RANDOM_USERS: usize = 1_000;

/// Clients of `rest-send/random`.
const RANDOM_CLIENTS: usize = 16;

/// The first id of `rest-send/random`'s users, after those of the other scenarios.
const RANDOM_BASE: i64 = 4_000_000;

/// Where a direct send goes.
const SEND_PATH: &str = "/api/chat/send";

/// Seed of `rest-send/random`'s choices (client `i` draws from `RANDOM_SEED + i`), so that
/// every run sends the same sequence of pairs.
const RANDOM_SEED: u64 = 0x00C0_FFEE_2026;

/// Runs the scenario once per client count.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for &clients in CLIENTS {
        let outcome = tokio::time::timeout(
            ctx.duration() + Duration::from_secs(120),
            once(ctx, clients),
        )
        .await
        .with_context(|| format!("rest-send/{clients} did not finish in time"))??;
        outcome.print_json()?;
        outcomes.push(outcome);
    }
    let outcome = tokio::time::timeout(ctx.duration() + Duration::from_secs(120), random(ctx))
        .await
        .context("rest-send/random did not finish in time")??;
    outcome.print_json()?;
    outcomes.push(outcome);
    Ok(outcomes)
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientResult {
    /// Latencies of the sends answered 201.
    latencies: Latencies,
    /// Failures by kind (status code, `io`, `timeout`).
    errors: BTreeMap<String, u64>,
}

/// Where a closed-loop client sends next.
pub(crate) trait Target: Send + 'static {
    /// The token, the request path and the body of the next send (a `POST` answered 201).
    fn next(&mut self) -> (&str, &str, &[u8]);
}

/// A fixed pair: the same sender and receiver every time.
struct FixedPair {
    /// The sender's token.
    token: String,
    /// The send's body, naming the receiver.
    body: Vec<u8>,
}

impl Target for FixedPair {
    fn next(&mut self) -> (&str, &str, &[u8]) {
        (&self.token, SEND_PATH, &self.body)
    }
}

/// A random sender and a random other receiver for every send.
struct RandomPairs {
    /// The users' ids.
    ids: Arc<Vec<i64>>,
    /// Their tokens, in the same order.
    tokens: Arc<Vec<String>>,
    /// This client's choices.
    rng: Rng,
    /// The body of the current send.
    body: Vec<u8>,
}

impl Target for RandomPairs {
    fn next(&mut self) -> (&str, &str, &[u8]) {
        let n = self.ids.len() as u64;
        let sender = self.rng.next() % n;
        // Any user but the sender: draw among the n - 1 others.
        let mut receiver = self.rng.next() % (n - 1);
        if receiver >= sender {
            receiver += 1;
        }
        let (sender, receiver) = (
            usize::try_from(sender).unwrap_or(0),
            usize::try_from(receiver).unwrap_or(0),
        );
        self.body = users::send_body(self.ids[receiver]);
        (&self.tokens[sender], SEND_PATH, &self.body)
    }
}

/// Each (token, receiver) pair sends `POST /api/chat/send` back to back, on its own
/// connection, until `deadline`; returns the latencies of the sends answered 201 and the
/// failures by kind (status code, `io`, `timeout`).
pub(crate) async fn closed_loop(
    addr: std::net::SocketAddr,
    pairs: Vec<(String, i64)>,
    deadline: Instant,
) -> Result<(Latencies, BTreeMap<String, u64>)> {
    let targets = pairs
        .into_iter()
        .map(|(token, receiver)| FixedPair {
            token,
            body: users::send_body(receiver),
        })
        .collect();
    closed_loop_to(addr, targets, deadline).await
}

/// Each target's client sends back to back (`POST` of what the target names), on its own
/// connection, until `deadline`; returns the latencies of the sends answered 201 and the
/// failures by kind.
async fn closed_loop_to<T: Target>(
    addr: std::net::SocketAddr,
    targets: Vec<T>,
    deadline: Instant,
) -> Result<(Latencies, BTreeMap<String, u64>)> {
    let seconds = deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|mut target| {
            let expected = (seconds * 2000.0) as usize;
            tokio::spawn(async move {
                let mut conn = HttpConn::new(addr);
                let mut result = ClientResult {
                    latencies: Latencies::with_capacity(expected),
                    errors: BTreeMap::new(),
                };
                while Instant::now() < deadline {
                    let (token, path, body) = target.next();
                    let sent = Instant::now();
                    let kind = match conn.request("POST", path, Some(token), Some(body)).await {
                        Ok(r) if r.status == 201 => {
                            result.latencies.record(sent.elapsed());
                            continue;
                        }
                        Ok(r) => r.status.to_string(),
                        Err(e) if e.to_string().starts_with("timeout") => "timeout".to_owned(),
                        Err(_) => "io".to_owned(),
                    };
                    *result.errors.entry(kind).or_default() += 1;
                    // Do not spin on a refusing server.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                result
            })
        })
        .collect();
    let mut latencies = Latencies::default();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let result = task.await.context("a sending client panicked")?;
        latencies.merge(result.latencies);
        for (kind, n) in result.errors {
            *errors.entry(kind).or_default() += n;
        }
    }
    Ok((latencies, errors))
}

/// `clients` fresh (token, receiver) pairs of users `base + 1 ..= base + 2 * clients`, each
/// pair's conversation created by one unmeasured send.
pub(crate) async fn warm_pairs(ctx: &Ctx, clients: usize, base: i64) -> Result<Vec<(String, i64)>> {
    let mut ids: Vec<i64> = (1..=i64::try_from(2 * clients)?)
        .map(|i| base + i)
        .collect();
    Rng::from_clock().shuffle(&mut ids);
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids).await?;
    let pairs: Vec<(String, i64)> = (0..clients)
        .map(|i| (tokens[2 * i].clone(), ids[2 * i + 1]))
        .collect();

    // Warm-up, not measured: each pair's first send creates its conversation.
    for (token, receiver) in &pairs {
        let response = HttpConn::new(ctx.addr)
            .request(
                "POST",
                "/api/chat/send",
                Some(token),
                Some(&users::send_body(*receiver)),
            )
            .await?;
        if response.status != 201 {
            bail!(
                "warm-up send answered {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
    }
    Ok(pairs)
}

/// One run with `clients` clients.
async fn once(ctx: &Ctx, clients: usize) -> Result<Outcome> {
    // Fresh users for every run, so that each starts with new, small conversations.
    let base = 1_000_000 + i64::try_from(clients)? * 10_000;
    let pairs = warm_pairs(ctx, clients, base).await?;
    let targets = pairs
        .into_iter()
        .map(|(token, receiver)| FixedPair {
            token,
            body: users::send_body(receiver),
        })
        .collect();
    let mut details = serde_json::Map::new();
    details.insert("clients".into(), json!(clients));
    measure(ctx, format!("rest-send/{clients}"), targets, details).await
}

/// `rest-send/random`: `RANDOM_CLIENTS` clients, each send from a random user to a random
/// other user among `RANDOM_USERS` fresh ones (no conversation exists at the start).
async fn random(ctx: &Ctx) -> Result<Outcome> {
    let ids: Vec<i64> = (1..=i64::try_from(RANDOM_USERS)?)
        .map(|i| RANDOM_BASE + i)
        .collect();
    let tokens = Arc::new(users::seed(ctx.addr, &ctx.secret, &ids).await?);
    let ids = Arc::new(ids);
    let targets = (0..RANDOM_CLIENTS as u64)
        .map(|i| RandomPairs {
            ids: Arc::clone(&ids),
            tokens: Arc::clone(&tokens),
            rng: Rng::new(RANDOM_SEED + i),
            body: Vec::new(),
        })
        .collect();
    let mut details = serde_json::Map::new();
    details.insert("clients".into(), json!(RANDOM_CLIENTS));
    details.insert("users".into(), json!(RANDOM_USERS));
    details.insert("seed".into(), json!(RANDOM_SEED));
    let conversations_before = ctx.stored_conversations();
    let mut outcome = measure(ctx, "rest-send/random".to_owned(), targets, details).await?;
    if let (Some(before), Some(after)) = (conversations_before, ctx.stored_conversations()) {
        // Sends that opened their pair's conversation.
        let opened = after.saturating_sub(before);
        outcome
            .details
            .insert("conversations_opened".into(), json!(opened));
        if outcome.ok > 0 {
            let share = opened as f64 / outcome.ok as f64;
            outcome.details.insert(
                "opened_share".into(),
                json!((share * 1000.0).round() / 1000.0),
            );
        }
    }
    Ok(outcome)
}

/// Runs `targets` in a closed loop for the scenario's duration and reports it as `scenario`,
/// with `details` and what the run cost.
pub(crate) async fn measure<T: Target>(
    ctx: &Ctx,
    scenario: String,
    targets: Vec<T>,
    mut details: serde_json::Map<String, serde_json::Value>,
) -> Result<Outcome> {
    let stored_before = ctx.stored_messages();
    let duration = ctx.duration();
    let before = ctx.meter.start();
    let started = Instant::now();
    let deadline = started + duration;
    let (mut latencies, errors) = closed_loop_to(ctx.addr, targets, deadline).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let usage = ctx.meter.since(&before);
    let latency = latencies.summary();
    let ok = latency.count as u64;
    let rate = ok as f64 / elapsed;

    if !errors.is_empty() {
        details.insert("errors_by_kind".into(), json!(errors));
    }
    if let Some(cpu) = usage.server_cpu_s.filter(|_| ok > 0) {
        details.insert(
            "server_cpu_us_per_send".into(),
            json!((cpu * 1e6 / ok as f64).round()),
        );
    }
    if let Some(cpu) = usage.postgres_cpu_s.filter(|_| ok > 0) {
        details.insert(
            "postgres_cpu_us_per_send".into(),
            json!((cpu * 1e6 / ok as f64).round()),
        );
    }
    ctx.record_stored(&mut details, stored_before, ok);
    Ok(Outcome {
        scenario,
        duration_s: elapsed,
        ok,
        errors: errors.values().sum(),
        rate_per_s: Some(rate),
        ratio_to_c: ctx.calibration.map(|c| rate / c),
        latency,
        usage,
        details,
    })
}
