//! Reactions: a member adds or takes back an emoji or short name on a message.

use actix_web::{HttpResponse, web};
use chat_domain::wire::ReactionView;
use chat_domain::{EventSink, MessageId, Store};

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::positive;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

async fn react<S: Store, E: EventSink>(
    state: &State<S, E>,
    user: &AuthUser,
    path: &(String, String),
    on: bool,
) -> Result<HttpResponse, ApiError> {
    let message = MessageId(positive("id", &path.0)?);
    let reactions = state.chat.react(user.0, message, &path.1, on).await?;
    let views: Vec<ReactionView> = reactions.iter().map(ReactionView::from).collect();
    Ok(ok(views))
}

/// React to a message.
///
/// `key` is one emoji (URL-encoded) or a short name (`thumbsup`, `+1`: 1 to 32 of a-z, 0-9,
/// `_`, `+`, `-`). The room gets `reaction_added`; reacting again with the same key changes
/// nothing. Answers the message's reactions as the caller sees them, keys in the order first
/// used.
#[utoipa::path(
    put,
    path = "/api/chat/messages/{id}/reactions/{key}",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The message id.", minimum = 1),
        ("key" = String, Path, description = "An emoji or a short name."),
    ),
    responses(
        (status = 200, description = "Added (or there already): the message's reactions.", body = Envelope<Vec<ReactionView>>),
        (status = 400, description = "A key that is neither an emoji nor a short name, or an id that is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such message, deleted, or outside the caller's conversations.", body = ErrorEnvelope),
        (status = 409, description = "A new key on a message with `CHAT_MAX_REACTION_KINDS` keys already.", body = ErrorEnvelope),
        (status = 429, description = "The caller writes faster than the send rate, which reactions share.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a write is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "react", skip_all, fields(user = %user.0))]
pub(crate) async fn add<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    react(&state, &user, &path, true).await
}

/// Take a reaction back.
///
/// The room gets `reaction_removed`; taking back a reaction the caller has not made changes
/// nothing. Answers the message's reactions as the caller sees them.
#[utoipa::path(
    delete,
    path = "/api/chat/messages/{id}/reactions/{key}",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The message id.", minimum = 1),
        ("key" = String, Path, description = "An emoji or a short name."),
    ),
    responses(
        (status = 200, description = "Removed (or was not there): the message's reactions.", body = Envelope<Vec<ReactionView>>),
        (status = 400, description = "An invalid key or id.", body = ErrorEnvelope),
        (status = 404, description = "No such message, deleted, or outside the caller's conversations.", body = ErrorEnvelope),
        (status = 429, description = "The caller writes faster than the send rate, which reactions share.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a write is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "unreact", skip_all, fields(user = %user.0))]
pub(crate) async fn remove<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    react(&state, &user, &path, false).await
}
