//! When a verified token expires, for connections that outlive the request that authenticated
//! them: a socket is disconnected once its token has expired.

use chat_domain::UserId;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Authenticator;
use crate::ApiError;

impl Authenticator {
    /// The user behind a bearer token, exactly as [`Authenticator::authenticate`] (same
    /// verification, provisioning and errors), with the token's expiry: its `exp` claim, without
    /// the leeway, or `None` for a token without one (accepted when `JWT_REQUIRE_EXP` is off).
    pub async fn authenticate_with_expiry(
        &self,
        token: &str,
    ) -> Result<(UserId, Option<DateTime<Utc>>), ApiError> {
        let user = self.authenticate(token).await?;
        Ok((user, expiry(token)))
    }
}

/// The `exp` claim (seconds since the epoch) of a token that was just verified: the signature
/// already holds, so the claims are read without checking it again.
fn expiry(token: &str) -> Option<DateTime<Utc>> {
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let exp = claims.get("exp")?;
    let seconds = exp
        .as_i64()
        .or_else(|| exp.as_f64().map(|s| s.floor() as i64))?;
    DateTime::from_timestamp(seconds, 0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::auth::{JwtSettings, Provision, TokenVerifier, VerifyKey};

    fn authenticator() -> Authenticator {
        let settings = JwtSettings {
            key: VerifyKey::Hs256Secret("k".into()),
            user_claim: "id".into(),
            leeway: Duration::from_secs(5),
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
    async fn a_token_names_its_user_and_its_expiry() {
        let exp = Utc::now().timestamp() + 120;
        let token = sign(&serde_json::json!({ "id": 7, "exp": exp }));
        let (user, expires) = authenticator()
            .authenticate_with_expiry(&token)
            .await
            .unwrap();
        assert_eq!(user, UserId(7));
        assert_eq!(expires.map(|at| at.timestamp()), Some(exp));
        let forever = sign(&serde_json::json!({ "id": 7 }));
        let (_, expires) = authenticator()
            .authenticate_with_expiry(&forever)
            .await
            .unwrap();
        assert_eq!(expires, None);
    }

    #[tokio::test]
    async fn a_bad_token_is_refused_as_by_authenticate() {
        let forged = sign(&serde_json::json!({ "id": 7 })).replace('.', ".x");
        let refused = authenticator().authenticate_with_expiry(&forged).await;
        assert!(matches!(refused, Err(ApiError::Unauthorized(_))));
    }
}
