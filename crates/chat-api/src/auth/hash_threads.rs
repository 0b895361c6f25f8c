//! The threads that compute password hashes: exactly as many as may hash at once, kept for the
//! life of the server.
//!
//! Why not the blocking pool: each argon2 hash allocates about 19 MiB, and the allocator keeps
//! what a thread freed in that thread's arena for the next allocation there. Spread over the
//! blocking pool's hundreds of threads (up to 16 arenas on 2 cores), a login flood left
//! hundreds of megabytes that never went back; on a fixed set of threads the memory kept is at
//! most one hash's worth per thread, whatever the flood.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use chat_domain::ChatError;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of named threads that run jobs in the order they were given; the threads end
/// when this is dropped.
#[derive(Debug)]
pub(crate) struct HashThreads {
    jobs: Sender<Job>,
}

impl HashThreads {
    /// Starts `count` threads (at least one).
    ///
    /// # Errors
    /// The system refused a thread.
    pub(crate) fn start(count: usize) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..count.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || serve(&queue))?;
        }
        Ok(HashThreads { jobs })
    }

    /// Runs `work` on one of the threads and returns its result.
    ///
    /// # Errors
    /// `Internal` when the work panicked (the thread survives it).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ChatError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = answer.send(work());
            }))
            .map_err(|_| ChatError::Internal("the password hashing threads are gone".into()))?;
        answered
            .await
            .map_err(|_| ChatError::Internal("a password hash failed".into()))
    }
}

/// One thread's life: take the next job, run it, until the sender is gone.
fn serve(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        // A job that panics drops its answer (its caller gets `Internal`); the thread goes on.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashSet;

    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_same_few_threads_and_survives_a_panic() {
        let threads = HashThreads::start(2).unwrap();
        let mut names = HashSet::new();
        for _ in 0..50 {
            let name = threads
                .run(|| std::thread::current().name().map(str::to_owned))
                .await
                .unwrap();
            names.insert(name.unwrap_or_default());
        }
        assert!(names.len() <= 2, "{names:?}");
        assert!(
            names.iter().all(|n| n.starts_with("password-hash-")),
            "{names:?}"
        );
        let failed = threads.run(|| panic!("a broken hash")).await;
        assert!(matches!(failed, Err(ChatError::Internal(_))));
        assert_eq!(threads.run(|| 7).await.unwrap(), 7, "the thread survived");
    }
}
