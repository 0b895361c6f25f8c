//! Built-in accounts, for teams that run the server on its own: registration and login with
//! a username and a password. Deployments whose users live in the host application turn them
//! off and rely on the host's tokens.

use std::future::Future;

use crate::{ChatError, Store, User, Username};

/// A password as typed: long enough to resist guessing, short enough to bound hashing cost.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Fewest characters accepted.
    pub const MIN_CHARS: usize = 8;
    /// Most characters accepted.
    pub const MAX_CHARS: usize = 128;

    /// Validates a password from a client.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ChatError> {
        let raw = raw.into();
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(ChatError::invalid(
                "password",
                format!(
                    "must be {} to {} characters",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Password(raw))
    }

    /// The password, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Hashes and checks passwords (argon2id in the server). Slow on purpose, so implementations
/// run off the request threads.
pub trait PasswordHasher: Send + Sync + 'static {
    /// A self-describing hash (PHC string) with a fresh salt.
    fn hash(&self, password: &Password) -> impl Future<Output = Result<String, ChatError>> + Send;

    /// Whether `password` matches `hash`; a malformed hash never matches.
    fn verify(&self, password: &Password, hash: &str) -> impl Future<Output = bool> + Send;
}

/// Registration and login over a store and a hasher.
pub struct Accounts<S, H> {
    store: S,
    hasher: H,
    /// Checked when the username is unknown, so that both failures take the same time.
    decoy_hash: String,
}

impl<S: Store, H: PasswordHasher> Accounts<S, H> {
    /// Builds the service; hashes a decoy password once.
    pub async fn new(store: S, hasher: H) -> Result<Self, ChatError> {
        let decoy = Password::parse("decoy password, never valid")?;
        let decoy_hash = hasher.hash(&decoy).await?;
        Ok(Accounts {
            store,
            hasher,
            decoy_hash,
        })
    }

    /// Creates a user with a password; a taken username (ignoring case) is a `Conflict`.
    pub async fn register(
        &self,
        username: Username,
        password: Password,
    ) -> Result<User, ChatError> {
        let hash = self.hasher.hash(&password).await?;
        self.store.create_account(username, hash).await
    }

    /// The user whose username and password match; any mismatch is `Unauthenticated`, the
    /// same for an unknown user and a wrong password.
    pub async fn login(&self, username: &Username, password: &Password) -> Result<User, ChatError> {
        match self.store.account(username).await? {
            Some((user, hash)) if self.hasher.verify(password, &hash).await => Ok(user),
            Some(_) => Err(ChatError::Unauthenticated),
            None => {
                let _ = self.hasher.verify(password, &self.decoy_hash).await;
                Err(ChatError::Unauthenticated)
            }
        }
    }
}
