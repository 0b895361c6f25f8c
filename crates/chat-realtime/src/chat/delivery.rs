//! Delivering the event stream: each event in its writer's order, gaps filled from the store,
//! every frame encoded once with the stream token that a receiver holds once it has it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use chat_domain::wire::events::ServerEvent;
use chat_domain::{
    ChatError, ChatEvent, EventSink, MessageSent, STREAM_WRITERS, StreamEvent, StreamRepo,
    StreamToken, UserId,
};

use super::hub::{Hub, deliver, deliver_keyed};
use super::order::Gap;
use super::rooms::Room;
use crate::engineio::Frame;
use crate::observability;
use crate::socketio::{Namespace, OutboundEvent, SioSocket};

/// A boxed future, for the object-safe [`Backfill`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a hub reads the events it missed: the stream's head, and one writer's range.
pub trait Backfill: Send + Sync + 'static {
    /// The last committed position of every writer.
    fn head(&self) -> BoxFuture<'_, Result<StreamToken, ChatError>>;

    /// The events of `writer` after `after` up to `upto`, in order.
    fn range(
        &self,
        writer: usize,
        after: i64,
        upto: i64,
    ) -> BoxFuture<'_, Result<Vec<StreamEvent>, ChatError>>;
}

/// Any stream store is a backfill.
pub struct StoreBackfill<S>(pub S);

impl<S: StreamRepo + Send + Sync + 'static> Backfill for StoreBackfill<S> {
    fn head(&self) -> BoxFuture<'_, Result<StreamToken, ChatError>> {
        Box::pin(self.0.stream_head())
    }

    fn range(
        &self,
        writer: usize,
        after: i64,
        upto: i64,
    ) -> BoxFuture<'_, Result<Vec<StreamEvent>, ChatError>> {
        Box::pin(self.0.stream_range(writer, after, upto))
    }
}

/// The key of a `new_message` frame, by which a catch-up drops the live copies of what it sent.
pub(super) fn message_key(sent: &MessageSent) -> (i64, i64) {
    (sent.message.conversation_id.get(), sent.message.seq.get())
}

/// Encodes an event of the main namespace once, with its recovery offset when there is one, as
/// the frame every receiver shares.
pub(super) fn offset_frame(event: &ServerEvent, offset: Option<&str>) -> Frame {
    observability::event_sent(event.name());
    let outbound = OutboundEvent::new(&Namespace::MAIN, event.name(), event);
    match offset {
        Some(offset) => Frame::message(outbound.with_offset(offset)),
        None => Frame::message(outbound),
    }
}

/// `message_notification`: a new message, for members whose sockets are not in its room.
pub(super) fn notification_frame(sent: &MessageSent, offset: Option<&str>) -> Frame {
    offset_frame(&ServerEvent::notification(sent), offset)
}

/// `mention`: a new message, for the members it mentions whose sockets are not in its room.
pub(super) fn mention_frame(sent: &MessageSent, offset: Option<&str>) -> Frame {
    offset_frame(&ServerEvent::mention(sent), offset)
}

/// The frame an event's room gets: `new_message`, `messages_read` or `message_deleted`.
pub(super) fn room_frame(event: &ChatEvent, offset: Option<&str>) -> Frame {
    offset_frame(&ServerEvent::in_room(event), offset)
}

/// Each socket once, in the order first named.
fn distinct(mut sockets: Vec<SioSocket>) -> Vec<SioSocket> {
    let mut seen = std::collections::HashSet::new();
    sockets.retain(|socket| seen.insert(socket.id().to_owned()));
    sockets
}

impl Hub {
    /// Takes one event from the bus: delivers it and whatever it unblocks, in stream order,
    /// or holds it until the events before it are in (reading them from the store when they
    /// do not come by themselves).
    pub fn receive(&self, event: StreamEvent) {
        // Frames are queued while the sequencer is held: two threads that admit `n` and `n + 1`
        // in that order also queue them in that order.
        let mut sequencer = self.sequencer();
        let admitted = sequencer.admit(event);
        for (event, frontier) in &admitted.ready {
            self.deliver_event(&event.event, frontier);
        }
        drop(sequencer);
        if let Some(gap) = admitted.gap {
            self.fill_later(gap);
        }
    }

    /// Queues the frames of one event on the sockets that should see it, now.
    fn deliver_event(&self, event: &ChatEvent, frontier: &StreamToken) {
        let offset = self.config.offsets.then(|| frontier.to_string());
        let offset = offset.as_deref();
        if let ChatEvent::MessageSent(sent) = event {
            return self.deliver_message(event, sent, offset);
        }
        let room = Room::Conversation(event.conversation_id());
        let sockets = {
            let mut rooms = self.rooms();
            match event {
                ChatEvent::MessageSent(_)
                | ChatEvent::MessagesRead(_)
                | ChatEvent::MessageDeleted(_)
                | ChatEvent::MessageEdited(_)
                | ChatEvent::MessagePinned(_)
                | ChatEvent::MessageUnpinned(_)
                | ChatEvent::ReactionAdded(_)
                | ChatEvent::ReactionRemoved(_) => rooms.in_room(room, None),
                // A new or changed group reaches every member's sockets, in its room or not,
                // so that conversation lists update live.
                ChatEvent::ConversationCreated(changed)
                | ChatEvent::ConversationUpdated(changed) => changed
                    .conversation
                    .members
                    .iter()
                    .flat_map(|m| rooms.of_user(m.user.id))
                    .collect(),
                // The room, and the member concerned wherever their sockets are.
                ChatEvent::MemberAdded(changed) | ChatEvent::MemberRoleChanged(changed) => {
                    let mut sockets = rooms.in_room(room, None);
                    sockets.extend(rooms.of_user(changed.member.id));
                    sockets
                }
                // The same, and the member's sockets leave the room at once: nothing of the
                // group reaches them after this.
                ChatEvent::MemberRemoved(changed) => {
                    let mut sockets = rooms.in_room(room, None);
                    rooms.evict(changed.member.id, room);
                    sockets.extend(rooms.of_user(changed.member.id));
                    sockets
                }
            }
        };
        let sockets = distinct(sockets);
        if !sockets.is_empty() {
            deliver(&sockets, &room_frame(event, offset));
        }
    }

