//! The chat's side of connection state recovery and catch-up: opening or recovering a socket's
//! session at CONNECT, putting a recovered socket back with its replay, and joining a room
//! with the messages after a `lastSeq` first.

use std::sync::{Arc, Weak};

use chat_domain::wire::MessageView;
use chat_domain::wire::events::{AckData, CatchUp, MemberActivity, ServerEvent};
use chat_domain::{
    ChatError, ConversationId, EventSink, MessageWindow, Seq, Store, StreamToken, UserId,
};
use serde_json::{Map, Value};

use super::delivery::offset_frame;
use super::events::{Payload, conversation_id};
use super::handler::too_many_rooms;
use super::hub::{Hub, event_frame};
use super::recovery::{NotRecovered, recovery_request, replay};
use super::rooms::Room;
use super::session::OnEnd;
use super::{Authenticate, ChatRealtime, ChatSession};
use crate::engineio::Frame;
use crate::observability;
use crate::socketio::{ConnectRefusal, SioSocket};

/// A recovered socket, put back in its rooms with its broadcasts held, and what it missed.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// The replay, sent once the CONNECT is answered.
    pub(crate) frames: Vec<Frame>,
    /// Whether it is the user's first socket (they came online).
    pub(crate) first: bool,
    /// Takes the socket out of the hub again if the CONNECT is never answered.
    registration: Registration,
}

impl Recovered {
    /// Sends the replay, then what was held meanwhile; the socket stays in the hub.
    pub(crate) fn send(mut self, socket: &SioSocket) -> bool {
        self.registration.socket = None;
        socket.release_broadcasts(std::mem::take(&mut self.frames), |_| true);
        self.first
    }
}

/// A socket put in the hub before its CONNECT was answered; dropped while still armed (the
/// client left, or the replay could not be read), it takes the socket out quietly.
#[derive(Debug)]
struct Registration {
    hub: Weak<Hub>,
    socket: Option<SioSocket>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let (Some(hub), Some(socket)) = (self.hub.upgrade(), self.socket.take()) {
            hub.forget(&socket);
            socket.release_broadcasts(Vec::new(), |_| false);
        }
    }
}

impl<S: Store, E: EventSink, A: Authenticate> ChatRealtime<S, E, A> {
    /// Recovers the session the client names in its `auth`, or opens a new one. A store that
    /// cannot answer closes the connection (the client retries), as at any CONNECT.
    pub(super) async fn recover_or_open(
        &self,
        socket: &SioSocket,
        session: &mut ChatSession,
        auth: Option<&Map<String, Value>>,
    ) -> Result<(), ConnectRefusal> {
        let user = session.user();
        if let Some((pid, offset)) = recovery_request(auth) {
            match self.recover(socket, user, &pid, offset).await {
                Ok(recovered) => {
                    observability::recovery("recovered");
                    tracing::debug!(%user, events = recovered.frames.len(), "socket session recovered");
                    self.hold_session(session, pid, socket.id());
                    *session.replay.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(recovered);
                    return Ok(());
                }
                Err(NotRecovered::Store(error)) => return Err(unavailable(&error)),
                Err(reason) => {
                    observability::recovery(reason.as_str());
                    tracing::debug!(%user, ?reason, "socket session not recovered");
                    // A session claimed but refused (too far behind, say) is let go, so that
                    // it expires like any other.
                    let store = self.chat.store();
                    if let Err(error) = store.leave_session(&pid, socket.id()).await {
                        return Err(unavailable(&error));
                    }
                }
            }
        }
        let pid = uuid::Uuid::new_v4().simple().to_string();
        self.chat
            .store()
            .open_session(&pid, user, socket.id(), self.hub.frontier())
            .await
            .map_err(|error| unavailable(&error))?;
        self.hold_session(session, pid, socket.id());
        Ok(())
    }

    /// Claims the session, puts the socket back in its rooms with its broadcasts held, and
    /// reads what it missed up to that point.
    async fn recover(
        &self,
        socket: &SioSocket,
        user: UserId,
        pid: &str,
        offset: Option<StreamToken>,
    ) -> Result<Recovered, NotRecovered> {
        let store = self.chat.store();
        let session = store
            .claim_session(pid, user, socket.id(), self.recovery.window)
            .await
            .map_err(NotRecovered::Store)?
            .ok_or(NotRecovered::NoSession)?;
        let offset = offset.unwrap_or(session.base);
        if !offset.is_within(&self.hub.frontier()) {
            return Err(NotRecovered::OffsetAhead);
        }
        let rooms: Vec<ConversationId> = session.rooms.iter().map(|(id, _)| *id).collect();
        let (first, rejoined) = self.hub.connect_held(socket.clone(), user, &rooms);
        let registration = Registration {
            hub: Arc::downgrade(&self.hub),
            socket: Some(socket.clone()),
        };
        let frames = replay(store, &self.recovery, (user, &session), offset, rejoined).await?;
        Ok(Recovered {
            frames,
            first,
            registration,
        })
    }

