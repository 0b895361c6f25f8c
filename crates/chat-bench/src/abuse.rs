//! Scenario `abuse`: what clients without a token can throw at the server while 16 clients
//! send. First the 16 closed-loop REST senders alone (their unloaded p99), then the same senders
//! while 200 tokenless WebSockets stream frames that declare 2^40 bytes, 150 clients log in to
//! one account with a wrong password back to back, and 2,000 connections stall their request
//! bodies after `Content-Length: 1000`. Reports the senders' p99 under attack against unloaded,
//! the server's RSS at its peak and after the attack against idle, how the server answered each
//! attack, and how many acknowledged sends PostgreSQL lacks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::rest_send::{closed_loop, warm_pairs};
use crate::users::Rng;

/// Closed-loop senders, as in `rest-send/16`.
const SENDERS: usize = 16;
/// Tokenless WebSockets streaming an oversized frame.
const OVERSIZED_STREAMS: usize = 200;
/// Clients guessing one account's password.
const LOGIN_GUESSERS: usize = 150;
/// Connections that stall their request body.
const STALLED_BODIES: usize = 2_000;
/// The length an oversized frame declares.
const DECLARED_LENGTH: u64 = 1 << 40;
/// A guesser refused (429 or 503) waits this long before its next guess (one answered 401
/// guesses again at once), and so does an attacker whose connection ended before it reconnects.
const REFUSED_PAUSE: Duration = Duration::from_millis(50);
/// How long after the attack the server's RSS is read again: jemalloc gives freed pages back
/// after about 10 s.
const SETTLE: Duration = Duration::from_secs(15);

/// Runs the scenario.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let outcome = tokio::time::timeout(2 * ctx.duration() + Duration::from_secs(180), once(ctx))
        .await
        .context("abuse did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// Counts of what happened to one kind of attacker, by outcome.
#[derive(Debug, Default)]
struct Tally(std::sync::Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, kind: impl Into<String>) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(kind.into()).or_default() += 1;
    }

    fn json(&self) -> serde_json::Value {
        json!(
            *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        )
    }
}

