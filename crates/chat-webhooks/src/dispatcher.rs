//! The dispatcher: a task per node that claims due events from the outbox, fixes each body at
//! its first attempt (naming the members not connected then), posts it signed, and records
//! the outcome: delivered, retried after a backoff that doubles up to a cap, or dead-lettered
//! after the last attempt.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_domain::UserId;
use chat_store_pg::{PgStore, WebhookClaim, WebhookOutcome};
use futures_util::future::{BoxFuture, join_all};
use reqwest::header::CONTENT_TYPE;

use crate::event;
use crate::signature::{SIGNATURE_HEADER, sign};

/// The header carrying the event's id, the same on every attempt (an idempotency key).
pub const ID_HEADER: &str = "X-Chat-Webhook-Id";
/// The header carrying the attempt's number, from 1.
pub const ATTEMPT_HEADER: &str = "X-Chat-Webhook-Attempt";

/// Counter of attempts by `outcome`: `delivered`, `failed` (retried later), `dead`, `skipped`.
pub const ATTEMPTS_METRIC: &str = "chat_webhook_attempts_total";
/// Gauge of outbox events by `state`: `pending`, `dead`.
pub const OUTBOX_METRIC: &str = "chat_webhook_outbox_events";

/// Delivered and skipped events are forgotten this long after they finished.
const KEEP_FINISHED: Duration = Duration::from_secs(24 * 3600);
/// How often the outbox gauges are refreshed and finished events pruned.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(10);

/// Where and how events are posted (`CHAT_WEBHOOK_*`).
#[derive(Clone)]
pub struct WebhookConfig {
    /// The receiver (`CHAT_WEBHOOK_URL`).
    pub url: String,
    /// The HMAC key of the signature (`CHAT_WEBHOOK_SECRET`).
    pub secret: String,
    /// How long one attempt may take, connection included (`CHAT_WEBHOOK_TIMEOUT_MS`).
    pub timeout: Duration,
    /// Attempts before an event is dead-lettered (`CHAT_WEBHOOK_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The wait after the first failure, doubled after each next one (`CHAT_WEBHOOK_BACKOFF_MS`).
    pub backoff: Duration,
    /// The longest wait between attempts (`CHAT_WEBHOOK_MAX_BACKOFF_SECS`).
    pub max_backoff: Duration,
    /// How often the outbox is looked at when idle (`CHAT_WEBHOOK_POLL_MS`).
    pub poll: Duration,
    /// Events attempted at once (`CHAT_WEBHOOK_CONCURRENCY`).
    pub concurrency: usize,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &"***")
            .field("secret", &"***")
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("max_backoff", &self.max_backoff)
            .field("poll", &self.poll)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl WebhookConfig {
    /// Checks `url` as a receiver: an absolute `http` or `https` URL with a host.
    pub fn check_url(url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err("expected an http:// or https:// URL with a host".to_owned());
        }
        Ok(())
    }

    /// The wait after failed attempt number `attempt` (from 1): the backoff doubled
    /// `attempt - 1` times, at most the cap.
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// How long a claimed event is kept from other nodes: longer than an attempt takes (the
    /// presence check and the post, each bounded by the timeout, and three reads or writes
    /// that may each wait for a pooled connection). A claim that outlives it anyway records
    /// nothing (its attempt number fences it).
    fn lease(&self) -> Duration {
        self.timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(30))
    }
}

/// Which users hold a socket now, on any node of the cluster.
pub trait Connected: Send + Sync + 'static {
    /// The subset of `users` with at least one socket connected.
    fn connected(&self, users: Vec<UserId>) -> BoxFuture<'_, Result<HashSet<UserId>, String>>;
}

/// What an attempt posts.
enum Prepared {
    /// This body.
    Body(String),
    /// Nothing: nobody to tell, or the message is gone.
    Nothing,
    /// Nothing: the claim was lost to another node.
    Lost,
}

/// Posts the outbox's events; see the module documentation.
pub struct Dispatcher {
    store: PgStore,
    config: WebhookConfig,
    connected: Arc<dyn Connected>,
    http: reqwest::Client,
}

