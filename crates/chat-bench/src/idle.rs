//! Scenario `idle-connections`: many authenticated sockets (devices of a hundred users) held
//! open while they answer pings; the time to open them all, the server's resident memory per
//! connection and how many survive.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::Ctx;
use crate::report::Outcome;
use crate::socket;
use crate::stats::Latencies;
use crate::users;

/// Users whose devices the sockets are.
const USERS: usize = 100;
/// Sockets opened at once.
const OPENING_CONCURRENCY: usize = 256;

/// Runs the scenario: 19,000 sockets held 30 s, or 2,000 held 5 s with `--quick`.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let (sockets, hold) = if ctx.quick {
        (2_000, Duration::from_secs(5))
    } else {
        (19_000, Duration::from_secs(30))
    };
    let bound = hold + Duration::from_secs(240);
    let outcome = tokio::time::timeout(bound, once(ctx, sockets, hold))
        .await
        .context("idle-connections did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// Opens `sockets` connections, holds them for `hold`, closes them.
async fn once(ctx: &Ctx, sockets: usize, hold: Duration) -> Result<Outcome> {
    let ids: Vec<i64> = (1..=USERS as i64).map(|i| 5_000_000 + i).collect();
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids).await?;
    let before = ctx.meter.start();
    let rss_before = ctx.meter.server_rss_kib();
    let opening = Instant::now();
    let mut connect_latency = Latencies::with_capacity(sockets);
    let results: Vec<Result<(socket::Ws, Duration)>> = futures_util::stream::iter(0..sockets)
        .map(|i| {
            let token = tokens[i % USERS].clone();
            let addr = ctx.addr;
            // A task per socket, so that the opening uses every thread of the tool.
            let opening = tokio::spawn(async move {
                let started = Instant::now();
                let ws = socket::connect(addr, &token).await?;
                Ok((ws, started.elapsed()))
            });
            async move { opening.await.context("an opening task failed")? }
        })
        .buffer_unordered(OPENING_CONCURRENCY)
        .collect()
        .await;
    let open_s = opening.elapsed().as_secs_f64();
    let (deliveries, _unused) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let (mut failed, mut first_error, mut listeners) = (0u64, None, Vec::new());
    for result in results {
        match result {
            Ok((ws, took)) => {
                connect_latency.record(took);
                listeners.push(tokio::spawn(socket::listen(
                    ws,
                    0,
                    deliveries.clone(),
                    stop.clone(),
                )));
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    let open = listeners.len();
    if open == 0 {
        bail!(
            "no socket could connect: {}",
            first_error.unwrap_or_default()
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open = ctx.meter.server_rss_kib();
    tokio::time::sleep(hold).await;
    let alive = socket::stop_all(&stop_tx, listeners).await;
    let usage = ctx.meter.since(&before);
    let mut details = serde_json::Map::new();
    details.insert("sockets".into(), json!(sockets));
    details.insert("sockets_failed".into(), json!(failed));
    if let Some(e) = first_error {
        details.insert("first_error".into(), json!(e));
    }
    details.insert("sockets_alive_after_hold".into(), json!(alive));
    details.insert("hold_s".into(), json!(hold.as_secs()));
    details.insert(
        "open_all_s".into(),
        json!((open_s * 1000.0).round() / 1000.0),
    );
    if let (Some(a), Some(b)) = (rss_before, rss_open) {
        let per = (b.saturating_sub(a) as f64 * 1024.0 / open as f64).round();
        details.insert("server_rss_bytes_per_socket".into(), json!(per));
        details.insert(
            "server_rss_open_mib".into(),
            json!((b as f64 / 102.4).round() / 10.0),
        );
    }
    Ok(Outcome {
        scenario: format!("idle-connections/{sockets}"),
        duration_s: usage.wall_s,
        ok: alive,
        errors: failed + (open as u64 - alive.min(open as u64)),
        rate_per_s: Some(open as f64 / open_s),
        ratio_to_c: None,
        // The latency of opening one socket (WebSocket handshake and namespace connect).
        latency: connect_latency.summary(),
        usage,
        details,
    })
}
