//! Socket.IO connection state recovery, backed by the store.
//!
//! At CONNECT a socket gets a private session id (`pid`), and every replayable event it
//! receives carries the stream token its receivers hold once they have it (the offset). The
//! session (user, rooms, where each room's stream stood when it was joined) is a row in the
//! store. A client that reconnects sends `{ pid, offset }` in its CONNECT `auth`; when the
//! session is its user's and recent enough, the socket is put back in its rooms and gets every
//! event after its offset, in order, once, and the same `pid` (so `socket.recovered` is true).
//!
//! At CONNECT the session is claimed, the socket is put back in its rooms with its broadcasts
//! held (live events wait), and what it missed is read from the store up to the point where it
//! rejoined. Once the CONNECT is answered, the replay goes out, then the held live events: no
//! gap and no duplicate at the seam.

use std::time::Duration;

use chat_domain::{
    ChatError, ChatEvent, RecoverySession, StreamEvent, StreamRepo, StreamScope, StreamToken,
    UserId,
};
use serde_json::{Map, Value};

use super::delivery::{mention_frame, notification_frame, room_frame};
use crate::engineio::Frame;

/// How connection state recovery behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// Whether sessions are kept and replayable events carry offsets (`CHAT_SOCKET_RECOVERY`).
    pub enabled: bool,
    /// How long after its socket left a session can be recovered
    /// (`CHAT_RECOVERY_WINDOW_SECS`).
    pub window: Duration,
    /// The most events replayed per room (and for notifications); a client that missed more
    /// is not recovered and catches up over REST (`CHAT_RECOVERY_MAX_EVENTS`).
    pub max_events_per_room: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            enabled: true,
            window: Duration::from_secs(120),
            max_events_per_room: 1000,
        }
    }
}

/// The longest `pid` accepted back (ours are 32 hex digits).
const MAX_PID_LEN: usize = 64;

/// What a reconnecting client sent in its CONNECT `auth`: its `pid` and, once it got an event,
/// its `offset`. Anything malformed is ignored: the client then starts a new session.
pub(crate) fn recovery_request(
    auth: Option<&Map<String, Value>>,
) -> Option<(String, Option<StreamToken>)> {
    let auth = auth?;
    let pid = auth.get("pid")?.as_str()?;
    if pid.is_empty()
        || pid.len() > MAX_PID_LEN
        || !pid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let offset = match auth.get("offset") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(StreamToken::parse(text, "offset").ok()?),
        Some(_) => return None,
    };
    Some((pid.to_owned(), offset))
}

/// Where each of a session's streams is read from, for a client that has everything up to
/// `offset`: a room from when it was joined, notifications from when the session connected.
fn scope(session: &RecoverySession, offset: &StreamToken) -> StreamScope {
    StreamScope {
        rooms: session
            .rooms
            .iter()
            .chain(&session.left)
            .map(|(id, since)| (*id, since.max(offset)))
            .collect(),
        others: Some(session.base.max(offset)),
    }
}

/// Why a session was not recovered; the client gets a new one and `recovered` is false.
#[derive(Debug)]
pub(crate) enum NotRecovered {
    /// Unknown, another user's, or left longer ago than the window.
    NoSession,
    /// The offset is ahead of this server's stream.
    OffsetAhead,
    /// More than the cap of events were missed.
    TooFarBehind,
    /// The store failed.
    Store(ChatError),
}

impl NotRecovered {
    /// A stable snake_case name, for metrics.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::NoSession => "no_session",
            Self::OffsetAhead => "offset_ahead",
            Self::TooFarBehind => "too_far_behind",
            Self::Store(_) => "store_error",
        }
    }
}

