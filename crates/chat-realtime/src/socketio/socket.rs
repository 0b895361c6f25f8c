//! A client's connection to one namespace, as the application sees it: who it is and how to
//! talk to it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::oneshot;

use super::hold::BroadcastHold;
use super::mailbox::Mailbox;
use super::{AckId, Data, Namespace, Packet, PacketData};
use crate::engineio::{DisconnectReason, EngineSocket, Frame, SendError};

/// One client connected to one namespace. Cheap to clone.
#[derive(Clone)]
pub struct SioSocket {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    namespace: Namespace,
    engine: EngineSocket,
    /// Its connection's worker's mailbox, to say that the server left the namespace.
    mailbox: Arc<Mailbox>,
    /// Set once the socket is out of its namespace, whoever ended it.
    left: AtomicBool,
    /// The server's emits awaiting the client's acknowledgement. A std Mutex: held for a map
    /// operation only, never across an await.
    acks: Mutex<PendingAcks>,
    /// Broadcasts held while the application catches the socket up.
    hold: BroadcastHold,
}

/// The ids handed out for the server's emits and the waiters behind them.
#[derive(Default)]
struct PendingAcks {
    last: AckId,
    waiting: HashMap<AckId, oneshot::Sender<Vec<Data>>>,
}

/// Why an acknowledgement did not come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The event could not be queued (the client is gone or too slow).
    #[error("the event could not be sent: {0:?}")]
    Send(SendError),
    /// The client did not answer in time.
    #[error("no acknowledgement in time")]
    Timeout,
    /// The client left before it answered.
    #[error("the client left before acknowledging")]
    Gone,
}

impl SioSocket {
    pub(crate) fn new(
        id: String,
        namespace: Namespace,
        engine: EngineSocket,
        mailbox: &Arc<Mailbox>,
    ) -> Self {
        SioSocket {
            inner: Arc::new(Inner {
                id,
                namespace,
                engine,
                mailbox: Arc::clone(mailbox),
                left: AtomicBool::new(false),
                acks: Mutex::default(),
                hold: BroadcastHold::default(),
            }),
        }
    }

    /// A socket of no server, for unit tests of the layers above; each has an id of its own.
    #[cfg(test)]
    pub(crate) fn detached(namespace: Namespace, engine: EngineSocket) -> Self {
        let mailbox = Arc::new(Mailbox::new(8));
        let id = uuid::Uuid::new_v4().simple().to_string();
        SioSocket::new(id, namespace, engine, &mailbox)
    }

    /// Records that the socket is out of its namespace; whether it was still in.
    pub(crate) fn mark_left(&self) -> bool {
        !self.inner.left.swap(true, Ordering::AcqRel)
    }

    /// The socket's id (the `sid` of its CONNECT answer), distinct from the Engine.IO sid.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The namespace this socket is connected to.
    pub fn namespace(&self) -> &Namespace {
        &self.inner.namespace
    }

    /// The Engine.IO session underneath, shared by the client's namespaces.
    pub fn engine(&self) -> &EngineSocket {
        &self.inner.engine
    }

