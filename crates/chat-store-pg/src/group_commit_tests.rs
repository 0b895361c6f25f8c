//! One batch, committed directly (no lanes, so what shares a transaction is decided by the
//! test, not by timing): seqs, counters, watermarks and the answer of each caller.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use chat_domain::{
    ChatError, ClientMessageId, ConversationId, ConversationRepo, Limits, MessageBody, MessageRepo,
    NewMessage, Seq, UpsertUser, UserId, UserRepo, Username,
};
use tokio::sync::oneshot;

use super::{AppendResult, Pending, commit};
use crate::PgStore;
use crate::test_support::TestDatabase;

async fn user(store: &PgStore, id: i64) -> UserId {
    store
        .upsert_user(UpsertUser {
            id: UserId(id),
            username: Username::parse(format!("user{id}")).unwrap(),
            display_name: None,
            avatar_url: None,
        })
        .await
        .unwrap()
        .id
}

async fn three_users(store: &PgStore) -> (UserId, UserId, UserId) {
    (
        user(store, 1).await,
        user(store, 2).await,
        user(store, 3).await,
    )
}

async fn direct(store: &PgStore, a: UserId, b: UserId) -> ConversationId {
    let pair = chat_domain::DirectPair::new(a, b).unwrap();
    store
        .direct_conversation(pair)
        .await
        .unwrap()
        .conversation
        .id
}

fn message(conversation: ConversationId, sender: UserId, text: &str) -> NewMessage {
    NewMessage {
        conversation_id: conversation,
        sender_id: sender,
        content: MessageBody::parse(text, &Limits::default()).unwrap(),
        attachment_url: None,
        client_message_id: None,
        reply_to: None,
        forwarded_from: None,
        mentions: Vec::new(),
    }
}

fn with_client_id(mut message: NewMessage, id: &str) -> NewMessage {
    message.client_message_id = Some(ClientMessageId::parse(id).unwrap());
    message
}

/// Commits `messages` as one batch and returns each caller's answer, in order.
async fn commit_batch(db: &TestDatabase, messages: Vec<NewMessage>) -> Vec<AppendResult> {
    let mut conn = crate::pool::connect(db.url(), "chat").await.unwrap();
    let mut answers = Vec::new();
    let mut batch = Vec::new();
    for message in messages {
        let (reply, answer) = oneshot::channel();
        batch.push(Pending {
            message,
            outbox: true,
            reply,
        });
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

fn seq_and_text(result: &AppendResult) -> (ConversationId, Seq, String) {
    let message = result.as_ref().unwrap().as_ref().unwrap().message();
    (
        message.conversation_id,
        message.seq,
        message.content.clone(),
    )
}

#[tokio::test]
async fn a_batch_takes_consecutive_seqs_per_conversation_in_queue_order() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let (a, b, c) = three_users(&store).await;
    let ab = direct(&store, a, b).await;
    let ac = direct(&store, a, c).await;
    let results = commit_batch(
        &db,
        vec![
            message(ab, a, "ab1"),
            message(ac, c, "ac1"),
            message(ab, b, "ab2"),
            message(ab, a, "ab3"),
            message(ac, a, "ac2"),
        ],
    )
    .await;
    let got: Vec<_> = results.iter().map(seq_and_text).collect();
    assert_eq!(
        got,
        vec![
            (ab, Seq(1), "ab1".to_owned()),
            (ac, Seq(1), "ac1".to_owned()),
            (ab, Seq(2), "ab2".to_owned()),
            (ab, Seq(3), "ab3".to_owned()),
            (ac, Seq(2), "ac2".to_owned()),
        ]
    );
    let view = store.conversation_for(a, ab).await.unwrap().unwrap();
    assert_eq!(view.conversation.last_seq, Seq(3));
    assert_eq!(view.conversation.message_count, 3);
    assert_eq!(view.conversation.last_message.as_deref(), Some("ab3"));
    assert_eq!(view.member(a).unwrap().last_read_seq, Seq(3));
    assert_eq!(view.member(b).unwrap().last_read_seq, Seq(2));

    // The next batch continues where this one stopped.
    let next = commit_batch(&db, vec![message(ab, b, "ab4")]).await;
    assert_eq!(seq_and_text(&next[0]).1, Seq(4));
}

#[tokio::test]
async fn a_sender_outside_the_conversation_gets_none_and_takes_no_seq() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let (a, b, c) = three_users(&store).await;
    let ab = direct(&store, a, b).await;
    let results = commit_batch(
        &db,
        vec![
            message(ab, a, "one"),
            message(ab, c, "intruder"),
            message(ab, b, "two"),
        ],
    )
    .await;
    assert_eq!(seq_and_text(&results[0]).1, Seq(1));
    assert!(matches!(results[1], Ok(None)), "{:?}", results[1]);
    assert_eq!(seq_and_text(&results[2]).1, Seq(2));
    let view = store.conversation_for(a, ab).await.unwrap().unwrap();
    assert_eq!(view.conversation.message_count, 2);
}

