//! Verifying the host application's tokens (one pinned algorithm, `exp` enforced) and issuing
//! tokens for built-in accounts.

use std::time::Duration;

use chat_domain::{UserId, Username};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

/// The key tokens are checked with, and so the one algorithm accepted.
#[derive(Clone, PartialEq, Eq)]
pub enum VerifyKey {
    /// HS256 with the secret shared with the host (`JWT_SECRET`).
    Hs256Secret(String),
    /// RS256 with a PEM public key.
    Rs256Pem(String),
    /// ES256 with a PEM public key.
    Es256Pem(String),
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerifyKey::Hs256Secret(_) => "Hs256Secret(***)",
            VerifyKey::Rs256Pem(_) => "Rs256Pem(..)",
            VerifyKey::Es256Pem(_) => "Es256Pem(..)",
        })
    }
}

/// How tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    /// The key, which pins the algorithm.
    pub key: VerifyKey,
    /// The claim holding the user id (`id` by default; `sub` is accepted when it is absent).
    pub user_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Whether a token must carry `exp` (hosts that issue none may turn this off).
    pub require_exp: bool,
}

/// Who a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user id from the token.
    pub user: UserId,
    /// The `username` claim, when present and valid.
    pub username: Option<Username>,
    /// When the verifier stops accepting the token: its `exp` plus the leeway; `None` for a
    /// token without `exp` (accepted when `JWT_REQUIRE_EXP` is off). A connection that outlives
    /// its request (a socket) is ended then.
    pub valid_until: Option<DateTime<Utc>>,
}

/// Why a token was refused; clients only ever learn "401".
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The signature, algorithm, expiry or shape is wrong.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// The token names no usable user id.
    #[error("the token names no user id")]
    NoUser,
}

/// Checks tokens; built once at start-up.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    user_claim: String,
}

impl TokenVerifier {
    /// Parses the key; a PEM that is not a public key of the named kind fails here, at start-up.
    pub fn new(settings: &JwtSettings) -> Result<Self, jsonwebtoken::errors::Error> {
        let (key, algorithm) = match &settings.key {
            VerifyKey::Hs256Secret(secret) => (
                DecodingKey::from_secret(secret.as_bytes()),
                Algorithm::HS256,
            ),
            VerifyKey::Rs256Pem(pem) => {
                (DecodingKey::from_rsa_pem(pem.as_bytes())?, Algorithm::RS256)
            }
            VerifyKey::Es256Pem(pem) => {
                (DecodingKey::from_ec_pem(pem.as_bytes())?, Algorithm::ES256)
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_exp = settings.require_exp;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        if settings.require_exp {
            validation.required_spec_claims.insert("exp".to_owned());
        }
        Ok(TokenVerifier {
            key,
            validation,
            user_claim: settings.user_claim.clone(),
        })
    }

    /// The identity in a valid token.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let claims =
            jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)?.claims;
        let id = claims
            .get(&self.user_claim)
            .or_else(|| claims.get("sub"))
            .and_then(user_id)
            .ok_or(TokenError::NoUser)?;
        let username = claims
            .get("username")
            .and_then(Value::as_str)
            .and_then(|name| Username::parse(name).ok());
        let valid_until = claims.get("exp").and_then(seconds).and_then(|exp| {
            let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
            DateTime::from_timestamp(exp.saturating_add(leeway), 0)
        });
        Ok(Identity {
            user: id,
            username,
            valid_until,
        })
    }
}

/// Seconds since the epoch, as a JSON integer or (as some issuers write `exp`) a float.
fn seconds(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|s| s.floor() as i64))
}

/// A positive id, as a JSON number or a string of digits.
fn user_id(value: &Value) -> Option<UserId> {
    let id = match value {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    (id > 0).then_some(UserId(id))
}

/// Signs tokens for built-in accounts with the HS256 secret.
pub struct TokenIssuer {
    key: EncodingKey,
    ttl: Duration,
}

impl TokenIssuer {
    /// An issuer for the shared secret; tokens live for `ttl`.
    pub fn new(secret: &str, ttl: Duration) -> Self {
        TokenIssuer {
            key: EncodingKey::from_secret(secret.as_bytes()),
            ttl,
        }
    }

    /// A token naming `user`, in the same shape a host issues (`id`, `sub`, `username`).
    pub fn issue(
        &self,
        user: UserId,
        username: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = serde_json::json!({
            "id": user.get(),
            "sub": user.get().to_string(),
            "username": username,
            "iat": now,
            "exp": now.saturating_add(ttl),
        });
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secret: &str) -> JwtSettings {
        JwtSettings {
            key: VerifyKey::Hs256Secret(secret.into()),
            user_claim: "id".into(),
            leeway: Duration::from_secs(5),
            require_exp: true,
        }
    }

    #[test]
    fn an_issued_token_verifies_and_names_its_user() {
        let issuer = TokenIssuer::new("k", Duration::from_secs(60));
        let token = issuer.issue(UserId(7), "gus").unwrap();
        let identity = TokenVerifier::new(&settings("k"))
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(identity.user, UserId(7));
        assert_eq!(identity.username.unwrap().as_str(), "gus");
        assert!(
            TokenVerifier::new(&settings("other"))
                .unwrap()
                .verify(&token)
                .is_err()
        );
    }

    #[test]
    fn user_ids_come_from_numbers_or_digit_strings() {
        assert_eq!(user_id(&serde_json::json!(5)), Some(UserId(5)));
        assert_eq!(user_id(&serde_json::json!("12")), Some(UserId(12)));
        for bad in [
            serde_json::json!(0),
            serde_json::json!(-3),
            serde_json::json!("x"),
            serde_json::json!(1.5),
            serde_json::json!(null),
        ] {
            assert_eq!(user_id(&bad), None, "{bad}");
        }
    }
}
