//! Scenario `cluster-fanout`: the workloads of `socket-throughput` and `fanout` on two nodes
//! that share their events over the Redis bus, reached through the load balancer with each
//! socket pinned to a chosen node, against the same workloads on the one server of the run
//! (in-process bus). On a machine of two cores two nodes cannot be faster than one; what this
//! measures is what the bus costs per message: the nodes' CPU per delivered message against the
//! one server's at the same rate, Redis's own CPU apart, and the delivery latency across nodes.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::Ctx;
use crate::args::ClusterTarget;
use crate::fanout::{self, Room};
use crate::report::Outcome;
use crate::route::Route;
use crate::throughput::{Pairs, Step};
use crate::usage::Meter;

/// Sender/receiver pairs, as in `socket-throughput`.
const PAIRS: usize = 50;
/// The rate, as a fraction of C, at which the buses' CPU per message is compared: low enough
/// for every setup to pass it, high enough for thousands of messages in a few seconds.
const COMPARE_AT: f64 = 0.25;
/// The rate 1.0 stands for when C is unknown.
const RATE_WITHOUT_C: f64 = 1_000.0;
/// The rates tried after the comparison, fractions of C, until one fails (coarser than
/// `socket-throughput`'s, to keep the scenario short).
const RAMP: &[f64] = &[0.5, 1.0, 1.5, 2.0];
/// Each ramp step's length.
const RAMP_STEP: Duration = Duration::from_secs(3);
/// Sends at the comparison rate before the measured window, not counted (first frames,
/// caches, connections warming up).
const WARM_UP: Duration = Duration::from_secs(1);
/// The target for the bus: server CPU it may add per message.
const TARGET_US: f64 = 20.0;
/// The whole scenario's bound.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);
/// The first user id of this scenario; each part has users (and so conversations) of its own,
/// so that no server's caches meet another's: + 0 in-process pairs, + 1,000 one-way pairs,
/// + 2,000 spread pairs, + 3,000 the fanout rooms.
const BASE: i64 = 9_000_001;

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let cluster = ctx.cluster.as_ref().context(
        "cluster-fanout needs a cluster (--cluster-url, --node-pid; `cargo xtask bench` starts one)",
    )?;
    if cluster.node_pids.len() < 2 {
        bail!("cluster-fanout needs the pids of two nodes (--node-pid, twice)");
    }
    let outcomes = tokio::time::timeout(SCENARIO_TIMEOUT, scenario(ctx, cluster))
        .await
        .context("cluster-fanout did not finish in time")??;
    for outcome in &outcomes {
        outcome.print_json()?;
    }
    Ok(outcomes)
}

/// Where the pairs' sockets are.
#[derive(Debug, Clone, Copy)]
enum Placement {
    /// Everything on the one server, in-process bus.
    OneServer,
    /// Every sender on node 1, every receiver on node 2: all writes on one node (as on the
    /// one server, so the same batches), every delivery across the bus.
    OneWay,
    /// Pair `i`'s sender on node `1 + i % 2`, its receiver on the other: both nodes write and
    /// deliver, every delivery across the bus.
    Spread,
}

/// A run of the pairs at the comparison rate, and what the cluster's other processes used.
struct Measured {
    /// The measured step.
    step: Step,
    /// redis-server's CPU seconds during the step.
    redis_cpu_s: Option<f64>,
    /// The balancer's CPU seconds during the step.
    balancer_cpu_s: Option<f64>,
    /// Each node's CPU seconds during the step (none for the one server).
    node_cpu_s: Vec<Option<f64>>,
    /// The ramp after it (empty when not run), every step in order.
    ramp: Vec<Step>,
}

/// Runs the three placements, then the fanout on one server and on the cluster.
async fn scenario(ctx: &Ctx, cluster: &ClusterTarget) -> Result<Vec<Outcome>> {
    let unit = ctx.calibration.unwrap_or(RATE_WITHOUT_C);
    let rate = COMPARE_AT * unit;
    let length = Duration::from_secs(if ctx.quick { 3 } else { 5 });
    let nodes = ctx.meter.for_servers(&cluster.node_pids);

    let one = run_pairs(ctx, cluster, Placement::OneServer, rate, length, true).await?;
    let one_way = run_pairs(ctx, cluster, Placement::OneWay, rate, length, false).await?;
    let spread = run_pairs(ctx, cluster, Placement::Spread, rate, length, true).await?;

    let mut outcomes = Vec::new();
    let base_cpu = per_msg_us(&one.step);
    outcomes.push(compared(
        ctx,
        "1-node",
        &one,
        None,
        "one server, in-process bus",
    ));
    outcomes.push(compared(
        ctx,
        "2-nodes-one-way",
        &one_way,
        base_cpu,
        "senders on node 1, receivers on node 2, through the balancer",
    ));
    let mut spread_line = compared(
        ctx,
        "2-nodes",
        &spread,
        base_cpu,
        "pair i's sender on node 1 + i % 2, its receiver on the other, through the balancer",
    );
    if let Some(cost) = spread_line
        .details
        .get("bus_cost_us_per_msg")
        .and_then(serde_json::Value::as_f64)
    {
        spread_line
            .details
            .insert("target_us_per_msg".into(), json!(TARGET_US));
        spread_line
            .details
            .insert("target_met".into(), json!(cost < TARGET_US));
    }
    outcomes.push(spread_line);
    let one_max = highest(ctx, "1-node", &one, None);
    let one_max_rate = one_max.rate_per_s;
    outcomes.push(one_max);
    outcomes.push(highest(ctx, "2-nodes", &spread, one_max_rate));

    outcomes.push(fanout_one_server(ctx).await?);
    outcomes.push(fanout_cluster(ctx, cluster, &nodes).await?);
    Ok(outcomes)
}

