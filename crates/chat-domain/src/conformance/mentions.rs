//! Mentions: `@username` resolved against the members when a message is sent, carried by the
//! record and its replay, and listed per user newest first, only from conversations they
//! still belong to and without deleted messages.

use super::groups::{post, team};
use super::{ALICE, BOB, CAROL, send, setup};
use crate::{ChatEvent, GroupChange, Message, MessageId, Store, StreamScope, UserId};

fn texts(found: &[(crate::ConversationDetail, Message)]) -> Vec<&str> {
    found.iter().map(|(_, m)| m.content.as_str()).collect()
}

pub async fn mentions_name_members_and_are_listed_newest_first<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let start = store.stream_head().await.unwrap();
    // Carol is no member of Alice and Bob's conversation: her name is plain text there.
    let direct = service
        .send_message(send(ALICE, BOB, "@BOB and @carol, @alice here"))
        .await
        .unwrap()
        .message;
    assert_eq!(direct.mentions, [BOB]);
    match &events.take()[..] {
        [ChatEvent::MessageSent(sent)] => assert_eq!(sent.message.mentions, [BOB]),
        other => panic!("one new message, got {other:?}"),
    }
    let group = team(&service, &[BOB, CAROL]).await;
    let both = service
        .send_message(post(ALICE, group, "@carol @bob: standup"))
        .await
        .unwrap()
        .message;
    assert_eq!(both.mentions, [CAROL, BOB]);
    let plain = service
        .send_message(post(CAROL, group, "no names here, bob@example.com"))
        .await
        .unwrap()
        .message;
    assert!(plain.mentions.is_empty());
    let gone = service
        .send_message(post(ALICE, group, "@bob (deleted)"))
        .await
        .unwrap()
        .message;
    service.delete_message(ALICE, gone.id).await.unwrap();

    let bobs = service.mentions(BOB, None, 10).await.unwrap();
    assert_eq!(
        texts(&bobs),
        ["@carol @bob: standup", "@BOB and @carol, @alice here"]
    );
    assert_eq!(bobs[0].0.conversation.id, group);
    let older = service.mentions(BOB, Some(bobs[0].1.id), 10).await.unwrap();
    assert_eq!(texts(&older), ["@BOB and @carol, @alice here"]);
    let first = service.mentions(BOB, None, 1).await.unwrap();
    assert_eq!(texts(&first), ["@carol @bob: standup"]);
    assert!(service.mentions(ALICE, None, 10).await.unwrap().is_empty());
    assert!(
        service
            .mentions(BOB, Some(MessageId(1)), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A replay carries the mentions as they were resolved.
    let head = store.stream_head().await.unwrap();
    let everything = StreamScope {
        rooms: Vec::new(),
        others: Some(start),
    };
    let replayed = store
        .stream_for(CAROL, &everything, head, 100)
        .await
        .unwrap();
    let mentioned: Vec<Vec<UserId>> = replayed
        .iter()
        .filter_map(|e| match &e.event {
            ChatEvent::MessageSent(sent) => Some(sent.message.mentions.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(mentioned, [vec![CAROL, BOB], vec![]]);

    // Once Bob leaves the group, its mentions of him are no longer his to list.
    service
        .change_group(BOB, group, GroupChange::RemoveMember(BOB))
        .await
        .unwrap();
    let after = service.mentions(BOB, None, 10).await.unwrap();
    assert_eq!(texts(&after), ["@BOB and @carol, @alice here"]);
}
