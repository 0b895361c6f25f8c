//! Scenario `rest-send`: closed-loop clients sending `POST /api/chat/send` back to back, each
//! between its own fixed pair of users (one conversation per client, like the calibration).

use std::collections::BTreeMap;
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

/// Each (token, receiver) pair sends `POST /api/chat/send` back to back, on its own
/// connection, until `deadline`; returns the latencies of the sends answered 201 and the
/// failures by kind (status code, `io`, `timeout`).
pub(crate) async fn closed_loop(
    addr: std::net::SocketAddr,
    pairs: Vec<(String, i64)>,
    deadline: Instant,
) -> Result<(Latencies, BTreeMap<String, u64>)> {
    let seconds = deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let tasks: Vec<_> = pairs
        .into_iter()
        .map(|(token, receiver)| {
            let expected = (seconds * 2000.0) as usize;
            tokio::spawn(async move {
                let body = users::send_body(receiver);
                let mut conn = HttpConn::new(addr);
                let mut result = ClientResult {
                    latencies: Latencies::with_capacity(expected),
                    errors: BTreeMap::new(),
                };
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let kind = match conn
                        .request("POST", "/api/chat/send", Some(&token), Some(&body))
                        .await
                    {
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

    let stored_before = ctx.stored_messages();
    let duration = ctx.duration();
    let before = ctx.meter.start();
    let started = Instant::now();
    let deadline = started + duration;
    let (mut latencies, errors) = closed_loop(ctx.addr, pairs, deadline).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let usage = ctx.meter.since(&before);
    let latency = latencies.summary();
    let ok = latency.count as u64;
    let rate = ok as f64 / elapsed;

    let mut details = serde_json::Map::new();
    details.insert("clients".into(), json!(clients));
    if !errors.is_empty() {
        details.insert("errors_by_kind".into(), json!(errors));
    }
    if let Some(cpu) = usage.server_cpu_s.filter(|_| ok > 0) {
        details.insert(
            "server_cpu_us_per_send".into(),
            json!((cpu * 1e6 / ok as f64).round()),
        );
    }
    ctx.record_stored(&mut details, stored_before, ok);
    Ok(Outcome {
        scenario: format!("rest-send/{clients}"),
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
