//! The chat's Socket.IO handler: one method per client event, each checking membership
//! through the domain before touching a room.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chat_domain::wire::events::{AckData, ErrorNotice, MarkedRead, MemberActivity, ServerEvent};
use chat_domain::wire::{MessageView, bearer_token, handshake_token};
use chat_domain::{
    ChatError, ChatService, EventSink, MessageId, NoticeBudget, Recipient, SendMessage, Store,
    UserId,
};
use serde_json::{Map, Value};

use super::events::{Payload, conversation_id, failed, ok, to_json};
use super::hub::{Hub, event_frame};
use super::presence::{AnnouncePresence, PresenceAnnouncer, PresenceRegistry};
use super::recovery::RecoveryConfig;
use super::rooms::Room;
use super::session::notice;
use super::{AuthFailure, Authenticate, ChatSession};
use crate::engineio::{DisconnectReason, HandshakeRequest};
use crate::observability;
use crate::socketio::{ConnectRefusal, Data, Namespace, RefusedEvent, SioSocket, SocketIoHandler};

/// The CONNECT_ERROR message of a missing, bad or expired token, as the seed words it.
const AUTHENTICATION_ERROR: &str = "Authentication error";
/// The CONNECT_ERROR message of a user over `max_sockets_per_user`.
const TOO_MANY_CONNECTIONS: &str = "Too many connections";

/// The chat's realtime handler over the chat service, the hub and token verification.
pub struct ChatRealtime<S, E, A> {
    pub(super) chat: ChatService<S, E>,
    pub(super) hub: Arc<Hub>,
    auth: A,
    pub(super) recovery: RecoveryConfig,
    /// The budget of the log lines about sockets refused or disconnected on purpose.
    notices: Arc<NoticeBudget>,
    /// Decides presence across a cluster's nodes, when there are several.
    presence: Option<Arc<dyn PresenceRegistry>>,
}

impl<S: Store, E: EventSink, A: Authenticate> ChatRealtime<S, E, A> {
    /// The handler; `hub` must receive what `chat` publishes. Connection state recovery is
    /// on, with [`RecoveryConfig::default`].
    pub fn new(chat: ChatService<S, E>, hub: Arc<Hub>, auth: A) -> Self {
        ChatRealtime {
            chat,
            hub,
            auth,
            recovery: RecoveryConfig::default(),
            notices: Arc::default(),
            presence: None,
        }
    }

    /// The same handler with these recovery settings (the hub's `offsets` should match
    /// `enabled`).
    pub fn with_recovery(mut self, recovery: RecoveryConfig) -> Self {
        self.recovery = recovery;
        self
    }

    /// The same handler with presence decided across a cluster's nodes by `registry`
    /// (without one, this node's own sockets decide).
    pub fn with_presence(mut self, registry: Arc<dyn PresenceRegistry>) -> Self {
        self.presence = Some(registry);
        self
    }

    /// This node's first socket of `user` connected (`online`) or its last one went.
    fn presence_changed(&self, user: UserId, online: bool) {
        match &self.presence {
            Some(registry) => registry.changed(user),
            None => {
                PresenceAnnouncer::new(self.chat.clone(), Arc::clone(&self.hub))
                    .announce(user, online);
            }
        }
    }

