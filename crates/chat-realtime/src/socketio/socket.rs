//! A client's connection to one namespace, as the application sees it: who it is and how to
//! talk to it.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use super::{Namespace, Packet, PacketData};
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
}

impl SioSocket {
    pub(crate) fn new(id: String, namespace: Namespace, engine: EngineSocket) -> Self {
        SioSocket {
            inner: Arc::new(Inner {
                id,
                namespace,
                engine,
            }),
        }
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

    /// Acknowledges the client's event `id` with `args`.
    pub fn ack(&self, id: u64, args: Vec<Value>) -> Result<(), SendError> {
        self.send_packet(&Packet::ack(self.inner.namespace.clone(), id, args))
    }

    /// Disconnects the whole client: the transport closes, so the client reconnects (to
    /// another node, if this one is going away).
    pub fn close(&self, reason: DisconnectReason) {
        self.inner.engine.close(reason);
    }

    /// Leaves the namespace on the server's initiative; the client does not reconnect.
    pub fn disconnect(&self) -> Result<(), SendError> {
        self.send_packet(&Packet::new(
            self.inner.namespace.clone(),
            PacketData::Disconnect,
        ))
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