/// The frames of what a session's client missed after `offset`, up to `upto` (the point at
/// which its socket was put back in its rooms), or why it cannot be recovered.
pub(crate) async fn replay<S: StreamRepo>(
    store: &S,
    config: &RecoveryConfig,
    (user, session): (UserId, &RecoverySession),
    offset: StreamToken,
    upto: StreamToken,
) -> Result<Vec<Frame>, NotRecovered> {
    let cap = config.max_events_per_room.max(1);
    let limit = cap.saturating_mul(session.rooms.len() + session.left.len() + 1);
    let events = store
        .stream_for(user, &scope(session, &offset), upto, limit + 1)
        .await
        .map_err(NotRecovered::Store)?;
    if events.len() > limit || over_cap(&events, cap) {
        return Err(NotRecovered::TooFarBehind);
    }
    let offsets = config.enabled.then_some((&offset, &upto));
    Ok(frames(user, session, &events, offsets))
}

/// Whether any one room (or the notifications) holds more than `cap` of the events.
fn over_cap(events: &[StreamEvent], cap: usize) -> bool {
    let mut counts = std::collections::HashMap::new();
    events.iter().any(|event| {
        let count = counts.entry(event.conversation_id()).or_insert(0usize);
        *count += 1;
        *count > cap
    })
}

/// The frames of a replay read in writer order: a room's events as the room gets them; outside
/// the session's rooms, what live delivery sends a member's sockets wherever they are (a
/// message as a notification, not the user's own, and as a mention when it mentions them; a group created or changed; a change of the
/// user's own membership), each with the token the client
/// holds once it has it (read from `from` through `to`), when `offsets` are on.
fn frames(
    user: UserId,
    session: &RecoverySession,
    events: &[StreamEvent],
    offsets: Option<(&StreamToken, &StreamToken)>,
) -> Vec<Frame> {
    events
        .iter()
        .flat_map(|event| {
            let offset =
                offsets.map(|(from, to)| from.read_through(to, event.position).to_string());
            let offset = offset.as_deref();
            let in_room = session
                .rooms
                .iter()
                .chain(&session.left)
                .any(|(id, _)| *id == event.conversation_id());
            match &event.event {
                _ if in_room => vec![room_frame(&event.event, offset)],
                ChatEvent::MessageSent(sent) if sent.message.sender_id != user => {
                    let mut frames = vec![notification_frame(sent, offset)];
                    if sent.message.mentions.contains(&user) {
                        frames.push(mention_frame(sent, offset));
                    }
                    frames
                }
                // What reaches a member's sockets outside the room, as delivered live.
                ChatEvent::ConversationCreated(_) | ChatEvent::ConversationUpdated(_) => {
                    vec![room_frame(&event.event, offset)]
                }
                ChatEvent::MemberAdded(changed)
                | ChatEvent::MemberRemoved(changed)
                | ChatEvent::MemberRoleChanged(changed)
                    if changed.member.id == user =>
                {
                    vec![room_frame(&event.event, offset)]
                }
                _ => Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn auth(value: Value) -> Option<Map<String, Value>> {
        value.as_object().cloned()
    }

    #[test]
    fn a_recovery_request_needs_a_plain_pid_and_a_well_formed_offset() {
        let token = "1.2.3.4.5.6.7.8";
        assert_eq!(
            recovery_request(auth(json!({ "token": "t", "pid": "abc", "offset": token })).as_ref()),
            Some((
                "abc".to_owned(),
                Some(StreamToken::parse(token, "o").unwrap())
            ))
        );
        assert_eq!(
            recovery_request(auth(json!({ "pid": "abc" })).as_ref()),
            Some(("abc".to_owned(), None)),
            "no event received yet: the pid alone"
        );
        for bad in [
            json!({ "token": "t" }),
            json!({ "pid": "" }),
            json!({ "pid": 7 }),
            json!({ "pid": "a b" }),
            json!({ "pid": "x".repeat(65) }),
            json!({ "pid": "abc", "offset": "1.2" }),
            json!({ "pid": "abc", "offset": 12 }),
        ] {
            assert_eq!(recovery_request(auth(bad.clone()).as_ref()), None, "{bad}");
        }
    }
}
