//! A device that comes back: the client side of Socket.IO connection state recovery, for the
//! `reconnect-storm` scenario. It keeps the `pid` of its CONNECT answer and the offset (the last
//! argument) of the last replayable event it got; when its transport is cut, or lost, it opens
//! a new one and sends both in its CONNECT `auth`. It records the seq of every `new_message` of
//! its conversation in the order they arrive, for the comparison with the stored history.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::socket::{self, Ws};
use crate::users::Rng;

/// The events that carry an offset as their last argument.
const REPLAYABLE: &[&str] = &[
    "new_message",
    "message_notification",
    "messages_read",
    "message_deleted",
];

/// The ack id of a join after a reconnect that was not recovered (the first join used 1).
const REJOIN_ACK: u64 = 2;

/// Where the scenario stands, as every device sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connected, receiving.
    Live,
    /// Every transport is cut at once; each device reconnects.
    Cut,
    /// The run is over: close and report.
    Stop,
}

/// What the devices and the scenario share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The server.
    pub(crate) addr: SocketAddr,
    /// Per conversation: the highest seq a sender got acknowledged.
    pub(crate) acked: Vec<AtomicU64>,
    /// Per device: the highest seq of its conversation it received.
    pub(crate) received: Vec<AtomicU64>,
}

/// What a device tells the scenario while the storm lasts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Progress {
    /// Its first CONNECT after the cut was answered; `recovered` if with its old `pid`.
    Reconnected {
        device: usize,
        recovered: bool,
        at: Instant,
    },
    /// It has every message acknowledged before that answer.
    CaughtUp { device: usize, at: Instant },
}

/// What a device saw over the whole run.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The device's index.
    pub(crate) device: usize,
    /// The index of its conversation.
    pub(crate) slot: usize,
    /// The seq of each `new_message` of its conversation, in arrival order.
    pub(crate) received: Vec<u64>,
    /// `new_message` events of other conversations.
    pub(crate) foreign: u64,
    /// Messages acknowledged to the senders by the answer to its first CONNECT after the cut
    /// that it had not received when its transport was cut: what the recovery had to bring.
    pub(crate) missed_at_cut: u64,
    /// CONNECTs answered after a reconnect.
    pub(crate) reconnects: u64,
    /// Of those, the ones answered with a new `pid` (the session was not recovered).
    pub(crate) not_recovered: u64,
    /// Reconnect attempts that failed (handshake, refusal, timeout); each was retried.
    pub(crate) failed_attempts: u64,
    /// Connections the server closed or reset (the scenario only cuts them at once, and
    /// closes them at the end); each was followed by a reconnect with the session's `pid`.
    pub(crate) closed_by_server: u64,
    /// Joins (after a session was not recovered) that were refused.
    pub(crate) join_errors: u64,
    /// The first failure, for the record.
    pub(crate) first_error: Option<String>,
}

/// One socket of a user, a member of one conversation.
#[derive(Debug)]
pub(crate) struct Device {
    /// Its index among the scenario's devices.
    pub(crate) index: usize,
    /// Its user's token.
    pub(crate) token: String,
    /// Its conversation's id.
    pub(crate) conversation: i64,
    /// The conversation's seq when the device joined (every later message is expected).
    pub(crate) since: u64,
    /// The `pid` of its session.
    pub(crate) pid: String,
    /// The offset of the last replayable event of this session, once it got one.
    offset: Option<String>,
    /// After the cut, until the device caught up: the seq it must reach.
    target: Option<u64>,
    /// Whether the first reconnect after the cut was reported.
    reported: bool,
    /// What it saw.
    report: Report,
}

impl Device {
    /// A device that joined `conversation` (at `since`) with the session `pid`.
    pub(crate) fn new(
        index: usize,
        slot: usize,
        token: String,
        conversation: i64,
        since: u64,
        pid: String,
    ) -> Self {
        Self {
            index,
            token,
            conversation,
            since,
            pid,
            offset: None,
            target: None,
            reported: false,
            report: Report {
                device: index,
                slot,
                ..Report::default()
            },
        }
    }

