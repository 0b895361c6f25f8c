//! Scenario `reconnect-storm`: thousands of sockets, devices of the two members of direct
//! conversations, each in its conversation's room, while senders keep messages flowing over
//! REST; then every transport is cut at once and each device reconnects with its `pid` and
//! offset (Socket.IO connection state recovery). Measured: the time from the cut until every
//! device is recovered and caught up, the devices not recovered, what the storm cost the server
//! and PostgreSQL; checked: every device's `new_message` events against the stored history of
//! its conversation, nothing missing and nothing twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::Ctx;
use crate::delivery_audit::{self, Counts};
use crate::recovering::{Device, Phase, Progress, Report, Shared};
use crate::report::Outcome;
use crate::socket;
use crate::stats::Latencies;
use crate::storm_load::{self, Conversation};
use crate::usage;

/// Sockets per user.
const DEVICES_PER_USER: usize = 5;
/// Messages per second per conversation, over all of them: a steady, modest flow.
const RATE_PER_CONVERSATION: f64 = 0.5;
/// Sockets opened at once before the storm (the storm itself opens all at once).
const OPENING_CONCURRENCY: usize = 256;
/// How long every device has to recover and catch up after the cut.
const STORM_TIMEOUT: Duration = Duration::from_secs(90);
/// How long deliveries may take to settle once the senders stopped.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Open files needed besides one per socket: HTTP connections, the database, the log.
const SPARE_FILES: u64 = 500;

/// The scenario's size.
#[derive(Debug, Clone, Copy)]
struct Size {
    /// Direct conversations (two users each).
    conversations: usize,
    /// How long messages flow before the cut, and again after the storm.
    flow: Duration,
}

impl Size {
    /// 500 conversations (5,000 sockets) and 10 s of flow, or 50 (500 sockets) and 5 s.
    fn of(ctx: &Ctx) -> Self {
        if ctx.quick {
            Self {
                conversations: 50,
                flow: Duration::from_secs(5),
            }
        } else {
            Self {
                conversations: 500,
                flow: Duration::from_secs(10),
            }
        }
    }

    /// Sockets in all.
    fn devices(self) -> usize {
        self.conversations * 2 * DEVICES_PER_USER
    }

