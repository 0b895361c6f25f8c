//! Built-in accounts under `/api/auth`: register and log in. Registered only when accounts
//! are turned on.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{ChatError, EventSink, Password, Store, Username};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::client_address::attempts_key;
use crate::envelope::{Envelope, ok, with_message};
use crate::error::ErrorEnvelope;
use crate::input::{Object, required_string_json};
use crate::state::BuiltinAccounts;
use crate::views::{Session, UserView};
use crate::{ApiError, AppState};

type State<S, E> = web::Data<AppState<S, E>>;

/// The credentials of a built-in account: `{ username, password }`. (Read loosely typed, so
/// that each bad field gets a 400 of its own.)
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Credentials {
    /// The handle: 1 to 64 characters, unique ignoring case.
    #[schema(value_type = String, examples("carol"))]
    username: Option<Value>,
    /// 8 to 128 characters.
    #[schema(value_type = String, format = Password, examples("correct horse battery"))]
    password: Option<Value>,
}

impl Credentials {
    fn parse(&self) -> Result<(Username, Password), ApiError> {
        let username = Username::parse(required_string_json("username", self.username.as_ref())?)?;
        let password = Password::parse(required_string_json("password", self.password.as_ref())?)?;
        Ok((username, password))
    }
}

fn builtin<S, E>(state: &AppState<S, E>) -> Result<&BuiltinAccounts<S>, ApiError> {
    state
        .accounts
        .as_ref()
        .ok_or_else(|| ChatError::Internal("built-in accounts are off".into()).into())
}

/// Create a built-in account.
///
/// Served only when built-in accounts are on (`CHAT_BUILTIN_ACCOUNTS`, the default with
/// `JWT_SECRET`). The user gets a new id; log in to get a token.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 201, description = "Created; `message` is \"User registered successfully\".", body = Envelope<UserView>),
        (status = 400, description = "A missing or invalid username or password, or malformed JSON.", body = ErrorEnvelope),
        (status = 409, description = "The username is taken (ignoring case).", body = ErrorEnvelope),
        (status = 413, description = "The body is over `CHAT_MAX_BODY_BYTES` (64 KiB).", body = ErrorEnvelope),
        (status = 429, description = "Too many registrations from this address (`CHAT_REGISTER_RATE_PER_MIN`, `CHAT_REGISTER_BURST`); `Retry-After` says how many seconds to wait; `code` is `rate_limited`.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until an attempt is allowed again."))),
        (status = 503, description = "Too many passwords are being hashed (`CHAT_HASH_QUEUE`); `Retry-After` says when to retry; `code` is `busy`.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ),
)]
#[tracing::instrument(name = "register", skip_all)]
pub(crate) async fn register<S: Store, E: EventSink>(
    state: State<S, E>,
    request: HttpRequest,
    body: web::Json<Object<Credentials>>,
) -> Result<HttpResponse, ApiError> {
    let (username, password) = body.into_inner().0.parse()?;
    let user = builtin(&state)?
        .accounts
        .register(attempts_key(&request), username, password)
        .await
        .map_err(ApiError::from_attempt)?;
    Ok(with_message(
        StatusCode::CREATED,
        "User registered successfully",
        UserView::from(&user),
    ))
}

/// Log in to a built-in account and get a Bearer token.
///
/// The token is an HS256 JWT signed with `JWT_SECRET` (claims `id`, `sub`, `username`, `exp`),
/// valid for `CHAT_TOKEN_TTL_SECS` (a day by default).
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, description = "The token and the account's profile.", body = Envelope<Session>),
        (status = 400, description = "Malformed JSON.", body = ErrorEnvelope),
        (status = 401, description = "Unknown username or wrong password (told apart by nobody).", body = ErrorEnvelope),
        (status = 413, description = "The body is over `CHAT_MAX_BODY_BYTES` (64 KiB).", body = ErrorEnvelope),
        (status = 429, description = "Too many attempts on this account (`CHAT_LOGIN_RATE_PER_MIN`, `CHAT_LOGIN_BURST`) or from this address (`CHAT_LOGIN_IP_RATE_PER_MIN`, `CHAT_LOGIN_IP_BURST`); `Retry-After` says how many seconds to wait; `code` is `rate_limited`.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until an attempt is allowed again."))),
        (status = 503, description = "Too many passwords are being checked (`CHAT_HASH_QUEUE`); `Retry-After` says when to retry; `code` is `busy`.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ),
)]
#[tracing::instrument(name = "login", skip_all)]
pub(crate) async fn login<S: Store, E: EventSink>(
    state: State<S, E>,
    request: HttpRequest,
    body: web::Json<Object<Credentials>>,
) -> Result<HttpResponse, ApiError> {
    // Any malformed credential is the same 401 as a wrong one.
    let (username, password) = body
        .into_inner()
        .0
        .parse()
        .map_err(|_| ChatError::Unauthenticated)?;
    let builtin = builtin(&state)?;
    let user = builtin
        .accounts
        .login(attempts_key(&request), &username, &password)
        .await
        .map_err(ApiError::from_attempt)?;
    let token = builtin
        .issuer
        .issue(user.id, &user.username)
        .map_err(|e| ChatError::Internal(Box::new(e)))?;
    Ok(ok(Session {
        token,
        user: UserView::from(&user),
    }))
}
