//! `GET /api/chat/sync`: what changed in all of the caller's conversations since a stream
//! token, for apps that catch up over REST (after recovery was refused, or instead of it).

use actix_web::{HttpResponse, web};
use chat_domain::wire::events::{PinNotice, ReactionNotice};
use chat_domain::wire::{ConversationNotice, MembershipNotice};
use chat_domain::{ChatEvent, EventSink, Store, StreamToken};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::positive;
use crate::views::MessageView;
use crate::{ApiError, AppState, AuthUser};

/// Changes per page unless `limit` says otherwise, and the most a page holds.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The query of `GET /api/chat/sync`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SyncQuery {
    /// The `next` of the previous answer. Without it, the answer holds no change and the
    /// token of now: where a client that has just loaded everything starts.
    since: Option<String>,
    /// Changes per page, 1 to 1000 (default 100).
    limit: Option<String>,
}

/// One change, in the stream's order for its conversation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum SyncChange {
    /// A message was sent.
    Message {
        #[serde(rename = "conversationId")]
        conversation_id: i64,
        message: MessageView,
    },
    /// A message was edited: the message as that edit left it (with `editedAt`).
    Edited {
        #[serde(rename = "conversationId")]
        conversation_id: i64,
        message: MessageView,
    },
    /// A member reacted to a message (`count`: how many react with `key` after it).
    ReactionAdded(ReactionNotice),
    /// A member took a reaction back.
    ReactionRemoved(ReactionNotice),
    /// A message was pinned.
    Pinned(PinNotice),
    /// A message was unpinned.
    Unpinned(PinNotice),
    /// A message was deleted.
    Deleted {
        #[serde(rename = "conversationId")]
        conversation_id: i64,
        #[serde(rename = "messageId")]
        message_id: i64,
        seq: i64,
        #[serde(rename = "deletedBy")]
        deleted_by: i64,
    },
    /// A member's read watermark moved.
    Read {
        #[serde(rename = "conversationId")]
        conversation_id: i64,
        #[serde(rename = "userId")]
        user_id: i64,
        #[serde(rename = "lastReadSeq")]
        last_read_seq: i64,
        /// RFC 3339.
        #[serde(rename = "readAt")]
        read_at: String,
    },
    /// A group was created (the caller's own groups, and groups they were added to).
    ConversationCreated(ConversationNotice),
    /// A group's title or picture changed.
    ConversationUpdated(ConversationNotice),
    /// Someone joined a group.
    MemberAdded(MembershipNotice),
    /// Someone left a group or was removed (never the caller: a removed member reads nothing
    /// more of the group).
    MemberRemoved(MembershipNotice),
    /// A member's role changed.
    MemberRoleChanged(MembershipNotice),
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SyncPage {
    /// The changes, each conversation's in its order.
    changes: Vec<SyncChange>,
    /// The token to ask with next (opaque; keep it as it is).
    #[schema(examples("12.0.7.0.0.3.0.0"))]
    next: String,
    /// Whether more changes were already waiting past this page.
    #[serde(rename = "hasMore")]
    has_more: bool,
}

fn change(event: ChatEvent) -> SyncChange {
    match event {
        ChatEvent::MessageSent(sent) => SyncChange::Message {
            conversation_id: sent.message.conversation_id.get(),
            message: MessageView::fresh(&sent),
        },
        ChatEvent::MessageEdited(edited) => SyncChange::Edited {
            conversation_id: edited.message.conversation_id.get(),
            message: MessageView::unread(&edited.message, &edited.members, edited.kind),
        },
        ChatEvent::ReactionAdded(reaction) => SyncChange::ReactionAdded((&reaction).into()),
        ChatEvent::ReactionRemoved(reaction) => SyncChange::ReactionRemoved((&reaction).into()),
        ChatEvent::MessagePinned(pin) => SyncChange::Pinned((&pin).into()),
        ChatEvent::MessageUnpinned(pin) => SyncChange::Unpinned((&pin).into()),
        ChatEvent::MessageDeleted(deleted) => SyncChange::Deleted {
            conversation_id: deleted.conversation_id.get(),
            message_id: deleted.message_id.get(),
            seq: deleted.seq.get(),
            deleted_by: deleted.deleted_by.get(),
        },
        ChatEvent::MessagesRead(read) => SyncChange::Read {
            conversation_id: read.conversation_id.get(),
            user_id: read.user_id.get(),
            last_read_seq: read.last_read_seq.get(),
            read_at: read
                .read_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        ChatEvent::ConversationCreated(changed) => {
            SyncChange::ConversationCreated((&changed).into())
        }
        ChatEvent::ConversationUpdated(changed) => {
            SyncChange::ConversationUpdated((&changed).into())
        }
        ChatEvent::MemberAdded(changed) => SyncChange::MemberAdded((&changed).into()),
        ChatEvent::MemberRemoved(changed) => SyncChange::MemberRemoved((&changed).into()),
        ChatEvent::MemberRoleChanged(changed) => SyncChange::MemberRoleChanged((&changed).into()),
    }
}

/// Changes in the caller's conversations since a token.
///
/// New messages, edits, reactions, pins, deletions, read receipts and group changes, each
/// conversation's in order, a page at a time: ask again with `next` while `hasMore` is true.
/// Only conversations the caller belongs to now are read (and those they left, up to leaving).
#[utoipa::path(
    get,
    path = "/api/chat/sync",
    tag = "chat",
    params(SyncQuery),
    responses(
        (status = 200, description = "A page of changes and the token that continues it.", body = Envelope<SyncPage>),
        (status = 400, description = "`since` is malformed or ahead of this server's stream (a token of another server), or `limit` is out of range.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "sync", skip_all, fields(user = %user.0))]
pub(crate) async fn sync<S: Store, E: EventSink>(
    state: web::Data<AppState<S, E>>,
    user: AuthUser,
    query: web::Query<SyncQuery>,
) -> Result<HttpResponse, ApiError> {
    let since = query
        .since
        .as_deref()
        .map(|raw| StreamToken::parse(raw.trim(), "since"))
        .transpose()?;
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => usize::try_from(positive("limit", raw)?)
            .ok()
            .filter(|n| *n <= MAX_LIMIT)
            .ok_or_else(|| ApiError::field("limit", "limit must be at most 1000"))?,
    };
    let page = state.chat.sync(user.0, since, limit).await?;
    Ok(ok(SyncPage {
        changes: page.events.into_iter().map(|e| change(e.event)).collect(),
        next: page.next.to_string(),
        has_more: page.more,
    }))
}
