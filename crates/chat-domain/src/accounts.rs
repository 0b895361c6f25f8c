//! Built-in accounts, for teams that run the server on its own: registration and login with
//! a username and a password. Deployments whose users live in the host application turn them
//! off and rely on the host's tokens.

use std::future::Future;
use std::net::IpAddr;

use crate::{ChatError, KeyedLimiter, Rate, Store, User, Username};

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

    /// Whether `password` matches `hash`; a malformed hash never matches. Fails only when
    /// the check cannot run now (too many waiting: `Busy`).
    fn verify(
        &self,
        password: &Password,
        hash: &str,
    ) -> impl Future<Output = Result<bool, ChatError>> + Send;
}

/// How often credentials may be tried, so that guessing passwords is slow and registering
/// accounts in bulk is too. A person who mistypes a password a few times never meets them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountRates {
    /// Login attempts per account (username, ignoring case), whoever tries.
    pub login_per_account: Rate,
    /// Login attempts per client address, whatever the account.
    pub login_per_address: Rate,
    /// Registrations per client address.
    pub register_per_address: Rate,
}

impl Default for AccountRates {
    /// 10 tries on one account, then one every 6 s; 30 from one address, then one every 2 s;
    /// 10 registrations from one address, then one every 12 s.
    fn default() -> Self {
        AccountRates {
            login_per_account: Rate::per_minute(10, 10),
            login_per_address: Rate::per_minute(30, 30),
            register_per_address: Rate::per_minute(5, 10),
        }
    }
}

/// The limiters of [`AccountRates`].
struct AccountLimiters {
    login_per_account: KeyedLimiter<String>,
    login_per_address: KeyedLimiter<IpAddr>,
    register_per_address: KeyedLimiter<IpAddr>,
}

fn limited<K: std::hash::Hash + Eq + Clone>(
    limiter: &KeyedLimiter<K>,
    key: &K,
) -> Result<(), ChatError> {
    limiter
        .check(key)
        .map_err(|retry_after| ChatError::RateLimited { retry_after })
}

/// Registration and login over a store and a hasher.
pub struct Accounts<S, H> {
    store: S,
    hasher: H,
    /// Checked when the username is unknown, so that both failures take the same time.
    decoy_hash: String,
    limiters: AccountLimiters,
}

impl<S: Store, H: PasswordHasher> Accounts<S, H> {
    /// Builds the service; hashes a decoy password once.
    pub async fn new(store: S, hasher: H, rates: AccountRates) -> Result<Self, ChatError> {
        let decoy = Password::parse("decoy password, never valid")?;
        let decoy_hash = hasher.hash(&decoy).await?;
        Ok(Accounts {
            store,
            hasher,
            decoy_hash,
            limiters: AccountLimiters {
                login_per_account: KeyedLimiter::new(rates.login_per_account)
                    .counted_as("login_per_account"),
                login_per_address: KeyedLimiter::new(rates.login_per_address)
                    .counted_as("login_per_address"),
                register_per_address: KeyedLimiter::new(rates.register_per_address)
                    .counted_as("register_per_address"),
            },
        })
    }

    /// Creates a user with a password for a client at `client`; a taken username (ignoring
    /// case) is a `Conflict`, too many registrations from the address `RateLimited`.
    pub async fn register(
        &self,
        client: IpAddr,
        username: Username,
        password: Password,
    ) -> Result<User, ChatError> {
        limited(&self.limiters.register_per_address, &client)?;
        let hash = self.hasher.hash(&password).await?;
        self.store.create_account(username, hash).await
    }

    /// The user whose username and password match; any mismatch is `Unauthenticated`, the
    /// same for an unknown user and a wrong password (an unknown user is checked against a
    /// decoy hash, so that both take the same time). Too many attempts from the address or
    /// on the account are `RateLimited` before any work is done.
    pub async fn login(
        &self,
        client: IpAddr,
        username: &Username,
        password: &Password,
    ) -> Result<User, ChatError> {
        limited(&self.limiters.login_per_address, &client)?;
        limited(&self.limiters.login_per_account, &username.key())?;
        match self.store.account(username).await? {
            Some((user, hash)) if self.hasher.verify(password, &hash).await? => Ok(user),
            Some(_) => Err(ChatError::Unauthenticated),
            None => {
                let _ = self.hasher.verify(password, &self.decoy_hash).await?;
                Err(ChatError::Unauthenticated)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::memory::MemoryStore;

    /// Hashes are the password itself; counts the checks.
    #[derive(Clone, Default)]
    struct Plain(Arc<AtomicUsize>);

    impl PasswordHasher for Plain {
        async fn hash(&self, password: &Password) -> Result<String, ChatError> {
            Ok(password.expose().to_owned())
        }

        async fn verify(&self, password: &Password, hash: &str) -> Result<bool, ChatError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(password.expose() == hash)
        }
    }

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn name(raw: &str) -> Username {
        Username::parse(raw).unwrap()
    }

    fn password(raw: &str) -> Password {
        Password::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn an_unknown_username_costs_one_password_check_like_a_known_one() {
        let hasher = Plain::default();
        let accounts = Accounts::new(MemoryStore::new(), hasher.clone(), AccountRates::default())
            .await
            .unwrap();
        accounts
            .register(HOME, name("alice"), password("alice-password"))
            .await
            .unwrap();
        let wrong = accounts
            .login(HOME, &name("alice"), &password("not her password"))
            .await;
        assert!(
            matches!(wrong, Err(ChatError::Unauthenticated)),
            "{wrong:?}"
        );
        let unknown = accounts
            .login(HOME, &name("nobody"), &password("any password"))
            .await;
        assert!(
            matches!(unknown, Err(ChatError::Unauthenticated)),
            "{unknown:?}"
        );
        assert_eq!(hasher.0.load(Ordering::SeqCst), 2, "one check each");
    }

    #[tokio::test]
    async fn logins_are_limited_per_account_ignoring_case_and_per_address() {
        let rates = AccountRates {
            login_per_account: Rate::per_minute(1, 2),
            login_per_address: Rate::per_minute(1, 3),
            register_per_address: Rate::per_minute(1, 1),
        };
        let accounts = Accounts::new(MemoryStore::new(), Plain::default(), rates)
            .await
            .unwrap();
        let guess = |who: &'static str, from: IpAddr| {
            let accounts = &accounts;
            async move {
                accounts
                    .login(from, &name(who), &password("guess guess"))
                    .await
            }
        };
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!(matches!(
            guess("erin", HOME).await,
            Err(ChatError::Unauthenticated)
        ));
        assert!(matches!(
            guess("ERIN", other).await,
            Err(ChatError::Unauthenticated)
        ));
        let limited = guess("Erin", other).await;
        assert!(
            matches!(limited, Err(ChatError::RateLimited { retry_after }) if retry_after.as_secs() > 50),
            "the third try on one account, from anywhere: {limited:?}"
        );
        assert!(matches!(
            guess("frank", HOME).await,
            Err(ChatError::Unauthenticated)
        ));
        assert!(matches!(
            guess("gus", HOME).await,
            Err(ChatError::Unauthenticated)
        ));
        assert!(
            matches!(guess("hal", HOME).await, Err(ChatError::RateLimited { .. })),
            "the fourth try from one address"
        );
        let register =
            |who: &'static str| accounts.register(other, name(who), password("p4ssword!"));
        register("ivy").await.unwrap();
        assert!(matches!(
            register("jo").await,
            Err(ChatError::RateLimited { .. })
        ));
    }
}
