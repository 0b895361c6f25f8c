//! Mentions: `@username` in a message's text, resolved against its conversation's members
//! when it is sent. The record lists the members it mentions (`mentions: [userId]`); a
//! mentioned member whose sockets are not in the room is told in their personal room
//! (`mention`), and `GET /api/chat/mentions` lists a user's mentions, newest first.
//!
//! A mention is `@` at the start of the text or after a character that is neither a letter,
//! a digit nor `_` (so `ann@example.com` mentions nobody), followed by a member's username
//! compared as logins compare it ([`case_key`]: any case, either Unicode form) and then by the
//! end of the text or a character that is neither a letter, a digit nor `_` (so `@bobby`
//! does not mention `bob`). The longest username that fits wins (`@ann lee` mentions a member
//! named `ann lee` over one named `ann`). The sender is never mentioned, and edits do not
//! change whom a message mentions.

use std::collections::HashMap;

use crate::{
    ChatError, ChatService, ConversationDetail, ConversationId, EventSink, Member, Message,
    MessageId, Store, UserId, case_key,
};

/// Most members one message mentions; `@` names past them are plain text.
pub const MAX_MENTIONS: usize = 50;

/// Most `@` signs of one message that are looked at, which bounds the work a send can ask for.
const MAX_AT_SIGNS: usize = 200;

/// Whether `c` continues a word: a letter, a digit or `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The members `content` mentions, in the order first mentioned, without `sender`.
pub fn mentioned(content: &str, members: &[Member], sender: UserId) -> Vec<UserId> {
    if !content.contains('@') {
        return Vec::new();
    }
    // Members by the length of their name in characters: a name is only compared (and its
    // key only computed) where the text has a word boundary after that many characters.
    let mut by_length: HashMap<usize, Vec<&Member>> = HashMap::new();
    for member in members.iter().filter(|m| m.user.id != sender) {
        by_length
            .entry(member.user.username.chars().count())
            .or_default()
            .push(member);
    }
    let mut keys: HashMap<UserId, String> = HashMap::new();
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
        // Every place where a name could end: after n characters, at a word boundary.
        let mut ends: Vec<(usize, usize)> = Vec::new();
        let mut chars = rest.char_indices().peekable();
        let mut n = 0;
        while let Some((_, c)) = chars.next() {
            n += 1;
            if n > crate::Username::MAX_CHARS {
                break;
            }
            let end = chars.peek().map_or(rest.len(), |(i, _)| *i);
            let boundary = chars.peek().is_none_or(|(_, next)| !is_word(*next));
            if boundary && !c.is_whitespace() && by_length.contains_key(&n) {
                ends.push((n, end));
            }
        }
        let hit = ends.iter().rev().find_map(|(n, end)| {
            let key = case_key(&rest[..*end]);
            by_length.get(n)?.iter().find_map(|member| {
                let id = member.user.id;
                let theirs = keys
                    .entry(id)
                    .or_insert_with(|| case_key(&member.user.username));
                (*theirs == key).then_some(id)
            })
        });
        if let Some(id) = hit
            && !found.contains(&id)
        {
            found.push(id);
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
        let mut messages = self.store().mentions_of(caller, before, limit).await?;
        let order: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        // Decorated a conversation at a time, as history is.
        let mut conversations: Vec<ConversationId> = Vec::new();
        for message in &messages {
            if !conversations.contains(&message.conversation_id) {
                conversations.push(message.conversation_id);
            }
        }
        let mut found: HashMap<MessageId, (ConversationDetail, Message)> = HashMap::new();
        for id in conversations {
            // A conversation left since the mentions were read is left out.
            let detail = self.store().conversation_for(caller, id).await?;
            let (mut here, rest): (Vec<Message>, Vec<Message>) =
                messages.into_iter().partition(|m| m.conversation_id == id);
            messages = rest;
            let Some(detail) = detail else { continue };
            self.decorate(caller, &mut here).await?;
            for message in here {
                found.insert(message.id, (detail.clone(), message));
            }
        }
        Ok(order.iter().filter_map(|id| found.remove(id)).collect())
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

    #[test]
    fn names_after_an_at_sign_at_word_boundaries_are_mentions() {
        let group = members(&["me", "bob", "ann", "ann lee", "Ärger", "İlke", "straße"]);
        let me = UserId(1);
        let cases: [(&str, &[i64]); 12] = [
            ("hi @bob", &[2]),
            ("@BOB, see this", &[2]),
            ("@bobby is not bob", &[]),
            ("mail bob@example.com", &[]),
            ("@ann lee and @ann", &[4, 3]),
            ("(@ann)", &[3]),
            ("@me talking to myself", &[]),
            ("@ärger and @Ärger", &[5]),
            // Turkish dotted capital I folds to i without the dot, as logins compare it.
            ("@ilke", &[6]),
            // ß folds to ss when it is the same length in characters only.
            ("@STRASSE", &[]),
            ("@Straße!", &[7]),
            ("@bob @bob @bob", &[2]),
        ];
        for (text, expected) in cases {
            assert_eq!(ids(mentioned(text, &group, me)), expected, "{text}");
        }
    }

    #[test]
    fn the_work_is_bounded() {
        let group = members(&["me", "bob"]);
        let flood = "@".repeat(100_000);
        assert!(mentioned(&flood, &group, UserId(1)).is_empty());
        let many: Vec<Member> = (0..2000)
            .map(|i| members(&[&format!("user{i}")]).remove(0))
            .enumerate()
            .map(|(i, mut m)| {
                m.user.id = UserId(i as i64 + 10);
                m
            })
            .collect();
        let text: String = (0..2000).map(|i| format!("@user{i} ")).collect();
        assert_eq!(mentioned(&text, &many, UserId(1)).len(), MAX_MENTIONS);
    }
}
