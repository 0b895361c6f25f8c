//! Recovery sessions: what a realtime connection must leave in the store so that a client can
//! come back (after its network dropped, or after the server restarted or was killed) and be
//! given exactly what it missed.
//!
//! Socket.IO's connection state recovery hands the client a private session id (`pid`) at
//! CONNECT and an offset with every event; a client that reconnects sends both back. The
//! reference server keeps the session in memory for two minutes. Here it is a row: the user,
//! the stream token at which the session started, and each room it joined with the token at
//! which it joined, so any node can replay the stream from the client's offset after a crash.

use std::future::Future;
use std::time::Duration;

use crate::{ChatError, ConversationId, StreamToken, UserId};

/// A session as it was stored: whose it is and where each of its streams started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverySession {
    /// The user the session belongs to; only their token may recover it.
    pub user: UserId,
    /// The stream token when the session connected: the start of its notifications.
    pub base: StreamToken,
    /// The conversation rooms it joined, each with the token when it joined, of
    /// conversations the user still belongs to: the rooms a recovered socket is put back in.
    pub rooms: Vec<(ConversationId, StreamToken)>,
    /// The rooms it joined of conversations the user has left since: replayed as rooms up to
    /// the user's removal, never joined again.
    pub left: Vec<(ConversationId, StreamToken)>,
}

/// Stores recovery sessions. `owner` names the socket that holds a session now, so that the
/// end of an earlier socket does not end a session a later one took over.
pub trait RecoveryRepo {
    /// Stores a new session for `user`, held by `owner`, starting at `base`.
    fn open_session(
        &self,
        pid: &str,
        user: UserId,
        owner: &str,
        base: StreamToken,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;

    /// Records that the session joined a conversation's room at `since` (a second join
    /// keeps the first token; a session forgotten meanwhile records nothing).
    fn join_session(
        &self,
        pid: &str,
        conversation: ConversationId,
        since: StreamToken,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;

    /// Hands the session to `owner` if it is `user`'s and was held, or left less than
    /// `window` ago; `None` otherwise (unknown, someone else's, or too old). Its rooms are
    /// split by whether the user still belongs to the conversation: a member removed meanwhile
    /// does not get the room back.
    fn claim_session(
        &self,
        pid: &str,
        user: UserId,
        owner: &str,
        window: Duration,
    ) -> impl Future<Output = Result<Option<RecoverySession>, ChatError>> + Send;

    /// Records that `owner` left the session (if it still holds it): the window starts.
    fn leave_session(
        &self,
        pid: &str,
        owner: &str,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;

    /// Forgets sessions let go more than `window` ago, and sessions held for longer than
    /// `max_held` (a process that was killed never let its sessions go; a live socket that old
    /// loses only its recoverability). Returns how many.
    fn prune_sessions(
        &self,
        window: Duration,
        max_held: Duration,
    ) -> impl Future<Output = Result<u64, ChatError>> + Send;
}
