//! Scenario `socket-throughput`: sender/receiver pairs in their own conversations, sending
//! `send_message` over Socket.IO open-loop at rising rates. Sends leave on schedule whatever the
//! replies, and latency counts from the scheduled time to the receiver's `new_message`, so a
//! stalled server cannot hide its stall. A step passes with p99 <= 100 ms and nothing missing.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::route::Route;
use crate::socket::{self, Delivery, Ws};
use crate::stats::Latencies;
use crate::usage::{Meter, Usage};
use crate::users::{self, MESSAGE};

/// Sender/receiver pairs.
const PAIRS: usize = 50;
/// Rates tried, as fractions of C, in order; the first is also the latency profile's.
const STEPS: &[f64] = &[
    0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0,
];
/// The rate 1.0 stands for when C is unknown.
const RATE_WITHOUT_C: f64 = 1_000.0;
/// A step fails above this p99.
const P99_LIMIT_MS: f64 = 100.0;
/// How long after a step's last scheduled send its messages may still arrive.
const DRAIN: Duration = Duration::from_secs(3);

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let step = if ctx.quick { 3 } else { 10 };
    let bound = Duration::from_secs(120) + (Duration::from_secs(step) + DRAIN) * STEPS.len() as u32;
    let outcomes = tokio::time::timeout(bound, scenario(ctx, Duration::from_secs(step)))
        .await
        .context("socket-throughput did not finish in time")??;
    for outcome in &outcomes {
        outcome.print_json()?;
    }
    Ok(outcomes)
}

/// One pair: the sender's socket (moved into each step's task) and what the receiver expects.
pub(crate) struct Pair {
    /// The sender's socket.
    ws: Option<Ws>,
    /// The receiver's user id.
    receiver: i64,
    /// The seq of the pair's last message so far.
    last_seq: u64,
}

/// What one step measured.
pub(crate) struct Step {
    /// Rate asked for, messages per second.
    pub(crate) target: f64,
    /// Delivery latencies from the scheduled send time.
    pub(crate) latencies: Latencies,
    /// Messages scheduled.
    pub(crate) sent: u64,
    /// Messages not delivered in time.
    pub(crate) missing: u64,
    /// Refused sends (acks with `success: false`, write failures).
    pub(crate) refused: u64,
    /// Seconds the step's sends were spread over.
    pub(crate) seconds: f64,
    /// What the step cost.
    pub(crate) usage: Usage,
}

impl Step {
    /// The report line of this step as `scenario`, delivering at `rate` messages per second
    /// (0 for a ramp without a passing step).
    pub(crate) fn outcome(
        &self,
        ctx: &Ctx,
        scenario: String,
        rate: f64,
        details: serde_json::Map<String, serde_json::Value>,
    ) -> Outcome {
        let latency = self.latencies.clone().summary();
        Outcome {
            scenario,
            duration_s: self.seconds,
            ok: latency.count as u64,
            errors: self.missing + self.refused,
            rate_per_s: Some(rate),
            ratio_to_c: ctx.calibration.map(|c| rate / c),
            latency,
            usage: self.usage,
            details,
        }
    }

    /// Whether the step passed: p99 within the limit, nothing missing, nothing refused.
    pub(crate) fn passed(&self) -> bool {
        self.missing == 0
            && self.refused == 0
            && self.latencies.clone().summary().p99_ms <= P99_LIMIT_MS
    }
}

/// The pairs of a run: each sender's socket and the receivers' deliveries, all on one channel.
pub(crate) struct Pairs {
    /// The pairs, in order (a delivery's tag is its pair's index).
    pairs: Vec<Pair>,
    /// Every receiver's `new_message`s.
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    /// Stops the receivers' listeners.
    stop: watch::Sender<bool>,
    /// The receivers' listeners.
    listeners: Vec<tokio::task::JoinHandle<bool>>,
}