#[tokio::test]
async fn a_reused_client_id_fails_only_its_own_send() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let (a, b) = (user(&store, 1).await, user(&store, 2).await);
    let ab = direct(&store, a, b).await;
    let first = commit_batch(&db, vec![with_client_id(message(ab, a, "x"), "c-1")]).await;
    assert_eq!(seq_and_text(&first[0]).1, Seq(1));

    let results = commit_batch(
        &db,
        vec![
            message(ab, b, "before"),
            with_client_id(message(ab, a, "retry"), "c-1"),
            with_client_id(message(ab, a, "fresh"), "c-2"),
            with_client_id(message(ab, a, "twin"), "c-2"),
        ],
    )
    .await;
    assert_eq!(seq_and_text(&results[0]), (ab, Seq(2), "before".to_owned()));
    assert!(
        matches!(results[1], Err(ChatError::Conflict(_))),
        "{:?}",
        results[1]
    );
    assert_eq!(seq_and_text(&results[2]), (ab, Seq(3), "fresh".to_owned()));
    assert!(
        matches!(results[3], Err(ChatError::Conflict(_))),
        "{:?}",
        results[3]
    );
    // Refused sends consumed no seq: the counters moved by the two stored messages only.
    let view = store.conversation_for(a, ab).await.unwrap().unwrap();
    assert_eq!(view.conversation.last_seq, Seq(3));
    assert_eq!(view.conversation.message_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_from_other_runtimes_share_conversations_without_gaps_or_losses() {
    use chat_domain::MessageRepo;

    const PER_THREAD: usize = 200;
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let (a, b, c) = three_users(&store).await;
    let conversations = [direct(&store, a, b).await, direct(&store, a, c).await];
    // Two threads, each with a runtime of its own (as the HTTP workers have), send into both
    // conversations at once, in opposite orders, so that batches mix them.
    let threads: Vec<_> = [0usize, 1]
        .into_iter()
        .map(|first| {
            let store = store.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let sends = (0..PER_THREAD).map(|i| {
                        let conversation = conversations[(first + i) % 2];
                        store.append_message(message(conversation, a, &format!("{first}-{i}")))
                    });
                    futures_util::future::join_all(sends).await
                })
            })
        })
        .collect();
    let mut seqs: HashMap<ConversationId, Vec<i64>> = HashMap::new();
    for thread in threads {
        for result in thread.join().unwrap() {
            let appended = result.unwrap().expect("a member's send is stored");
            let message = appended.message();
            seqs.entry(message.conversation_id)
                .or_default()
                .push(message.seq.get());
        }
    }
    for conversation in conversations {
        let mut got = seqs.remove(&conversation).unwrap();
        got.sort_unstable();
        let expected: Vec<i64> = (1..=i64::try_from(PER_THREAD).unwrap()).collect();
        assert_eq!(got, expected, "gapless and unique in {conversation:?}");
    }
}

#[tokio::test]
async fn each_message_of_a_batch_keeps_its_own_mentions_and_replies() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let (a, b, c) = three_users(&store).await;
    let ab = direct(&store, a, b).await;
    let ac = direct(&store, a, c).await;
    let first = commit_batch(&db, vec![message(ab, a, "parent")]).await;
    let parent = first[0].as_ref().unwrap().as_ref().unwrap().message().id;
    let mut to_b = message(ab, a, "@b");
    to_b.mentions = vec![b];
    let plain = message(ac, c, "nobody");
    let mut reply = message(ab, b, "@a yes");
    reply.mentions = vec![a];
    reply.reply_to = Some(parent);
    let mut to_c = message(ac, a, "@c");
    to_c.mentions = vec![c];
    let results = commit_batch(&db, vec![to_b, plain, reply, to_c]).await;
    let got: Vec<(String, Vec<UserId>, Option<chat_domain::MessageId>)> = results
        .iter()
        .map(|r| {
            let m = r.as_ref().unwrap().as_ref().unwrap().message();
            (m.content.clone(), m.mentions.clone(), m.reply_to_id)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("@b".to_owned(), vec![b], None),
            ("nobody".to_owned(), vec![], None),
            ("@a yes".to_owned(), vec![a], Some(parent)),
            ("@c".to_owned(), vec![c], None),
        ]
    );
    for (user, expected) in [(a, "@a yes"), (b, "@b"), (c, "@c")] {
        let listed = store.mentions_of(user, None, 10).await.unwrap();
        let texts: Vec<&str> = listed.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, [expected], "{user:?}");
    }
}
