//! Search across every conversation a user belongs to: words, ranked, with excerpts.
//!
//! The query follows web search syntax (PostgreSQL's `websearch_to_tsquery`): words are all
//! required, `"quoted words"` must appear in that order, `-word` must not appear, and `or`
//! between two terms takes either. The PostgreSQL store ranks by cover density
//! (`ts_rank_cd`) and cuts excerpts with `ts_headline`; the in-memory store follows the same
//! syntax over words made of letters and digits, and ranks by how often the terms occur.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{
    ChatError, ChatService, ConversationDetail, ConversationId, EventSink, Message, MessageId,
    SearchQuery, Store, UserId,
};

/// Marks where a matched word starts in the excerpt text a store returns (U+0001, which no
/// message may contain: [`crate::MessageBody`] refuses control characters).
pub const MATCH_START: char = '\u{1}';
/// Marks where a matched word ends (U+0002).
pub const MATCH_END: char = '\u{2}';

/// A search across conversations, validated: the words to find, optional filters, and where
/// the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSearch {
    /// The words, in web search syntax.
    pub query: SearchQuery,
    /// Only this conversation (which the caller must belong to).
    pub conversation: Option<ConversationId>,
    /// Only messages this user sent.
    pub sender: Option<UserId>,
    /// Only messages sent strictly before this instant, compared to the millisecond (as the
    /// API shows times, so that a message's own `createdAt` excludes it).
    pub before: Option<DateTime<Utc>>,
    /// Only messages sent strictly after this instant, compared to the millisecond.
    pub after: Option<DateTime<Utc>>,
    /// Only hits that come after this one in the ranking (the last hit of the previous page).
    pub cursor: Option<SearchCursor>,
    /// The most hits to return.
    pub limit: u32,
}

/// A place in a ranking: hits are ordered by rank, highest first, then by id, newest first;
/// a cursor names the last hit of a page, and the next page starts after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchCursor {
    /// The hit's rank.
    pub rank: f32,
    /// The hit's message id.
    pub id: MessageId,
}

impl SearchCursor {
    /// The cursor of a hit.
    pub fn of(hit: &SearchHit) -> Self {
        SearchCursor {
            rank: hit.rank,
            id: hit.message.id,
        }
    }

    /// The opaque text clients pass back: the rank's bits in hex, a dot, the id (exact, so the
    /// next page starts exactly after this hit).
    pub fn encode(self) -> String {
        format!("{:08x}.{}", self.rank.to_bits(), self.id.get())
    }

    /// Reads a cursor given back by a client (`field` names it in errors).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ChatError> {
        let bad = || ChatError::invalid(field, "is not a cursor this server returned");
        let (bits, id) = raw.split_once('.').ok_or_else(bad)?;
        if bits.len() != 8 {
            return Err(bad());
        }
        let rank = f32::from_bits(u32::from_str_radix(bits, 16).map_err(|_| bad())?);
        let id: i64 = id.parse().map_err(|_| bad())?;
        if !rank.is_finite() || rank < 0.0 || id < 1 {
            return Err(bad());
        }
        Ok(SearchCursor {
            rank,
            id: MessageId(id),
        })
    }

    /// Whether a hit of `rank` and `id` comes after this cursor in the ranking.
    pub fn precedes(self, rank: f32, id: MessageId) -> bool {
        rank < self.rank || (rank == self.rank && id < self.id)
    }
}

/// One piece of an excerpt: text as written, and whether it is a match. Clients render the
/// pieces in order (as text, never as markup), emphasising the matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExcerptPart {
    /// The text.
    #[cfg_attr(feature = "openapi", schema(examples("lunch")))]
    pub text: String,
    /// Whether the text matched a search term.
    #[serde(rename = "match")]
    pub matched: bool,
}

/// Splits excerpt text whose matches are wrapped in [`MATCH_START`] and [`MATCH_END`] into
/// parts; neighbouring parts never share a kind, and no part is empty.
pub fn excerpt_parts(marked: &str) -> Vec<ExcerptPart> {
    let mut parts: Vec<ExcerptPart> = Vec::new();
    let mut matched = false;
    for piece in marked.split([MATCH_START, MATCH_END]) {
        if !piece.is_empty() {
            match parts.last_mut() {
                Some(last) if last.matched == matched => last.text.push_str(piece),
                _ => parts.push(ExcerptPart {
                    text: piece.to_owned(),
                    matched,
                }),
            }
        }
        // Every separator toggles: the store never nests marks.
        matched = !matched;
    }
    parts
}

/// A message that matches a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The message, as history shows it.
    pub message: Message,
    /// How well it matches (higher is better; only comparable within one search).
    pub rank: f32,
    /// The part of its text around the matches.
    pub excerpt: Vec<ExcerptPart>,
}

/// One term of a query in web search syntax, as written: a word or a `"quoted phrase"`,
/// perhaps negated (`-word`). An unquoted `or` is a term here too; readers treat it as the
/// operator.
pub(crate) struct RawTerm<'a> {
    /// The term's text, without its quotes or its `-`.
    pub(crate) text: &'a str,
    /// Whether it was quoted.
    pub(crate) quoted: bool,
    /// Whether it was negated.
    pub(crate) negated: bool,
}

impl RawTerm<'_> {
    /// Whether this is the operator `or`.
    pub(crate) fn is_or(&self) -> bool {
        !self.quoted && !self.negated && self.text.eq_ignore_ascii_case("or")
    }
}