impl Dispatcher {
    /// A dispatcher of `store`'s outbox to `config.url`.
    pub fn new(
        store: PgStore,
        config: WebhookConfig,
        connected: Arc<dyn Connected>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            // A signed event goes where it was configured to go, and nowhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("chat-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            config,
            connected,
            http,
        })
    }

    /// Runs until the runtime stops: claims due events, attempts them, sleeps when none is due.
    pub async fn run(self) {
        let mut housekept = Instant::now() - HOUSEKEEPING_EVERY;
        loop {
            if housekept.elapsed() >= HOUSEKEEPING_EVERY {
                self.housekeeping().await;
                housekept = Instant::now();
            }
            let limit = i64::try_from(self.config.concurrency).unwrap_or(i64::MAX);
            match self.store.claim_webhooks(limit, self.config.lease()).await {
                Ok(claims) if !claims.is_empty() => {
                    join_all(claims.into_iter().map(|claim| self.attempt(claim))).await;
                }
                Ok(_) => tokio::time::sleep(self.config.poll).await,
                Err(error) => {
                    tracing::warn!(%error, "webhook outbox unavailable");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    /// One attempt at one event, its outcome recorded. A failure to record leaves the event
    /// claimed until its lease ends; it is attempted again then.
    async fn attempt(&self, claim: WebhookClaim) {
        let outcome = match self.prepare(&claim).await {
            Ok(Prepared::Nothing) => WebhookOutcome::Skipped,
            Ok(Prepared::Lost) => return self.lost(&claim),
            Ok(Prepared::Body(body)) => match self.post(&claim, &body).await {
                Ok(()) => WebhookOutcome::Delivered,
                Err(error) => self.failed(&claim, error),
            },
            Err(error) => self.failed(&claim, error),
        };
        let label = match outcome {
            WebhookOutcome::Delivered => "delivered",
            WebhookOutcome::Skipped => "skipped",
            WebhookOutcome::RetryAfter(..) => "failed",
            WebhookOutcome::Dead(_) => "dead",
        };
        metrics::counter!(ATTEMPTS_METRIC, "outcome" => label).increment(1);
        match self.store.settle_webhook(&claim, &outcome).await {
            Ok(true) => {}
            Ok(false) => self.lost(&claim),
            Err(error) => tracing::warn!(%error, event = claim.id, "webhook outcome not recorded"),
        }
    }

    /// This node's claim ran past its lease and another node took the event: that node
    /// records its outcome.
    fn lost(&self, claim: &WebhookClaim) {
        tracing::debug!(event = claim.id, "webhook claim lost to another node");
    }

    /// What to post for `claim`: its body as fixed at its first attempt, or one built now from
    /// who is connected and fixed before it is posted, so that every attempt sends the same.
    async fn prepare(&self, claim: &WebhookClaim) -> Result<Prepared, String> {
        if claim.deleted {
            return Ok(Prepared::Nothing);
        }
        if let Some(body) = &claim.payload {
            return Ok(Prepared::Body(body.clone()));
        }
        let subject = self
            .store
            .webhook_subject(claim.message_id)
            .await
            .map_err(|e| e.to_string())?;
        let Some(subject) = subject else {
            return Ok(Prepared::Nothing);
        };
        let candidates = event::candidates(&subject);
        if candidates.is_empty() {
            return Ok(Prepared::Nothing);
        }
        let connected =
            tokio::time::timeout(self.config.timeout, self.connected.connected(candidates))
                .await
                .map_err(|_| "presence timed out".to_owned())??;
        let Some(body) = event::body(claim.id, &subject, &connected) else {
            return Ok(Prepared::Nothing);
        };
        let fixed = self
            .store
            .fix_webhook_body(claim, &body.to_string())
            .await
            .map_err(|e| e.to_string())?;
        Ok(fixed.map_or(Prepared::Lost, Prepared::Body))
    }

    /// Posts `body`; any answer but 2xx is a failure, named without the URL.
    async fn post(&self, claim: &WebhookClaim, body: &str) -> Result<(), String> {
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(self.config.secret.as_bytes(), timestamp, body.as_bytes());
        let response = self
            .http
            .post(&self.config.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ID_HEADER, claim.id.to_string())
            .header(ATTEMPT_HEADER, claim.attempts.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    /// A failed attempt: retried after its backoff, or dead-lettered when it was the last.
    fn failed(&self, claim: &WebhookClaim, error: String) -> WebhookOutcome {
        let attempt = u32::try_from(claim.attempts).unwrap_or(u32::MAX);
        if attempt >= self.config.max_attempts {
            tracing::warn!(event = claim.id, attempts = attempt, %error, "webhook dead-lettered");
            WebhookOutcome::Dead(error)
        } else {
            tracing::debug!(event = claim.id, attempt, %error, "webhook attempt failed");
            WebhookOutcome::RetryAfter(self.config.backoff_after(attempt), error)
        }
    }

    /// Refreshes the outbox gauges and forgets old finished events.
    async fn housekeeping(&self) {
        if let Ok(counts) = self.store.webhook_counts().await {
            metrics::gauge!(OUTBOX_METRIC, "state" => "pending").set(counts.pending as f64);
            metrics::gauge!(OUTBOX_METRIC, "state" => "dead").set(counts.dead as f64);
        }
        if let Err(error) = self.store.prune_webhooks(KEEP_FINISHED).await {
            tracing::debug!(%error, "finished webhook events not pruned");
        }
    }
}

/// What went wrong with a request, without the URL (it may carry credentials).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let config = WebhookConfig {
            url: String::new(),
            secret: String::new(),
            timeout: Duration::from_secs(5),
            max_attempts: 10,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            concurrency: 8,
        };
        let waits: Vec<u64> = (1..=9).map(|n| config.backoff_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(config.backoff_after(u32::MAX), Duration::from_secs(60));
    }
}
