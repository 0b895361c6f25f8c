//! The load around a reconnect storm: its users and their direct conversations, and the
//! senders that keep messages flowing over REST at a steady rate, before, during and after it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Ctx;
use crate::http::HttpConn;
use crate::recovering::Shared;
use crate::users;

/// The scenario's user ids start after this one.
const BASE: i64 = 6_000_000;
/// REST connections sending, each on its share of the schedule.
const SENDERS: usize = 8;

/// A direct conversation between two bench users.
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    /// Its id.
    pub(crate) id: i64,
    /// Its seq before the devices joined (the message that created it).
    pub(crate) since: u64,
    /// Its two members.
    pub(crate) ids: [i64; 2],
    /// Their tokens.
    pub(crate) tokens: [String; 2],
}

/// Creates `count` pairs of users and a conversation for each (its first message).
pub(crate) async fn conversations(ctx: &Ctx, count: usize) -> Result<Vec<Conversation>> {
    let ids: Vec<i64> = (1..=2 * count as i64).map(|i| BASE + i).collect();
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids).await?;
    let pairs: Vec<([i64; 2], [String; 2])> = ids
        .chunks_exact(2)
        .zip(tokens.chunks_exact(2))
        .map(|(i, t)| ([i[0], i[1]], [t[0].clone(), t[1].clone()]))
        .collect();
    let addr = ctx.addr;
    let chunks = pairs.chunks(count.div_ceil(SENDERS).max(1)).map(|chunk| {
        let chunk = chunk.to_vec();
        async move {
            let mut conn = HttpConn::new(addr);
            let mut made = Vec::with_capacity(chunk.len());
            for (ids, tokens) in chunk {
                let (since, id) = users::send(&mut conn, &tokens[0], ids[1]).await?;
                made.push(Conversation {
                    id,
                    since,
                    ids,
                    tokens,
                });
            }
            Ok::<_, anyhow::Error>(made)
        }
    });
    let made: Vec<Vec<Conversation>> = futures_util::stream::iter(chunks)
        .buffered(SENDERS)
        .try_collect()
        .await?;
    let made: Vec<Conversation> = made.into_iter().flatten().collect();
    if made.len() != count {
        bail!("{} conversations made instead of {count}", made.len());
    }
    Ok(made)
}

/// What the senders did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Sent {
    /// Sends answered 201.
    pub(crate) acknowledged: u64,
    /// Sends that failed or were refused.
    pub(crate) errors: u64,
}

/// Starts the senders: `rate` messages per second in all, conversation after conversation,
/// each message from one member to the other, in turn. Every acknowledged seq is recorded in
/// `shared.acked`. They stop when the returned sender is set.
pub(crate) fn start_senders(
    ctx: &Ctx,
    conversations: &[Conversation],
    shared: &Arc<Shared>,
    rate: f64,
) -> (watch::Sender<bool>, Vec<JoinHandle<Sent>>) {
    let (stop_tx, stop) = watch::channel(false);
    let conversations: Arc<[Conversation]> = conversations.into();
    let start = Instant::now();
    let senders = (0..SENDERS)
        .map(|first| {
            let (conversations, shared) = (Arc::clone(&conversations), Arc::clone(shared));
            let (mut stop, addr) = (stop.clone(), ctx.addr);
            tokio::spawn(async move {
                let mut conn = HttpConn::new(addr);
                let mut sent = Sent::default();
                let n = conversations.len();
                for slot in (first..).step_by(SENDERS) {
                    let at = start + Duration::from_secs_f64(slot as f64 / rate);
                    tokio::select! {
                        () = tokio::time::sleep_until(at.into()) => {}
                        _ = stop.changed() => break,
                    }
                    if *stop.borrow() {
                        break;
                    }
                    let c = &conversations[slot % n];
                    let from = (slot / n) % 2;
                    match users::send(&mut conn, &c.tokens[from], c.ids[1 - from]).await {
                        Ok((seq, id)) if id == c.id => {
                            shared.acked[slot % n].fetch_max(seq, Ordering::AcqRel);
                            sent.acknowledged += 1;
                        }
                        Ok(_) | Err(_) => sent.errors += 1,
                    }
                }
                sent
            })
        })
        .collect();
    (stop_tx, senders)
}

/// Waits for the senders (stopped) and adds up what they did.
pub(crate) async fn join_senders(senders: Vec<JoinHandle<Sent>>) -> Sent {
    let mut total = Sent::default();
    for sender in senders {
        let sent = sender.await.unwrap_or_default();
        total.acknowledged += sent.acknowledged;
        total.errors += sent.errors;
    }
    total
}
