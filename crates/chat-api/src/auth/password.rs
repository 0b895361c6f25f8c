//! argon2id password hashing behind a gate: at most one hash per core runs at a time (each
//! costs about 19 MiB and a core for tens of milliseconds), a bounded number of callers wait
//! their turn, and the rest are turned away at once with `Busy` (503 with `Retry-After`), so
//! that a login flood costs bounded memory and never starves other requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use chat_domain::{ChatError, Password, PasswordHasher};
use tokio::sync::Semaphore;

/// How much password hashing may happen at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes computed at the same time (on the blocking pool); one per core by default.
    pub concurrent: usize,
    /// Callers that may wait for a turn; beyond them, callers get `Busy` at once.
    pub queue: usize,
}

impl Default for HashingLimits {
    /// One hash per core, 32 waiting.
    fn default() -> Self {
        HashingLimits {
            concurrent: std::thread::available_parallelism().map_or(1, usize::from),
            queue: 32,
        }
    }
}

/// What a caller turned away is told to wait: about the time the queue takes to drain.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs blocking work at most `concurrent` at a time with at most `queue` callers waiting.
/// A caller that gives up (its client went away) frees its place in the queue at once, but a
/// hash that started keeps its permit until it ends, so that hanging up cannot make room for
/// more hashes than cores.
#[derive(Debug)]
pub(crate) struct Gate {
    permits: Arc<Semaphore>,
    /// Callers waiting or running.
    inside: Arc<AtomicUsize>,
    capacity: usize,
}

impl Gate {
    pub(crate) fn new(limits: HashingLimits) -> Self {
        let concurrent = limits.concurrent.max(1);
        Gate {
            permits: Arc::new(Semaphore::new(concurrent)),
            inside: Arc::new(AtomicUsize::new(0)),
            capacity: concurrent.saturating_add(limits.queue),
        }
    }

    /// Runs `work` on the blocking pool when a permit is free, or fails with `Busy` at once
    /// when the queue is full.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ChatError> {
        let place = Place::take(&self.inside, self.capacity).ok_or(ChatError::Busy {
            retry_after: RETRY_AFTER,
        })?;
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| ChatError::Internal(Box::new(e)))?;
        tokio::task::spawn_blocking(move || {
            let _held = (permit, place);
            work()
        })
        .await
        .map_err(|e| ChatError::Internal(Box::new(e)))
    }

    /// Callers running or waiting now.
    #[cfg(test)]
    fn inside(&self) -> usize {
        self.inside.load(Ordering::SeqCst)
    }
}

/// A caller's place in the gate, given back when dropped: when its work ends, or when the
/// caller gives up while waiting.
struct Place(Arc<AtomicUsize>);

impl Place {
    fn take(inside: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        inside
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < capacity).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(Arc::clone(inside)))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The server's password hasher: argon2id with the crate's recommended parameters, behind a
/// [`Gate`] shared by every clone.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    gate: Arc<Gate>,
}

impl Argon2Hasher {
    /// A hasher that hashes at most `limits.concurrent` passwords at once.
    pub fn new(limits: HashingLimits) -> Self {
        Argon2Hasher {
            gate: Arc::new(Gate::new(limits)),
        }
    }
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Argon2Hasher::new(HashingLimits::default())
    }
}

impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, ChatError> {
        let password = password.expose().to_owned();
        self.gate
            .run(move || {
                argon2::PasswordHasher::hash_password(&Argon2::default(), password.as_bytes())
                    .map(|hash| hash.to_string())
            })
            .await?
            .map_err(|e| ChatError::Internal(e.to_string().into()))
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, ChatError> {
        let (password, hash) = (password.expose().to_owned(), hash.to_owned());
        self.gate
            .run(move || {
                PasswordHash::new(&hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::mpsc;

    use super::*;

    /// Runs work in `gate` that holds its permit until the returned sender sends, then gives
    /// `value`; returns once the work has started.
    async fn occupy<T: Send + 'static>(
        gate: &Arc<Gate>,
        value: T,
    ) -> (
        tokio::task::JoinHandle<Result<T, ChatError>>,
        mpsc::Sender<()>,
    ) {
        let (started, has_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let running = tokio::spawn({
            let gate = Arc::clone(gate);
            async move {
                gate.run(move || {
                    started.send(()).unwrap();
                    released.recv().unwrap();
                    value
                })
                .await
            }
        });
        tokio::task::spawn_blocking(move || has_started.recv().unwrap())
            .await
            .unwrap();
        (running, release)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_beyond_the_running_and_the_queue_is_turned_away_at_once() {
        let gate = Arc::new(Gate::new(HashingLimits {
            concurrent: 1,
            queue: 1,
        }));
        let (running, release) = occupy(&gate, 1).await;
        let waiting = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.run(|| 2).await }
        });
        while gate.inside() < 2 {
            tokio::task::yield_now().await;
        }
        let refused = gate.run(|| 3).await;
        assert!(
            matches!(refused, Err(ChatError::Busy { retry_after }) if retry_after >= Duration::from_secs(1)),
            "{refused:?}"
        );
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), 1);
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        assert_eq!(gate.run(|| 4).await.unwrap(), 4, "room again once done");
        assert_eq!(gate.inside(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_does_not_free_the_permit_of_its_running_hash() {
        let gate = Arc::new(Gate::new(HashingLimits {
            concurrent: 1,
            queue: 0,
        }));
        let (abandoned, release) = occupy(&gate, ()).await;
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        let refused = gate.run(|| ()).await;
        assert!(
            matches!(refused, Err(ChatError::Busy { .. })),
            "the hash still runs: {refused:?}"
        );
        release.send(()).unwrap();
        while gate.inside() > 0 {
            tokio::task::yield_now().await;
        }
        gate.run(|| ()).await.unwrap();
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = Argon2Hasher::new(HashingLimits {
            concurrent: 1,
            queue: 0,
        });
        let password = Password::parse("correct horse").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hasher.verify(&password, &hash).await.unwrap());
        let wrong = Password::parse("wrong horse").unwrap();
        assert!(!hasher.verify(&wrong, &hash).await.unwrap());
        assert!(!hasher.verify(&password, "not a hash").await.unwrap());
    }
}
