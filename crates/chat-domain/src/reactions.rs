//! Reactions: a member marks a message with an emoji or a short name, once per key. The
//! record shows each key's count and whether the viewer is among them (`me`), as Slack,
//! Mattermost and Stream do; each addition and removal travels the ordered, replayable stream
//! (`reaction_added`, `reaction_removed`).

use icu_properties::CodePointSetData;
use icu_properties::props::{Emoji, EmojiModifier, ExtendedPictographic};
use serde::{Deserialize, Serialize};

use crate::{
    ChatError, ChatEvent, ChatService, ConversationId, Entity, EventSink, MessageId, Seq, Store,
    StreamPosition, UserId,
};

/// Longest key, in bytes: room for the longest emoji sequences (a kiss with two skin tones is
/// 35 bytes, a family of four with skin tones 41).
const MAX_KEY_BYTES: usize = 64;

/// Longest short name, in characters.
const MAX_SHORT_NAME: usize = 32;

/// A reaction's key: an emoji (one sequence of emoji characters, joiners and variation
/// selectors included) or a short name (`thumbsup`, `+1`, `party_parrot`: 1 to 32 lowercase
/// ASCII letters, digits, `_`, `+` or `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReactionKey(String);

impl ReactionKey {
    /// Validates a key a client sent; refused as `key` otherwise.
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let invalid = || {
            ChatError::invalid(
                "key",
                "must be one emoji or a short name of 1 to 32 characters among a-z, 0-9, _, + and -",
            )
        };
        if raw.is_empty() || raw.len() > MAX_KEY_BYTES {
            return Err(invalid());
        }
        let short_name = raw.len() <= MAX_SHORT_NAME
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-".contains(&b));
        if short_name || is_emoji(raw) {
            Ok(ReactionKey(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    /// A key read back from a store, which validated it when it was written; it is not
    /// checked again, so that tightening the rules never makes stored reactions unreadable.
    pub fn stored(key: String) -> Self {
        ReactionKey(key)
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `text` is one emoji: emoji joined by zero-width joiners, each a pictograph with
/// its presentation selector, skin tone or tag sequence, a flag (two regional indicators), or
/// a keycap (`1️⃣`, `#️⃣`). Runs of several emoji, or of text and emoji, are refused.
fn is_emoji(text: &str) -> bool {
    text.split('\u{200D}').all(is_emoji_part)
}

/// One ZWJ-separated part of an emoji.
fn is_emoji_part(part: &str) -> bool {
    let regional = |ch: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&ch);
    let mut chars = part.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let rest: Vec<char> = chars.collect();
    if regional(first) {
        return matches!(rest.as_slice(), [second] if regional(*second));
    }
    if matches!(first, '0'..='9' | '#' | '*') {
        return matches!(rest.as_slice(), ['\u{20E3}'] | ['\u{FE0F}', '\u{20E3}']);
    }
    let pictograph = CodePointSetData::new::<ExtendedPictographic>().contains(first)
        || CodePointSetData::new::<Emoji>().contains(first);
    let modifier = CodePointSetData::new::<EmojiModifier>();
    pictograph
        && rest.iter().all(|&ch| {
            ch == '\u{FE0F}' || modifier.contains(ch) || ('\u{E0020}'..='\u{E007F}').contains(&ch)
        })
}

/// One key on a message, as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The key.
    pub key: ReactionKey,
    /// How many members reacted with it.
    pub count: i64,
    /// Whether the viewer is one of them.
    pub me: bool,
}

/// A member added or removed a reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChanged {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: MessageId,
    /// Its place in the conversation.
    pub seq: Seq,
    /// The key.
    pub key: ReactionKey,
    /// Who reacted, or took their reaction back.
    pub user_id: UserId,
    /// How many members react with this key now.
    pub count: i64,
}

/// What an addition or removal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionWrite {
    /// Added or removed, at this place in the stream.
    Changed(ReactionChanged, StreamPosition),
    /// It already was so: nothing written.
    Unchanged,
}

/// The refusal of a new key beyond the limit.
pub fn too_many_reaction_kinds(max: usize) -> ChatError {
    ChatError::Conflict(format!(
        "a message holds at most {max} different reactions; react with one of them"
    ))
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Adds (`on`) or removes the caller's reaction `key` on a message they can see, and
    /// announces it; adding one that is there, or removing one that is not, changes nothing.
    /// Returns the message's reactions as the caller sees them. Errors: `Invalid` (`key`),
    /// `NotFound` (message) outside the caller's conversations, `Conflict` beyond
    /// `CHAT_MAX_REACTION_KINDS` keys, `RateLimited` beyond the send budget.
    pub async fn react(
        &self,
        caller: UserId,
        message: MessageId,
        key: &str,
        on: bool,
    ) -> Result<Vec<Reaction>, ChatError> {
        let key = ReactionKey::parse(key)?;
        self.rate_limit(caller)?;
        let max = self.limits().max_reaction_kinds;
        match self
            .store()
            .set_reaction(caller, message, key, on, max)
            .await?
        {
            None => return Err(ChatError::not_found(Entity::Message)),
            Some(ReactionWrite::Unchanged) => {}
            Some(ReactionWrite::Changed(changed, position)) => {
                let event = if on {
                    ChatEvent::ReactionAdded(changed)
                } else {
                    ChatEvent::ReactionRemoved(changed)
                };
                self.announce(position, event);
            }
        }
        let mut all = self.store().reactions_for(caller, &[message]).await?;
        Ok(all.remove(&message).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_emoji_or_a_short_name() {
        for good in [
            "👍",
            "❤️",
            "👨‍👩‍👧",
            "👍🏽",
            "🇫🇷",
            "thumbsup",
            "+1",
            "party_parrot",
            "-1",
            "7",
            "❤",
            "1️⃣",
            "#\u{20E3}",
            "🏳️‍🌈",
            "🧑🏻‍❤️‍💋‍🧑🏼",
            "👨🏻‍👩🏻‍👧🏻‍👦🏻",
            "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
        ] {
            assert!(ReactionKey::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "Thumbs",
            "a b",
            "1\u{20E3}x",
            "#",
            "<b>",
            "👍 ",
            &"x".repeat(33),
            "\u{200D}",
            "👍👍",
            "👍❤️🇫🇷",
            "1👍",
            "#👍",
            "🇫",
            "👍\u{200D}",
        ] {
            assert!(ReactionKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
