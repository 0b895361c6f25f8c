//! Scheduled messages: stored for the sender alone, sent once when due (also when two
//! services claim at once, and again after a claim that never finished), edited and
//! cancelled before, bounded, and kept with the reason when they cannot be sent.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use super::groups::team;
use super::{ALICE, BOB, CAROL, say, send, setup};
use crate::{
    ChatError, ChatEvent, Entity, GroupChange, Limits, MessageBody, MessageWindow, NewScheduled,
    PageRequest, Recipient, SCHEDULE_LEASE, ScheduledEdit, Store, UserId,
};

fn later(send_at: DateTime<Utc>, from: UserId, to: Recipient, text: &str) -> NewScheduled {
    let mut message = send(from, BOB, text);
    message.to = to;
    NewScheduled {
        send: message,
        send_at,
    }
}

fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

/// The texts of a conversation, oldest first.
async fn history<S: Store>(
    service: &super::Service<S>,
    reader: UserId,
    id: crate::ConversationId,
) -> Vec<String> {
    let page = service
        .messages(
            reader,
            id,
            MessageWindow::Page(PageRequest {
                page: 1,
                limit: 100,
            }),
        )
        .await
        .unwrap();
    page.messages
        .iter()
        .rev()
        .map(|m| m.content.clone())
        .collect()
}

pub async fn a_scheduled_message_is_the_senders_alone_until_sent_once<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let now = Utc::now().trunc_subsecs(3);
    let conversation = say(&service, ALICE, BOB, "hello").await;
    events.take();
    let stored = service
        .schedule_message(
            later(now + hours(1), ALICE, Recipient::User(BOB), "in an hour"),
            now,
        )
        .await
        .unwrap();
    assert_eq!(stored.sender_id, ALICE);
    assert_eq!(stored.failure, None);
    assert_eq!(
        service.scheduled(ALICE).await.unwrap(),
        std::slice::from_ref(&stored)
    );
    assert!(service.scheduled(BOB).await.unwrap().is_empty());
    assert!(
        events.take().is_empty(),
        "nothing is announced before it is sent"
    );

    let early = service.send_due(now, 100).await.unwrap();
    assert_eq!(early.claimed, 0);
    assert_eq!(history(&service, BOB, conversation).await, ["hello"]);

    // Bob writes meanwhile; Alice, away, has not read it when her message goes out.
    say(&service, BOB, ALICE, "are you there?").await;
    events.take();
    let due = service.send_due(now + hours(2), 100).await.unwrap();
    assert_eq!((due.claimed, due.sent, due.failed), (1, 1, 0));
    assert_eq!(
        service.unread_count(ALICE).await.unwrap(),
        1,
        "a scheduled send reads nothing for its sender"
    );
    assert_eq!(
        history(&service, BOB, conversation).await,
        ["hello", "are you there?", "in an hour"]
    );
    match &events.take()[..] {
        [ChatEvent::MessageSent(sent)] => {
            assert_eq!(sent.message.sender_id, ALICE);
            assert_eq!(
                sent.message.client_message_id.as_deref(),
                Some(stored.client_message_id().as_str())
            );
        }
        other => panic!("one new message, got {other:?}"),
    }
    assert!(service.scheduled(ALICE).await.unwrap().is_empty());
    let again = service.send_due(now + hours(3), 100).await.unwrap();
    assert_eq!(again.claimed, 0);
    assert_eq!(history(&service, BOB, conversation).await.len(), 3);
}

