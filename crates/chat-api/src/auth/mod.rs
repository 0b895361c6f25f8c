//! Authentication: the host's Bearer JWTs (and tokens issued to built-in accounts), verified
//! with a pinned algorithm, and the [`AuthUser`] extractor that handlers take.

mod jwt;
mod password;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chat_domain::{ChatError, UserId};
use chrono::{DateTime, Utc};

pub use jwt::{Identity, JwtSettings, TokenError, TokenIssuer, TokenVerifier, VerifyKey};
pub use password::{Argon2Hasher, HashingLimits};

use crate::ApiError;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Creates the user a valid token names when this process has not seen it yet.
pub type Provision = Arc<dyn Fn(Identity) -> BoxFuture<Result<(), ChatError>> + Send + Sync>;

/// Users this process has already provisioned; beyond this many the set starts over, which
/// costs one idempotent write per user and bounds memory.
const KNOWN_USERS_MAX: usize = 100_000;

/// Turns a request's credentials into a user: verifies the token, provisions a user seen for
/// the first time, and remembers it.
pub struct Authenticator {
    verifier: TokenVerifier,
    provision: Provision,
    // A std Mutex: held for a set lookup or insert only, never across an await.
    known: Mutex<HashSet<UserId>>,
}

impl Authenticator {
    /// An authenticator over a verifier and the provisioning step.
    pub fn new(verifier: TokenVerifier, provision: Provision) -> Self {
        Authenticator {
            verifier,
            provision,
            known: Mutex::new(HashSet::new()),
        }
    }

    /// The user behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<UserId, ApiError> {
        self.authenticate_until(token).await.map(|(user, _)| user)
    }

    /// The user behind a bearer token, as [`Authenticator::authenticate`] (same verification,
    /// provisioning and errors), and until when the token is accepted
    /// ([`Identity::valid_until`]), for a connection that outlives its request.
    pub async fn authenticate_until(
        &self,
        token: &str,
    ) -> Result<(UserId, Option<DateTime<Utc>>), ApiError> {
        let identity = self.verifier.verify(token).map_err(|error| {
            tracing::debug!(%error, "token refused");
            ApiError::Unauthorized("Invalid or expired token")
        })?;
        let (user, valid_until) = (identity.user, identity.valid_until);
        let seen = self.lock().contains(&user);
        if !seen {
            (self.provision)(identity).await?;
            let mut known = self.lock();
            if known.len() >= KNOWN_USERS_MAX {
                known.clear();
            }
            known.insert(user);
        }
        Ok((user, valid_until))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<UserId>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The token in an `Authorization: Bearer <token>` header, read as a Socket.IO handshake
/// reads it ([`chat_domain::wire::bearer_token`]).
pub fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    chat_domain::wire::bearer_token(value)
}

/// Whether a presented secret (an admin or metrics token) is the expected one, compared in
/// time independent of where the first difference is.
pub fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
#[test]
fn same_secret_needs_equal_bytes_and_length() {
    assert!(same_secret("abc", "abc"));
    assert!(!same_secret("abd", "abc"));
    assert!(!same_secret("ab", "abc"));
    assert!(!same_secret("", "abc"));
}

/// The authenticated caller; a handler that takes it answers 401 to anonymous requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser(pub UserId);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(request).map(str::to_owned);
        let authenticator = request.app_data::<web::Data<Authenticator>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthorized("Authentication required"))?;
            let authenticator = authenticator
                .ok_or_else(|| ChatError::Internal("no authenticator configured".into()))?;
            authenticator.authenticate(&token).await.map(AuthUser)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;

    const LEEWAY: Duration = Duration::from_secs(5);

    fn authenticator() -> Authenticator {
        let settings = JwtSettings {
            key: VerifyKey::Hs256Secret("k".into()),
            user_claim: "id".into(),
            leeway: LEEWAY,
            require_exp: false,
        };
        let provision: Provision = Arc::new(|_| Box::pin(async { Ok(()) }));
        Authenticator::new(TokenVerifier::new(&settings).unwrap(), provision)
    }

    fn sign(claims: &Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(b"k");
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
    }

    #[tokio::test]
    async fn a_token_names_its_user_and_until_when_it_is_accepted() {
        let exp = chrono::Utc::now().timestamp() + 120;
        let token = sign(&json!({ "id": 7, "exp": exp }));
        let (user, until) = authenticator().authenticate_until(&token).await.unwrap();
        assert_eq!(user, UserId(7));
        assert_eq!(
            until.map(|at| at.timestamp()),
            Some(exp + 5),
            "exp plus the leeway"
        );
        let forever = sign(&json!({ "id": 7 }));
        let (_, until) = authenticator().authenticate_until(&forever).await.unwrap();
        assert_eq!(until, None);
    }

    #[tokio::test]
    async fn a_bad_token_is_refused_as_by_authenticate() {
        let forged = sign(&json!({ "id": 7 })).replace('.', ".x");
        let refused = authenticator().authenticate_until(&forged).await;
        assert!(matches!(refused, Err(ApiError::Unauthorized(_))));
    }
}
