//! Forwarding: a copy of a message the caller can see, sent into conversations they belong to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, MessageId, Store, forward_targets};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{Envelope, with_message};
use crate::error::ErrorEnvelope;
use crate::input::{Object, positive};
use crate::views::MessageView;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The body of `POST /api/chat/messages/{id}/forward`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ForwardRequest)]
pub(crate) struct ForwardBody {
    /// The conversations to copy the message into: 1 to `CHAT_MAX_FORWARD_TARGETS` (10) ids of
    /// conversations the caller belongs to (numbers, or strings of digits); a repeated id
    /// counts once.
    #[serde(rename = "conversationIds")]
    #[schema(value_type = Vec<i64>, examples(json!([3, 7])))]
    conversation_ids: Option<Value>,
}

/// Forward a message.
///
/// Copies a message the caller can see into each named conversation, in order. Each copy is a
/// normal send from the caller (its own `seq`; `new_message` to the room, notifications) with
/// `forwarded_from { messageId, conversationId, senderId }` naming the original; nothing else
/// of the original's conversation travels with it. Everything is checked before the first copy
/// is written.
#[utoipa::path(
    post,
    path = "/api/chat/messages/{id}/forward",
    tag = "chat",
    params(("id" = i64, Path, description = "The message to forward.", minimum = 1)),
    request_body = ForwardBody,
    responses(
        (status = 201, description = "The copies, one per conversation, in the order named; `message` is \"Message forwarded\".", body = Envelope<Vec<MessageView>>),
        (status = 400, description = "`conversationIds` missing, empty, longer than `CHAT_MAX_FORWARD_TARGETS` or not a list of ids; the text or link over today's limits; an id that is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "The message is deleted or outside the caller's conversations, or the caller does not belong to one of the conversations (nothing is sent).", body = ErrorEnvelope),
        (status = 429, description = "The copies would exceed the caller's send rate (each copy is one send; nothing is sent).", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until the sends are allowed."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "forward", skip_all, fields(user = %user.0))]
pub(crate) async fn forward<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Object<ForwardBody>>,
) -> Result<HttpResponse, ApiError> {
    let source = MessageId(positive("id", &id)?);
    let Object(body) = body.into_inner();
    let max = state.chat.limits().max_forward_targets;
    let targets = forward_targets(body.conversation_ids.as_ref(), max)?;
    let copies = state.chat.forward(user.0, source, &targets).await?;
    let views: Vec<MessageView> = copies
        .iter()
        .map(|sent| MessageView::new(&sent.conversation, &sent.message))
        .collect();
    Ok(with_message(
        StatusCode::CREATED,
        "Message forwarded",
        views,
    ))
}
