//! What the chat keeps for each connected socket: its user, its place under the per-user
//! socket cap, and the timer that disconnects it when its token expires.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chat_domain::wire::events::{ErrorNotice, ServerEvent};
use chat_domain::{NoticeBudget, UserId};
use tokio::task::AbortHandle;

use super::hub::Hub;
use super::resume::Recovered;
use crate::socketio::SioSocket;

/// One of a user's sockets under `max_sockets_per_user`: taken before the CONNECT is
/// answered, given back when the session that holds it ends, however it ends.
#[derive(Debug)]
pub(crate) struct SocketSlot {
    pub(crate) hub: Weak<Hub>,
    pub(crate) user: UserId,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.release_slot(self.user);
        }
    }
}

/// A connected socket's session: the authenticated user and its recovery session. Dropping
/// it gives back the user's socket slot and stops the expiry timer.
#[derive(Debug)]
pub struct ChatSession {
    user: UserId,
    _slot: SocketSlot,
    expiry: Option<AbortHandle>,
    /// The connection state recovery session, when recovery is on.
    pub(crate) pid: Option<String>,
    /// A recovered socket's replay, sent once its CONNECT is answered.
    pub(crate) replay: Mutex<Option<Recovered>>,
    /// Runs when the session ends, however it ends (records that the recovery session was
    /// let go).
    on_end: Option<OnEnd>,
}

/// What a session does when it ends.
pub(crate) struct OnEnd(pub(crate) Box<dyn FnOnce() + Send + Sync>);

impl std::fmt::Debug for OnEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnEnd")
    }
}

impl ChatSession {
    pub(crate) fn new(user: UserId, slot: SocketSlot) -> Self {
        Self {
            user,
            _slot: slot,
            expiry: None,
            pid: None,
            replay: Mutex::new(None),
            on_end: None,
        }
    }

    /// Sets what runs when the session ends (replacing what was set before).
    pub(crate) fn on_end(&mut self, on_end: OnEnd) {
        self.on_end = Some(on_end);
    }

    /// The authenticated user.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Takes the replay of a recovered socket, once.
    pub(crate) fn take_replay(&self) -> Option<Recovered> {
        self.replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Arms the expiry timer (replacing one armed before).
    pub(crate) fn expire_after(
        &mut self,
        socket: &SioSocket,
        after: Duration,
        notices: &Arc<NoticeBudget>,
    ) {
        let timer = expire_after(socket.clone(), self.user, after, Arc::clone(notices));
        if let Some(earlier) = self.expiry.replace(timer) {
            earlier.abort();
        }
    }
}

impl Drop for ChatSession {
    fn drop(&mut self) {
        if let Some(timer) = &self.expiry {
            timer.abort();
        }
        if let Some(OnEnd(on_end)) = self.on_end.take() {
            on_end();
        }
    }
}

/// One `info` line about a socket the chat refused or disconnected on purpose (`reason`), with
/// the client's address and the user, within the `notices` budget.
pub(crate) fn notice(
    notices: &NoticeBudget,
    reason: &'static str,
    socket: &SioSocket,
    user: Option<UserId>,
    message: &'static str,
) {
    if let Some(held) = notices.admit(reason) {
        let peer = socket.engine().peer().map(|peer| peer.ip().to_string());
        let user = user.map(|user| user.to_string());
        tracing::info!(
            reason,
            peer = peer.as_deref().unwrap_or("-"),
            user = user.as_deref().unwrap_or("-"),
            sid = socket.engine().id(),
            suppressed = held,
            "{message}"
        );
    }
}

/// After `after`, tells the socket its token expired and disconnects it from the namespace
/// (the client does not reconnect by itself after a server's DISCONNECT). Returns the handle
/// that cancels it.
fn expire_after(
    socket: SioSocket,
    user: UserId,
    after: Duration,
    notices: Arc<NoticeBudget>,
) -> AbortHandle {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        // What the client sees before its namespace DISCONNECT.
        let expired = ServerEvent::Error(ErrorNotice::token_expired());
        let _ = socket.send_frame(super::hub::event_frame(&expired));
        let _ = socket.disconnect();
        notice(
            &notices,
            "token_expired",
            &socket,
            Some(user),
            "socket disconnected by the server",
        );
    })
    .abort_handle()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::HubConfig;
    use crate::engineio::{EngineSocket, Frame};
    use crate::socketio::Namespace;

    fn texts(engine: &EngineSocket) -> Vec<String> {
        engine
            .take_queued()
            .into_iter()
            .map(|frame| match frame {
                Frame::Text(text) => text.to_string(),
                Frame::Binary(_) => panic!("a text frame"),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_socket_is_told_and_disconnected_when_its_token_expires() {
        let engine = EngineSocket::detached();
        let socket = SioSocket::detached(Namespace::MAIN, engine.clone());
        let hub = Hub::new(HubConfig::default());
        let mut session = ChatSession::new(UserId(7), hub.reserve_slot(UserId(7)).unwrap());
        session.expire_after(&socket, Duration::from_secs(60), &Arc::default());
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert!(texts(&engine).is_empty(), "nothing before the expiry");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            texts(&engine),
            [
                r#"42["error",{"message":"Token expired","code":"token_expired"}]"#,
                "41"
            ]
        );
        assert!(
            !engine.is_closed(),
            "the connection stays for other namespaces"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_that_ended_first_stops_its_timer_and_frees_its_slot() {
        let engine = EngineSocket::detached();
        let socket = SioSocket::detached(Namespace::MAIN, engine.clone());
        let hub = Hub::new(HubConfig {
            max_sockets_per_user: 1,
            ..HubConfig::default()
        });
        let mut session = ChatSession::new(UserId(7), hub.reserve_slot(UserId(7)).unwrap());
        assert!(
            hub.reserve_slot(UserId(7)).is_none(),
            "one socket per user here"
        );
        session.expire_after(&socket, Duration::from_secs(60), &Arc::default());
        drop(session);
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert!(texts(&engine).is_empty());
        assert!(
            hub.reserve_slot(UserId(7)).is_some(),
            "the slot was given back"
        );
    }
}
