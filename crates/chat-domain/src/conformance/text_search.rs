//! Search across conversations: only the caller's conversations, web search syntax, filters,
//! edits and deletes reflected, excerpts, and cursor pages that neither skip nor repeat.

use super::{ALICE, BOB, CAROL, assert_not_found, say, setup};
use crate::{ConversationId, Entity, Limits, MessageId, SearchQuery, Store, TextSearch, UserId};

fn search(q: &str) -> TextSearch {
    TextSearch {
        query: SearchQuery::parse(q, &Limits::default()).unwrap(),
        conversation: None,
        sender: None,
        before: None,
        after: None,
        cursor: None,
        limit: 20,
    }
}

/// The texts found for `caller`, sorted (ranking is tested on PostgreSQL, where it is
/// defined).
async fn found<S: Store>(
    service: &super::Service<S>,
    caller: UserId,
    search: &TextSearch,
) -> Vec<String> {
    let mut texts: Vec<String> = service
        .search_everywhere(caller, search)
        .await
        .unwrap()
        .hits
        .into_iter()
        .map(|(_, hit)| hit.message.content)
        .collect();
    texts.sort();
    texts
}

pub async fn text_search_finds_only_the_callers_conversations<S: Store>(store: S) {
    let (service, _) = setup(store.clone()).await;
    let with_bob = say(&service, ALICE, BOB, "Lunch at noon?").await;
    say(&service, CAROL, ALICE, "lunch tomorrow instead").await;
    let theirs = say(&service, BOB, CAROL, "secret lunch plans").await;
    say(&service, BOB, ALICE, "noon works").await;

    assert_eq!(
        found(&service, ALICE, &search("LUNCH")).await,
        ["Lunch at noon?", "lunch tomorrow instead"]
    );
    assert_eq!(
        found(&service, CAROL, &search("lunch")).await,
        ["lunch tomorrow instead", "secret lunch plans"]
    );
    assert!(found(&service, ALICE, &search("secret")).await.is_empty());
    // The store itself scopes the search (the service checks again).
    assert!(
        store
            .search_text(ALICE, &search("secret"))
            .await
            .unwrap()
            .is_empty()
    );

    let in_one = TextSearch {
        conversation: Some(with_bob),
        ..search("lunch or noon")
    };
    assert_eq!(
        found(&service, ALICE, &in_one).await,
        ["Lunch at noon?", "noon works"]
    );
    let by_bob = TextSearch {
        sender: Some(BOB),
        ..search("noon")
    };
    assert_eq!(found(&service, ALICE, &by_bob).await, ["noon works"]);
    // Another's conversation, named outright, is not found (as if it did not exist).
    for conversation in [theirs, ConversationId(i64::MAX)] {
        let elsewhere = TextSearch {
            conversation: Some(conversation),
            ..search("lunch")
        };
        assert_not_found(
            service.search_everywhere(ALICE, &elsewhere).await,
            Entity::Conversation,
        );
    }
}

pub async fn text_search_follows_web_search_syntax<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    for text in [
        "the quick brown fox",
        "a brown and quick fox",
        "the lazy dog",
        "one quick cat",
    ] {
        say(&service, ALICE, BOB, text).await;
    }
    let cases: [(&str, &[&str]); 6] = [
        (
            "fox quick",
            &["a brown and quick fox", "the quick brown fox"],
        ),
        ("\"quick brown\"", &["the quick brown fox"]),
        ("quick -fox", &["one quick cat"]),
        ("dog or cat", &["one quick cat", "the lazy dog"]),
        (
            "\"brown fox\" or lazy",
            &["the lazy dog", "the quick brown fox"],
        ),
        ("qui", &[]),
    ];
    for (q, expected) in cases {
        assert_eq!(found(&service, BOB, &search(q)).await, expected, "{q}");
    }
    // A query of negations alone would rank nearly everything: refused, naming `q`.
    for negations in ["-fox", "!!! ..."] {
        let refused = service.search_everywhere(BOB, &search(negations)).await;
        assert!(
            matches!(refused, Err(crate::ChatError::Invalid { field: "q", .. })),
            "{negations}: {refused:?}"
        );
    }
}

pub async fn text_search_sees_edits_deletes_and_time_filters<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let first = service
        .send_message(super::send(ALICE, BOB, "meeting on monday"))
        .await
        .unwrap()
        .message;
    let second = service
        .send_message(super::send(ALICE, BOB, "meeting on tuesday"))
        .await
        .unwrap()
        .message;
    service
        .edit_message(ALICE, first.id, "meeting on friday".into())
        .await
        .unwrap();
    assert!(found(&service, BOB, &search("monday")).await.is_empty());
    assert_eq!(
        found(&service, BOB, &search("friday")).await,
        ["meeting on friday"]
    );
    let hour = chrono::TimeDelta::hours(1);
    let window = |before, after| TextSearch {
        before,
        after,
        ..search("meeting")
    };
    let since_an_hour = window(None, Some(first.created_at - hour));
    assert_eq!(found(&service, BOB, &since_an_hour).await.len(), 2);
    let within = window(
        Some(second.created_at + hour),
        Some(first.created_at - hour),
    );
    assert_eq!(found(&service, BOB, &within).await.len(), 2);
    assert!(
        found(&service, BOB, &window(Some(first.created_at - hour), None))
            .await
            .is_empty()
    );
    assert!(
        found(&service, BOB, &window(None, Some(second.created_at + hour)))
            .await
            .is_empty()
    );
    // To the millisecond: a message's own time is neither before nor after it.
    let at_first = window(Some(first.created_at), None);
    assert!(
        !found(&service, BOB, &at_first)
            .await
            .contains(&"meeting on friday".to_owned())
    );
    let at_second = window(None, Some(second.created_at));
    assert!(
        !found(&service, BOB, &at_second)
            .await
            .contains(&"meeting on tuesday".to_owned())
    );
    service.delete_message(ALICE, second.id).await.unwrap();
    assert_eq!(
        found(&service, BOB, &search("meeting")).await,
        ["meeting on friday"]
    );
}

pub async fn text_search_pages_by_cursor_and_marks_the_matches<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    for i in 0..23 {
        let text = if i % 5 == 0 {
            format!("Report {i}: the report of reports, report")
        } else {
            format!("Report {i}")
        };
        say(&service, ALICE, BOB, &text).await;
    }
    let mut seen: Vec<MessageId> = Vec::new();
    let mut ranks: Vec<f32> = Vec::new();
    let mut request = TextSearch {
        limit: 10,
        ..search("report")
    };
    let mut pages = 0;
    loop {
        let page = service.search_everywhere(BOB, &request).await.unwrap();
        pages += 1;
        for (_, hit) in &page.hits {
            seen.push(hit.message.id);
            ranks.push(hit.rank);
            let marked: Vec<&str> = hit
                .excerpt
                .iter()
                .filter(|p| p.matched)
                .map(|p| p.text.as_str())
                .collect();
            assert!(marked.contains(&"Report"), "{:?}", hit.excerpt);
            assert!(!marked.contains(&"reports"), "{:?}", hit.excerpt);
            let text: String = hit.excerpt.iter().map(|p| p.text.as_str()).collect();
            assert!(hit.message.content.contains(text.trim()), "{text}");
        }
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
        assert!(pages < 5, "the pages never end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 23);
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 23, "a hit came twice");
    // Best first: the five that say it four times lead, in a non-increasing ranking.
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    assert!(ranks[4] > ranks[5], "{ranks:?}");
}