    /// Receives until [`Phase::Stop`], reconnecting after the cut or a lost connection.
    pub(crate) async fn run(
        mut self,
        ws: Ws,
        shared: Arc<Shared>,
        mut phase: watch::Receiver<Phase>,
        progress: mpsc::UnboundedSender<Progress>,
    ) -> Report {
        let mut rng = Rng::seeded(self.index as u64);
        let mut current = Some(ws);
        loop {
            let Some(mut ws) = current.take() else {
                match self
                    .reconnect(&shared, &mut phase, &progress, &mut rng)
                    .await
                {
                    Some(ws) => current = Some(ws),
                    None => return self.report,
                }
                continue;
            };
            tokio::select! {
                changed = phase.changed() => {
                    let now = match changed {
                        Ok(()) => *phase.borrow_and_update(),
                        Err(_) => Phase::Stop,
                    };
                    match now {
                        Phase::Live => current = Some(ws),
                        Phase::Cut => cut(ws),
                        Phase::Stop => {
                            let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                            return self.report;
                        }
                    }
                }
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        match self.on_text(&mut ws, text.as_str(), &shared, &progress).await {
                            Ok(()) => current = Some(ws),
                            Err(e) => self.dropped(&e),
                        }
                    }
                    Some(Ok(Message::Close(close))) => {
                        self.dropped(&anyhow::anyhow!("closed by the server: {close:?}"));
                    }
                    Some(Err(e)) => self.dropped(&e.into()),
                    None => self.dropped(&anyhow::anyhow!("connection ended")),
                    Some(Ok(_)) => current = Some(ws),
                }
            }
        }
    }

    /// Opens a new transport and CONNECTs with the session's `pid` and offset, retrying with
    /// backoff; `None` once the run is over.
    async fn reconnect(
        &mut self,
        shared: &Shared,
        phase: &mut watch::Receiver<Phase>,
        progress: &mpsc::UnboundedSender<Progress>,
        rng: &mut Rng,
    ) -> Option<Ws> {
        let mut failures = 0u32;
        loop {
            if *phase.borrow() == Phase::Stop {
                return None;
            }
            let mut auth = json!({ "token": self.token, "pid": self.pid });
            if let Some(offset) = &self.offset {
                auth["offset"] = json!(offset);
            }
            let attempt = socket::connect_with(shared.addr, &auth.to_string()).await;
            let outcome = match attempt {
                Ok((ws, answer)) => self.resumed(ws, &answer, shared, progress).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(ws) => return Some(ws),
                Err(e) => {
                    self.report.failed_attempts += 1;
                    self.note(&e);
                    // socket.io-client's backoff: doubling from 100 ms up to 2 s, with jitter.
                    let base = (100u64 << failures.min(5)).min(2_000);
                    let delay = base / 2 + rng.next() % (base / 2 + 1);
                    failures += 1;
                    let stopped = async {
                        while phase.changed().await.is_ok() {
                            if *phase.borrow() == Phase::Stop {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(delay)) => {}
                        () = stopped => return None,
                    }
                }
            }
        }
    }

    /// Takes the CONNECT answer of a reconnect: recovered if it names the old `pid`; if not,
    /// rejoins the conversation with the last seq received (the catch-up a client does then).
    async fn resumed(
        &mut self,
        mut ws: Ws,
        answer: &str,
        shared: &Shared,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<Ws> {
        let at = Instant::now();
        let pid = serde_json::from_str::<Value>(answer)
            .ok()
            .and_then(|v| v["pid"].as_str().map(str::to_owned));
        let Some(pid) = pid else {
            bail!("the CONNECT answer has no pid: {answer}");
        };
        let recovered = pid == self.pid;
        self.report.reconnects += 1;
        if !recovered {
            self.report.not_recovered += 1;
            self.pid = pid;
            self.offset = None;
            let last = self
                .report
                .received
                .iter()
                .copied()
                .max()
                .unwrap_or(self.since);
            ws.send(Message::text(format!(
                r#"42{REJOIN_ACK}["join_conversation",{{"conversationId":{},"lastSeq":{last}}}]"#,
                self.conversation
            )))
            .await?;
        }
        if !self.reported {
            self.reported = true;
            let target = shared.acked[self.report.slot].load(Ordering::Acquire);
            let had = shared.received[self.index].load(Ordering::Acquire);
            self.report.missed_at_cut = target.saturating_sub(had.max(self.since));
            self.target = Some(target);
            let device = self.index;
            let _ = progress.send(Progress::Reconnected {
                device,
                recovered,
                at,
            });
            self.check_caught_up(shared, progress);
        }
        Ok(ws)
    }

    /// Handles one text frame: pings, events, acks.
    async fn on_text(
        &mut self,
        ws: &mut Ws,
        text: &str,
        shared: &Shared,
        progress: &mpsc::UnboundedSender<Progress>,
    ) -> Result<()> {
        if text == "2" {
            ws.send(Message::text("3")).await?;
        } else if let Some(event) = text.strip_prefix("42") {
            self.on_event(event, shared, progress);
        } else if let Some(ack) = text.strip_prefix(&format!("43{REJOIN_ACK}")) {
            if !ack.contains(r#""success":true"#) {
                self.report.join_errors += 1;
                self.note(&anyhow::anyhow!("join_conversation refused: {ack}"));
            }
        } else if text.starts_with("41") || text == "1" {
            bail!("disconnected by the server: {text}");
        }
        Ok(())
    }

    /// Records an event: its offset if it is replayable, its seq if it is a `new_message`.
    fn on_event(
        &mut self,
        event: &str,
        shared: &Shared,
        progress: &mpsc::UnboundedSender<Progress>,
    ) {
        let Ok(args) = serde_json::from_str::<Vec<Value>>(event) else {
            return;
        };
        let Some(name) = args.first().and_then(Value::as_str) else {
            return;
        };
        if REPLAYABLE.contains(&name)
            && args.len() >= 3
            && let Some(offset) = args.last().and_then(Value::as_str)
        {
            self.offset = Some(offset.to_owned());
        }
        if name != "new_message" {
            return;
        }
        let message = args.get(1).unwrap_or(&Value::Null);
        let conversation = message["conversation_id"]
            .as_i64()
            .or_else(|| message["conversationId"].as_i64());
        match (conversation, message["seq"].as_u64()) {
            (Some(c), Some(seq)) if c == self.conversation => {
                self.report.received.push(seq);
                shared.received[self.index].fetch_max(seq, Ordering::AcqRel);
                self.check_caught_up(shared, progress);
            }
            _ => self.report.foreign += 1,
        }
    }

    /// Tells the scenario once the device has the seq it had to reach after the cut.
    fn check_caught_up(&mut self, shared: &Shared, progress: &mpsc::UnboundedSender<Progress>) {
        if let Some(target) = self.target
            && shared.received[self.index]
                .load(Ordering::Acquire)
                .max(self.since)
                >= target
        {
            self.target = None;
            let _ = progress.send(Progress::CaughtUp {
                device: self.index,
                at: Instant::now(),
            });
        }
    }

    /// A connection ended that the scenario did not cut.
    fn dropped(&mut self, error: &anyhow::Error) {
        self.report.closed_by_server += 1;
        self.note(error);
    }

    /// Keeps the first error.
    fn note(&mut self, error: &anyhow::Error) {
        self.report
            .first_error
            .get_or_insert_with(|| format!("{error:#}"));
    }
}

/// Cuts a transport abruptly: no close frame, and no FIN either (`SO_LINGER` 0 makes the kernel
/// reset the connection when it is dropped).
fn cut(ws: Ws) {
    let _ = ws.get_ref().get_ref().set_zero_linger();
    drop(ws);
}
