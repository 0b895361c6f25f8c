//! Catching up by stream token: what changed in all of a user's conversations since a token
//! the client kept, a page at a time, for apps that sync over REST rather than recover a
//! socket.

use crate::{
    ChatError, ChatService, EventSink, Store, StreamEvent, StreamPosition, StreamScope,
    StreamToken, UserId,
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

impl StreamToken {
    /// The token of a reader that started at `self`, read every writer before `at.writer` up
    /// to `head`, and `at.writer` up to `at`: how far a read in writer order has come.
    pub fn read_through(self, head: &StreamToken, at: StreamPosition) -> StreamToken {
        let mut positions = *self.positions();
        for (writer, slot) in positions.iter_mut().enumerate().take(at.writer) {
            *slot = (*slot).max(head.get(writer));
        }
        StreamToken::new(positions).with(at)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_in_writer_order_has_done_the_writers_before_the_last_event() {
        let since = StreamToken::new([1, 2, 3, 4, 5, 6, 7, 8]);
        let head = StreamToken::new([10, 20, 30, 40, 50, 60, 70, 80]);
        let at = StreamPosition {
            writer: 2,
            position: 9,
        };
        assert_eq!(
            since.read_through(&head, at),
            StreamToken::new([10, 20, 9, 4, 5, 6, 7, 8])
        );
    }
}