    /// The conversation of device `d`, a socket of user `d % users` (so that the devices of
    /// one user are spread over the opening and the storm).
    fn slot(self, device: usize) -> usize {
        device % (self.conversations * 2) / 2
    }
}

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let size = Size::of(ctx);
    // The server may hold a device's old connection and its new one at once in the storm.
    let devices = size.devices() as u64;
    ctx.meter
        .check_open_files(devices, devices + SPARE_FILES, 2 * devices + SPARE_FILES)?;
    let bound = Duration::from_secs(240) + STORM_TIMEOUT + SETTLE_TIMEOUT + size.flow * 2;
    let outcome = tokio::time::timeout(bound, once(ctx, size))
        .await
        .context("reconnect-storm did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// When each device got through the storm.
#[derive(Debug, Default, Clone, Copy)]
struct Storm {
    /// Its first CONNECT after the cut was answered.
    reconnected: Option<Instant>,
    /// With its old `pid`.
    recovered: bool,
    /// It had every message acknowledged before that answer.
    caught_up: Option<Instant>,
}

/// The scenario.
async fn once(ctx: &Ctx, size: Size) -> Result<Outcome> {
    let conversations = storm_load::conversations(ctx, size.conversations).await?;
    let devices = size.devices();
    let shared = Arc::new(Shared {
        addr: ctx.addr,
        acked: conversations
            .iter()
            .map(|c| AtomicU64::new(c.since))
            .collect(),
        received: (0..devices).map(|_| AtomicU64::new(0)).collect(),
    });

    let users = size.conversations * 2;
    let opened: Vec<Result<(Device, socket::Ws)>> = futures_util::stream::iter(0..devices)
        .map(|index| {
            let (user, slot) = (index % users, size.slot(index));
            let conversation = &conversations[slot];
            let (token, id, since) = (
                conversation.tokens[user % 2].clone(),
                conversation.id,
                conversation.since,
            );
            let addr = ctx.addr;
            let opening = tokio::spawn(async move {
                let auth = json!({ "token": token }).to_string();
                let (mut ws, answer) = socket::connect_with(addr, &auth).await?;
                let pid = serde_json::from_str::<serde_json::Value>(&answer)
                    .ok()
                    .and_then(|v| v["pid"].as_str().map(str::to_owned))
                    .with_context(|| format!("the CONNECT answer has no pid: {answer}"))?;
                socket::join(&mut ws, id).await?;
                Ok((Device::new(index, slot, token, id, since, pid), ws))
            });
            async move { opening.await.context("an opening task failed")? }
        })
        .buffer_unordered(OPENING_CONCURRENCY)
        .collect()
        .await;
    let (phase_tx, phase) = watch::channel(Phase::Live);
    let (progress_tx, mut progress) = mpsc::unbounded_channel();
    let (mut listeners, mut failed, mut first_error) = (Vec::new(), 0u64, None);
    for result in opened {
        match result {
            Ok((device, ws)) => listeners.push(tokio::spawn(device.run(
                ws,
                Arc::clone(&shared),
                phase.clone(),
                progress_tx.clone(),
            ))),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    drop(progress_tx);
    if failed > 0 {
        let _ = phase_tx.send(Phase::Stop);
        bail!(
            "{failed} of {devices} sockets could not connect and join: {}",
            first_error.unwrap_or_default()
        );
    }
    // Every join told the sockets already in the room (`user_joined`): let that settle.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let rate = RATE_PER_CONVERSATION * size.conversations as f64;
    let (senders_stop, senders) = storm_load::start_senders(ctx, &conversations, &shared, rate);
    tokio::time::sleep(size.flow).await;

    // The storm.
    let before = ctx.meter.start();
    let cut_at = Instant::now();
    let _ = phase_tx.send(Phase::Cut);
    let mut storm = vec![Storm::default(); devices];
    let mut caught_up = 0;
    let deadline = tokio::time::Instant::from(cut_at + STORM_TIMEOUT);
    while caught_up < devices {
        match tokio::time::timeout_at(deadline, progress.recv()).await {
            Ok(Some(Progress::Reconnected {
                device,
                recovered,
                at,
            })) => {
                storm[device].reconnected = Some(at);
                storm[device].recovered = recovered;
            }
            Ok(Some(Progress::CaughtUp { device, at })) => {
                storm[device].caught_up = Some(at);
                caught_up += 1;
            }
            Ok(None) | Err(_) => break,
        }
    }
    let usage = ctx.meter.since(&before);

    // Live again: keep the flow, then stop it and let the deliveries settle.
    tokio::time::sleep(size.flow).await;
    let _ = senders_stop.send(true);
    let sent = storm_load::join_senders(senders).await;
    let settled = settle(&shared, &conversations, size).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = phase_tx.send(Phase::Stop);
    let mut reports = Vec::with_capacity(devices);
    for listener in listeners {
        reports.push(listener.await.context("a device task failed")?);
    }
    reports.sort_by_key(|r| r.device);

    // The audit against the stored history.
    let stored = futures_util::stream::iter(
        conversations
            .iter()
            .map(|c| delivery_audit::stored_seqs(ctx.addr, &c.tokens[0], c.id, c.since)),
    )
    .buffered(8)
    .try_collect::<Vec<Vec<u64>>>()
    .await
    .context("reading the stored history")?;
    let mut counts = Counts::default();
    let mut devices_wrong = 0u64;
    for report in &reports {
        let device = delivery_audit::compare(&stored[report.slot], &report.received);
        if !device.clean() {
            devices_wrong += 1;
        }
        counts.add(device);
    }

    let mut latency = Latencies::with_capacity(devices);
    let mut recovery = Latencies::with_capacity(devices);
    for s in &storm {
        if let Some(at) = s.caught_up {
            latency.record(at.duration_since(cut_at));
        }
        if let Some(at) = s.reconnected {
            recovery.record(at.duration_since(cut_at));
        }
    }
    let reconnected = storm.iter().filter(|s| s.reconnected.is_some()).count() as u64;
    // Any reconnect answered with a new pid, at the storm or after a later close.
    let not_recovered: u64 = reports.iter().map(|r| r.not_recovered).sum();
    let recovered = storm
        .iter()
        .zip(&reports)
        .filter(|(s, r)| s.recovered && r.not_recovered == 0)
        .count() as u64;
    let done = storm
        .iter()
        .zip(&reports)
        .filter(|(s, r)| s.recovered && r.not_recovered == 0 && s.caught_up.is_some())
        .count() as u64;
    let unfinished = (devices - caught_up) as u64;
    let recovery = recovery.summary();
    let latency = latency.summary();

    let mut details = serde_json::Map::new();
    details.insert("sockets".into(), json!(devices));
    details.insert("conversations".into(), json!(size.conversations));
    details.insert("users".into(), json!(users));
    details.insert("send_rate_per_s".into(), json!(rate));
    details.insert("flow_s".into(), json!(size.flow.as_secs()));
    details.insert("sent".into(), json!(sent.acknowledged));
    details.insert("send_errors".into(), json!(sent.errors));
    details.insert("recovered".into(), json!(recovered));
    details.insert("not_recovered".into(), json!(not_recovered));
    details.insert(
        "not_reconnected".into(),
        json!(devices as u64 - reconnected),
    );
    details.insert("not_caught_up".into(), json!(unfinished));
    details.insert(
        "all_reconnected_s".into(),
        json!(round3(recovery.max_ms / 1000.0)),
    );
    details.insert("reconnect_p50_ms".into(), json!(recovery.p50_ms));
    details.insert(
        "all_caught_up_s".into(),
        json!(round3(latency.max_ms / 1000.0)),
    );
    totals(&mut details, &reports);
    details.insert(
        "stored".into(),
        json!(stored.iter().map(Vec::len).sum::<usize>()),
    );
    details.insert("missing".into(), json!(counts.missing));
    details.insert("duplicated".into(), json!(counts.duplicated));
    details.insert("out_of_order".into(), json!(counts.out_of_order));
    details.insert("unexpected".into(), json!(counts.unexpected));
    details.insert("sockets_with_wrong_deliveries".into(), json!(devices_wrong));
    details.insert("settled".into(), json!(settled));
    if let Some(cpu) = usage.server_cpu_s {
        let per = (cpu * 1e6 / devices as f64).round();
        details.insert("server_cpu_us_per_socket".into(), json!(per));
    }
    details.insert(
        "open_files_limit".into(),
        json!({
            "tool": usage::open_files_limit("self"),
            "server": ctx.meter.server_open_files_limit(),
        }),
    );
    let mut failures = Vec::new();
    if !counts.clean() {
        failures.push(format!(
            "{} missing, {} duplicated, {} out of order, {} unexpected events over {devices_wrong} sockets",
            counts.missing, counts.duplicated, counts.out_of_order, counts.unexpected
        ));
    }
    if not_recovered > 0 {
        failures.push(format!("{not_recovered} reconnects not recovered"));
    }
    if unfinished > 0 {
        failures.push(format!(
            "{unfinished} sockets not caught up within {} s",
            STORM_TIMEOUT.as_secs()
        ));
    }
    if !failures.is_empty() {
        details.insert("fail".into(), json!(failures.join("; ")));
    }
    let all_s = latency.max_ms / 1000.0;
    Ok(Outcome {
        scenario: format!("reconnect-storm/{devices}"),
        duration_s: usage.wall_s,
        ok: done,
        errors: devices as u64 - done,
        rate_per_s: (all_s > 0.0).then(|| (caught_up as f64 / all_s).round()),
        ratio_to_c: None,
        // From the cut to each socket's catching up.
        latency,
        usage,
        details,
    })
}

/// Adds what the devices counted over the run.
fn totals(details: &mut serde_json::Map<String, serde_json::Value>, reports: &[Report]) {
    let sum = |f: fn(&Report) -> u64| reports.iter().map(f).sum::<u64>();
    details.insert("received".into(), json!(sum(|r| r.received.len() as u64)));
    details.insert("missed_at_cut".into(), json!(sum(|r| r.missed_at_cut)));
    details.insert("reconnects".into(), json!(sum(|r| r.reconnects)));
    details.insert(
        "failed_reconnect_attempts".into(),
        json!(sum(|r| r.failed_attempts)),
    );
    details.insert(
        "closed_by_server".into(),
        json!(sum(|r| r.closed_by_server)),
    );
    details.insert("join_errors".into(), json!(sum(|r| r.join_errors)));
    details.insert("foreign_messages".into(), json!(sum(|r| r.foreign)));
    if let Some(e) = reports.iter().find_map(|r| r.first_error.as_ref()) {
        details.insert("first_error".into(), json!(e));
    }
}

/// Waits until every device has the last acknowledged message of its conversation (at most
/// [`SETTLE_TIMEOUT`]); whether they all did.
async fn settle(shared: &Shared, conversations: &[Conversation], size: Size) -> bool {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let behind = (0..size.devices()).any(|d| {
            let slot = size.slot(d);
            let last = shared.acked[slot].load(Ordering::Acquire);
            shared.received[d]
                .load(Ordering::Acquire)
                .max(conversations[slot].since)
                < last
        });
        if !behind {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rounds to milliseconds.
fn round3(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
