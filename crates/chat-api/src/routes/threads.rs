//! Threads: the replies to one message, paged like history. A send names its parent with
//! `replyToId` (see the send endpoints); every message record shows it as `reply_to`.

use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, MessageId, Store};

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::{ListQuery, positive};
use crate::views::MessagePage;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The replies to a message, newest first.
///
/// Pages like a conversation's messages (`page`/`limit`, or a `before` / `after` cursor on
/// `seq`); `pagination.total` is the parent's `reply_count`. The parent may be deleted: its
/// replies stay, and show it as deleted.
#[utoipa::path(
    get,
    path = "/api/chat/messages/{id}/replies",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The parent message's id.", minimum = 1),
        ("page" = Option<u32>, Query, description = "Page number, from 1 (default 1).", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size (default 50); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1),
        ("before" = Option<i64>, Query, description = "Cursor: the `limit` newest replies with a `seq` below this one.", minimum = 1),
        ("after" = Option<i64>, Query, description = "Cursor: the `limit` oldest replies with a `seq` above this one, still listed newest first; `0` reads from the first reply.", minimum = 0),
    ),
    responses(
        (status = 200, description = "One page of replies.", body = Envelope<MessagePage>),
        (status = 400, description = "A bad parameter; `errors` names it.", body = ErrorEnvelope),
        (status = 404, description = "No such message, or outside the caller's conversations.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "replies", skip_all, fields(user = %user.0))]
pub(crate) async fn replies<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let parent = MessageId(positive("id", &id)?);
    let window = query.window(state.chat.limits())?;
    let found = state.chat.replies(user.0, parent, window).await?;
    Ok(ok(super::chat::message_page(&found, window)))
}
