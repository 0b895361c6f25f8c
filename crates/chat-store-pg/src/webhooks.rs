//! The webhook outbox (`webhook_outbox`, migration 12): rows the append batch writes with their
//! messages, claimed by the dispatcher with a lease, settled after each attempt, and the
//! dead-lettered ones listed and requeued for the admin API.
//!
//! Claiming takes rows `FOR UPDATE SKIP LOCKED` and pushes their next attempt past a lease in
//! the same statement, so that in a cluster one node takes each row, and a node that dies
//! mid-delivery leaves its rows to be claimed again when the lease runs out (delivery is at
//! least once; the event id lets the receiver drop a repeat).

use std::time::Duration;

use chat_domain::ChatError;
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;

use crate::{PgStore, query_error};

/// Claims due rows: at most `$1`, oldest due first, their next attempt `$2` seconds away; with
/// each, whether its message was deleted since.
const CLAIM: &str = "
WITH due AS MATERIALIZED (
    SELECT id FROM webhook_outbox
     WHERE state = 'pending' AND next_attempt_at <= now()
     ORDER BY next_attempt_at, id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
)
UPDATE webhook_outbox o
   SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
  FROM due
 WHERE o.id = due.id
RETURNING o.id, o.message_id, o.attempts, o.payload,
          EXISTS (SELECT 1 FROM messages m
                   WHERE m.id = o.message_id AND m.deleted_at IS NOT NULL) AS deleted";

/// Fixes the body of claim `$1` (attempt `$3`) to `$2` unless it has one; the body to send, or
/// nothing when the claim was lost (its lease ran out and another node took the row).
const FIX_BODY: &str = "
UPDATE webhook_outbox SET payload = coalesce(payload, $2)
 WHERE id = $1 AND attempts = $3 AND state = 'pending'
RETURNING payload";

/// What an event is about: the message, its sender and conversation, and the members.
const SUBJECT: &str = "
SELECT m.id, m.conversation_id, m.seq, m.sender_id, u.username AS sender_username, m.content,
       m.attachment_url, m.created_at, m.deleted_at IS NOT NULL AS deleted,
       coalesce(m.mentions, '{}') AS mentions, c.kind, c.title,
       ARRAY(SELECT cm.user_id FROM conversation_members cm
              WHERE cm.conversation_id = m.conversation_id ORDER BY cm.user_id) AS members
  FROM messages m
  JOIN users u ON u.id = m.sender_id
  JOIN conversations c ON c.id = m.conversation_id
 WHERE m.id = $1";

/// Settles claim `$1` (attempt `$5`): its state, when it is tried next, the error. The attempt
/// number fences it: a claim whose lease ran out and whose row another node took again
/// settles nothing.
const SETTLE: &str = "
UPDATE webhook_outbox
   SET state = $2, next_attempt_at = now() + make_interval(secs => $3), last_error = $4,
       finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
 WHERE id = $1 AND attempts = $5 AND state = 'pending'";

/// Dead-lettered rows below a cursor, newest first.
const DEAD: &str = "
SELECT id, message_id, attempts, payload, last_error, created_at,
       coalesce(finished_at, created_at) AS finished_at
  FROM webhook_outbox
 WHERE state = 'dead' AND id < $1
 ORDER BY id DESC
 LIMIT $2";

/// Puts a dead-lettered row back in the queue, due now, with its attempts counted afresh.
const REQUEUE: &str = "
UPDATE webhook_outbox
   SET state = 'pending', attempts = 0, next_attempt_at = now(), finished_at = NULL
 WHERE id = $1 AND state = 'dead'";

/// Rows by state, for the metrics: each count on its own partial index.
const COUNTS: &str = "
SELECT (SELECT count(*) FROM webhook_outbox WHERE state = 'pending') AS pending,
       (SELECT count(*) FROM webhook_outbox WHERE state = 'dead') AS dead";

/// Forgets delivered and skipped rows finished more than `$1` seconds ago.
const PRUNE: &str = "
DELETE FROM webhook_outbox
 WHERE state IN ('delivered', 'skipped')
   AND finished_at < now() - make_interval(secs => $1)";

/// A row claimed for one attempt.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct WebhookClaim {
    /// The row's id: the event's id, the same on every attempt.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The message the event is about.
    #[diesel(sql_type = BigInt)]
    pub message_id: i64,
    /// This attempt's number, from 1.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// The event's body as fixed at the first attempt (JSON text), or `None` before it.
    #[diesel(sql_type = Nullable<Text>)]
    pub payload: Option<String>,
    /// Whether the message was deleted since it was sent (nothing more is sent then).
    #[diesel(sql_type = Bool)]
    pub deleted: bool,
}

/// The message an event is about, with what the event tells of it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct WebhookSubject {
    /// The message's id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its conversation.
    #[diesel(sql_type = BigInt)]
    pub conversation_id: i64,
    /// Its place in the conversation.
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    /// Who sent it.
    #[diesel(sql_type = BigInt)]
    pub sender_id: i64,
    /// The sender's username.
    #[diesel(sql_type = Text)]
    pub sender_username: String,
    /// Its text.
    #[diesel(sql_type = Text)]
    pub content: String,
    /// Its attachment, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub attachment_url: Option<String>,
    /// When it was sent.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Whether it was deleted since (no event is sent then).
    #[diesel(sql_type = Bool)]
    pub deleted: bool,
    /// The members it mentions.
    #[diesel(sql_type = Array<BigInt>)]
    pub mentions: Vec<i64>,
    /// `direct` or `group`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// A group's title.
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
    /// The conversation's members now, by id.
    #[diesel(sql_type = Array<BigInt>)]
    pub members: Vec<i64>,
}

