//! Scenarios `fanout` and `group-fanout`: many sockets joined to one conversation's room (the
//! devices of a direct conversation's two members, or one socket for each member of a group
//! of 1,000); one message at a time sent over REST; the time until the last socket has it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::route::Route;
use crate::socket::{self, Delivery};
use crate::stats::Latencies;
use crate::usage::Meter;
use crate::users;

/// Sockets in the room.
pub(crate) const SOCKETS: usize = 1_000;
/// Members of `group-fanout`'s group, its creator included (one socket each).
const GROUP_MEMBERS: usize = 1_000;
/// The first id of `group-fanout`'s users, after those of the other scenarios.
const GROUP_BASE: i64 = 7_000_000;
/// Messages sent, one after the other.
const ROUNDS: usize = 10;
/// Sockets opened at once.
const OPENING_CONCURRENCY: usize = 64;
/// How long one message may take to reach every socket.
const ROUND_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole scenario's bound.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `fanout`, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let outcome = tokio::time::timeout(SCENARIO_TIMEOUT, direct(ctx))
        .await
        .context("fanout did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// Runs `group-fanout`, bounded in time.
pub(crate) async fn run_group(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let outcome = tokio::time::timeout(SCENARIO_TIMEOUT, group(ctx))
        .await
        .context("group-fanout did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// One room and what is sent into it.
pub(crate) struct Room {
    /// The result line's name.
    pub(crate) scenario: String,
    /// The conversation whose room the sockets join.
    pub(crate) conversation: i64,
    /// One token per socket, in opening order.
    pub(crate) socket_tokens: Vec<String>,
    /// Where each socket connects: its route and whether that is another node than the
    /// sender's (`true`: its deliveries cross nodes), by the socket's index; none: all of
    /// them straight to the server, as the sender.
    pub(crate) socket_routes: Option<Vec<(Route, bool)>>,
    /// Where the sends go.
    pub(crate) sender_route: Route,
    /// The sender's token.
    pub(crate) sender: String,
    /// Where each send goes (`POST`) and its body.
    pub(crate) path: String,
    /// The send's body.
    pub(crate) body: Vec<u8>,
    /// What the result line says about the room.
    pub(crate) details: serde_json::Map<String, serde_json::Value>,
}

/// The room of `fanout`: `SOCKETS` devices of the direct conversation of users `ids`, opened
/// with a send from the first to the second along `sender_route`; the sockets' routes are for
/// the caller to set.
pub(crate) async fn direct_room(
    scenario: String,
    seed_at: SocketAddr,
    secret: &str,
    ids: [i64; 2],
    sender_route: Route,
) -> Result<Room> {
    let tokens = users::seed(seed_at, secret, &ids).await?;
    let mut rest = HttpConn::via(&sender_route);
    let (_, conversation) = users::send(&mut rest, &tokens[0], ids[1]).await?;
    Ok(Room {
        scenario,
        conversation,
        socket_tokens: (0..SOCKETS).map(|i| tokens[i % 2].clone()).collect(),
        socket_routes: None,
        sender_route,
        sender: tokens[0].clone(),
        path: "/api/chat/send".to_owned(),
        body: users::send_body(ids[1]),
        details: serde_json::Map::new(),
    })
}

/// `fanout`: 1,000 devices of a direct conversation's two members.
async fn direct(ctx: &Ctx) -> Result<Outcome> {
    let room = direct_room(
        format!("fanout/{SOCKETS}"),
        ctx.addr,
        &ctx.secret,
        [3_000_001, 3_000_002],
        Route::direct(ctx.addr),
    )
    .await?;
    fan_out(&ctx.meter, room).await
}

/// `group-fanout`: a group of 1,000 members, one socket each; its creator sends.
async fn group(ctx: &Ctx) -> Result<Outcome> {
    let ids: Vec<i64> = (1..=i64::try_from(GROUP_MEMBERS)?)
        .map(|i| GROUP_BASE + i)
        .collect();
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids)
        .await
        .context("creating the members")?;
    let mut rest = HttpConn::new(ctx.addr);
    let conversation = users::create_group(&mut rest, &tokens[0], "fanout", &ids[1..])
        .await
        .context("creating the group")?;
    let mut details = serde_json::Map::new();
    details.insert("members".into(), json!(GROUP_MEMBERS));
    let sender = tokens[0].clone();
    let room = Room {
        scenario: format!("group-fanout/{GROUP_MEMBERS}"),
        conversation,
        socket_tokens: tokens,
        socket_routes: None,
        sender_route: Route::direct(ctx.addr),
        sender,
        path: users::conversation_send_path(conversation),
        body: users::conversation_send_body(),
        details,
    };
    fan_out(&ctx.meter, room).await
}

/// Opens and joins the room's sockets, then sends `ROUNDS` messages one after the other and
/// times each one's deliveries; `meter` reads the server (or the nodes) the sockets are on.
/// When some sockets are on another node than the sender's, the time until the last of those
/// has each message is given apart (`cross_node_last_*`).
pub(crate) async fn fan_out(meter: &Meter, room: Room) -> Result<Outcome> {
    let Room {
        scenario,
        conversation,
        socket_tokens,
        socket_routes,
        sender_route,
        sender,
        path,
        body,
        mut details,
    } = room;
    let routes: Vec<(Route, bool)> =
        socket_routes.unwrap_or_else(|| vec![(sender_route.clone(), false); socket_tokens.len()]);
    let before = meter.start();
    let rss_before = meter.server_rss_kib();
    let opening = Instant::now();
    let results: Vec<Result<(socket::Ws, bool)>> =
        futures_util::stream::iter(socket_tokens.into_iter().zip(routes))
            .map(|(token, (route, remote))| async move {
                let mut ws = socket::connect_via(&route, &token).await?;
                socket::join(&mut ws, conversation).await?;
                Ok((ws, remote))
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
    let mut remote_open = 0;
    for result in results {
        match result {
            Ok((ws, remote)) => {
                remote_open += usize::from(remote);
                listeners.push(tokio::spawn(socket::listen(
                    ws,
                    usize::from(remote),
                    deliveries_tx.clone(),
                    stop.clone(),
                )));
            }
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
    let rss_open = meter.server_rss_kib();
    // A connection of its own for the sends, opened now (one opened before the sockets may
    // have been closed as idle meanwhile), so that no round pays for a connect.
    let mut rest = HttpConn::via(&sender_route);
    rest.get_ok("/api/users/me", &sender).await?;

    let rounds_before = meter.start();
    let mut last = Latencies::default();
    let mut last_remote = Latencies::default();
    let mut first = Latencies::default();
    let mut acks = Latencies::default();
    let mut arrived: HashMap<u64, Vec<(bool, Instant)>> = HashMap::new();
    let (mut delivered, mut missing) = (0u64, 0u64);
    for _ in 0..ROUNDS {
        let sent = Instant::now();
        let (seq, _) = users::post_message(&mut rest, &sender, &path, &body).await?;
        acks.record(sent.elapsed());
        let deadline = sent + ROUND_TIMEOUT;
        while arrived.get(&seq).map_or(0, Vec::len) < open {
            match tokio::time::timeout_at(deadline.into(), deliveries.recv()).await {
                Ok(Some((tag, s, at))) => arrived.entry(s).or_default().push((tag == 1, at)),
                Ok(None) | Err(_) => break,
            }
        }
        let times = arrived.remove(&seq).unwrap_or_default();
        delivered += times.len() as u64;
        missing += (open - times.len().min(open)) as u64;
        let all = || times.iter().map(|(_, at)| *at);
        if let (Some(min), Some(max)) = (all().min(), all().max()) {
            first.record(min.duration_since(sent));
            last.record(max.duration_since(sent));
        }
        let remote = times
            .iter()
            .filter(|(remote, _)| *remote)
            .map(|(_, at)| *at);
        if let Some(max) = remote.max() {
            last_remote.record(max.duration_since(sent));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rounds = meter.since(&rounds_before);

    let alive = socket::stop_all(&stop_tx, listeners).await;
    let usage = meter.since(&before);
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
    if remote_open > 0 {
        let remote = last_remote.summary();
        details.insert("cross_node_sockets".into(), json!(remote_open));
        details.insert("cross_node_last_p50_ms".into(), json!(remote.p50_ms));
        details.insert("cross_node_last_p99_ms".into(), json!(remote.p99_ms));
    }
    // The sends alone: from the first to the last round's deliveries (the pauses between
    // rounds included), without opening and joining the sockets.
    if let Some(cpu) = rounds.server_cpu_s {
        details.insert("rounds_server_cpu_s".into(), json!(round3(cpu)));
        if delivered > 0 {
            let per = (cpu * 1e6 / delivered as f64 * 100.0).round() / 100.0;
            details.insert("server_cpu_us_per_delivery".into(), json!(per));
        }
    }
    if let (Some(a), Some(b)) = (rss_before, rss_open) {
        let per = (b.saturating_sub(a) as f64 * 1024.0 / open as f64).round();
        details.insert("server_rss_bytes_per_socket".into(), json!(per));
    }
    Ok(Outcome {
        scenario,
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
