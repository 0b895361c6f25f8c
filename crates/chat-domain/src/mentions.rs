//! Mentions: `@username` in a message's text, resolved against its conversation's members
//! when it is sent. The record lists the members it mentions (`mentions: [userId]`); a
//! mentioned member whose sockets are not in the room is told in their personal room
//! (`mention`), and `GET /api/chat/mentions` lists a user's mentions, newest first.
//!
//! A mention is `@` at the start of the text or after a character that is neither a letter,
//! a digit nor `_` (so `ann@example.com` mentions nobody), followed by a member's username
//! compared as logins compare it ([`case_key`]: any case, either Unicode form, compatibility
//! forms) and then by the end of the text or a character that is neither a letter, a digit,
//! `_` nor a combining mark (so `@bobby` does not mention `bob`). The longest username that
//! fits wins (`@ann lee` mentions a member named `ann lee` over one named `ann`); of names
//! that differ only in case, the one written exactly as typed wins, else all of them. The
//! sender is never mentioned, and edits do not change whom a message mentions.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use unicode_segmentation::GraphemeCursor;

use crate::{
    ChatError, ChatService, ConversationDetail, EventSink, Member, Message, MessageId, Store,
    UserId, Username, case_key,
};

/// Most members one message mentions; `@` names past them are plain text.
pub const MAX_MENTIONS: usize = 50;

/// Most `@` signs of one message that are looked at, which bounds the work a send can ask for.
const MAX_AT_SIGNS: usize = 200;

/// How much text after an `@` is compared: enough for the longest username in any form
/// (decomposed, case-folded).
const WINDOW_CHARS: usize = 4 * Username::MAX_CHARS;

/// Most usernames whose keys are remembered; past it the memory starts over.
const MAX_REMEMBERED: usize = 100_000;

/// The case keys ([`case_key`]) of the usernames seen in mentions, so that a send into a large
/// group does not fold every member's name again. Keyed by the name itself, so a renamed user
/// is simply a new entry.
#[derive(Debug, Default)]
pub struct UsernameKeys(Mutex<HashMap<String, String>>);

impl UsernameKeys {
    /// The key of `name`, computed once.
    fn key(&self, name: &str) -> String {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = keys.get(name) {
            return key.clone();
        }
        if keys.len() >= MAX_REMEMBERED {
            keys.clear();
        }
        let key = case_key(name);
        keys.insert(name.to_owned(), key.clone());
        key
    }
}

/// Whether `c` continues a word: a letter, a digit or `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether a name that takes the first `at` bytes of `text` ends there: at the end of the
/// text, or before a character that does not continue a word and that starts a new grapheme
/// cluster (so that a combining mark after the name makes it another name).
fn ends_name(text: &str, at: usize) -> bool {
    let Some(next) = text.get(at..).and_then(|rest| rest.chars().next()) else {
        return at == text.len();
    };
    !is_word(next)
        && GraphemeCursor::new(at, text.len(), true)
            .is_boundary(text, 0)
            .unwrap_or(false)
}

