//! What a connection's worker has to do next: the end of the connection before anything else,
//! then the namespaces the server left, then the client's packets in arrival order. One small
//! struct per connection instead of three channels, which would reserve their slots up front
//! for every connection, idle or not.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::{Namespace, Packet, RefusedEvent};
use crate::engineio::DisconnectReason;

/// One thing for the worker to do.
#[derive(Debug)]
pub(crate) enum Mail {
    /// The connection ended.
    Closed(DisconnectReason),
    /// The server left a namespace: the namespace and the socket's id.
    Left(Namespace, String),
    /// A packet from the client.
    Packet(Box<Packet>),
    /// An event from the client refused for its content, to answer in its turn.
    Refused(Box<RefusedEvent>),
}

/// The mailbox of one connection, shared by its reader, its sockets and its worker.
#[derive(Debug)]
pub(crate) struct Mailbox {
    // A std Mutex: held to push or pop only, never across an await.
    state: Mutex<State>,
    ready: Notify,
    /// Packets a client may have waiting; beyond that it is flooding.
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    closed: Option<DisconnectReason>,
    leaves: Vec<(Namespace, String)>,
    /// The client's packets, `Mail::Packet` or `Mail::Refused`, in arrival order.
    packets: VecDeque<Mail>,
}

impl Mailbox {
    /// An empty mailbox holding at most `capacity` client packets.
    pub(crate) fn new(capacity: usize) -> Self {
        Mailbox {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a client packet; false when `capacity` packets are waiting already.
    pub(crate) fn post_packet(&self, packet: Packet) -> bool {
        self.post_inbound(Mail::Packet(Box::new(packet)))
    }

    /// Queues a client event refused for its content, in its place among the packets; false
    /// when `capacity` packets are waiting already.
    pub(crate) fn post_refused(&self, event: Box<RefusedEvent>) -> bool {
        self.post_inbound(Mail::Refused(event))
    }

    fn post_inbound(&self, mail: Mail) -> bool {
        let mut state = self.state();
        if state.packets.len() >= self.capacity {
            return false;
        }
        state.packets.push_back(mail);
        drop(state);
        self.ready.notify_one();
        true
    }

    /// Tells the worker that the server left `namespace` (socket `id`).
    pub(crate) fn post_leave(&self, namespace: Namespace, id: String) {
        self.state().leaves.push((namespace, id));
        self.ready.notify_one();
    }

    /// Tells the worker that the connection ended; the first reason stands.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        self.state().closed.get_or_insert(reason);
        self.ready.notify_one();
    }

    /// The next thing to do, by priority; waits while there is none.
    pub(crate) async fn next(&self) -> Mail {
        loop {
            // Created before looking, so that a post in between leaves a permit behind.
            let posted = self.ready.notified();
            if let Some(mail) = self.take() {
                return mail;
            }
            posted.await;
        }
    }

    fn take(&self) -> Option<Mail> {
        let mut state = self.state();
        if let Some(reason) = state.closed {
            return Some(Mail::Closed(reason));
        }
        if !state.leaves.is_empty() {
            let (namespace, id) = state.leaves.remove(0);
            return Some(Mail::Left(namespace, id));
        }
        state.packets.pop_front()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::socketio::PacketData;

    fn packet() -> Packet {
        Packet::new(Namespace::MAIN, PacketData::Disconnect)
    }

    #[tokio::test]
    async fn the_end_comes_before_leaves_and_leaves_before_packets() {
        let mailbox = Mailbox::new(8);
        assert!(mailbox.post_packet(packet()));
        mailbox.post_leave(Namespace::MAIN, "s1".into());
        assert!(matches!(mailbox.next().await, Mail::Left(_, id) if id == "s1"));
        assert!(matches!(mailbox.next().await, Mail::Packet(_)));
        assert!(mailbox.post_packet(packet()));
        mailbox.close(DisconnectReason::TransportClose);
        mailbox.close(DisconnectReason::ServerClose);
        for _ in 0..2 {
            assert!(matches!(
                mailbox.next().await,
                Mail::Closed(DisconnectReason::TransportClose)
            ));
        }
    }

    #[test]
    fn a_full_mailbox_refuses_packets() {
        let mailbox = Mailbox::new(2);
        assert!(mailbox.post_packet(packet()));
        assert!(mailbox.post_packet(packet()));
        assert!(!mailbox.post_packet(packet()));
    }

    #[tokio::test]
    async fn a_waiting_worker_wakes_for_a_later_post() {
        let mailbox = std::sync::Arc::new(Mailbox::new(2));
        let waiting = tokio::spawn({
            let mailbox = std::sync::Arc::clone(&mailbox);
            async move { mailbox.next().await }
        });
        tokio::task::yield_now().await;
        mailbox.post_leave(Namespace::MAIN, "s2".into());
        assert!(matches!(waiting.await.unwrap(), Mail::Left(_, id) if id == "s2"));
    }
}
