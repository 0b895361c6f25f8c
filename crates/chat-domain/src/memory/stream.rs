//! The event stream and recovery sessions of [`super::MemoryStore`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::{
    ChatError, ChatEvent, ConversationId, RecoveryRepo, RecoverySession, Seq, StreamEvent,
    StreamRepo, StreamScope, StreamToken, UserId, writer_of,
};

use super::MemoryStore;

/// A session, who holds it, and since when nobody has.
#[derive(Debug)]
pub(super) struct StoredSession {
    session: RecoverySession,
    owner: String,
    opened: Instant,
    left: Option<Instant>,
}

impl StreamRepo for MemoryStore {
    async fn stream_head(&self) -> Result<StreamToken, ChatError> {
        let state = self.lock();
        Ok(state
            .stream
            .iter()
            .filter_map(|log| log.last())
            .map(|e| e.position)
            .collect())
    }

    async fn stream_range(
        &self,
        writer: usize,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StreamEvent>, ChatError> {
        let state = self.lock();
        let Some(log) = state.stream.get(writer) else {
            return Ok(Vec::new());
        };
        Ok(log
            .iter()
            .filter(|e| e.position.position > after && e.position.position <= upto)
            .cloned()
            .collect())
    }

    async fn seq_at(
        &self,
        conversation: ConversationId,
        upto: StreamToken,
    ) -> Result<Seq, ChatError> {
        let state = self.lock();
        let sent = state.stream[writer_of(conversation)]
            .iter()
            .filter(|e| e.conversation_id() == conversation)
            .filter_map(|e| match &e.event {
                ChatEvent::MessageSent(sent) => Some((e.position, sent.message.seq)),
                _ => None,
            });
        let mut first = None;
        let mut at = None;
        for (position, seq) in sent {
            first.get_or_insert(seq);
            if upto.covers(position) {
                at = Some(seq);
            }
        }
        Ok(at
            .or(first.map(|seq| Seq(seq.get() - 1)))
            .unwrap_or(Seq::ZERO))
    }

    async fn stream_for(
        &self,
        reader: UserId,
        scope: &StreamScope,
        upto: StreamToken,
        limit: usize,
    ) -> Result<Vec<StreamEvent>, ChatError> {
        let state = self.lock();
        // The reader's latest joins and removals, by conversation: each conversation is read
        // from where they joined, and one they left up to their removal.
        let (mut joined, mut removed) = (HashMap::new(), HashMap::new());
        for event in state.stream.iter().flatten() {
            match &event.event {
                ChatEvent::MemberAdded(m) if m.member.id == reader => {
                    joined.insert(m.conversation_id, event.position.position);
                }
                ChatEvent::MemberRemoved(m) if m.member.id == reader => {
                    removed.insert(m.conversation_id, event.position.position);
                }
                _ => {}
            }
        }
        let window = |conversation: ConversationId| -> Option<(StreamToken, i64, Option<i64>)> {
            let until = if state.is_member(conversation, reader) {
                None
            } else {
                Some(*removed.get(&conversation)?)
            };
            let since = scope
                .rooms
                .iter()
                .find(|(id, _)| *id == conversation)
                .map(|(_, since)| *since)
                .or(scope.others)?;
            let from = joined.get(&conversation).copied().unwrap_or(0);
            Some((since, from, until))
        };
        Ok(state
            .stream
            .iter()
            .flatten()
            .filter(|e| upto.covers(e.position))
            .filter(|e| !state.about_deleted(&e.event))
            .filter(|e| {
                window(e.conversation_id()).is_some_and(|(since, from, until)| {
                    let at = e.position.position;
                    !since.covers(e.position) && at >= from && until.is_none_or(|u| at <= u)
                })
            })
            .take(limit)
            .map(|e| state.with_parent_now(e.clone()))
            .collect())
    }
}

impl RecoveryRepo for MemoryStore {
    async fn open_session(
        &self,
        pid: &str,
        user: UserId,
        owner: &str,
        base: StreamToken,
    ) -> Result<(), ChatError> {
        let session = StoredSession {
            session: RecoverySession {
                user,
                base,
                rooms: Vec::new(),
                left: Vec::new(),
            },
            owner: owner.to_owned(),
            opened: Instant::now(),
            left: None,
        };
        self.lock().sessions.insert(pid.to_owned(), session);
        Ok(())
    }

    async fn join_session(
        &self,
        pid: &str,
        conversation: ConversationId,
        since: StreamToken,
    ) -> Result<(), ChatError> {
        if let Some(stored) = self.lock().sessions.get_mut(pid) {
            let rooms = &mut stored.session.rooms;
            if !rooms.iter().any(|(id, _)| *id == conversation) {
                rooms.push((conversation, since));
            }
        }
        Ok(())
    }

    async fn claim_session(
        &self,
        pid: &str,
        user: UserId,
        owner: &str,
        window: Duration,
    ) -> Result<Option<RecoverySession>, ChatError> {
        let mut state = self.lock();
        let Some(stored) = state.sessions.get_mut(pid) else {
            return Ok(None);
        };
        let recent = stored.left.is_none_or(|left| left.elapsed() < window);
        if stored.session.user != user || !recent {
            return Ok(None);
        }
        stored.owner = owner.to_owned();
        stored.left = None;
        let mut session = stored.session.clone();
        let (rooms, left) = session
            .rooms
            .into_iter()
            .partition(|(conversation, _)| state.is_member(*conversation, user));
        (session.rooms, session.left) = (rooms, left);
        Ok(Some(session))
    }

    async fn leave_session(&self, pid: &str, owner: &str) -> Result<(), ChatError> {
        if let Some(stored) = self.lock().sessions.get_mut(pid)
            && stored.owner == owner
            && stored.left.is_none()
        {
            stored.left = Some(Instant::now());
        }
        Ok(())
    }

    async fn prune_sessions(&self, window: Duration, max_held: Duration) -> Result<u64, ChatError> {
        let mut state = self.lock();
        let before = state.sessions.len();
        state.sessions.retain(|_, s| match s.left {
            Some(left) => left.elapsed() < window,
            None => s.opened.elapsed() < max_held,
        });
        Ok(u64::try_from(before - state.sessions.len()).unwrap_or(0))
    }
}