/// The terms of a query in web search syntax, in order.
pub(crate) fn raw_terms(raw: &str) -> impl Iterator<Item = RawTerm<'_>> {
    let mut rest = raw.trim_start();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let negated = rest.starts_with('-');
        if negated {
            rest = &rest[1..];
        }
        let (text, quoted, after) = match rest.strip_prefix('"') {
            Some(inner) => {
                let end = inner.find('"').unwrap_or(inner.len());
                (&inner[..end], true, inner.get(end + 1..).unwrap_or(""))
            }
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], false, &rest[end..])
            }
        };
        rest = after.trim_start();
        Some(RawTerm {
            text,
            quoted,
            negated,
        })
    })
}

/// Whether a query in web search syntax looks for at least one word: a term that is not
/// negated (`-word`, `-"a phrase"`) and holds a letter or a digit. A query of negations alone
/// matches nearly everything, and ranking nearly everything is what makes a search slow.
pub(crate) fn wants_a_word(raw: &str) -> bool {
    raw_terms(raw).any(|term| {
        !term.negated
            && !term.text.eq_ignore_ascii_case("or")
            && term.text.chars().any(char::is_alphanumeric)
    })
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// The matches, best first, each with its conversation as the caller sees it.
    pub hits: Vec<(ConversationDetail, SearchHit)>,
    /// Where the next page starts, or `None` when this page is the last.
    pub next: Option<SearchCursor>,
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// The caller's messages that match a search, best first. A `conversation` filter naming
    /// a conversation the caller does not belong to is "not found", as everywhere else.
    pub async fn search_everywhere(
        &self,
        caller: UserId,
        search: &TextSearch,
    ) -> Result<SearchResults, ChatError> {
        if !wants_a_word(search.query.as_str()) {
            return Err(ChatError::invalid(
                "q",
                "must contain a word to find (not only -words)",
            ));
        }
        if let Some(conversation) = search.conversation {
            self.member_view(caller, conversation).await?;
        }
        let hits = self.store().search_text(caller, search).await?;
        // A full page may have more after it; the cursor is the store's last hit, even if
        // its conversation is left out below (left since the search read it).
        let next = hits
            .last()
            .filter(|_| hits.len() >= search.limit as usize)
            .map(SearchCursor::of);
        let mut ranks: HashMap<MessageId, (f32, Vec<ExcerptPart>)> = hits
            .iter()
            .map(|hit| (hit.message.id, (hit.rank, hit.excerpt.clone())))
            .collect();
        let messages = hits.into_iter().map(|hit| hit.message).collect();
        let decorated = self.decorate_across(caller, messages).await?;
        let hits = decorated
            .into_iter()
            .filter_map(|(detail, message)| {
                let (rank, excerpt) = ranks.remove(&message.id)?;
                Some((
                    detail,
                    SearchHit {
                        message,
                        rank,
                        excerpt,
                    },
                ))
            })
            .collect();
        Ok(SearchResults { hits, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_exactly_and_refuse_anything_else() {
        for rank in [0.0_f32, 0.1, 1.0 / 3.0, 123.456, f32::MAX] {
            let cursor = SearchCursor {
                rank,
                id: MessageId(42),
            };
            assert_eq!(
                SearchCursor::parse("cursor", &cursor.encode()).ok(),
                Some(cursor)
            );
        }
        let nan = format!("{:08x}.1", f32::NAN.to_bits());
        let negative = format!("{:08x}.1", (-1.0_f32).to_bits());
        for bad in [
            "",
            "1",
            "3dcccccd",
            "3dcccccd.",
            "3dcccccd.0",
            "3dcccccd.-4",
            "xyz.1",
        ] {
            assert!(SearchCursor::parse("cursor", bad).is_err(), "{bad}");
        }
        assert!(SearchCursor::parse("cursor", &nan).is_err());
        assert!(SearchCursor::parse("cursor", &negative).is_err());
    }

    #[test]
    fn the_ranking_continues_after_a_cursor() {
        let cursor = SearchCursor {
            rank: 0.5,
            id: MessageId(10),
        };
        assert!(cursor.precedes(0.4, MessageId(99)));
        assert!(cursor.precedes(0.5, MessageId(9)));
        assert!(!cursor.precedes(0.5, MessageId(10)));
        assert!(!cursor.precedes(0.6, MessageId(1)));
    }

    #[test]
    fn a_query_must_want_a_word() {
        for wanted in [
            "lunch",
            "-pizza lunch",
            "\"at noon\"",
            "-a or b",
            "ÉCOLE",
            "x<y",
        ] {
            assert!(wants_a_word(wanted), "{wanted}");
        }
        for unwanted in ["-pizza", "-\"at noon\" -x", "or", "!!! ...", "- -", ""] {
            assert!(!wants_a_word(unwanted), "{unwanted}");
        }
    }

    #[test]
    fn excerpts_split_at_the_marks() {
        let marked = "say \u{1}hello\u{2} and \u{1}hello\u{2}\u{1}again\u{2}";
        let parts = excerpt_parts(marked);
        let plain = |text: &str| ExcerptPart {
            text: text.into(),
            matched: false,
        };
        let hit = |text: &str| ExcerptPart {
            text: text.into(),
            matched: true,
        };
        assert_eq!(
            parts,
            [
                plain("say "),
                hit("hello"),
                plain(" and "),
                hit("helloagain")
            ]
        );
        assert_eq!(excerpt_parts("no match"), [plain("no match")]);
        assert!(excerpt_parts("").is_empty());
    }
}
