//! Scenario `fanout`: many sockets (devices of a conversation's two members) joined to one
//! conversation; one message sent over REST; the time until the last socket has it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::socket::{self, Delivery};
use crate::stats::Latencies;
use crate::users;

/// Sockets in the room.
const SOCKETS: usize = 1_000;
/// Messages sent, one after the other.
const ROUNDS: usize = 10;
/// Sockets opened at once.
const OPENING_CONCURRENCY: usize = 64;
/// How long one message may take to reach every socket.
const ROUND_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole scenario's bound.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let outcome = tokio::time::timeout(SCENARIO_TIMEOUT, once(ctx))
        .await
        .context("fanout did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// The scenario.
async fn once(ctx: &Ctx) -> Result<Outcome> {
    let ids = [3_000_001, 3_000_002];
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids).await?;
    let mut rest = HttpConn::new(ctx.addr);
    let (_, conversation) = users::send(&mut rest, &tokens[0], ids[1]).await?;

    let before = ctx.meter.start();
    let rss_before = ctx.meter.server_rss_kib();
    let opening = Instant::now();
    let results: Vec<Result<socket::Ws>> = futures_util::stream::iter(0..SOCKETS)
        .map(|i| {
            let token = tokens[i % 2].clone();
            let addr = ctx.addr;
            async move {
                let mut ws = socket::connect(addr, &token).await?;
                socket::join(&mut ws, conversation).await?;
                Ok(ws)
            }
        })
        .buffer_unordered(OPENING_CONCURRENCY)
        .collect()
        .await;
    let open_s = opening.elapsed().as_secs_f64();
    let (deliveries_tx, mut deliveries) = mpsc::unbounded_channel::<Delivery>();
    let (stop_tx, stop) = watch::channel(false);
    let mut failed_to_open = 0u64;
    let mut first_error = None;
    let mut listeners = Vec::new();
    for result in results {
        match result {
            Ok(ws) => listeners.push(tokio::spawn(socket::listen(
                ws,
                0,
                deliveries_tx.clone(),
                stop.clone(),
            ))),
            Err(e) => {
                failed_to_open += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    drop(deliveries_tx);
    let open = listeners.len();
    if open == 0 {
        bail!(
            "no socket could connect: {}",
            first_error.unwrap_or_default()
        );
    }
    // Every join told the sockets already in the room (`user_joined`): let that settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_open = ctx.meter.server_rss_kib();

    let mut last = Latencies::default();
    let mut first = Latencies::default();
    let mut acks = Latencies::default();
    let mut arrived: HashMap<u64, Vec<Instant>> = HashMap::new();
    let (mut delivered, mut missing) = (0u64, 0u64);
    for _ in 0..ROUNDS {
        let sent = Instant::now();
        let (seq, _) = users::send(&mut rest, &tokens[0], ids[1]).await?;
        acks.record(sent.elapsed());
        let deadline = sent + ROUND_TIMEOUT;
        while arrived.get(&seq).map_or(0, Vec::len) < open {
            match tokio::time::timeout_at(deadline.into(), deliveries.recv()).await {
                Ok(Some((_, s, at))) => arrived.entry(s).or_default().push(at),
                Ok(None) | Err(_) => break,
            }
        }
        let times = arrived.remove(&seq).unwrap_or_default();
        delivered += times.len() as u64;
        missing += (open - times.len().min(open)) as u64;
        if let (Some(min), Some(max)) = (times.iter().min(), times.iter().max()) {
            first.record(min.duration_since(sent));
            last.record(max.duration_since(sent));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let alive = socket::stop_all(&stop_tx, listeners).await;
    let usage = ctx.meter.since(&before);
    let mut details = serde_json::Map::new();
    details.insert("sockets_open".into(), json!(open));
    details.insert("sockets_failed".into(), json!(failed_to_open));
    if let Some(e) = first_error {
        details.insert("first_error".into(), json!(e));
    }
    details.insert("sockets_alive_at_end".into(), json!(alive));
    details.insert("open_and_join_s".into(), json!(round3(open_s)));
    details.insert("rounds".into(), json!(ROUNDS));
    details.insert(
        "first_delivery_p50_ms".into(),
        json!(first.summary().p50_ms),
    );
    details.insert("rest_ack_p50_ms".into(), json!(acks.summary().p50_ms));
    details.insert("deliveries_missing".into(), json!(missing));
    if let (Some(a), Some(b)) = (rss_before, rss_open) {
        let per = (b.saturating_sub(a) as f64 * 1024.0 / open as f64).round();
        details.insert("server_rss_bytes_per_socket".into(), json!(per));
    }
    Ok(Outcome {
        scenario: format!("fanout/{SOCKETS}"),
        duration_s: usage.wall_s,
        ok: delivered,
        errors: missing + failed_to_open,
        rate_per_s: None,
        ratio_to_c: None,
        latency: last.summary(),
        usage,
        details,
    })
}

/// Rounds to milliseconds.
fn round3(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
