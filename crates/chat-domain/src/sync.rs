//! Catching up by stream token: what changed in all of a user's conversations since a token
//! the client kept, a page at a time, for apps that sync over REST rather than recover a
//! socket.

use crate::{
    ChatError, ChatService, EventSink, Store, StreamEvent, StreamScope, StreamToken, UserId,
};

/// One page of changes and the token to ask for the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPage {
    /// The changes, ordered by writer then position (each conversation's in its own order).
    pub events: Vec<StreamEvent>,
    /// The token that continues after this page.
    pub next: StreamToken,
    /// Whether more changes were already there past this page.
    pub more: bool,
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// The changes in the caller's conversations after `since`, at most `limit`; without a
    /// token, none, and the token of now. A token ahead of the stream (from another server)
    /// is refused.
    pub async fn sync(
        &self,
        caller: UserId,
        since: Option<StreamToken>,
        limit: usize,
    ) -> Result<SyncPage, ChatError> {
        let head = self.store().stream_head().await?;
        let Some(since) = since else {
            return Ok(SyncPage {
                events: Vec::new(),
                next: head,
                more: false,
            });
        };
        if !since.is_within(&head) {
            return Err(ChatError::invalid(
                "since",
                "is ahead of this server's stream (a token of another server?)",
            ));
        }
        let scope = StreamScope {
            rooms: Vec::new(),
            others: Some(since),
        };
        let limit = limit.max(1);
        let mut events = self
            .store()
            .stream_for(caller, &scope, head, limit + 1)
            .await?;
        let more = events.len() > limit;
        events.truncate(limit);
        let next = match events.last() {
            Some(last) if more => since.read_through(&head, last.position),
            _ => head.max(&since),
        };
        Ok(SyncPage { events, next, more })
    }
}