/// Connects `PAIRS` pairs placed as `placement`, warms up, measures `length` at `rate` and,
/// when `ramp`, goes on through [`RAMP`] until a step fails.
async fn run_pairs(
    ctx: &Ctx,
    cluster: &ClusterTarget,
    placement: Placement,
    rate: f64,
    length: Duration,
    ramp: bool,
) -> Result<Measured> {
    let lb = cluster.balancer;
    let (meter, seed_at, first_id) = match placement {
        Placement::OneServer => (ctx.meter.clone(), Route::direct(ctx.addr), BASE),
        Placement::OneWay => (
            ctx.meter.for_servers(&cluster.node_pids),
            Route::direct(lb),
            BASE + 1_000,
        ),
        Placement::Spread => (
            ctx.meter.for_servers(&cluster.node_pids),
            Route::direct(lb),
            BASE + 2_000,
        ),
    };
    let here = Route::direct(ctx.addr);
    let mut pairs = Pairs::connect(
        &seed_at,
        &ctx.secret,
        first_id,
        PAIRS,
        |i| match placement {
            Placement::OneServer => (here.clone(), here.clone()),
            Placement::OneWay => (Route::node(lb, 1), Route::node(lb, 2)),
            Placement::Spread => (Route::node(lb, 1 + i % 2), Route::node(lb, 1 + (i + 1) % 2)),
        },
    )
    .await
    .with_context(|| format!("connecting the pairs ({placement:?})"))?;
    pairs.step(&meter, rate, WARM_UP).await?;
    let sidecars = |m: &Meter| {
        let read = |pid: Option<u32>| pid.and_then(|p| m.process_cpu_s(p));
        let nodes: Vec<Option<f64>> = match placement {
            Placement::OneServer => Vec::new(),
            _ => cluster.node_pids.iter().map(|&p| read(Some(p))).collect(),
        };
        (read(cluster.redis_pid), read(cluster.balancer_pid), nodes)
    };
    let (redis_before, balancer_before, nodes_before) = sidecars(&meter);
    let step = pairs.step(&meter, rate, length).await?;
    let (redis_after, balancer_after, nodes_after) = sidecars(&meter);
    let spent = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
    let mut measured = Measured {
        redis_cpu_s: spent(redis_before, redis_after),
        balancer_cpu_s: spent(balancer_before, balancer_after),
        node_cpu_s: nodes_before
            .into_iter()
            .zip(nodes_after)
            .map(|(a, b)| spent(a, b))
            .collect(),
        step,
        ramp: Vec::new(),
    };
    eprintln!(
        "chat-bench: cluster-fanout {placement:?} at {rate:.0}/s: {} us of server CPU per message, p99 {:.1} ms",
        per_msg_us(&measured.step).unwrap_or(f64::NAN),
        measured.step.latencies.clone().summary().p99_ms
    );
    if ramp && measured.step.passed() && pairs.cut_off() == 0 {
        let unit = rate / COMPARE_AT;
        for &fraction in RAMP {
            let step = pairs.step(&meter, fraction * unit, RAMP_STEP).await?;
            let passed = step.passed() && pairs.cut_off() == 0;
            eprintln!(
                "chat-bench: cluster-fanout {placement:?} {:.0}/s: p99 {:.1} ms, {} missing, {} refused",
                step.target,
                step.latencies.clone().summary().p99_ms,
                step.missing,
                step.refused
            );
            measured.ramp.push(step);
            if !passed {
                break;
            }
        }
    }
    pairs.close().await;
    Ok(measured)
}

/// Server CPU microseconds per delivered message of a step, to 0.1 us.
fn per_msg_us(step: &Step) -> Option<f64> {
    let delivered = step.latencies.clone().summary().count;
    let cpu = step.usage.server_cpu_s?;
    (delivered > 0).then(|| round1(cpu * 1e6 / delivered as f64))
}

/// CPU microseconds of `cpu_s` per delivered message of `step`.
fn other_per_msg_us(cpu_s: Option<f64>, step: &Step) -> Option<f64> {
    let delivered = step.latencies.clone().summary().count;
    let cpu_s = cpu_s?;
    (delivered > 0).then(|| round1(cpu_s * 1e6 / delivered as f64))
}

