//! Delivering the event stream in order, whatever order its events arrive in.
//!
//! Each writer's positions are gapless and in commit order, and a conversation always writes
//! through one writer, so delivering every writer's events in position order delivers every
//! conversation's events in `seq` order. Events arrive out of order (their publishers race
//! once their commits are answered; a bus may reorder or lose some): one that arrives early is
//! held until the ones before it come, from their publisher or read from the store; one that
//! was delivered already is dropped. When position `n` has arrived, every position before it
//! has committed, so the store always has what is missing.

use std::collections::BTreeMap;

use chat_domain::{STREAM_WRITERS, StreamEvent, StreamToken};

/// Events held back per writer this far ahead are still accepted; past it the sequencer
/// refuses more (a writer that far ahead means the store has been unreachable for long).
const MAX_HELD_PER_WRITER: usize = 100_000;

/// The delivered frontier, the events held back behind gaps, and the furthest position known
/// to be committed (from an event, or from the store's head).
#[derive(Debug)]
pub(crate) struct Sequencer {
    delivered: StreamToken,
    held: [BTreeMap<i64, StreamEvent>; STREAM_WRITERS],
    known: StreamToken,
}

/// A gap to fill from the store: `writer`'s positions after `after` up to `upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap {
    pub(crate) writer: usize,
    pub(crate) after: i64,
    pub(crate) upto: i64,
}

/// What admitting an event produced.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    /// Events to deliver now, in order, each with the frontier right after it.
    pub(crate) ready: Vec<(StreamEvent, StreamToken)>,
    /// The gap now open in the event's writer, if any.
    pub(crate) gap: Option<Gap>,
}

impl Sequencer {
    /// A sequencer that has delivered everything up to `start`.
    pub(crate) fn new(start: StreamToken) -> Self {
        Sequencer {
            delivered: start,
            held: Default::default(),
            known: start,
        }
    }

    /// Learns that the store holds everything up to `head`: what was never published (a lost
    /// event with nothing after it) becomes a gap to fill.
    pub(crate) fn heard_of(&mut self, head: &StreamToken) {
        self.known = self.known.max(head);
    }

    /// Everything delivered so far.
    pub(crate) fn frontier(&self) -> StreamToken {
        self.delivered
    }

    /// Takes one event and returns what may be delivered now.
    pub(crate) fn admit(&mut self, event: StreamEvent) -> Admitted {
        let at = event.position;
        let Some(held) = self.held.get_mut(at.writer) else {
            return Admitted::default();
        };
        let last = self.delivered.get(at.writer);
        self.known = self.known.max(&StreamToken::START.with(at));
        if at.position <= last {
            return Admitted::default(); // delivered already
        }
        if at.position > last + 1 {
            if held.len() < MAX_HELD_PER_WRITER || held.contains_key(&at.position) {
                held.insert(at.position, event);
            }
            return Admitted {
                ready: Vec::new(),
                gap: self.gap(at.writer),
            };
        }
        let mut ready = Vec::new();
        let mut next = Some(event);
        while let Some(event) = next {
            self.delivered = self.delivered.with(event.position);
            ready.push((event, self.delivered));
            let following = self.delivered.get(at.writer) + 1;
            next = self.held[at.writer].remove(&following);
        }
        Admitted {
            ready,
            gap: self.gap(at.writer),
        }
    }

    /// The first gap of `writer`: from what was delivered to the first event held, or to the
    /// furthest position known to be committed.
    pub(crate) fn gap(&self, writer: usize) -> Option<Gap> {
        let after = self.delivered.get(writer);
        let upto = match self.held.get(writer)?.keys().next() {
            Some(first) => first - 1,
            None => self.known.get(writer),
        };
        (upto > after).then_some(Gap {
            writer,
            after,
            upto,
        })
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{
        ChatEvent, ConversationId, MessagesRead, Seq, StreamPosition, UserId, writer_of,
    };
    use chrono::Utc;

    use super::*;

    /// A read receipt of conversation `conversation` at `position` of its writer.
    fn event(conversation: i64, position: i64) -> StreamEvent {
        let conversation = ConversationId(conversation);
        StreamEvent {
            position: StreamPosition {
                writer: writer_of(conversation),
                position,
            },
            event: ChatEvent::MessagesRead(MessagesRead {
                conversation_id: conversation,
                user_id: UserId(1),
                last_read_seq: Seq(position),
                read_at: Utc::now(),
            }),
        }
    }

    fn positions(admitted: &Admitted) -> Vec<i64> {
        admitted
            .ready
            .iter()
            .map(|(e, _)| e.position.position)
            .collect()
    }

    #[test]
    fn early_events_wait_for_the_gap_and_go_out_in_order_once_it_fills() {
        let mut sequencer = Sequencer::new(StreamToken::START);
        let early = sequencer.admit(event(1, 3));
        assert!(early.ready.is_empty());
        assert_eq!(
            early.gap,
            Some(Gap {
                writer: 1,
                after: 0,
                upto: 2
            })
        );
        let second = sequencer.admit(event(9, 2));
        assert!(second.ready.is_empty(), "still waiting for 1");
        let first = sequencer.admit(event(1, 1));
        assert_eq!(positions(&first), [1, 2, 3]);
        assert_eq!(first.gap, None);
        let tokens: Vec<i64> = first.ready.iter().map(|(_, t)| t.get(1)).collect();
        assert_eq!(
            tokens,
            [1, 2, 3],
            "each event carries the frontier after it"
        );
    }

    #[test]
    fn duplicates_and_stragglers_are_dropped_and_writers_are_independent() {
        let mut sequencer = Sequencer::new(StreamToken::new([0, 5, 0, 0, 0, 0, 0, 0]));
        assert!(
            sequencer.admit(event(1, 5)).ready.is_empty(),
            "already delivered"
        );
        assert_eq!(positions(&sequencer.admit(event(1, 6))), [6]);
        assert!(sequencer.admit(event(1, 6)).ready.is_empty(), "a duplicate");
        assert_eq!(positions(&sequencer.admit(event(2, 1))), [1]);
        assert_eq!(
            sequencer.frontier(),
            StreamToken::new([0, 6, 1, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn a_lost_last_event_is_a_gap_once_the_store_is_known_to_hold_it() {
        let mut sequencer = Sequencer::new(StreamToken::START);
        assert_eq!(positions(&sequencer.admit(event(1, 1))), [1]);
        assert_eq!(
            sequencer.gap(1),
            None,
            "nothing known beyond what was delivered"
        );
        sequencer.heard_of(&StreamToken::new([0, 3, 0, 0, 0, 0, 0, 0]));
        assert_eq!(
            sequencer.gap(1),
            Some(Gap {
                writer: 1,
                after: 1,
                upto: 3
            })
        );
    }

    #[test]
    fn a_gap_reports_only_what_is_missing_before_the_first_held_event() {
        let mut sequencer = Sequencer::new(StreamToken::START);
        sequencer.admit(event(3, 7));
        sequencer.admit(event(3, 4));
        assert_eq!(
            sequencer.gap(3),
            Some(Gap {
                writer: 3,
                after: 0,
                upto: 3
            })
        );
        let filled: Vec<i64> = (1..=3)
            .flat_map(|p| positions(&sequencer.admit(event(3, p))))
            .collect();
        assert_eq!(filled, [1, 2, 3, 4]);
        assert_eq!(
            sequencer.gap(3),
            Some(Gap {
                writer: 3,
                after: 4,
                upto: 6
            })
        );
    }
}
