//! Delivering each conversation's messages in `seq` order, even when their events are
//! published out of order by concurrent senders.
//!
//! `seq` is handed out under the conversation's row lock, so when message `n` is published,
//! message `n - 1` has already committed and its event is on its way. An event that arrives
//! early is held until the one before it arrives; if that one never comes (its sender was
//! cancelled between commit and publish), the held events go out after a short grace.

use std::collections::{BTreeMap, HashMap};

use chat_domain::{ConversationId, MessageSent, Seq};

/// Conversations remembered beyond this many are forgotten (idle ones cannot have gaps).
const MAX_TRACKED: usize = 100_000;

/// The per-conversation delivery position and the events held back.
#[derive(Debug, Default)]
pub(crate) struct Sequencer {
    delivered: HashMap<ConversationId, Seq>,
    held: HashMap<ConversationId, BTreeMap<Seq, MessageSent>>,
}

/// What admitting an event produced.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    /// Events to deliver now, in order.
    pub(crate) ready: Vec<MessageSent>,
    /// Whether events are now held for this conversation (the caller arms the grace timer).
    pub(crate) holding: bool,
}

impl Sequencer {
    /// Takes one event and returns what may be delivered now.
    pub(crate) fn admit(&mut self, event: MessageSent) -> Admitted {
        let conversation = event.message.conversation_id;
        let seq = event.message.seq;
        if self.delivered.len() >= MAX_TRACKED && !self.delivered.contains_key(&conversation) {
            self.delivered.retain(|id, _| self.held.contains_key(id));
        }
        let last = *self
            .delivered
            .entry(conversation)
            .or_insert(Seq(seq.get() - 1));
        if seq.get() <= last.get() {
            // A late straggler after a grace flush: deliver rather than drop.
            return Admitted {
                ready: vec![event],
                holding: self.held.contains_key(&conversation),
            };
        }
        if seq.get() > last.get() + 1 {
            self.held
                .entry(conversation)
                .or_default()
                .insert(seq, event);
            return Admitted {
                ready: Vec::new(),
                holding: true,
            };
        }
        let mut ready = vec![event];
        let mut position = seq;
        if let Some(held) = self.held.get_mut(&conversation) {
            while let Some(next) = held.remove(&Seq(position.get() + 1)) {
                position = next.message.seq;
                ready.push(next);
            }
            if held.is_empty() {
                self.held.remove(&conversation);
            }
        }
        self.delivered.insert(conversation, position);
        Admitted {
            holding: self.held.contains_key(&conversation),
            ready,
        }
    }

    /// Gives up waiting for a gap to fill: everything held goes out, in order.
    pub(crate) fn release(&mut self, conversation: ConversationId) -> Vec<MessageSent> {
        let Some(held) = self.held.remove(&conversation) else {
            return Vec::new();
        };
        let events: Vec<MessageSent> = held.into_values().collect();
        if let Some(last) = events.last() {
            self.delivered.insert(conversation, last.message.seq);
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{Message, MessageId, UserId};
    use chrono::Utc;

    use super::*;

    fn sent(seq: i64) -> MessageSent {
        MessageSent {
            message: Message {
                id: MessageId(seq),
                conversation_id: ConversationId(1),
                seq: Seq(seq),
                sender_id: UserId(1),
                content: format!("m{seq}"),
                attachment_url: None,
                client_message_id: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            members: Vec::new(),
        }
    }

    fn seqs(events: &[MessageSent]) -> Vec<i64> {
        events.iter().map(|e| e.message.seq.get()).collect()
    }

    #[test]
    fn early_events_wait_for_the_ones_before_them() {
        let mut sequencer = Sequencer::default();
        assert_eq!(seqs(&sequencer.admit(sent(1)).ready), [1]);
        let early = sequencer.admit(sent(3));
        assert!(early.ready.is_empty() && early.holding);
        assert!(sequencer.admit(sent(4)).ready.is_empty());
        let filled = sequencer.admit(sent(2));
        assert_eq!(seqs(&filled.ready), [2, 3, 4]);
        assert!(!filled.holding);
        assert_eq!(seqs(&sequencer.admit(sent(5)).ready), [5]);
    }

    #[test]
    fn a_gap_that_never_fills_is_released_in_order() {
        let mut sequencer = Sequencer::default();
        sequencer.admit(sent(10));
        sequencer.admit(sent(13));
        sequencer.admit(sent(12));
        assert_eq!(seqs(&sequencer.release(ConversationId(1))), [12, 13]);
        assert_eq!(seqs(&sequencer.admit(sent(14)).ready), [14]);
        assert_eq!(
            seqs(&sequencer.admit(sent(11)).ready),
            [11],
            "a straggler still arrives"
        );
    }
}