    /// Emits an event with JSON arguments.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), SendError> {
        self.send_packet(&Packet::event(self.inner.namespace.clone(), event, args))
    }

    /// Sends a packet of this namespace, with its attachments if it is binary.
    pub fn send_packet(&self, packet: &Packet) -> Result<(), SendError> {
        self.send_frame(Frame::message(packet))?;
        for attachment in packet.attachments() {
            self.send_frame(Frame::binary(Bytes::clone(attachment)))?;
        }
        Ok(())
    }

    /// Sends an already encoded frame: the way a broadcast encodes once for many sockets.
    pub fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        self.inner.engine.send(frame)
    }

    /// Sends a broadcast frame, or keeps it while the socket's broadcasts are held; `key` is
    /// the application's name for it (see [`SioSocket::release_broadcasts`]).
    pub fn broadcast_frame(&self, frame: Frame, key: Option<(i64, i64)>) -> Result<(), SendError> {
        self.inner.hold.broadcast(&self.inner.engine, frame, key)
    }

    /// Holds the socket's broadcasts until [`SioSocket::release_broadcasts`] (holds nest).
    /// Call it where broadcasts are ordered, so that none slips past the start.
    pub fn hold_broadcasts(&self) {
        self.inner.hold.hold();
    }

    /// Sends `first` (a catch-up), then, once no other hold is on, the broadcasts held
    /// meanwhile whose key `keep` accepts, in order.
    pub fn release_broadcasts(&self, first: Vec<Frame>, keep: impl Fn(Option<(i64, i64)>) -> bool) {
        self.inner.hold.release(&self.inner.engine, first, keep);
    }

    /// Emits an event and waits up to `timeout` for the client's acknowledgement (the
    /// arguments the client's callback was called with). The answer is read by the same task
    /// that runs this client's `on_event`, so await it from a task of its own, never inside
    /// that client's `on_event`.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        args: Vec<Data>,
        timeout: Duration,
    ) -> Result<Vec<Data>, AckError> {
        let (id, answer) = {
            let mut acks = self.lock_acks();
            acks.last += 1;
            let id = acks.last;
            let (sender, answer) = oneshot::channel();
            acks.waiting.insert(id, sender);
            (id, answer)
        };
        let data = PacketData::event_with_binary(event, args, Some(id));
        let sent = self.send_packet(&Packet::new(self.inner.namespace.clone(), data));
        let outcome = match sent {
            Err(error) => Err(AckError::Send(error)),
            Ok(()) => match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(args)) => Ok(args),
                Ok(Err(_)) => Err(AckError::Gone),
                Err(_) => Err(AckError::Timeout),
            },
        };
        if outcome.is_err() {
            self.lock_acks().waiting.remove(&id);
        }
        outcome
    }

    /// Hands the client's acknowledgement to the emit awaiting it; an unknown id is ignored.
    pub(crate) fn resolve_ack(&self, id: AckId, args: Vec<Data>) {
        if let Some(waiter) = self.lock_acks().waiting.remove(&id) {
            let _ = waiter.send(args);
        }
    }

    fn lock_acks(&self) -> std::sync::MutexGuard<'_, PendingAcks> {
        self.inner
            .acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Acknowledges the client's event `id` with `args`.
    pub fn ack(&self, id: u64, args: Vec<Value>) -> Result<(), SendError> {
        self.send_packet(&Packet::ack(self.inner.namespace.clone(), id, args))
    }

    /// Disconnects the whole client: the transport closes, so the client reconnects (to
    /// another node, if this one is going away).
    pub fn close(&self, reason: DisconnectReason) {
        self.inner.engine.close(reason);
    }

    /// Leaves the namespace on the server's initiative: the client gets a DISCONNECT and
    /// does not reconnect, the connection stays open (for its other namespaces), and the
    /// server drops the socket: [`SocketIoHandler::on_disconnect`] follows with
    /// [`DisconnectReason::ServerClose`], and a packet the client still sends to this
    /// namespace closes the connection. Nothing happens if the socket already left.
    ///
    /// [`SocketIoHandler::on_disconnect`]: super::SocketIoHandler::on_disconnect
    pub fn disconnect(&self) -> Result<(), SendError> {
        if !self.mark_left() {
            return Ok(());
        }
        let sent = self.send_packet(&Packet::new(
            self.inner.namespace.clone(),
            PacketData::Disconnect,
        ));
        // The worker is gone only once the connection ended, and with it the namespace.
        self.inner
            .mailbox
            .post_leave(self.inner.namespace.clone(), self.inner.id.clone());
        sent
    }
}

impl std::fmt::Debug for SioSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SioSocket")
            .field("id", &self.inner.id)
            .field("namespace", &self.inner.namespace.as_str())
            .finish()
    }
}
