//! The chat's Socket.IO handler: one method per client event, each checking membership
//! through the domain before touching a room.

use std::sync::Arc;

use chat_domain::wire::MessageView;
use chat_domain::{ChatError, ChatService, EventSink, SendMessage, Store, UserId};
use serde_json::{Map, Value, json};

use super::Authenticate;
use super::events::{conversation_id, failed, ok, payload, positive, string};
use super::hub::{Hub, event_frame};
use super::rooms::Room;
use crate::engineio::{DisconnectReason, HandshakeRequest};
use crate::socketio::{Data, Namespace, SioSocket, SocketIoHandler};

/// The chat's realtime handler over the chat service, the hub and token verification.
pub struct ChatRealtime<S, E, A> {
    chat: ChatService<S, E>,
    hub: Arc<Hub>,
    auth: A,
}

impl<S: Store, E: EventSink, A: Authenticate> ChatRealtime<S, E, A> {
    /// The handler; `hub` must be the sink `chat` publishes to.
    pub fn new(chat: ChatService<S, E>, hub: Arc<Hub>, auth: A) -> Self {
        ChatRealtime { chat, hub, auth }
    }

    /// Tells the user's contacts that the user came online or went offline.
    fn announce_presence(&self, user: UserId, event: &'static str) {
        let (chat, hub) = (self.chat.clone(), Arc::clone(&self.hub));
        tokio::spawn(async move {
            match chat.contacts(user).await {
                Ok(contacts) => {
                    hub.to_users(&contacts, &event_frame(event, &json!({ "userId": user })))
                }
                Err(error) => tracing::warn!(%error, %user, "presence not announced"),
            }
        });
    }

    async fn dispatch(
        &self,
        socket: &SioSocket,
        user: UserId,
        name: &str,
        payload: Value,
    ) -> Result<Option<Value>, ChatError> {
        match name {
            "join_conversation" => self.join_conversation(socket, user, &payload).await,
            "join_personal_room" => self.join(socket, Room::User(user)).map(|_| None),
            "send_message" => self.send_message(user, &payload).await,
            "typing" => self.typing(socket, user, &payload, "user_typing").await,
            "stop_typing" => {
                self.typing(socket, user, &payload, "user_stopped_typing")
                    .await
            }
            "mark_as_read" => {
                let receipt = self
                    .chat
                    .mark_read(user, conversation_id(&payload)?)
                    .await?;
                Ok(Some(json!({ "updated": receipt.updated })))
            }
            other => Err(ChatError::invalid(
                "event",
                format!("{other:?} is not a known event"),
            )),
        }
    }

    fn join(&self, socket: &SioSocket, room: Room) -> Result<bool, ChatError> {
        self.hub.join(socket, room).map_err(|_| {
            ChatError::invalid("conversationId", "this connection joined too many rooms")
        })
    }

    async fn join_conversation(
        &self,
        socket: &SioSocket,
        user: UserId,
        payload: &Value,
    ) -> Result<Option<Value>, ChatError> {
        let id = conversation_id(payload)?;
        self.chat.conversation(user, id).await?;
        let room = Room::Conversation(id);
        if self.join(socket, room)? {
            let joined = json!({ "userId": user, "conversationId": id });
            self.hub.to_room(
                room,
                &event_frame("user_joined", &joined),
                Some(socket.id()),
            );
        }
        Ok(None)
    }

    async fn send_message(
        &self,
        user: UserId,
        payload: &Value,
    ) -> Result<Option<Value>, ChatError> {
        let limits = self.chat.limits();
        let content = string(payload, "content")?
            .ok_or_else(|| ChatError::invalid("content", "is required"))?;
        let cmd = SendMessage::parse(
            user,
            UserId(positive(payload, "receiverId")?),
            content,
            string(payload, "attachmentUrl")?,
            string(payload, "clientMessageId")?,
            limits,
        )?;
        let sent = self.chat.send_message(cmd).await?;
        let view = MessageView::new(&sent.conversation, &sent.message);
        Ok(Some(serde_json::to_value(view).unwrap_or(Value::Null)))
    }

    async fn typing(
        &self,
        socket: &SioSocket,
        user: UserId,
        payload: &Value,
        event: &str,
    ) -> Result<Option<Value>, ChatError> {
        let id = conversation_id(payload)?;
        let room = Room::Conversation(id);
        if !self.hub.is_in(socket, room) {
            self.chat.conversation(user, id).await?;
        }
        let typing = json!({ "userId": user, "conversationId": id });
        self.hub
            .to_room(room, &event_frame(event, &typing), Some(socket.id()));
        Ok(None)
    }
}

/// The token of a handshake: `auth.token`, or an `Authorization: Bearer` header.
fn token(auth: Option<&Map<String, Value>>, request: &HandshakeRequest) -> Option<String> {
    if let Some(token) = auth.and_then(|a| a.get("token")).and_then(Value::as_str) {
        return Some(token.trim_start_matches("Bearer ").to_owned());
    }
    let header = request.headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

impl<S: Store, E: EventSink, A: Authenticate> SocketIoHandler for ChatRealtime<S, E, A> {
    type Session = UserId;

    fn accepts(&self, namespace: &Namespace) -> bool {
        namespace.is_main()
    }

    async fn connect(
        &self,
        _socket: SioSocket,
        auth: Option<Map<String, Value>>,
        request: Arc<HandshakeRequest>,
    ) -> Result<UserId, String> {
        let refused = || "Authentication error".to_owned();
        let token = token(auth.as_ref(), &request).ok_or_else(refused)?;
        self.auth.authenticate(&token).await.ok_or_else(refused)
    }

    fn on_connected(&self, socket: &SioSocket, user: &UserId) {
        if self.hub.connect(socket.clone(), *user) {
            self.announce_presence(*user, "user_online");
        }
    }

    async fn on_event(
        &self,
        socket: &SioSocket,
        user: &UserId,
        name: String,
        args: Vec<Data>,
    ) -> Vec<Data> {
        match self.dispatch(socket, *user, &name, payload(args)).await {
            Ok(data) => ok(data),
            Err(error) => {
                if matches!(error, ChatError::Internal(_) | ChatError::Unavailable(_)) {
                    tracing::error!(%error, cause = ?std::error::Error::source(&error), event = name, "socket event failed");
                }
                let answer = failed(&error);
                let _ = socket.emit(
                    "error",
                    vec![json!({ "message": answer["message"], "event": name })],
                );
                vec![Data::Json(answer)]
            }
        }
    }

    fn on_disconnect(&self, socket: &SioSocket, user: UserId, reason: DisconnectReason) {
        tracing::debug!(%user, ?reason, "socket disconnected");
        if let Some(departure) = self.hub.disconnect(socket)
            && departure.last_of_user
        {
            self.announce_presence(user, "user_offline");
        }
    }
}
