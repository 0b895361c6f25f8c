//! Groups: creation, roles, membership changes, sends and read state (the edges of
//! membership are in `group_scoping`).

use super::*;
use crate::{
    ConversationKind, GroupChange, GroupPatch, GroupTitle, MessageId, NewGroup, Recipient, Role,
};

const DAVE: UserId = UserId(4);

async fn add_dave<S: Store>(service: &Service<S>) {
    service
        .upsert_user(UpsertUser {
            id: DAVE,
            username: Username::parse("dave").unwrap(),
            display_name: None,
            avatar_url: None,
        })
        .await
        .unwrap();
}

fn group(creator: UserId, members: &[UserId], request: Option<&str>) -> NewGroup {
    NewGroup::parse(
        creator,
        "Team",
        members.to_vec(),
        request.map(str::to_owned),
        &Limits::default(),
    )
    .unwrap()
}

pub(super) async fn team<S: Store>(service: &Service<S>, members: &[UserId]) -> ConversationId {
    let created = service.create_group(group(ALICE, members, None)).await;
    created.unwrap().conversation.conversation.id
}

pub(super) fn post(from: UserId, to: ConversationId, text: &str) -> SendMessage {
    SendMessage {
        to: Recipient::Conversation(to),
        ..send(from, from, text)
    }
}

fn roles(detail: &crate::ConversationDetail) -> Vec<(UserId, Role)> {
    detail.members.iter().map(|m| (m.user.id, m.role)).collect()
}

pub async fn a_group_is_created_with_its_owner_and_announced_once<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let created = service
        .create_group(group(ALICE, &[CAROL, BOB, CAROL, ALICE], Some("req-1")))
        .await
        .unwrap();
    assert!(!created.replayed);
    let detail = created.conversation;
    assert_eq!(detail.conversation.kind, ConversationKind::Group);
    assert_eq!(detail.conversation.title.as_deref(), Some("Team"));
    assert_eq!(
        roles(&detail),
        [
            (ALICE, Role::Owner),
            (BOB, Role::Member),
            (CAROL, Role::Member)
        ]
    );
    let announced = events.take();
    assert!(
        matches!(&announced[..], [ChatEvent::ConversationCreated(c)] if c.by == ALICE && c.conversation.members.len() == 3),
        "{announced:?}"
    );
    let again = service
        .create_group(group(ALICE, &[BOB], Some("req-1")))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.conversation.conversation.id, detail.conversation.id);
    assert!(
        events.take().is_empty(),
        "a retried creation announces nothing"
    );
    for member in [ALICE, BOB, CAROL] {
        let listed = service.conversations(member, page(1, 10)).await.unwrap();
        assert_eq!(listed.items.len(), 1, "{member:?}");
    }
    let alone = service.create_group(group(BOB, &[], None)).await.unwrap();
    assert_eq!(roles(&alone.conversation), [(BOB, Role::Owner)]);
}

pub async fn a_group_with_unknown_members_names_them_and_writes_nothing<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let head = store.stream_head().await.unwrap();
    let refused = service
        .create_group(group(ALICE, &[BOB, UserId(99), UserId(42)], None))
        .await;
    match refused {
        Err(ChatError::UnknownUsers { field, ids }) => {
            assert_eq!((field, ids), ("memberIds", vec![UserId(42), UserId(99)]));
        }
        other => panic!("expected unknown users, got {other:?}"),
    }
    assert!(events.take().is_empty());
    assert_eq!(store.stream_head().await.unwrap(), head);
    let listed = service.conversations(BOB, page(1, 10)).await.unwrap();
    assert_eq!(listed.total, 0);
}

