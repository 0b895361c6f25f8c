//! One batch of first contacts, committed directly (no lane, so what shares a transaction is
//! decided by the test, not by timing), and many at once through the lane.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chat_domain::{
    ChatError, ConversationDetail, ConversationRepo, DirectPair, Entity, UpsertUser, UserId,
    UserRepo, Username,
};
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use tokio::sync::oneshot;

use super::{Opening, commit};
use crate::PgStore;
use crate::test_support::TestDatabase;

async fn users(store: &PgStore, ids: impl IntoIterator<Item = i64>) {
    for id in ids {
        store
            .upsert_user(UpsertUser {
                id: UserId(id),
                username: Username::parse(format!("user{id}")).unwrap(),
                display_name: None,
                avatar_url: None,
            })
            .await
            .unwrap();
    }
}

fn pair(a: i64, b: i64) -> DirectPair {
    DirectPair::new(UserId(a), UserId(b)).unwrap()
}

/// Commits `pairs` as one batch and returns each caller's answer, in order.
async fn open_batch(
    db: &TestDatabase,
    pairs: &[DirectPair],
) -> Vec<Result<ConversationDetail, ChatError>> {
    let mut conn = crate::pool::connect(db.url(), "chat").await.unwrap();
    let mut answers = Vec::new();
    let mut batch = Vec::new();
    for &pair in pairs {
        let (reply, answer) = oneshot::channel();
        batch.push(Opening { pair, reply });
        answers.push(answer);
    }
    commit(&mut conn, &mut batch).await.unwrap();
    assert!(batch.is_empty(), "every caller is answered");
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.expect("an answer for every caller"));
    }
    results
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows of `table` (conversations or conversation_members).
async fn count(db: &TestDatabase, table: &str) -> i64 {
    let mut conn = crate::pool::connect(db.url(), "chat").await.unwrap();
    let row: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result(&mut conn)
        .await
        .unwrap();
    row.n
}

fn members(detail: &ConversationDetail) -> Vec<(i64, String)> {
    detail
        .members
        .iter()
        .map(|m| (m.user.id.get(), m.user.username.clone()))
        .collect()
}

#[tokio::test]
async fn a_batch_finds_creates_and_refuses_each_pair_on_its_own() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    users(&store, [1, 2, 3, 4]).await;
    let known = store.direct_conversation(pair(1, 2)).await.unwrap();

    let results = open_batch(
        &db,
        &[
            pair(3, 4),
            pair(2, 1),
            pair(1, 99),
            pair(4, 3),
            pair(1, 3),
            pair(3, 4),
        ],
    )
    .await;
    let id = |i: usize| results[i].as_ref().unwrap().conversation.id;
    assert_eq!(id(1), known.conversation.id, "a known pair is found");
    assert_eq!(id(0), id(3), "one conversation per pair, either way round");
    assert_eq!(id(0), id(5));
    assert_ne!(id(0), id(4));
    assert_ne!(id(0), known.conversation.id);
    assert!(
        matches!(
            &results[2],
            Err(ChatError::NotFound {
                entity: Entity::User
            })
        ),
        "{:?}",
        results[2]
    );
    let created = results[0].as_ref().unwrap();
    assert_eq!(
        members(created),
        vec![(3, "user3".to_owned()), (4, "user4".to_owned())]
    );
    assert_eq!(
        members(results[4].as_ref().unwrap()),
        vec![(1, "user1".to_owned()), (3, "user3".to_owned())]
    );
    assert_eq!(created.conversation.message_count, 0);
    // What the batch answered is what is stored, and the missing user's pair wrote nothing.
    let stored = store
        .find_direct_conversation(pair(3, 4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&stored, created);
    assert_eq!(count(&db, "conversations").await, 3);
    assert_eq!(count(&db, "conversation_members").await, 6);
}

#[tokio::test]
async fn a_batch_of_missing_users_only_writes_nothing() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    users(&store, [1]).await;
    let results = open_batch(&db, &[pair(1, 2), pair(3, 4)]).await;
    for result in &results {
        assert!(
            matches!(
                result,
                Err(ChatError::NotFound {
                    entity: Entity::User
                })
            ),
            "{result:?}"
        );
    }
    assert_eq!(count(&db, "conversations").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_contacts_from_other_runtimes_create_each_pair_once() {
    const USERS: i64 = 12;
    let db = TestDatabase::create().await;
    let store = db.store().await;
    users(&store, 1..=USERS).await;
    // Two threads, each with a runtime of its own (as the HTTP workers have), ask for every
    // pair at once, one in each direction, so that batches mix new pairs, pairs created by
    // the other thread's batch and pairs asked for twice.
    let threads: Vec<_> = [false, true]
        .into_iter()
        .map(|reversed| {
            let store = store.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let asks = (1..=USERS).flat_map(|a| (a + 1..=USERS).map(move |b| (a, b)));
                    let opens = asks.map(|(a, b)| {
                        let (from, to) = if reversed { (b, a) } else { (a, b) };
                        let store = store.clone();
                        async move { (pair(a, b), store.direct_conversation(pair(from, to)).await) }
                    });
                    futures_util::future::join_all(opens).await
                })
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for thread in threads {
        for (pair, result) in thread.join().unwrap() {
            let detail = result.unwrap();
            let ids: Vec<UserId> = detail.members.iter().map(|m| m.user.id).collect();
            assert_eq!(ids, vec![pair.low(), pair.high()]);
            seen.insert((pair, detail.conversation.id));
        }
    }
    let pairs = USERS * (USERS - 1) / 2;
    assert_eq!(
        seen.len(),
        usize::try_from(pairs).unwrap(),
        "one id per pair"
    );
    assert_eq!(count(&db, "conversations").await, pairs);
    assert_eq!(count(&db, "conversation_members").await, 2 * pairs);
}