/// The members `content` mentions, in the order first mentioned, without `sender`.
pub fn mentioned(
    content: &str,
    members: &[Member],
    sender: UserId,
    keys: &UsernameKeys,
) -> Vec<UserId> {
    if !content.contains('@') {
        return Vec::new();
    }
    let others: Vec<(&Member, String)> = members
        .iter()
        .filter(|m| m.user.id != sender)
        .map(|m| (m, keys.key(&m.user.username)))
        .collect();
    let mut found: Vec<UserId> = Vec::new();
    let mut previous: Option<char> = None;
    let mut at_signs = 0;
    for (at, c) in content.char_indices() {
        let starts = c == '@' && !previous.is_some_and(is_word);
        previous = Some(c);
        if !starts {
            continue;
        }
        at_signs += 1;
        if at_signs > MAX_AT_SIGNS || found.len() >= MAX_MENTIONS {
            break;
        }
        let rest = &content[at + 1..];
        let window = rest
            .char_indices()
            .nth(WINDOW_CHARS)
            .map_or(rest, |(end, _)| &rest[..end]);
        let keyed = case_key(window);
        // The members whose key starts the text, the longest key winning; among several with
        // that key (names that differ only in case), the one written exactly as typed.
        let matches: Vec<&(&Member, String)> = others
            .iter()
            .filter(|(_, key)| keyed.starts_with(key.as_str()) && ends_name(&keyed, key.len()))
            .collect();
        let Some(longest) = matches.iter().map(|(_, key)| key.len()).max() else {
            continue;
        };
        let longest: Vec<&Member> = matches
            .iter()
            .filter(|(_, key)| key.len() == longest)
            .map(|(member, _)| *member)
            .collect();
        let exact: Vec<&Member> = longest
            .iter()
            .copied()
            .filter(|m| {
                let name = m.user.username.as_str();
                rest.starts_with(name) && ends_name(rest, name.len())
            })
            .collect();
        let chosen = if exact.is_empty() { longest } else { exact };
        for member in chosen {
            if !found.contains(&member.user.id) && found.len() < MAX_MENTIONS {
                found.push(member.user.id);
            }
        }
    }
    found
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// The caller's mentions in conversations they still belong to, newest first: at most
    /// `limit` messages with an id below `before` (all, without it), each with its
    /// conversation.
    pub async fn mentions(
        &self,
        caller: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<(ConversationDetail, Message)>, ChatError> {
        let messages = self.store().mentions_of(caller, before, limit).await?;
        self.decorate_across(caller, messages).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{Role, Seq, UserRef};

    fn members(names: &[&str]) -> Vec<Member> {
        names
            .iter()
            .zip(1..)
            .map(|(name, id)| Member {
                user: UserRef {
                    id: UserId(id),
                    username: (*name).to_owned(),
                },
                role: Role::Member,
                last_read_seq: Seq::ZERO,
                last_read_at: None,
                joined_at: Utc::now(),
            })
            .collect()
    }

    fn ids(found: Vec<UserId>) -> Vec<i64> {
        found.into_iter().map(|id| id.get()).collect()
    }

    fn resolve(text: &str, group: &[Member]) -> Vec<i64> {
        ids(mentioned(text, group, UserId(1), &UsernameKeys::default()))
    }

    #[test]
    fn names_after_an_at_sign_at_word_boundaries_are_mentions() {
        let group = members(&[
            "me", "bob", "ann", "ann lee", "Ärger", "İlke", "straße", "josé", "ﬁfi", "BOB",
        ]);
        let cases: [(&str, &[i64]); 18] = [
            ("hi @bob", &[2]),
            ("@bOB, see this", &[2, 10]),
            ("@bobby is not bob", &[]),
            ("mail bob@example.com", &[]),
            ("@ann lee and @ann", &[4, 3]),
            ("(@ann)", &[3]),
            ("@me talking to myself", &[]),
            ("@ärger and @Ärger", &[5]),
            // Turkish dotted capital I folds to i without the dot, as logins compare it.
            ("@ilke", &[6]),
            // ß folds to ss, whichever way it is written.
            ("@STRASSE", &[7]),
            ("@Straße!", &[7]),
            ("@bob @bob @bob", &[2]),
            // Either Unicode form, and compatibility forms, as logins compare names.
            ("@jos\u{e9}", &[8]),
            ("@jose\u{301}", &[8]),
            ("@fifi", &[9]),
            // A combining mark after a name makes it another name.
            ("@ann\u{301}", &[]),
            // Names that differ only in case: the one written exactly as typed, else both.
            ("@BOB", &[10]),
            ("@Bob", &[2, 10]),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve(text, &group), expected, "{text}");
        }
    }

    #[test]
    fn the_work_is_bounded() {
        let group = members(&["me", "bob"]);
        let flood = "@".repeat(100_000);
        assert!(resolve(&flood, &group).is_empty());
        let many: Vec<Member> = (0..2000)
            .map(|i| members(&[&format!("user{i}")]).remove(0))
            .enumerate()
            .map(|(i, mut m)| {
                m.user.id = UserId(i as i64 + 10);
                m
            })
            .collect();
        let text: String = (0..2000).map(|i| format!("@user{i} ")).collect();
        assert_eq!(resolve(&text, &many).len(), MAX_MENTIONS);
    }
}