async fn once(ctx: &Ctx) -> Result<Outcome> {
    let pairs = warm_pairs(ctx, SENDERS, 3_000_000).await?;
    let victim = register_victim(ctx.addr).await?;
    let duration = ctx.duration();

    let idle_rss = settled_rss(ctx).await;
    let stored_before = ctx.stored_messages();
    let quiet_deadline = Instant::now() + duration;
    let (mut quiet, quiet_errors) = closed_loop(ctx.addr, pairs.clone(), quiet_deadline).await?;

    let before = ctx.meter.start();
    let started = Instant::now();
    let deadline = started + duration;
    let (oversized, logins, stalled) = (
        Arc::new(Tally::default()),
        Arc::new(Tally::default()),
        Arc::new(Tally::default()),
    );
    let mut attackers = Vec::new();
    for _ in 0..OVERSIZED_STREAMS {
        let tally = Arc::clone(&oversized);
        attackers.push(tokio::spawn(stream_oversized(ctx.addr, deadline, tally)));
    }
    for _ in 0..LOGIN_GUESSERS {
        let (tally, victim) = (Arc::clone(&logins), victim.clone());
        attackers.push(tokio::spawn(guess_logins(
            ctx.addr, deadline, victim, tally,
        )));
    }
    for _ in 0..STALLED_BODIES {
        let tally = Arc::clone(&stalled);
        attackers.push(tokio::spawn(stall_bodies(ctx.addr, deadline, tally)));
    }
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (peak, pid_rss) = (Arc::clone(&peak), ctx.meter.clone());
        tokio::spawn(async move {
            while Instant::now() < deadline {
                if let Some(rss) = pid_rss.server_rss_kib() {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let (mut loud, loud_errors) = closed_loop(ctx.addr, pairs, deadline).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let usage = ctx.meter.since(&before);
    for attacker in attackers {
        attacker.await.context("an attacker panicked")?;
    }
    sampler.await.context("the RSS sampler panicked")?;
    tokio::time::sleep(SETTLE).await;
    let after_rss = ctx.meter.server_rss_kib();

    let quiet = quiet.summary();
    let latency = loud.summary();
    let ok = (latency.count + quiet.count) as u64;
    let peak_rss = peak.load(Ordering::Relaxed);
    let mut details = serde_json::Map::new();
    details.insert("senders".into(), json!(SENDERS));
    details.insert("unloaded_p99_ms".into(), json!(quiet.p99_ms));
    if quiet.p99_ms > 0.0 {
        details.insert("p99_ratio".into(), json!(latency.p99_ms / quiet.p99_ms));
    }
    let mut errors: BTreeMap<String, u64> = quiet_errors;
    for (kind, n) in loud_errors {
        *errors.entry(kind).or_default() += n;
    }
    if !errors.is_empty() {
        details.insert("errors_by_kind".into(), json!(errors));
    }
    if let Some(idle) = idle_rss.filter(|idle| *idle > 0) {
        details.insert("idle_rss_kib".into(), json!(idle));
        details.insert("peak_rss_kib".into(), json!(peak_rss));
        details.insert(
            "peak_rss_ratio".into(),
            json!(peak_rss as f64 / idle as f64),
        );
        if let Some(after) = after_rss {
            details.insert("after_rss_kib".into(), json!(after));
            details.insert("after_rss_ratio".into(), json!(after as f64 / idle as f64));
        }
    }
    details.insert("oversized_frames".into(), oversized.json());
    details.insert("wrong_password_logins".into(), logins.json());
    details.insert("stalled_bodies".into(), stalled.json());
    ctx.record_stored(&mut details, stored_before, ok);
    Ok(Outcome {
        scenario: "abuse".to_owned(),
        duration_s: elapsed,
        ok: latency.count as u64,
        errors: errors.values().sum(),
        rate_per_s: Some(latency.count as f64 / elapsed),
        ratio_to_c: None,
        latency,
        usage,
        details,
    })
}

/// The server's RSS once it stops shrinking (the allocator gives an earlier scenario's memory
/// back to the system over some seconds): sampled every 5 s until a sample is within 2% of the
/// one before, for at most a minute.
async fn settled_rss(ctx: &Ctx) -> Option<u64> {
    let mut last = ctx.meter.server_rss_kib()?;
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let now = ctx.meter.server_rss_kib()?;
        if now * 100 >= last * 98 {
            return Some(now);
        }
        last = now;
    }
    Some(last)
}

/// Registers the account the guessers attack; returns its username.
async fn register_victim(addr: SocketAddr) -> Result<String> {
    let username = format!("victim{}", Rng::from_clock().next() % 1_000_000_000);
    let body = json!({ "username": username, "password": "the right password" }).to_string();
    let response = HttpConn::new(addr)
        .request("POST", "/api/auth/register", None, Some(body.as_bytes()))
        .await?;
    if response.status != 201 {
        bail!(
            "registering the attacked account answered {} (built-in accounts must be on): {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    Ok(username)
}

/// Logs in to `victim` with a wrong password until `deadline`, tallying the answers.
async fn guess_logins(addr: SocketAddr, deadline: Instant, victim: String, tally: Arc<Tally>) {
    let body = json!({ "username": victim, "password": "a wrong guess" }).to_string();
    let mut conn = HttpConn::new(addr);
    while Instant::now() < deadline {
        match conn
            .request("POST", "/api/auth/login", None, Some(body.as_bytes()))
            .await
        {
            Ok(response) => {
                tally.add(response.status.to_string());
                if response.status != 401 {
                    tokio::time::sleep(REFUSED_PAUSE).await;
                }
            }
            Err(e) if e.to_string().starts_with("timeout") => tally.add("timeout"),
            Err(_) => tally.add("io"),
        }
    }
}

/// A WebSocket handshake on `/socket.io/` without a token, then one text frame declaring
/// 2^40 bytes whose payload is streamed until the server closes, again and again until
/// `deadline`. Tallies `refused` (the server closed the connection) or `held` (still open at the
/// deadline) and how many bytes the server read before refusing.
async fn stream_oversized(addr: SocketAddr, deadline: Instant, tally: Arc<Tally>) {
    while Instant::now() < deadline {
        match oversized_once(addr, deadline).await {
            Ok(Some(sent)) => tally.add(format!("refused after {}", size_class(sent))),
            Ok(None) => tally.add("held until the end"),
            Err(_) => tally.add("io"),
        }
        // Each of these streams a frame; a flood of handshakes is another attack.
        tokio::time::sleep(REFUSED_PAUSE).await;
    }
}

/// One oversized frame; the payload bytes sent before the server closed, or `None` if it
/// never did.
async fn oversized_once(addr: SocketAddr, deadline: Instant) -> Result<Option<u64>> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 || head.len() > 4096 {
            bail!("no handshake answer");
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        bail!("handshake refused");
    }
    let mut frame = vec![0x81, 0xFF];
    frame.extend_from_slice(&DECLARED_LENGTH.to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(&frame).await?;
    let closed = tokio::spawn(async move {
        let mut sink = [0u8; 4096];
        while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    let chunk = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    loop {
        if closed.is_finished() {
            return Ok(Some(sent));
        }
        if Instant::now() >= deadline {
            closed.abort();
            return Ok(None);
        }
        match tokio::time::timeout(Duration::from_millis(500), writer.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len() as u64,
            Ok(Err(_)) => return Ok(Some(sent)),
            Err(_) => {} // the server does not read: see whether it closed
        }
    }
}

/// A coarse size class for the tally: 0, up to 64 KiB, up to 1 MiB, more.
fn size_class(bytes: u64) -> &'static str {
    match bytes {
        0 => "0 bytes",
        1..=65_536 => "up to 64 KiB",
        65_537..=1_048_576 => "up to 1 MiB",
        _ => "more than 1 MiB",
    }
}

/// A request declaring a 1,000-byte body that sends one byte of it, then waits for the server
/// to answer or close, again and again until `deadline`. Tallies the server's answer (its
/// status, or `closed`) or `held` when the connection outlived the deadline.
async fn stall_bodies(addr: SocketAddr, deadline: Instant, tally: Arc<Tally>) {
    while Instant::now() < deadline {
        match stall_once(addr, deadline).await {
            Ok(Some(answer)) => tally.add(answer),
            Ok(None) => tally.add("held until the end"),
            Err(_) => {
                tally.add("io");
                tokio::time::sleep(REFUSED_PAUSE).await;
            }
        }
    }
}

async fn stall_once(addr: SocketAddr, deadline: Instant) -> Result<Option<String>> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let read = tokio::time::timeout_at(deadline.into(), async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    if read.is_err() {
        return Ok(None);
    }
    let status = String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .map_or_else(|| "closed".to_owned(), str::to_owned);
    Ok(Some(status))
}
