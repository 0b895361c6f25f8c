//! Groups at the edges of membership: every port called by a stranger and by a member
//! removed a moment ago, and what a reader's replay (recovery, sync) holds of a group they
//! joined or left while away.

use super::groups::{post, team};
use super::*;
use crate::{GroupChange, MessageId, StreamScope, StreamToken};

pub async fn a_removed_member_gets_nothing_from_any_port<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let id = team(&service, &[BOB, CAROL]).await;
    let kept = service
        .send_message(post(ALICE, id, "before"))
        .await
        .unwrap()
        .message;
    let before_removal = store.stream_head().await.unwrap();
    store
        .open_session("carol-1", CAROL, "s1", before_removal)
        .await
        .unwrap();
    store
        .join_session("carol-1", id, before_removal)
        .await
        .unwrap();
    service
        .change_group(ALICE, id, GroupChange::RemoveMember(CAROL))
        .await
        .unwrap();
    service.send_message(post(BOB, id, "after")).await.unwrap();
    events.take();
    outsider_sees_nothing(&store, CAROL, id, kept.id, before_removal).await;
    let window = std::time::Duration::from_secs(60);
    let claimed = store
        .claim_session("carol-1", CAROL, "s2", window)
        .await
        .unwrap();
    let claimed = claimed.unwrap();
    assert_eq!(
        (claimed.rooms, claimed.left),
        (Vec::new(), vec![(id, before_removal)]),
        "a recovered session does not get back the room of a group its user left"
    );
    assert_not_found(
        service.send_message(post(CAROL, id, "still here?")).await,
        Entity::Conversation,
    );
    assert_eq!(service.unread_count(CAROL).await.unwrap(), 0);
}

pub async fn a_stranger_gets_nothing_from_any_port<S: Store>(store: S) {
    let (service, _events) = setup(store.clone()).await;
    let start = store.stream_head().await.unwrap();
    let direct = say(&service, ALICE, BOB, "private").await;
    let group = team(&service, &[BOB]).await;
    let in_group = service
        .send_message(post(BOB, group, "group secret"))
        .await
        .unwrap()
        .message;
    let in_direct = service
        .messages(ALICE, direct, MessageWindow::Page(page(1, 1)))
        .await
        .unwrap()
        .messages;
    outsider_sees_nothing(&store, CAROL, group, in_group.id, start).await;
    outsider_sees_nothing(&store, CAROL, direct, in_direct[0].id, start).await;
}

/// Every port that names a conversation, called by someone outside it.
async fn outsider_sees_nothing<S: Store>(
    store: &S,
    outsider: UserId,
    id: ConversationId,
    message: MessageId,
    since: StreamToken,
) {
    assert!(
        store
            .conversation_for(outsider, id)
            .await
            .unwrap()
            .is_none()
    );
    let window = MessageWindow::Page(page(1, 50));
    assert!(
        store
            .messages(outsider, id, window)
            .await
            .unwrap()
            .is_empty()
    );
    let query = SearchQuery::parse("e", &Limits::default()).unwrap();
    let found = store
        .search_messages(outsider, id, &query, page(1, 50))
        .await;
    assert!(found.unwrap().items.is_empty());
    assert!(
        store
            .message(outsider, id, message)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.mark_read(outsider, id).await.unwrap().is_none());
    assert!(
        store
            .delete_message(outsider, message)
            .await
            .unwrap()
            .is_none()
    );
    let change = GroupChange::AddMembers(vec![outsider]);
    assert!(
        store
            .change_group(outsider, id, change)
            .await
            .unwrap()
            .is_none()
    );
    let appended = store
        .append_message(crate::ports::NewMessage {
            conversation_id: id,
            sender_id: outsider,
            content: MessageBody::parse("x", &Limits::default()).unwrap(),
            attachment_url: None,
            client_message_id: None,
            reply_to: None,
            forwarded_from: None,
            mentions: Vec::new(),
        })
        .await;
    assert!(appended.unwrap().is_none());
    let scope = StreamScope {
        rooms: vec![(id, since)],
        others: Some(since),
    };
    let head = store.stream_head().await.unwrap();
    let replay = store
        .stream_for(outsider, &scope, head, 1000)
        .await
        .unwrap();
    // A member removed since `since` reads their own removal; nothing else of it, nor anyone.
    assert!(
        replay.iter().all(|e| e.conversation_id() != id
            || matches!(&e.event, ChatEvent::MemberRemoved(m) if m.member.id == outsider)),
        "{replay:?}"
    );
    let unread = store.unread_by_conversation(outsider).await.unwrap();
    assert!(unread.iter().all(|u| u.conversation_id != id));
}

/// The events of `reader`'s conversations after `since`, as recovery and sync read them.
async fn replay_for<S: Store>(store: &S, reader: UserId, since: StreamToken) -> Vec<ChatEvent> {
    let scope = StreamScope {
        rooms: Vec::new(),
        others: Some(since),
    };
    let head = store.stream_head().await.unwrap();
    let events = store.stream_for(reader, &scope, head, 1000).await.unwrap();
    events.into_iter().map(|e| e.event).collect()
}

fn sent_text(event: &ChatEvent) -> Option<&str> {
    match event {
        ChatEvent::MessageSent(sent) => Some(sent.message.content.as_str()),
        _ => None,
    }
}

pub async fn a_member_removed_while_away_replays_up_to_the_removal<S: Store>(store: S) {
    let (service, _events) = setup(store.clone()).await;
    let id = team(&service, &[BOB, CAROL]).await;
    let away = store.stream_head().await.unwrap();
    service
        .send_message(post(BOB, id, "while a member"))
        .await
        .unwrap();
    service
        .change_group(ALICE, id, GroupChange::RemoveMember(CAROL))
        .await
        .unwrap();
    service
        .send_message(post(BOB, id, "after she left"))
        .await
        .unwrap();
    let replayed = replay_for(&store, CAROL, away).await;
    assert_eq!(replayed.len(), 2, "{replayed:?}");
    assert_eq!(sent_text(&replayed[0]), Some("while a member"));
    assert!(
        matches!(&replayed[1], ChatEvent::MemberRemoved(m) if m.member.id == CAROL),
        "she learns of her removal, and nothing after it: {replayed:?}"
    );
    let head = store.stream_head().await.unwrap();
    assert!(replay_for(&store, CAROL, head).await.is_empty());
}

pub async fn a_member_added_while_away_replays_from_the_addition_and_has_read_the_past<S: Store>(
    store: S,
) {
    let (service, _events) = setup(store.clone()).await;
    let away = store.stream_head().await.unwrap();
    let id = team(&service, &[BOB]).await;
    service
        .send_message(post(BOB, id, "before carol"))
        .await
        .unwrap();
    service
        .change_group(ALICE, id, GroupChange::AddMembers(vec![CAROL]))
        .await
        .unwrap();
    service
        .send_message(post(BOB, id, "welcome carol"))
        .await
        .unwrap();
    let replayed = replay_for(&store, CAROL, away).await;
    assert_eq!(
        replayed.len(),
        2,
        "nothing from before she joined: {replayed:?}"
    );
    assert!(
        matches!(&replayed[0], ChatEvent::MemberAdded(m) if m.member.id == CAROL),
        "{replayed:?}"
    );
    assert_eq!(sent_text(&replayed[1]), Some("welcome carol"));
    assert_eq!(
        service.unread_count(CAROL).await.unwrap(),
        1,
        "what was sent before she joined does not count as unread"
    );
}
