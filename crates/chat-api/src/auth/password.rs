//! argon2id password hashing, run on the blocking pool so that its deliberate slowness never
//! stalls a request thread.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use chat_domain::{ChatError, Password, PasswordHasher};

/// The server's password hasher: argon2id with the crate's recommended parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Hasher;

impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, ChatError> {
        let password = password.expose().to_owned();
        actix_web::web::block(move || {
            argon2::PasswordHasher::hash_password(&Argon2::default(), password.as_bytes())
                .map(|hash| hash.to_string())
        })
        .await
        .map_err(|e| ChatError::Internal(Box::new(e)))?
        .map_err(|e| ChatError::Internal(e.to_string().into()))
    }

    async fn verify(&self, password: &Password, hash: &str) -> bool {
        let (password, hash) = (password.expose().to_owned(), hash.to_owned());
        actix_web::web::block(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false)
    }
}
