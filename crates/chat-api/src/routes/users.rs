//! Profiles under `/api/users`: the caller's own, one by id, and a search to find someone to
//! message (everyone, or only contacts when the directory is closed).

use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, SearchQuery, Store, UserId};
use serde_json::json;

use crate::envelope::ok;
use crate::input::{ListQuery, positive};
use crate::views::{Pagination, UserView};
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

pub(crate) fn configure<S: Store, E: EventSink>(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/users")
            .route("", web::get().to(search::<S, E>))
            .route("/me", web::get().to(me::<S, E>))
            .route("/{id}", web::get().to(by_id::<S, E>)),
    );
}

#[tracing::instrument(name = "me", skip_all, fields(user = %user.0))]
async fn me<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let me = state.chat.user(user.0).await?;
    Ok(ok(UserView::from(&me)))
}

#[tracing::instrument(name = "user", skip_all, fields(user = %user.0))]
async fn by_id<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = UserId(positive("id", &id)?);
    let found = state.chat.visible_user(user.0, id).await?;
    Ok(ok(UserView::from(&found)))
}

#[tracing::instrument(name = "users", skip_all, fields(user = %user.0))]
async fn search<S: Store, E: EventSink>(
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
    Ok(ok(
        json!({ "users": users, "pagination": Pagination::of(&found, page.page, page.limit) }),
    ))
}
