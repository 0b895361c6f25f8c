//! Built-in accounts under `/api/auth`: register and log in. Registered only when accounts
//! are turned on.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{ChatError, EventSink, Password, Store, Username};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::envelope::{ok, with_message};
use crate::input::string_json;
use crate::state::BuiltinAccounts;
use crate::views::UserView;
use crate::{ApiError, AppState};

type State<S, E> = web::Data<AppState<S, E>>;

pub(crate) fn configure<S: Store, E: EventSink>(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/auth")
            .route("/register", web::post().to(register::<S, E>))
            .route("/login", web::post().to(login::<S, E>)),
    );
}

/// `{ username, password }`, loosely typed so that each bad field gets its own message.
#[derive(Debug, Deserialize)]
struct Credentials {
    username: Option<Value>,
    password: Option<Value>,
}

impl Credentials {
    fn parse(&self) -> Result<(Username, Password), ApiError> {
        let required = |field: &'static str, value: Option<&Value>| {
            string_json(field, value)?
                .ok_or_else(|| ApiError::field(field, format!("{field} is required")))
        };
        let username = Username::parse(required("username", self.username.as_ref())?)?;
        let password = Password::parse(required("password", self.password.as_ref())?)?;
        Ok((username, password))
    }
}

fn builtin<S, E>(state: &AppState<S, E>) -> Result<&BuiltinAccounts<S>, ApiError> {
    state
        .accounts
        .as_ref()
        .ok_or_else(|| ChatError::Internal("built-in accounts are off".into()).into())
}

#[tracing::instrument(name = "register", skip_all)]
async fn register<S: Store, E: EventSink>(
    state: State<S, E>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let (username, password) = body.parse()?;
    let user = builtin(&state)?
        .accounts
        .register(username, password)
        .await?;
    Ok(with_message(
        StatusCode::CREATED,
        "User registered successfully",
        UserView::from(&user),
    ))
}

#[tracing::instrument(name = "login", skip_all)]
async fn login<S: Store, E: EventSink>(
    state: State<S, E>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    // Any malformed credential is the same 401 as a wrong one.
    let (username, password) = body.parse().map_err(|_| ChatError::Unauthenticated)?;
    let builtin = builtin(&state)?;
    let user = builtin.accounts.login(&username, &password).await?;
    let token = builtin
        .issuer
        .issue(user.id, &user.username)
        .map_err(|e| ChatError::Internal(Box::new(e)))?;
    Ok(ok(json!({ "token": token, "user": UserView::from(&user) })))
}
