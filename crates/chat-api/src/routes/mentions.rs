//! A user's mentions: the messages that name them with `@username`, across their
//! conversations, newest first.

use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, MessageId, Store};
use serde::Serialize;
use utoipa::ToSchema;

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::ListQuery;
use crate::views::MessageView;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// `data` of `GET /api/chat/mentions`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MentionPage {
    /// The messages that mention the caller, newest first (each names its
    /// `conversation_id`).
    messages: Vec<MessageView>,
    /// The `before` of the next page (the id of the oldest message here), or null when this
    /// page is the last.
    #[serde(rename = "nextBefore")]
    #[schema(required = true)]
    next_before: Option<i64>,
}

/// The caller's mentions, newest first.
///
/// Messages that mention the caller (`@username`, resolved when they were sent), in every
/// conversation the caller still belongs to; deleted messages are left out. Pages by
/// message id: pass `nextBefore` as `before` for the next page.
#[utoipa::path(
    get,
    path = "/api/chat/mentions",
    tag = "chat",
    params(
        ("before" = Option<i64>, Query, description = "Cursor: only messages with an id below this one (the previous page's `nextBefore`).", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size (default 20); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1),
    ),
    responses(
        (status = 200, description = "One page of mentions.", body = Envelope<MentionPage>),
        (status = 400, description = "A bad parameter; `errors` names it.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "mentions", skip_all, fields(user = %user.0))]
pub(crate) async fn mentions<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let (before, limit) = query.keyset(limits.default_conversation_page, limits)?;
    let found = state
        .chat
        .mentions(user.0, before.map(MessageId), limit)
        .await?;
    let full = found.len() >= limit as usize;
    let next_before = found
        .last()
        .filter(|_| full)
        .map(|(_, message)| message.id.get());
    let messages = found
        .iter()
        .map(|(conversation, message)| MessageView::new(conversation, message))
        .collect();
    Ok(ok(MentionPage {
        messages,
        next_before,
    }))
}