pub async fn a_claim_that_never_finished_is_sent_again_without_a_double<S: Store>(store: S) {
    let (service, _) = setup(store.clone()).await;
    let now = Utc::now().trunc_subsecs(3);
    let conversation = say(&service, ALICE, BOB, "hello").await;
    for i in 0..5 {
        let to = Recipient::Conversation(conversation);
        service
            .schedule_message(later(now + hours(1), ALICE, to, &format!("s{i}")), now)
            .await
            .unwrap();
    }
    let due = now + hours(1);
    // A node claims three and sends one of them, then dies: no finish, no further send.
    let claimed = store.claim_due(due, 3, SCHEDULE_LEASE).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let mut first = send(ALICE, BOB, &claimed[0].content);
    first.client_message_id = Some(claimed[0].client_message_id());
    service.send_message(first).await.unwrap();
    // The others are not claimed twice while the lease runs; the two unclaimed go out.
    let round = service.send_due(due, 100).await.unwrap();
    assert_eq!((round.claimed, round.sent), (2, 2));
    // Editing or cancelling a claimed one is refused while its lease runs.
    let busy = service
        .cancel_scheduled(ALICE, claimed[1].id, due)
        .await
        .unwrap_err();
    assert!(matches!(busy, ChatError::Conflict(_)), "{busy:?}");
    // Once the lease has run out, the three are claimed again; the one sent is not doubled.
    let after = due + TimeDelta::from_std(SCHEDULE_LEASE).unwrap() + TimeDelta::seconds(1);
    let round = service.send_due(after, 100).await.unwrap();
    assert_eq!((round.claimed, round.sent), (3, 3));
    let mut texts = history(&service, BOB, conversation).await;
    texts.sort();
    assert_eq!(texts, ["hello", "s0", "s1", "s2", "s3", "s4"]);
    assert!(service.scheduled(ALICE).await.unwrap().is_empty());
}

pub async fn concurrent_rounds_send_each_scheduled_message_once<S: Store>(store: S) {
    let (service, _) = setup(store.clone()).await;
    let now = Utc::now().trunc_subsecs(3);
    let conversation = say(&service, ALICE, BOB, "hello").await;
    let to = Recipient::Conversation(conversation);
    for i in 0..60 {
        let sender = if i % 2 == 0 { ALICE } else { BOB };
        service
            .schedule_message(later(now + hours(1), sender, to, &format!("s{i}")), now)
            .await
            .unwrap();
    }
    let due = now + hours(2);
    let rounds = super::join_all((0..4).map(|_| service.send_due(due, 7))).await;
    let mut claimed: usize = rounds.iter().map(|r| r.as_ref().unwrap().claimed).sum();
    while claimed < 60 {
        let round = service.send_due(due, 7).await.unwrap();
        assert!(round.claimed > 0, "due messages were left unclaimed");
        claimed += round.claimed;
    }
    assert_eq!(claimed, 60);
    let texts = history(&service, BOB, conversation).await;
    assert_eq!(texts.len(), 61, "{texts:?}");
    let mut distinct = texts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 61, "a message was sent twice");
}

pub async fn scheduled_messages_are_edited_cancelled_and_bounded<S: Store>(store: S) {
    let limits = Limits {
        max_scheduled_per_user: 3,
        ..Limits::default()
    };
    let policy = crate::Policy {
        limits,
        ..crate::Policy::default()
    };
    let (service, _) = super::setup_with(store, policy).await;
    let now = Utc::now().trunc_subsecs(3);
    let to = Recipient::User(BOB);
    for bad in [now - hours(1), now, now + TimeDelta::days(366)] {
        let refused = service
            .schedule_message(later(bad, ALICE, to, "when?"), now)
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                ChatError::Invalid {
                    field: "sendAt",
                    ..
                }
            ),
            "{refused:?}"
        );
    }
    let unknown = service
        .schedule_message(
            later(now + hours(1), ALICE, Recipient::User(UserId(99)), "x"),
            now,
        )
        .await;
    super::assert_not_found(unknown, Entity::User);
    // A reply must name a message of the conversation it goes to (none yet, here).
    let mut reply = later(now + hours(1), ALICE, to, "re");
    reply.send.reply_to = Some(crate::MessageId(1));
    let refused = service.schedule_message(reply, now).await.unwrap_err();
    assert!(
        matches!(
            refused,
            ChatError::Invalid {
                field: "replyToId",
                ..
            }
        ),
        "{refused:?}"
    );

    let mut retried = later(now + hours(1), ALICE, to, "one");
    retried.send.client_message_id = Some(crate::ClientMessageId::parse("phone-1").unwrap());
    let one = service
        .schedule_message(retried.clone(), now)
        .await
        .unwrap();
    assert_eq!(
        service
            .schedule_message(retried.clone(), now)
            .await
            .unwrap(),
        one
    );
    retried.send.content = MessageBody::parse("other", &Limits::default()).unwrap();
    let reused = service.schedule_message(retried, now).await.unwrap_err();
    assert!(matches!(reused, ChatError::Conflict(_)), "{reused:?}");
    let two = service
        .schedule_message(later(now + hours(2), ALICE, to, "two"), now)
        .await
        .unwrap();
    service
        .schedule_message(later(now + hours(3), ALICE, to, "three"), now)
        .await
        .unwrap();
    let full = service
        .schedule_message(later(now + hours(4), ALICE, to, "four"), now)
        .await
        .unwrap_err();
    assert!(matches!(full, ChatError::Conflict(_)), "{full:?}");

    let edit = ScheduledEdit {
        content: Some(MessageBody::parse("two, edited", &Limits::default()).unwrap()),
        send_at: Some(now + hours(5)),
    };
    let edited = service
        .edit_scheduled(ALICE, two.id, edit.clone(), now)
        .await
        .unwrap();
    assert_eq!(
        (edited.content.as_str(), edited.send_at),
        ("two, edited", now + hours(5))
    );
    let order: Vec<String> = service
        .scheduled(ALICE)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.content)
        .collect();
    assert_eq!(order, ["one", "three", "two, edited"]);
    // Another user's is not found; so is one cancelled.
    super::assert_not_found(
        service.edit_scheduled(BOB, two.id, edit, now).await,
        Entity::ScheduledMessage,
    );
    super::assert_not_found(
        service.cancel_scheduled(BOB, two.id, now).await,
        Entity::ScheduledMessage,
    );
    service.cancel_scheduled(ALICE, two.id, now).await.unwrap();
    super::assert_not_found(
        service.cancel_scheduled(ALICE, two.id, now).await,
        Entity::ScheduledMessage,
    );
    assert_eq!(service.scheduled(ALICE).await.unwrap().len(), 2);
    // Nothing of it is sent.
    let round = service.send_due(now + hours(6), 100).await.unwrap();
    assert_eq!(round.sent, 2);
}