    /// Gives the session its recovery session, and what records, in the background, that the
    /// socket let it go (the window starts) when the session ends: disconnected, or never
    /// connected because the client left while its CONNECT was decided.
    fn hold_session(&self, session: &mut ChatSession, pid: String, owner: &str) {
        let (store, owner) = (self.chat.store().clone(), owner.to_owned());
        let leave_pid = pid.clone();
        session.pid = Some(pid);
        session.on_end(OnEnd(Box::new(move || {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            runtime.spawn(async move {
                if let Err(error) = store.leave_session(&leave_pid, &owner).await {
                    tracing::warn!(%error, "socket session end not recorded");
                }
            });
        })));
    }

    /// `join_conversation { conversationId, lastSeq? }`: joins the room (remembered by the
    /// socket's recovery session); with `lastSeq`, first sends the messages after it, then the
    /// live events, with nothing lost or repeated at the seam.
    pub(super) async fn join_conversation(
        &self,
        socket: &SioSocket,
        session: &ChatSession,
        payload: &Payload,
    ) -> Result<Option<AckData>, ChatError> {
        let user = session.user();
        let id = conversation_id(payload)?;
        let last_seq = last_seq(payload)?;
        let detail = self.chat.conversation(user, id).await?;
        let newest = detail.conversation.last_seq;
        if last_seq.is_some_and(|after| after > newest) {
            // A cursor of another server (or a restored database) would hide live messages.
            return Err(ChatError::invalid(
                "lastSeq",
                format!("is ahead of the conversation, whose last seq is {newest}"),
            ));
        }
        let room = Room::Conversation(id);
        let joined = match last_seq {
            None => self.hub.join(socket, room),
            Some(_) => self.hub.join_held(socket, room),
        };
        let (joined, since) = joined.map_err(|_| too_many_rooms())?;
        let caught_up = match last_seq {
            Some(after) => {
                let members: Vec<_> = detail.members.iter().map(|m| m.user.clone()).collect();
                let through = (after, since);
                let kind = detail.conversation.kind;
                Some(
                    self.catch_up(socket, user, id, through, (&members, kind))
                        .await,
                )
            }
            None => None,
        };
        if let Some(pid) = &session.pid {
            self.chat.store().join_session(pid, id, since).await?;
        }
        if joined {
            let joined = ServerEvent::UserJoined(MemberActivity::new(user, id));
            self.hub
                .to_room(room, &event_frame(&joined), Some(socket.id()));
        }
        Ok(caught_up.transpose()?.map(AckData::Joined))
    }

    /// Sends the messages after `after` up to where the socket joined (`joined`: later ones
    /// reach it live) to a socket whose broadcasts are held since it joined, then releases
    /// them. At most the recovery cap is sent; the answer says whether that was everything.
    async fn catch_up(
        &self,
        socket: &SioSocket,
        user: UserId,
        id: ConversationId,
        (after, joined): (Seq, StreamToken),
        (members, kind): (&[chat_domain::UserRef], chat_domain::ConversationKind),
    ) -> Result<CatchUp, ChatError> {
        let cap = self.recovery.max_events_per_room.max(1);
        let page = self.chat.limits().max_page_size.max(1);
        let mut messages = Vec::new();
        let mut complete = false;
        let mut cursor = after;
        let read: Result<(), ChatError> = async {
            let through = self.chat.store().seq_at(id, joined).await?;
            while cursor < through && messages.len() <= cap {
                let window = MessageWindow::After {
                    seq: cursor,
                    limit: page,
                };
                // Windows come newest first; the catch-up goes oldest first.
                let mut batch = self.chat.store().messages(user, id, window).await?;
                batch.reverse();
                let newest = batch.last().map(|m| m.seq);
                let full = batch.len() >= page as usize;
                batch.retain(|m| m.seq <= through);
                messages.extend(batch);
                match newest {
                    Some(seq) if full => cursor = seq,
                    _ => break,
                }
            }
            complete = messages.len() <= cap;
            Ok(())
        }
        .await;
        messages.truncate(cap);
        let last = messages.last().map_or(after, |m| m.seq);
        let frames = messages
            .iter()
            .map(|m| {
                offset_frame(
                    &ServerEvent::NewMessage(MessageView::unread(m, members, kind)),
                    None,
                )
            })
            .collect();
        socket.release_broadcasts(frames, |key| {
            key.is_none_or(|(conversation, seq)| conversation != id.get() || seq > last.get())
        });
        read?;
        Ok(CatchUp {
            complete,
            conversation_id: id.get(),
            last_seq: last.get(),
            replayed: messages.len(),
        })
    }
}

/// The optional `lastSeq` of a join: a non-negative integer.
fn last_seq(payload: &Payload) -> Result<Option<Seq>, ChatError> {
    match payload.get("lastSeq")? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|n| *n >= 0)
            .map(|n| Some(Seq(n)))
            .ok_or_else(|| ChatError::invalid("lastSeq", "must be a non-negative integer")),
        Some(_) => Err(ChatError::invalid(
            "lastSeq",
            "must be a non-negative integer",
        )),
    }
}

fn unavailable(error: &ChatError) -> ConnectRefusal {
    tracing::warn!(%error, "socket CONNECT not decided: the store is unavailable; closing the connection so that the client retries");
    ConnectRefusal::Unavailable
}
