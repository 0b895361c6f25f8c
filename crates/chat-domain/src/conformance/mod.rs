//! The store contract as executable tests: one definition, run against every store.
//!
//! Each `pub async fn` is a test body that drives a [`ChatService`] over a fresh, empty store
//! and panics when the store breaks the contract. A store crate runs them all with
//! [`store_conformance_tests!`](crate::store_conformance_tests), giving it an async factory
//! that returns `(store, guard)`; the guard lives until the test ends (a database to drop,
//! say).

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub(crate) use futures_util::future::join_all;

use crate::Policy;

use crate::{
    ChatError, ChatEvent, ChatService, ConversationId, Entity, Limits, MessageBody, MessageWindow,
    PageRequest, SearchQuery, SendMessage, Seq, Store, UpsertUser, UserId, Username,
    memory::RecordedEvents,
};

/// Generates one `#[tokio::test]` per conformance body, each on a store from `$factory`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:path) => {
        $crate::store_conformance_tests!(@each $factory;
            send_creates_the_direct_conversation_on_first_contact,
            both_directions_share_one_conversation,
            send_to_unknown_receiver_is_not_found_and_writes_nothing,
            send_to_self_is_invalid,
            a_retried_send_is_answered_and_a_reused_id_is_a_conflict,
            pages_show_every_message_once_newest_first,
            cursors_page_deep_history,
            conversations_are_listed_by_newest_activity,
            unread_counts_follow_the_read_watermark,
            own_send_moves_own_watermark,
            search_ignores_case_and_treats_wildcards_literally,
            delete_is_sender_only_and_hides_the_message_everywhere,
            third_user_sees_nothing_of_others_conversation,
            events_follow_committed_writes,
            upsert_user_refreshes_the_profile,
            upsert_users_writes_a_batch,
            a_token_user_is_provisioned_once_and_renamed_by_its_claim,
            user_search_matches_prefixes_within_the_directory,
            contacts_directory_hides_strangers,
            accounts_have_unique_usernames_ignoring_case,
            user_search_and_accounts_fold_case_in_every_script,
            sends_beyond_the_rate_are_refused_without_writing,
            contacts_are_the_people_sharing_a_conversation,
            a_renamed_user_sends_under_the_new_name,
            concurrent_first_sends_create_one_conversation,
            concurrent_sends_get_distinct_gapless_seqs,
            the_stream_reads_back_every_event_as_published_gapless_per_writer,
            a_recovery_session_is_claimed_by_its_user_within_the_window,
            a_group_is_created_with_its_owner_and_announced_once,
            a_group_with_unknown_members_names_them_and_writes_nothing,
            group_sends_reach_every_member_in_seq_order,
            roles_decide_who_may_change_a_group_and_refusals_write_nothing,
            adding_is_idempotent_and_removing_a_stranger_is_not_found,
            the_last_owner_leaving_hands_ownership_on,
            a_removed_member_gets_nothing_from_any_port,
            a_stranger_gets_nothing_from_any_port,
            read_state_is_per_member_and_seen_by_follows_the_watermarks,
            a_member_removed_while_away_replays_up_to_the_removal,
            a_member_added_while_away_replays_from_the_addition_and_has_read_the_past,
            an_edit_replaces_the_text_keeps_every_version_and_is_announced,
            only_the_sender_edits_within_the_window_and_refusals_write_nothing,
            each_edit_replays_with_its_own_text_and_a_deletion_takes_the_text_along,
            members_pin_in_a_direct_conversation_and_managers_in_a_group,
            pins_are_bounded_replayed_in_order_and_go_with_their_message,
            reactions_count_per_key_show_me_and_replay_in_order,
            concurrent_reactions_count_once_and_keep_the_limit,
            replies_show_their_parent_count_on_it_and_page_as_a_thread,
            a_reply_stays_in_its_conversation_and_refusals_write_nothing,
            a_deleted_parent_shows_as_deleted_and_keeps_its_thread,
            a_forward_copies_a_visible_message_and_names_the_original,
            a_refused_forward_writes_nothing,
            mentions_name_members_and_are_listed_newest_first,
            text_search_finds_only_the_callers_conversations,
            text_search_follows_web_search_syntax,
            text_search_sees_edits_deletes_and_time_filters,
            text_search_pages_by_cursor_and_marks_the_matches,
            a_scheduled_message_is_the_senders_alone_until_sent_once,
            a_claim_that_never_finished_is_sent_again_without_a_double,
            concurrent_rounds_send_each_scheduled_message_once,
            scheduled_messages_are_edited_cancelled_and_bounded,
            a_message_that_cannot_be_sent_is_kept_with_the_reason,
            one_conversations_scheduled_messages_go_out_in_their_order,
        );
    };
    (@each $factory:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $factory().await;
                $crate::conformance::$name(store).await;
            }
        )*
    };
}

type Service<S> = ChatService<S, RecordedEvents>;

const ALICE: UserId = UserId(1);
const BOB: UserId = UserId(2);
const CAROL: UserId = UserId(3);

async fn setup<S: Store>(store: S) -> (Service<S>, RecordedEvents) {
    setup_with(store, Policy::default()).await
}

async fn setup_with<S: Store>(store: S, policy: Policy) -> (Service<S>, RecordedEvents) {
    let events = RecordedEvents::default();
    let service = ChatService::new(store, events.clone(), policy);
    for (id, name) in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")] {
        service
            .upsert_user(UpsertUser {
                id,
                username: Username::parse(name).unwrap(),
                display_name: None,
                avatar_url: None,
            })
            .await
            .unwrap();
    }
    (service, events)
}

fn send(from: UserId, to: UserId, text: &str) -> SendMessage {
    SendMessage {
        sender: from,
        to: crate::Recipient::User(to),
        content: MessageBody::parse(text, &Limits::default()).unwrap(),
        attachment_url: None,
        client_message_id: None,
        reply_to: None,
    }
}

async fn say<S: Store>(
    service: &Service<S>,
    from: UserId,
    to: UserId,
    text: &str,
) -> ConversationId {
    let sent = service.send_message(send(from, to, text)).await.unwrap();
    sent.message.conversation_id
}

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest { page, limit }
}

fn contents(messages: &[crate::Message]) -> Vec<String> {
    messages.iter().map(|m| m.content.clone()).collect()
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, ChatError>, entity: Entity) {
    match result {
        Err(ChatError::NotFound { entity: e }) if e == entity => {}
        other => panic!("expected {entity} not found, got {other:?}"),
    }
}

mod edits;
mod forwarding;
mod group_scoping;
mod groups;
mod history;
mod mentions;
mod pins;
mod reactions;
mod reading;
mod scheduled;
mod sending;
mod stream;
mod text_search;
mod threads;
mod users;

pub use edits::*;
pub use forwarding::*;
pub use group_scoping::*;
pub use groups::*;
pub use history::*;
pub use mentions::*;
pub use pins::*;
pub use reactions::*;
pub use reading::*;
pub use scheduled::*;
pub use sending::*;
pub use stream::*;
pub use text_search::*;
pub use threads::*;
pub use users::*;