/// How an attempt ended, for [`PgStore::settle_webhook`].
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Nobody to tell (every recipient was connected, or the message is gone): nothing sent.
    Skipped,
    /// The attempt failed; the next one is due after this long.
    RetryAfter(Duration, String),
    /// The attempt failed and was the last one.
    Dead(String),
}

/// A dead-lettered event, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DeadWebhook {
    /// The event's id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The message it is about.
    #[diesel(sql_type = BigInt)]
    pub message_id: i64,
    /// How many attempts were made.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// The body that was sent (JSON text).
    #[diesel(sql_type = Nullable<Text>)]
    pub payload: Option<String>,
    /// What the last attempt got.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    /// When the message was stored.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When the event was given up.
    #[diesel(sql_type = Timestamptz)]
    pub finished_at: DateTime<Utc>,
}

/// Pending and dead-lettered rows, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct WebhookCounts {
    /// Events waiting for an attempt.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Events given up.
    #[diesel(sql_type = BigInt)]
    pub dead: i64,
}

impl PgStore {
    /// Claims up to `limit` due events; each is not due again for `lease` (the longest an
    /// attempt may take), so that no other node takes it meanwhile.
    pub async fn claim_webhooks(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<WebhookClaim>, ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(CLAIM)
            .bind::<BigInt, _>(limit)
            .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
            .load(&mut conn)
            .await
            .map_err(query_error)
    }

    /// The message event `message` is about, or `None` when it is gone.
    pub async fn webhook_subject(&self, message: i64) -> Result<Option<WebhookSubject>, ChatError> {
        let mut conn = self.conn().await?;
        let mut rows: Vec<WebhookSubject> = diesel::sql_query(SUBJECT)
            .bind::<BigInt, _>(message)
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(rows.pop())
    }

    /// Fixes the body of `claim` to `body` unless it has one, before it is posted, so that
    /// every attempt sends the same bytes; the body to send, or `None` when the claim was lost
    /// (its lease ran out and another node took the row).
    pub async fn fix_webhook_body(
        &self,
        claim: &WebhookClaim,
        body: &str,
    ) -> Result<Option<String>, ChatError> {
        #[derive(QueryableByName)]
        struct Fixed {
            #[diesel(sql_type = Text)]
            payload: String,
        }
        let mut conn = self.conn().await?;
        let mut rows: Vec<Fixed> = diesel::sql_query(FIX_BODY)
            .bind::<BigInt, _>(claim.id)
            .bind::<Text, _>(body)
            .bind::<Integer, _>(claim.attempts)
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(rows.pop().map(|row| row.payload))
    }

    /// Records how `claim`'s attempt ended; false when the claim was lost meanwhile (another
    /// node took the row after its lease), so that nothing was recorded.
    pub async fn settle_webhook(
        &self,
        claim: &WebhookClaim,
        outcome: &WebhookOutcome,
    ) -> Result<bool, ChatError> {
        let (state, after, error) = match outcome {
            WebhookOutcome::Delivered => ("delivered", Duration::ZERO, None),
            WebhookOutcome::Skipped => ("skipped", Duration::ZERO, None),
            WebhookOutcome::RetryAfter(after, error) => ("pending", *after, Some(error.as_str())),
            WebhookOutcome::Dead(error) => ("dead", Duration::ZERO, Some(error.as_str())),
        };
        let mut conn = self.conn().await?;
        let settled = diesel::sql_query(SETTLE)
            .bind::<BigInt, _>(claim.id)
            .bind::<Text, _>(state)
            .bind::<diesel::sql_types::Double, _>(after.as_secs_f64())
            .bind::<Nullable<Text>, _>(error)
            .bind::<Integer, _>(claim.attempts)
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(settled == 1)
    }

    /// Dead-lettered events with an id below `before` (all when `None`), newest first, at
    /// most `limit`.
    pub async fn dead_webhooks(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeadWebhook>, ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(DEAD)
            .bind::<BigInt, _>(before.unwrap_or(i64::MAX))
            .bind::<BigInt, _>(limit)
            .load(&mut conn)
            .await
            .map_err(query_error)
    }

    /// Puts dead-lettered event `id` back in the queue; false when there is no such event.
    pub async fn requeue_webhook(&self, id: i64) -> Result<bool, ChatError> {
        let mut conn = self.conn().await?;
        let updated = diesel::sql_query(REQUEUE)
            .bind::<BigInt, _>(id)
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    /// How many events wait and how many were given up.
    pub async fn webhook_counts(&self) -> Result<WebhookCounts, ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(COUNTS)
            .get_result(&mut conn)
            .await
            .map_err(query_error)
    }

    /// Forgets delivered and skipped events finished more than `age` ago; how many.
    pub async fn prune_webhooks(&self, age: Duration) -> Result<usize, ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(PRUNE)
            .bind::<diesel::sql_types::Double, _>(age.as_secs_f64())
            .execute(&mut conn)
            .await
            .map_err(query_error)
    }
}