    async fn dispatch(
        &self,
        socket: &SioSocket,
        session: &ChatSession,
        name: &str,
        payload: Payload,
    ) -> Result<Option<AckData>, ChatError> {
        let user = session.user();
        observability::event_received(name);
        match name {
            "join_conversation" => self.join_conversation(socket, session, &payload).await,
            "join_personal_room" => self.join(socket, Room::User(user)).map(|_| None),
            "send_message" => self.send_message(user, &payload).await,
            "edit_message" => {
                let message = MessageId(payload.positive("messageId")?);
                let content = payload.required_string("content")?;
                let (conversation, edited) = self.chat.edit_message(user, message, content).await?;
                let view = MessageView::new(&conversation, &edited);
                Ok(Some(AckData::Message(Box::new(view))))
            }
            "typing" => {
                self.typing(socket, user, &payload, ServerEvent::UserTyping)
                    .await
            }
            "stop_typing" => {
                self.typing(socket, user, &payload, ServerEvent::UserStoppedTyping)
                    .await
            }
            "mark_as_read" => {
                let receipt = self
                    .chat
                    .mark_read(user, conversation_id(&payload)?)
                    .await?;
                Ok(Some(AckData::Read(MarkedRead {
                    updated: receipt.updated,
                })))
            }
            other => Err(ChatError::invalid(
                "event",
                format!("{other:?} is not a known event"),
            )),
        }
    }

    fn join(&self, socket: &SioSocket, room: Room) -> Result<bool, ChatError> {
        self.hub
            .join(socket, room)
            .map(|(joined, _)| joined)
            .map_err(|_| too_many_rooms())
    }

    async fn send_message(
        &self,
        user: UserId,
        payload: &Payload,
    ) -> Result<Option<AckData>, ChatError> {
        let limits = self.chat.limits();
        let content = payload.required_string("content")?;
        // The seed's `receiverId` (a direct message); without it, `conversationId` (any
        // conversation the sender belongs to, a group's included).
        let to = match (payload.get("receiverId")?, payload.get("conversationId")?) {
            (None | Some(Value::Null), Some(id)) if !id.is_null() => {
                Recipient::Conversation(conversation_id(payload)?)
            }
            _ => Recipient::User(UserId(payload.positive("receiverId")?)),
        };
        let cmd = SendMessage::parse_to(
            user,
            to,
            content,
            payload.string("attachmentUrl")?,
            payload.string("clientMessageId")?,
            limits,
        )?
        .replying_to(payload.get("replyToId")?)?;
        if let Some(send_at) = payload.time("sendAt")? {
            let new = chat_domain::NewScheduled { send: cmd, send_at };
            let stored = self.chat.schedule_message(new, chrono::Utc::now()).await?;
            let view = chat_domain::wire::ScheduledView::new(&stored);
            return Ok(Some(AckData::Scheduled(Box::new(view))));
        }
        // A retry (same client message id and content) is answered like the first send.
        let sent = self.chat.send_message(cmd).await?;
        let view = MessageView::new(&sent.conversation, &sent.message);
        Ok(Some(AckData::Message(Box::new(view))))
    }

    async fn typing(
        &self,
        socket: &SioSocket,
        user: UserId,
        payload: &Payload,
        event: fn(MemberActivity) -> ServerEvent,
    ) -> Result<Option<AckData>, ChatError> {
        let id = conversation_id(payload)?;
        let room = Room::Conversation(id);
        if !self.hub.is_in(socket, room) {
            self.chat.conversation(user, id).await?;
        }
        let typing = event(MemberActivity::new(user, id));
        self.hub
            .broadcast_to_room(room, &event_frame(&typing), Some(socket.id()));
        Ok(None)
    }
}

pub(super) fn too_many_rooms() -> ChatError {
    ChatError::invalid("conversationId", "this connection joined too many rooms")
}

/// The token of a handshake: `auth.token` (bare or `Bearer <token>`), or an
/// `Authorization: Bearer` header, read as REST reads it.
fn token(auth: Option<&Map<String, Value>>, request: &HandshakeRequest) -> Option<String> {
    if let Some(token) = auth.and_then(|a| a.get("token")).and_then(Value::as_str) {
        return Some(handshake_token(token).to_owned());
    }
    let header = request.headers.get("authorization")?.to_str().ok()?;
    bearer_token(header).map(str::to_owned)
}

impl<S: Store, E: EventSink, A: Authenticate> SocketIoHandler for ChatRealtime<S, E, A> {
    type Session = ChatSession;

