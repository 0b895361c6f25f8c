//! Profiles under `/api/users`: the caller's own, one by id, and a search to find someone to
//! message (everyone, or only contacts when the directory is closed).

use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, SearchQuery, Store, UserId};

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::{ListQuery, positive};
use crate::views::{Pagination, UserPage, UserView};
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The caller's own profile.
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "users",
    responses((status = 200, description = "The caller's profile.", body = Envelope<UserView>)),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "me", skip_all, fields(user = %user.0))]
pub(crate) async fn me<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let me = state.chat.user(user.0).await?;
    Ok(ok(UserView::from(&me)))
}

/// One user's profile.
///
/// When the directory is closed (built-in accounts off), only the caller's contacts (users who
/// share a conversation with the caller) are visible; others are 404.
#[utoipa::path(
    get,
    path = "/api/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "The user id.", minimum = 1)),
    responses(
        (status = 200, description = "The profile.", body = Envelope<UserView>),
        (status = 400, description = "The id is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such user, or not visible to the caller.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "user", skip_all, fields(user = %user.0))]
pub(crate) async fn by_id<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = UserId(positive("id", &id)?);
    let found = state.chat.visible_user(user.0, id).await?;
    Ok(ok(UserView::from(&found)))
}

/// Find users to message.
///
/// Users other than the caller, ordered by username: everyone when built-in accounts are on,
/// otherwise only the caller's contacts. A search term keeps the usernames that start with it
/// (ignoring case).
#[utoipa::path(
    get,
    path = "/api/users",
    tag = "users",
    params(
        ("search" = Option<String>, Query, description = "A username prefix (`q` is accepted too); all users when absent."),
        ("q" = Option<String>, Query, description = "Same as `search`, which wins when both are given."),
        ("page" = Option<u32>, Query, description = "Page number, from 1 (default 1).", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size (default 20); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1),
    ),
    responses(
        (status = 200, description = "One page of users.", body = Envelope<UserPage>),
        (status = 400, description = "A bad parameter or a search term over 200 characters.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "users", skip_all, fields(user = %user.0))]
pub(crate) async fn search<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let page = query.page(limits.default_conversation_page, limits)?;
    let term = match query.search.as_deref().or(query.q.as_deref()) {
        Some(raw) if !raw.trim().is_empty() => Some(SearchQuery::parse(raw, limits)?),
        _ => None,
    };
    let found = state.chat.find_users(user.0, term.as_ref(), page).await?;
    let users: Vec<UserView> = found.items.iter().map(UserView::from).collect();
    Ok(ok(UserPage {
        users,
        pagination: Pagination::of(&found, page.page, page.limit),
    }))
}