impl Pairs {
    /// Creates `2 * count` users from `first_id` on (through `seed_at`), opens each pair's
    /// conversation with a REST send from the sender and connects pair `i`'s sockets: the
    /// receiver's, joined to the room, along `route(i).1`, the sender's along `route(i).0`.
    pub(crate) async fn connect(
        seed_at: &Route,
        secret: &str,
        first_id: i64,
        count: usize,
        route: impl Fn(usize) -> (Route, Route),
    ) -> Result<Self> {
        let ids: Vec<i64> = (0..2 * i64::try_from(count)?)
            .map(|i| first_id + i)
            .collect();
        let tokens = users::seed(seed_at.addr, secret, &ids).await?;
        let (deliveries_tx, deliveries) = mpsc::unbounded_channel::<Delivery>();
        let (stop, stop_rx) = watch::channel(false);
        let mut pairs = Vec::new();
        let mut listeners = Vec::new();
        for i in 0..count {
            let (sender_route, receiver_route) = route(i);
            // The conversation is opened on the sender's node, as its later sends go.
            let mut rest = HttpConn::via(&sender_route);
            let (seq, conversation) =
                users::send(&mut rest, &tokens[2 * i], ids[2 * i + 1]).await?;
            let mut receiver = socket::connect_via(&receiver_route, &tokens[2 * i + 1]).await?;
            socket::join(&mut receiver, conversation).await?;
            listeners.push(tokio::spawn(socket::listen(
                receiver,
                i,
                deliveries_tx.clone(),
                stop_rx.clone(),
            )));
            let sender = socket::connect_via(&sender_route, &tokens[2 * i]).await?;
            pairs.push(Pair {
                ws: Some(sender),
                receiver: ids[2 * i + 1],
                last_seq: seq,
            });
        }
        Ok(Self {
            pairs,
            deliveries,
            stop,
            listeners,
        })
    }

    /// How many senders the server has cut off.
    pub(crate) fn cut_off(&self) -> usize {
        self.pairs.iter().filter(|p| p.ws.is_none()).count()
    }

    /// Sends `rate` messages per second in all for `length` and waits for the deliveries,
    /// metered by `meter`.
    pub(crate) async fn step(
        &mut self,
        meter: &Meter,
        rate: f64,
        length: Duration,
    ) -> Result<Step> {
        run_step(meter, &mut self.pairs, &mut self.deliveries, rate, length).await
    }

    /// Stops the listeners and closes the sockets.
    pub(crate) async fn close(self) {
        socket::stop_all(&self.stop, self.listeners).await;
    }
}

/// Connects the pairs, then runs the steps until one fails.
async fn scenario(ctx: &Ctx, step_length: Duration) -> Result<Vec<Outcome>> {
    let here = Route::direct(ctx.addr);
    let mut pairs = Pairs::connect(&here, &ctx.secret, 4_000_001, PAIRS, |_| {
        (here.clone(), here.clone())
    })
    .await?;
    let unit = ctx.calibration.unwrap_or(RATE_WITHOUT_C);
    let mut steps: Vec<Step> = Vec::new();
    let mut stopped = "every rate passed".to_owned();
    for &fraction in STEPS {
        let step = pairs.step(&ctx.meter, fraction * unit, step_length).await?;
        let p99 = step.latencies.clone().summary().p99_ms;
        // A sender the server cut off (its unacknowledged sends count as refused) ends the
        // ramp like any failed step; the steps before it stand.
        let cut_off = pairs.cut_off();
        let failed = !step.passed() || cut_off > 0;
        eprintln!(
            "chat-bench: socket-throughput {:.0}/s: p99 {p99:.1} ms, {} missing, {} refused",
            step.target, step.missing, step.refused
        );
        steps.push(step);
        if failed {
            stopped = if cut_off > 0 {
                format!("{fraction} C failed ({cut_off} sender sockets closed by the server)")
            } else {
                format!("{fraction} C failed (p99 {p99:.1} ms)")
            };
            break;
        }
    }
    pairs.close().await;
    Ok(outcomes(ctx, steps, &stopped))
}

/// Sends `rate` messages per second in all for `length`, then waits for the deliveries.
async fn run_step(
    meter: &Meter,
    pairs: &mut [Pair],
    deliveries: &mut mpsc::UnboundedReceiver<Delivery>,
    rate: f64,
    length: Duration,
) -> Result<Step> {
    let count = pairs.len();
    let per_pair = ((rate * length.as_secs_f64()) / count as f64)
        .ceil()
        .max(1.0) as u64;
    let interval = Duration::from_secs_f64(count as f64 / rate);
    let before = meter.start();
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::new();
    for (i, pair) in pairs.iter_mut().enumerate() {
        let ws = pair.ws.take().context("a sender socket was lost")?;
        let first = start + Duration::from_secs_f64(i as f64 / rate);
        tasks.push(tokio::spawn(send_on_schedule(
            ws,
            pair.receiver,
            first,
            interval,
            per_pair,
        )));
    }
    // Deliveries: seq last_seq+1+k of pair i was scheduled at first_i + k * interval.
    let mut latencies = Latencies::with_capacity(per_pair as usize * count);
    let mut received = vec![0u64; count];
    let deadline = start + interval * u32::try_from(per_pair)? + DRAIN;
    let expected = per_pair * count as u64;
    let mut total = 0;
    while total < expected {
        match tokio::time::timeout_at(deadline.into(), deliveries.recv()).await {
            Ok(Some((i, seq, at))) => {
                let Some(pair) = pairs.get(i) else {
                    continue;
                };
                let Some(k) = seq.checked_sub(pair.last_seq + 1).filter(|k| *k < per_pair) else {
                    continue; // a straggler of an earlier step
                };
                let scheduled =
                    start + Duration::from_secs_f64(i as f64 / rate) + interval * u32::try_from(k)?;
                latencies.record(at.saturating_duration_since(scheduled));
                received[i] += 1;
                total += 1;
            }
            Ok(None) => bail!("every receiver socket closed"),
            Err(_) => break,
        }
    }
    let mut refused = 0;
    for (pair, task) in pairs.iter_mut().zip(tasks) {
        let (ws, failures) = task.await.context("a sender task panicked")?;
        pair.ws = ws;
        refused += failures;
        pair.last_seq += per_pair;
    }
    Ok(Step {
        target: rate,
        latencies,
        sent: expected,
        missing: expected - total,
        refused,
        seconds: (interval * u32::try_from(per_pair)?).as_secs_f64(),
        usage: meter.since(&before),
    })
}

