//! The server-to-server admin API under `/api/admin`, authenticated by the configured service
//! token: the host provisions its users ahead of time, so that a first message to someone who
//! never connected does not fail.

use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{EventSink, Store, UpsertUser, UserId, Username};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{bearer_token, same_secret};
use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::Object;
use crate::views::{UpsertedUsers, UserView};
use crate::{ApiError, ApiSettings, AppState};

type State<S, E> = web::Data<AppState<S, E>>;

/// Admits a request that carries the `CHAT_ADMIN_TOKEN` as its bearer token; 401 otherwise,
/// and always when the admin API is off (no token configured).
pub(crate) fn require_admin(settings: &ApiSettings, request: &HttpRequest) -> Result<(), ApiError> {
    let expected = settings
        .admin_token
        .as_deref()
        .ok_or(ApiError::Unauthorized("The admin API is not enabled"))?;
    let given = bearer_token(request).ok_or(ApiError::Unauthorized("Authentication required"))?;
    if same_secret(given, expected) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("Invalid admin token"))
    }
}

/// Most users one upsert call may carry.
const MAX_BATCH: usize = 1_000;

/// `PUT /api/admin/users`: the users to create or update.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UpsertUsersRequest)]
pub(crate) struct UpsertBody {
    /// 1 to 1000 users.
    #[schema(min_items = 1, max_items = 1000)]
    users: Vec<UserInput>,
}

/// One user as the host application knows it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UpsertUser)]
pub(crate) struct UserInput {
    /// The host application's user id (positive).
    #[schema(minimum = 1, examples(1001))]
    id: i64,
    /// The handle (1 to 64 characters).
    #[schema(examples("carol"))]
    username: String,
    /// A name to show; absent or null clears it.
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    /// A picture URL; absent or null clears it.
    #[serde(rename = "avatarUrl")]
    avatar_url: Option<String>,
}

/// Create or update users ahead of time (server to server).
///
/// Lets the host application provision its users, so that a first message to someone who
/// never connected does not fail. Authenticated by the `CHAT_ADMIN_TOKEN` (the API is off
/// when it is unset), never by a user token.
#[utoipa::path(
    put,
    path = "/api/admin/users",
    tag = "admin",
    request_body = UpsertBody,
    responses(
        (status = 200, description = "The users as stored.", body = Envelope<UpsertedUsers>),
        (status = 400, description = "An empty or oversized batch, a non-positive id, a bad username or malformed JSON; `errors` names the field (e.g. `users[0].id`).", body = ErrorEnvelope),
        (status = 413, description = "The body is over `CHAT_MAX_BODY_BYTES` (64 KiB).", body = ErrorEnvelope),
    ),
    security(("admin_token" = [])),
)]
#[tracing::instrument(name = "admin_upsert_users", skip_all)]
pub(crate) async fn upsert_users<S: Store, E: EventSink>(
    state: State<S, E>,
    request: HttpRequest,
    body: web::Json<Object<UpsertBody>>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state.settings, &request)?;
    let Object(body) = body.into_inner();
    if body.users.is_empty() || body.users.len() > MAX_BATCH {
        return Err(ApiError::field(
            "users",
            format!("users must hold 1 to {MAX_BATCH} users"),
        ));
    }
    let users = body
        .users
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            if u.id <= 0 {
                return Err(ApiError::field(
                    format!("users[{i}].id"),
                    "id must be a positive integer",
                ));
            }
            Ok(UpsertUser {
                id: UserId(u.id),
                username: Username::parse(u.username)?,
                display_name: u.display_name,
                avatar_url: u.avatar_url,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let written = state.chat.upsert_users(users).await?;
    let users = written.iter().map(UserView::from).collect();
    Ok(ok(UpsertedUsers { users }))
}
