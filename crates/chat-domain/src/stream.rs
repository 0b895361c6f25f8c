//! The event stream: every change that clients must see again after a disconnect (a message
//! sent or deleted, a read watermark moved) gets a position, so that delivery can be ordered,
//! gaps can be filled from the store and a client can say exactly what it already has.
//!
//! Positions come from a fixed set of writers, each a counter row in the store that a
//! transaction bumps as its last write, so that each writer's positions are gapless and in
//! commit order (the multi-writer stream tokens of Matrix's Synapse work the same way). A
//! conversation always writes through the same writer ([`writer_of`]), so a writer's order
//! is also each of its conversations' order. A [`StreamToken`] holds one position per writer:
//! "everything up to here, in every writer".

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ChatError, ChatEvent, ConversationId};

/// How many writers the stream has; fixed by the schema (the rows of `stream_writers`).
pub const STREAM_WRITERS: usize = 8;

/// The writer that orders a conversation's events.
pub fn writer_of(conversation: ConversationId) -> usize {
    // Ids are positive; `rem_euclid` keeps a hostile negative id in range all the same.
    usize::try_from(conversation.get().rem_euclid(STREAM_WRITERS as i64)).unwrap_or(0)
}

/// Where one event sits in the stream: its writer and its position in that writer (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamPosition {
    /// The writer, below [`STREAM_WRITERS`].
    pub writer: usize,
    /// The position within the writer, gapless from 1.
    pub position: i64,
}

/// One position per writer: the events a client or a node has, or a point to read from.
/// Written as the positions joined by `.` (`"12.0.7.0.0.3.0.0"`); clients treat it as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StreamToken([i64; STREAM_WRITERS]);

impl StreamToken {
    /// The token before every event.
    pub const START: StreamToken = StreamToken([0; STREAM_WRITERS]);

    /// A token of these positions.
    pub fn new(positions: [i64; STREAM_WRITERS]) -> Self {
        StreamToken(positions)
    }

    /// Reads a token a client sent back; anything else than [`STREAM_WRITERS`] non-negative
    /// integers joined by `.` is refused as `field`.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, ChatError> {
        let invalid = || ChatError::invalid(field, "is not a stream token this server issued");
        if text.len() > STREAM_WRITERS * 20 {
            return Err(invalid());
        }
        let mut positions = [0; STREAM_WRITERS];
        let mut parts = text.split('.');
        for slot in &mut positions {
            let part = parts.next().ok_or_else(invalid)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            *slot = part.parse().map_err(|_| invalid())?;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(StreamToken(positions))
    }

    /// The positions, by writer.
    pub fn positions(&self) -> &[i64; STREAM_WRITERS] {
        &self.0
    }

    /// The position of one writer.
    pub fn get(&self, writer: usize) -> i64 {
        self.0.get(writer).copied().unwrap_or(0)
    }

    /// Whether the event at `at` is at or below this token.
    pub fn covers(&self, at: StreamPosition) -> bool {
        at.position <= self.get(at.writer)
    }

    /// This token with `at`'s writer moved to `at`.
    pub fn with(mut self, at: StreamPosition) -> Self {
        if let Some(slot) = self.0.get_mut(at.writer) {
            *slot = at.position;
        }
        self
    }

    /// Per writer, the larger of the two positions.
    pub fn max(mut self, other: &StreamToken) -> Self {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine = (*mine).max(theirs);
        }
        self
    }

    /// The token of a reader that started at `self`, read every writer before `at.writer` up
    /// to `head`, and `at.writer` up to `at`: how far a read in writer order has come.
    pub fn read_through(self, head: &StreamToken, at: StreamPosition) -> StreamToken {
        let mut positions = self.0;
        for (writer, slot) in positions.iter_mut().enumerate().take(at.writer) {
            *slot = (*slot).max(head.get(writer));
        }
        StreamToken(positions).with(at)
    }

    /// Whether no writer of this token is ahead of `other`'s.
    pub fn is_within(&self, other: &StreamToken) -> bool {
        self.0
            .iter()
            .zip(other.0)
            .all(|(mine, theirs)| *mine <= theirs)
    }
}

/// The token that covers every one of these positions, and nothing more.
impl FromIterator<StreamPosition> for StreamToken {
    fn from_iter<I: IntoIterator<Item = StreamPosition>>(positions: I) -> Self {
        positions.into_iter().fold(StreamToken::START, |token, at| {
            token.max(&StreamToken::START.with(at))
        })
    }
}

impl fmt::Display for StreamToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, position) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            position.fmt(f)?;
        }
        Ok(())
    }
}

/// A committed event with its place in the stream: what every sink receives and what the
/// store reads back to fill a gap or to replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// Where it sits in the stream.
    pub position: StreamPosition,
    /// What happened.
    pub event: ChatEvent,
}

impl StreamEvent {
    /// The conversation the event belongs to.
    pub fn conversation_id(&self) -> ConversationId {
        self.event.conversation_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_what_it_writes_and_refuses_anything_else() {
        let token = StreamToken::new([12, 0, 7, 0, 0, 3, 0, i64::MAX]);
        let text = token.to_string();
        assert_eq!(text, format!("12.0.7.0.0.3.0.{}", i64::MAX));
        assert_eq!(StreamToken::parse(&text, "since").unwrap(), token);
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5.6.7.8.9",
            "1.2.3.4.5.6.7.-8",
            "1.2.3.4.5.6.7.+8",
            "1.2.3.4.5.6.7.",
            "1.2.3.4.5.6.7.99999999999999999999",
            "a.b.c.d.e.f.g.h",
            " 1.2.3.4.5.6.7.8",
        ] {
            assert!(StreamToken::parse(bad, "since").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_cover_compare_and_merge_per_writer() {
        let a = StreamToken::new([5, 0, 0, 0, 0, 0, 0, 1]);
        let b = StreamToken::new([3, 4, 0, 0, 0, 0, 0, 1]);
        assert_eq!(a.max(&b), StreamToken::new([5, 4, 0, 0, 0, 0, 0, 1]));
        assert!(a.covers(StreamPosition {
            writer: 0,
            position: 5
        }));
        assert!(!a.covers(StreamPosition {
            writer: 1,
            position: 1
        }));
        assert!(!a.is_within(&b) && b.is_within(&a.max(&b)));
        let moved = a.with(StreamPosition {
            writer: 2,
            position: 9,
        });
        assert_eq!(moved.get(2), 9);
        assert_eq!(writer_of(ConversationId(17)), 1);
        assert!(writer_of(ConversationId(-3)) < STREAM_WRITERS);
    }

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