pub async fn group_sends_reach_every_member_in_seq_order<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let id = team(&service, &[BOB, CAROL]).await;
    events.take();
    for (n, from) in [ALICE, BOB, CAROL, BOB].into_iter().enumerate() {
        let sent = service
            .send_message(post(from, id, &format!("m{n}")))
            .await
            .unwrap();
        assert_eq!(sent.message.seq, Seq(n as i64 + 1));
    }
    let seqs: Vec<Seq> = events
        .take()
        .into_iter()
        .filter_map(|e| match e {
            ChatEvent::MessageSent(sent) => {
                assert_eq!(sent.members.len(), 3);
                Some(sent.message.seq)
            }
            _ => None,
        })
        .collect();
    assert_eq!(seqs, [Seq(1), Seq(2), Seq(3), Seq(4)]);
    add_dave(&service).await;
    assert_not_found(
        service.send_message(post(DAVE, id, "let me in")).await,
        Entity::Conversation,
    );
    let history = service
        .messages(CAROL, id, MessageWindow::Page(page(1, 10)))
        .await
        .unwrap();
    assert_eq!(contents(&history.messages), ["m3", "m2", "m1", "m0"]);
}

pub async fn roles_decide_who_may_change_a_group_and_refusals_write_nothing<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let id = team(&service, &[BOB, CAROL]).await;
    events.take();
    let head = store.stream_head().await.unwrap();
    let rename = |title: &str| {
        GroupChange::Update(GroupPatch {
            title: Some(GroupTitle::parse(title, &Limits::default()).unwrap()),
            avatar_url: None,
        })
    };
    for refused in [
        service.change_group(BOB, id, rename("Mine")).await,
        service
            .change_group(BOB, id, GroupChange::RemoveMember(CAROL))
            .await,
        service
            .change_group(BOB, id, GroupChange::SetRole(BOB, Role::Admin))
            .await,
    ] {
        assert!(
            matches!(refused, Err(ChatError::Forbidden(_))),
            "{refused:?}"
        );
    }
    assert_eq!(store.stream_head().await.unwrap(), head);
    assert!(events.take().is_empty());
    service
        .change_group(ALICE, id, GroupChange::SetRole(BOB, Role::Admin))
        .await
        .unwrap();
    let renamed = service.change_group(BOB, id, rename("Ours")).await.unwrap();
    assert_eq!(renamed.conversation.title.as_deref(), Some("Ours"));
    let refused = service
        .change_group(BOB, id, GroupChange::SetRole(CAROL, Role::Admin))
        .await;
    assert!(
        matches!(refused, Err(ChatError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = service
        .change_group(ALICE, id, GroupChange::SetRole(ALICE, Role::Member))
        .await;
    assert!(
        matches!(refused, Err(ChatError::Conflict(_))),
        "{refused:?}"
    );
    let announced = events.take();
    assert!(
        matches!(&announced[..], [ChatEvent::MemberRoleChanged(r), ChatEvent::ConversationUpdated(u)]
            if r.member.id == BOB && r.role == Role::Admin && r.by == ALICE && u.by == BOB),
        "{announced:?}"
    );
    let direct = say(&service, ALICE, CAROL, "hi").await;
    let refused = service.change_group(ALICE, direct, rename("Pair")).await;
    assert!(
        matches!(refused, Err(ChatError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = service
        .change_group(ALICE, direct, GroupChange::AddMembers(vec![BOB]))
        .await;
    assert!(
        matches!(refused, Err(ChatError::Forbidden(_))),
        "{refused:?}"
    );
}

pub async fn adding_is_idempotent_and_removing_a_stranger_is_not_found<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    add_dave(&service).await;
    let id = team(&service, &[BOB]).await;
    events.take();
    let added = service
        .change_group(ALICE, id, GroupChange::AddMembers(vec![CAROL, BOB, CAROL]))
        .await
        .unwrap();
    assert_eq!(added.members.len(), 3);
    let again = service
        .change_group(ALICE, id, GroupChange::AddMembers(vec![CAROL]))
        .await
        .unwrap();
    assert_eq!(again.members.len(), 3);
    let announced = events.take();
    assert!(
        matches!(&announced[..], [ChatEvent::MemberAdded(a)] if a.member.id == CAROL && a.role == Role::Member),
        "{announced:?}"
    );
    let unknown = service
        .change_group(ALICE, id, GroupChange::AddMembers(vec![DAVE, UserId(77)]))
        .await;
    assert!(
        matches!(&unknown, Err(ChatError::UnknownUsers { field: "userIds", ids }) if ids == &[UserId(77)]),
        "{unknown:?}"
    );
    let after = service.conversation(ALICE, id).await.unwrap();
    assert!(after.member(DAVE).is_none(), "a refused add writes nothing");
    assert_not_found(
        service
            .change_group(ALICE, id, GroupChange::RemoveMember(DAVE))
            .await,
        Entity::User,
    );
    let limits = Limits {
        max_group_members: 3,
        ..Limits::default()
    };
    let (tight, _) = setup_with(
        service.store().clone(),
        Policy {
            limits,
            ..Policy::default()
        },
    )
    .await;
    let full = tight
        .change_group(ALICE, id, GroupChange::AddMembers(vec![DAVE, BOB]))
        .await;
    assert!(
        matches!(
            full,
            Err(ChatError::Invalid {
                field: "userIds",
                ..
            })
        ),
        "{full:?}"
    );
}

pub async fn the_last_owner_leaving_hands_ownership_on<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    add_dave(&service).await;
    let id = team(&service, &[BOB, CAROL, DAVE]).await;
    service
        .change_group(ALICE, id, GroupChange::SetRole(DAVE, Role::Admin))
        .await
        .unwrap();
    events.take();
    let left = service
        .change_group(ALICE, id, GroupChange::RemoveMember(ALICE))
        .await
        .unwrap();
    assert_eq!(
        roles(&left),
        [
            (BOB, Role::Member),
            (CAROL, Role::Member),
            (DAVE, Role::Owner)
        ]
    );
    let announced = events.take();
    assert!(
        matches!(&announced[..], [ChatEvent::MemberRemoved(r), ChatEvent::MemberRoleChanged(p)]
            if r.member.id == ALICE && r.by == ALICE && p.member.id == DAVE && p.role == Role::Owner),
        "{announced:?}"
    );
    assert_not_found(service.conversation(ALICE, id).await, Entity::Conversation);
    let left = service
        .change_group(DAVE, id, GroupChange::RemoveMember(DAVE))
        .await
        .unwrap();
    let owner = left.members.iter().find(|m| m.role == Role::Owner);
    assert_eq!(
        owner.map(|m| m.user.id),
        Some(BOB),
        "no admin left: the oldest member, by id"
    );
}

pub async fn read_state_is_per_member_and_seen_by_follows_the_watermarks<S: Store>(store: S) {
    let (service, _events) = setup(store).await;
    let id = team(&service, &[BOB, CAROL]).await;
    let first = service.send_message(post(ALICE, id, "one")).await.unwrap();
    service.send_message(post(ALICE, id, "two")).await.unwrap();
    service.send_message(post(BOB, id, "three")).await.unwrap();
    assert_eq!(service.unread_count(ALICE).await.unwrap(), 1);
    assert_eq!(
        service.unread_count(BOB).await.unwrap(),
        0,
        "his send read the rest"
    );
    assert_eq!(service.unread_count(CAROL).await.unwrap(), 3);
    let seen = |reads: Vec<crate::Member>| reads.iter().map(|m| m.user.id).collect::<Vec<_>>();
    let msg = first.message.id;
    assert!(
        seen(service.message_reads(ALICE, id, msg).await.unwrap()).contains(&BOB),
        "bob's own send moved his watermark past alice's first message"
    );
    service.mark_read(CAROL, id).await.unwrap();
    assert_eq!(service.unread_count(CAROL).await.unwrap(), 0);
    assert_eq!(service.unread_count(ALICE).await.unwrap(), 1);
    assert_eq!(
        seen(service.message_reads(BOB, id, msg).await.unwrap()),
        [BOB, CAROL]
    );
    let detail = service.conversation(ALICE, id).await.unwrap();
    assert!(
        detail.read_state(&first.message).0,
        "read by every other member"
    );
    let third = service
        .messages(ALICE, id, MessageWindow::Page(page(1, 1)))
        .await
        .unwrap()
        .messages;
    assert!(
        !detail.read_state(&third[0]).0,
        "alice has not read bob's message"
    );
    assert_not_found(
        service.message_reads(ALICE, id, MessageId(9_999)).await,
        Entity::Message,
    );
}