pub async fn a_message_that_cannot_be_sent_is_kept_with_the_reason<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let now = Utc::now().trunc_subsecs(3);
    let group = team(&service, &[BOB, CAROL]).await;
    let stored = service
        .schedule_message(
            later(now + hours(1), BOB, Recipient::Conversation(group), "bye"),
            now,
        )
        .await
        .unwrap();
    service
        .change_group(ALICE, group, GroupChange::RemoveMember(BOB))
        .await
        .unwrap();
    let round = service.send_due(now + hours(2), 100).await.unwrap();
    assert_eq!((round.claimed, round.sent, round.failed), (1, 0, 1));
    let kept = service.scheduled(BOB).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].id, stored.id);
    assert!(kept[0].failure.is_some(), "{kept:?}");
    // A failed message is not claimed again; a new time tries again.
    assert_eq!(
        service.send_due(now + hours(3), 100).await.unwrap().claimed,
        0
    );
    let retry = ScheduledEdit {
        content: None,
        send_at: Some(now + hours(4)),
    };
    let again = service
        .edit_scheduled(BOB, stored.id, retry, now)
        .await
        .unwrap();
    assert_eq!(again.failure, None);
    assert_eq!(
        service.send_due(now + hours(5), 100).await.unwrap().failed,
        1
    );
}

pub async fn one_conversations_scheduled_messages_go_out_in_their_order<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let now = Utc::now().trunc_subsecs(3);
    let conversation = say(&service, ALICE, BOB, "hello").await;
    let group = team(&service, &[BOB, CAROL]).await;
    // Scheduled in reverse: the last due first. Into a direct conversation by id and by
    // user, and into a group from two senders.
    for i in (0..12).rev() {
        let at = now + hours(1) + TimeDelta::milliseconds(i);
        let (to, sender) = match i % 3 {
            0 => (Recipient::Conversation(conversation), ALICE),
            1 => (Recipient::User(BOB), ALICE),
            _ => (
                Recipient::Conversation(group),
                if i % 2 == 0 { BOB } else { CAROL },
            ),
        };
        service
            .schedule_message(later(at, sender, to, &format!("{i:02}")), now)
            .await
            .unwrap();
    }
    let round = service.send_due(now + hours(2), 100).await.unwrap();
    assert_eq!(round.sent, 12);
    let direct = history(&service, BOB, conversation).await;
    assert_eq!(
        direct,
        ["hello", "00", "01", "03", "04", "06", "07", "09", "10"]
    );
    let grouped = history(&service, BOB, group).await;
    assert_eq!(grouped, ["02", "05", "08", "11"]);
}