    /// A new message: `new_message` to its room, `message_notification` to the other
    /// members' sockets that are not in it, and `mention` to those of them it mentions.
    fn deliver_message(&self, event: &ChatEvent, sent: &MessageSent, offset: Option<&str>) {
        let room = Room::Conversation(sent.message.conversation_id);
        let (in_room, outside, mentioned) = {
            let rooms = self.rooms();
            let away = |id: &UserId| *id != sent.message.sender_id && !rooms.user_in(*id, room);
            let outside: Vec<SioSocket> = sent
                .members
                .iter()
                .map(|m| m.id)
                .filter(away)
                .flat_map(|id| rooms.of_user(id))
                .collect();
            let mentioned: Vec<SioSocket> = sent
                .message
                .mentions
                .iter()
                .filter(|id| away(id))
                .flat_map(|id| rooms.of_user(*id))
                .collect();
            (rooms.in_room(room, None), outside, mentioned)
        };
        if !in_room.is_empty() {
            deliver_keyed(
                &in_room,
                &room_frame(event, offset),
                Some(message_key(sent)),
            );
        }
        if !outside.is_empty() {
            deliver(&outside, &notification_frame(sent, offset));
        }
        if !mentioned.is_empty() {
            deliver(&mentioned, &mention_frame(sent, offset));
        }
    }

    /// Reads a gap from the store after the fill delay, unless a fill of that writer is under
    /// way (it will look again when it ends). A failed read is retried with backoff: what is
    /// missing has committed, so it will be there.
    fn fill_later(&self, gap: Gap) {
        let Some((backfill, runtime)) = self.backfill.get() else {
            return; // a hub of no store (unit tests): the publishers fill their own gaps
        };
        let (backfill, runtime) = (Arc::clone(backfill), runtime.clone());
        {
            let mut filling = self.filling.lock().unwrap_or_else(PoisonError::into_inner);
            if std::mem::replace(&mut filling[gap.writer], true) {
                return;
            }
        }
        let (hub, delay) = (self.this.clone(), self.config.gap_fill_delay);
        runtime.spawn(async move {
            let mut pause = delay;
            loop {
                tokio::time::sleep(pause).await;
                let Some(open) = hub.upgrade().and_then(|hub| hub.sequencer().gap(gap.writer))
                else {
                    break;
                };
                match backfill.range(open.writer, open.after, open.upto).await {
                    Ok(events) => {
                        let Some(hub) = hub.upgrade() else { break };
                        tracing::debug!(writer = open.writer, after = open.after, upto = open.upto, "stream gap filled from the store");
                        for event in events {
                            hub.receive_filled(event);
                        }
                        pause = delay;
                    }
                    Err(error) => {
                        tracing::warn!(%error, writer = open.writer, "stream gap not filled yet; retrying");
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                }
            }
            if let Some(hub) = hub.upgrade() {
                hub.filling.lock().unwrap_or_else(PoisonError::into_inner)[gap.writer] = false;
                // A gap that opened while this fill was finishing is filled by the next one.
                if let Some(open) = hub.sequencer().gap(gap.writer) {
                    hub.fill_later(open);
                }
            }
        });
    }

    /// Compares the store's head with what was delivered every `every`, so that an event the
    /// bus lost with nothing after it is read from the store all the same.
    pub(super) fn watch_head(&self, every: Duration) {
        let Some((backfill, runtime)) = self.backfill.get() else {
            return;
        };
        let (backfill, hub) = (Arc::clone(backfill), self.this.clone());
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let head = backfill.head().await;
                let Some(hub) = hub.upgrade() else { break };
                match head {
                    Ok(head) => {
                        let gaps: Vec<Gap> = {
                            let mut sequencer = hub.sequencer();
                            sequencer.heard_of(&head);
                            (0..STREAM_WRITERS)
                                .filter_map(|w| sequencer.gap(w))
                                .collect()
                        };
                        for gap in gaps {
                            hub.fill_later(gap);
                        }
                    }
                    Err(error) => tracing::debug!(%error, "stream head not read"),
                }
            }
        });
    }

    /// Delivers an event read from the store, without starting another fill.
    fn receive_filled(&self, event: StreamEvent) {
        let mut sequencer = self.sequencer();
        let admitted = sequencer.admit(event);
        for (event, frontier) in &admitted.ready {
            self.deliver_event(&event.event, frontier);
        }
    }
}

impl EventSink for Hub {
    fn publish(&self, event: StreamEvent) {
        self.receive(event);
    }
}