    fn accepts(&self, namespace: &Namespace) -> bool {
        namespace.is_main()
    }

    async fn connect(
        &self,
        socket: SioSocket,
        auth: Option<Map<String, Value>>,
        request: Arc<HandshakeRequest>,
    ) -> Result<ChatSession, ConnectRefusal> {
        let refused = || ConnectRefusal::Denied(AUTHENTICATION_ERROR.to_owned());
        let token = token(auth.as_ref(), &request).ok_or_else(refused)?;
        let authenticated = match self.auth.authenticate(&token).await {
            Ok(authenticated) => authenticated,
            Err(AuthFailure::Refused) => return Err(refused()),
            Err(AuthFailure::Unavailable) => {
                tracing::warn!(
                    sid = socket.engine().id(),
                    "socket CONNECT not decided: the store is unavailable; closing the connection so that the client retries"
                );
                return Err(ConnectRefusal::Unavailable);
            }
        };
        let user = authenticated.user;
        let Some(slot) = self.hub.reserve_slot(user) else {
            notice(
                &self.notices,
                "too_many_sockets_per_user",
                &socket,
                Some(user),
                "socket connection refused",
            );
            return Err(ConnectRefusal::Denied(TOO_MANY_CONNECTIONS.to_owned()));
        };
        let mut session = ChatSession::new(user, slot);
        if self.recovery.enabled {
            self.recover_or_open(&socket, &mut session, auth.as_ref())
                .await?;
        }
        if let Some(valid_until) = authenticated.valid_until {
            let left = valid_until
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            session.expire_after(&socket, left, &self.notices);
        }
        Ok(session)
    }

    fn recovery_pid<'s>(&self, session: &'s ChatSession) -> Option<&'s str> {
        session.pid.as_deref()
    }

    fn on_connected(&self, socket: &SioSocket, session: &ChatSession) {
        let user = session.user();
        socket.engine().set_user(user);
        let first = match session.take_replay() {
            Some(recovered) => recovered.send(socket),
            None => self.hub.connect(socket.clone(), user),
        };
        if first {
            self.presence_changed(user, true);
        }
    }

    fn on_refused_event(
        &self,
        socket: &SioSocket,
        _session: &ChatSession,
        event: &RefusedEvent,
    ) -> Vec<Data> {
        refuse(
            socket,
            &event.name,
            &ChatError::invalid("payload", event.reason.clone()),
        )
    }

    async fn on_event(
        &self,
        socket: &SioSocket,
        session: &ChatSession,
        name: String,
        args: Vec<Data>,
    ) -> Vec<Data> {
        match self
            .dispatch(socket, session, &name, Payload::from_args(args))
            .await
        {
            Ok(data) => ok(data),
            Err(error) => {
                if matches!(error, ChatError::Internal(_) | ChatError::Unavailable(_)) {
                    tracing::error!(%error, cause = ?std::error::Error::source(&error), event = name, "socket event failed");
                }
                refuse(socket, &name, &error)
            }
        }
    }

    fn on_disconnect(&self, socket: &SioSocket, session: ChatSession, reason: DisconnectReason) {
        let user = session.user();
        drop(session);
        tracing::debug!(%user, ?reason, "socket disconnected");
        if let Some(departure) = self.hub.disconnect(socket)
            && departure.last_of_user
        {
            self.presence_changed(user, false);
        }
    }
}

/// Refuses event `name` for `error`: an `error` event `{ message, code, event }` to the client,
/// and the ack `{ success: false, message, code, ... }` to answer it with.
fn refuse(socket: &SioSocket, name: &str, error: &ChatError) -> Vec<Data> {
    // Emitted as a `Value`, as it always was: its keys go out sorted.
    let notice = ServerEvent::Error(ErrorNotice::refused(name, error));
    let _ = socket.emit(notice.name(), vec![to_json(&notice)]);
    vec![Data::Json(failed(error))]
}