/// Sends `count` messages, the k-th at `first + k * interval`, answering pings and counting
/// refused acks until every ack is in (or the step's drain time is over). Returns the socket
/// (none if it failed) and the number of refusals.
async fn send_on_schedule(
    mut ws: Ws,
    receiver: i64,
    first: Instant,
    interval: Duration,
    count: u64,
) -> (Option<Ws>, u64) {
    let give_up = first + interval * u32::try_from(count).unwrap_or(u32::MAX) + DRAIN;
    let (mut sent, mut acked, mut refused) = (0u64, 0u64, 0u64);
    while acked < count {
        let next = first + interval * u32::try_from(sent).unwrap_or(u32::MAX);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()), if sent < count => {
                sent += 1;
                let frame = format!(
                    r#"42{sent}["send_message",{{"receiverId":{receiver},"content":"{MESSAGE}"}}]"#
                );
                if ws.send(Message::text(frame)).await.is_err() {
                    return (None, refused + count - acked);
                }
            }
            _ = tokio::time::sleep_until(give_up.into()) => break,
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    if text == "2" {
                        if ws.send(Message::text("3")).await.is_err() {
                            return (None, refused + count - acked);
                        }
                    } else if text.starts_with("43") {
                        acked += 1;
                        if !text.contains(r#""success":true"#) {
                            refused += 1;
                        }
                    }
                }
                Some(Ok(_)) => {}
                _ => return (None, refused + count - acked),
            }
        }
    }
    (Some(ws), refused + count.saturating_sub(acked))
}

/// The highest passing step and the latency profile at the first (0.1 C) step.
fn outcomes(ctx: &Ctx, mut steps: Vec<Step>, stopped: &str) -> Vec<Outcome> {
    let table: Vec<serde_json::Value> = steps
        .iter_mut()
        .map(|s| {
            let l = s.latencies.summary();
            json!({ "target_per_s": s.target.round(), "sent": s.sent, "delivered": l.count, "missing": s.missing,
                    "refused": s.refused, "p50_ms": l.p50_ms, "p99_ms": l.p99_ms })
        })
        .collect();
    let best = steps.iter().rposition(Step::passed);
    let mut outcomes = Vec::new();
    // Without a passing step, the throughput line shows the first step with a rate of 0.
    for (name, index) in [
        ("socket-latency/0.1C", 0),
        ("socket-throughput", best.unwrap_or(0)),
    ] {
        let Some(step) = steps.get(index) else {
            continue;
        };
        let mut latencies = step.latencies.clone();
        let latency = latencies.summary();
        let rate = if name == "socket-throughput" && best.is_none() {
            0.0
        } else {
            latency.count as f64 / step.seconds
        };
        let mut details = serde_json::Map::new();
        details.insert("pairs".into(), json!(PAIRS));
        details.insert("target_per_s".into(), json!(step.target.round()));
        if let Some(cpu) = step.usage.server_cpu_s.filter(|_| latency.count > 0) {
            details.insert(
                "server_cpu_us_per_msg".into(),
                json!((cpu * 1e6 / latency.count as f64).round()),
            );
        }
        if name == "socket-throughput" {
            details.insert("stopped".into(), json!(stopped));
            details.insert("steps".into(), json!(table));
        }
        outcomes.push(step.outcome(ctx, name.to_owned(), rate, details));
    }
    if best.is_none() {
        eprintln!("chat-bench: socket-throughput: no rate passed ({stopped})");
    }
    outcomes
}