/// The line of a run at the comparison rate; `base_us` is the one server's CPU per message,
/// from which the bus's cost is the difference.
fn compared(
    ctx: &Ctx,
    name: &str,
    measured: &Measured,
    base_us: Option<f64>,
    placement: &str,
) -> Outcome {
    let step = &measured.step;
    let mut latencies = step.latencies.clone();
    let latency = latencies.summary();
    let rate = latency.count as f64 / step.seconds;
    let mut details = serde_json::Map::new();
    details.insert("pairs".into(), json!(PAIRS));
    details.insert("placement".into(), json!(placement));
    details.insert("target_per_s".into(), json!(step.target.round()));
    let own = per_msg_us(step);
    if let Some(us) = own {
        details.insert("server_cpu_us_per_msg".into(), json!(us));
    }
    if let (Some(own), Some(base)) = (own, base_us) {
        details.insert("bus_cost_us_per_msg".into(), json!(round1(own - base)));
    }
    let per_node: Vec<Option<f64>> = measured
        .node_cpu_s
        .iter()
        .map(|cpu| other_per_msg_us(*cpu, step))
        .collect();
    if !per_node.is_empty() {
        details.insert("node_cpu_us_per_msg".into(), json!(per_node));
    }
    if let Some(us) = other_per_msg_us(measured.redis_cpu_s, step).filter(|_| base_us.is_some()) {
        details.insert("redis_cpu_us_per_msg".into(), json!(us));
    }
    if let Some(us) = other_per_msg_us(measured.balancer_cpu_s, step).filter(|_| base_us.is_some())
    {
        details.insert("balancer_cpu_us_per_msg".into(), json!(us));
    }
    step.outcome(
        ctx,
        format!("cluster-fanout/{name}/{COMPARE_AT}C"),
        rate,
        details,
    )
}

/// The highest passing rate of a run (its comparison step and ramp), as `socket-throughput`
/// reports it; `one_node_per_s` is the one server's, for the ratio.
fn highest(ctx: &Ctx, name: &str, measured: &Measured, one_node_per_s: Option<f64>) -> Outcome {
    let steps: Vec<&Step> = std::iter::once(&measured.step)
        .chain(&measured.ramp)
        .collect();
    let table: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| {
            let l = s.latencies.clone().summary();
            json!({ "target_per_s": s.target.round(), "sent": s.sent, "delivered": l.count,
                    "missing": s.missing, "refused": s.refused, "p50_ms": l.p50_ms, "p99_ms": l.p99_ms })
        })
        .collect();
    let best = steps.iter().rposition(|s| s.passed());
    let step = steps[best.unwrap_or(0)];
    let latency = step.latencies.clone().summary();
    let rate = if best.is_some() {
        latency.count as f64 / step.seconds
    } else {
        0.0
    };
    let mut details = serde_json::Map::new();
    details.insert("steps".into(), json!(table));
    if let Some(one) = one_node_per_s.filter(|r| *r > 0.0) {
        details.insert(
            "ratio_to_1_node".into(),
            json!((rate / one * 100.0).round() / 100.0),
        );
    }
    step.outcome(
        ctx,
        format!("cluster-fanout/{name}/throughput"),
        rate,
        details,
    )
}

/// `fanout`'s room on the one server, for the comparison.
async fn fanout_one_server(ctx: &Ctx) -> Result<Outcome> {
    let here = Route::direct(ctx.addr);
    let room = fanout::direct_room(
        format!("cluster-fanout/1-node/fanout-{}", fanout::SOCKETS),
        ctx.addr,
        &ctx.secret,
        [BASE + 3_000, BASE + 3_001],
        here,
    )
    .await
    .context("the one server's fanout room")?;
    fanout::fan_out(&ctx.meter, room).await
}

/// `fanout`'s room on the cluster: the sends over REST to node 1, the sockets alternating
/// between node 1 and node 2, so that half the deliveries cross the bus.
async fn fanout_cluster(ctx: &Ctx, cluster: &ClusterTarget, nodes: &Meter) -> Result<Outcome> {
    let lb = cluster.balancer;
    let mut room: Room = fanout::direct_room(
        format!("cluster-fanout/2-nodes/fanout-{}", fanout::SOCKETS),
        lb,
        &ctx.secret,
        [BASE + 3_002, BASE + 3_003],
        Route::node(lb, 1),
    )
    .await
    .context("the cluster's fanout room")?;
    room.socket_routes = Some(
        (0..room.socket_tokens.len())
            .map(|i| (Route::node(lb, 1 + i % 2), i % 2 == 1))
            .collect(),
    );
    room.details.insert(
        "placement".into(),
        json!("sends to node 1, sockets alternating between node 1 and node 2"),
    );
    fanout::fan_out(nodes, room).await
}

/// Rounds to one decimal.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
