//! Search across conversations in memory: web search syntax over words made of letters and
//! digits, compared lowercased (as PostgreSQL's `simple` configuration does), ranked by how
//! often the wanted terms occur.

use crate::{ExcerptPart, Message, SearchHit, TextSearch, UserId};

use super::state::State;

/// One term of a query: a word or a quoted phrase (words in order), perhaps negated.
#[derive(Debug, PartialEq)]
struct Term {
    words: Vec<String>,
    negated: bool,
}

/// A parsed query: every group must hold, and a group holds when any of its terms does.
#[derive(Debug, PartialEq)]
struct Query(Vec<Vec<Term>>);

/// The words of a text, lowercased, with their byte ranges.
fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, c.is_alphanumeric()) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                found.push((from, at, text[from..at].to_lowercase()));
                start = None;
            }
            _ => {}
        }
    }
    found
}

impl Query {
    /// Reads web search syntax: `"phrase"`, `-term`, `a or b`; anything else separates words.
    fn parse(raw: &str) -> Query {
        let mut groups: Vec<Vec<Term>> = Vec::new();
        let mut join_next = false;
        for raw_term in crate::search::raw_terms(raw) {
            if raw_term.is_or() {
                join_next = !groups.is_empty();
                continue;
            }
            let words: Vec<String> = words(raw_term.text)
                .into_iter()
                .map(|(_, _, w)| w)
                .collect();
            if words.is_empty() {
                continue;
            }
            let term = Term {
                words,
                negated: raw_term.negated,
            };
            match groups.last_mut() {
                Some(group) if join_next => group.push(term),
                _ => groups.push(vec![term]),
            }
            join_next = false;
        }
        Query(groups)
    }

    /// How many times the wanted terms occur in `text`, or `None` when it does not match.
    fn rank(&self, text: &[String]) -> Option<f32> {
        if self.0.is_empty() {
            return None;
        }
        let mut occurrences = 0_usize;
        for group in &self.0 {
            let mut holds = false;
            for term in group {
                let count = text
                    .windows(term.words.len())
                    .filter(|w| *w == term.words.as_slice())
                    .count();
                holds |= (count > 0) != term.negated;
                if !term.negated {
                    occurrences += count;
                }
            }
            if !holds {
                return None;
            }
        }
        Some(occurrences as f32)
    }

    /// Whether `word` is one the query looks for.
    fn wants(&self, word: &str) -> bool {
        self.0
            .iter()
            .flatten()
            .any(|t| !t.negated && t.words.iter().any(|w| w == word))
    }
}

/// The whole text, its wanted words marked.
fn excerpt(query: &Query, text: &str) -> Vec<ExcerptPart> {
    let mut parts: Vec<ExcerptPart> = Vec::new();
    let mut push = |piece: &str, matched: bool| {
        if piece.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.matched == matched => last.text.push_str(piece),
            _ => parts.push(ExcerptPart {
                text: piece.to_owned(),
                matched,
            }),
        }
    };
    let mut at = 0;
    for (from, to, word) in words(text) {
        if query.wants(&word) {
            push(&text[at..from], false);
            push(&text[from..to], true);
            at = to;
        }
    }
    push(&text[at..], false);
    parts
}

impl State {
    pub(super) fn search_text(&self, viewer: UserId, search: &TextSearch) -> Vec<SearchHit> {
        let query = Query::parse(search.query.as_str());
        let wanted = |m: &Message| {
            search.conversation.is_none_or(|c| c == m.conversation_id)
                && search.sender.is_none_or(|s| s == m.sender_id)
                && search
                    .before
                    .is_none_or(|t| m.created_at.timestamp_millis() < t.timestamp_millis())
                && search
                    .after
                    .is_none_or(|t| m.created_at.timestamp_millis() > t.timestamp_millis())
                && self.is_member(m.conversation_id, viewer)
        };
        let mut hits: Vec<SearchHit> = self
            .messages
            .values()
            .filter(|stored| !stored.deleted && wanted(&stored.message))
            .filter_map(|stored| {
                let message = &stored.message;
                let text: Vec<String> = words(&message.content)
                    .into_iter()
                    .map(|(_, _, w)| w)
                    .collect();
                let rank = query.rank(&text)?;
                Some(SearchHit {
                    message: message.clone(),
                    rank,
                    excerpt: excerpt(&query, &message.content),
                })
            })
            .filter(|hit| {
                search
                    .cursor
                    .is_none_or(|c| c.precedes(hit.rank, hit.message.id))
            })
            .collect();
        hits.sort_by(|a, b| {
            b.rank
                .total_cmp(&a.rank)
                .then(b.message.id.cmp(&a.message.id))
        });
        hits.truncate(search.limit as usize);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(words: &[&str], negated: bool) -> Term {
        Term {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            negated,
        }
    }

    #[test]
    fn web_search_syntax() {
        let parsed = Query::parse(r#"Lunch "at noon" -pizza or Salad OR"#);
        assert_eq!(
            parsed,
            Query(vec![
                vec![term(&["lunch"], false)],
                vec![term(&["at", "noon"], false)],
                vec![term(&["pizza"], true), term(&["salad"], false)],
            ])
        );
        assert_eq!(Query::parse("or or !!!"), Query(vec![]));
    }

    #[test]
    fn ranks_and_marks_the_wanted_words() {
        let query = Query::parse("fox -cat");
        let text = |s: &str| -> Vec<String> { words(s).into_iter().map(|(_, _, w)| w).collect() };
        assert_eq!(query.rank(&text("The fox, the FOX!")), Some(2.0));
        assert_eq!(query.rank(&text("fox and cat")), None);
        assert_eq!(query.rank(&text("foxes")), None);
        let parts = excerpt(&query, "A Fox.");
        let texts: Vec<(&str, bool)> = parts.iter().map(|p| (p.text.as_str(), p.matched)).collect();
        assert_eq!(texts, [("A ", false), ("Fox", true), (".", false)]);
    }
}
