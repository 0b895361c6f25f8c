//! Scheduled messages (`scheduled_messages`, migration 14): stored per sender, claimed when due
//! with a lease (`FOR UPDATE SKIP LOCKED`, so that in a cluster one node takes each), removed
//! once sent.
//!
//! A message counts as being sent while its lease runs, and as sent once a message with its
//! client message id (`scheduled:<id>`) exists: editing or cancelling either is refused, so
//! that the sender never cancels what a crashed node already delivered.

use std::time::Duration;

use chat_domain::{
    ChatError, ConversationId, Entity, MessageId, NewScheduled, Recipient,
    SCHEDULED_CLIENT_ID_PREFIX, ScheduleRepo, ScheduledEdit, ScheduledId, ScheduledMessage, UserId,
};
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::{PgStore, query_error};

/// The columns a [`Row`] reads.
const COLUMNS: &str = "id, sender_id, conversation_id, receiver_id, content, attachment_url, \
                       reply_to_id, send_at, created_at, updated_at, failure";

/// Whether scheduled row `s` was sent: its message (client message id `scheduled:<id>`) exists.
fn sent() -> String {
    format!(
        "EXISTS (SELECT 1 FROM messages m WHERE m.sender_id = s.sender_id \
                    AND m.client_message_id = '{SCHEDULED_CLIENT_ID_PREFIX}' || s.id)"
    )
}

/// Whether scheduled row `s` is being sent at `$3`, or was sent.
fn busy() -> String {
    format!("(coalesce(s.locked_until > $3, false) OR {})", sent())
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    sender_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    conversation_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    receiver_id: Option<i64>,
    #[diesel(sql_type = Text)]
    content: String,
    #[diesel(sql_type = Nullable<Text>)]
    attachment_url: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    reply_to_id: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    send_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    failure: Option<String>,
}

impl From<Row> for ScheduledMessage {
    fn from(row: Row) -> Self {
        let to = match (row.conversation_id, row.receiver_id) {
            (Some(id), _) => Recipient::Conversation(ConversationId(id)),
            (None, receiver) => Recipient::User(UserId(receiver.unwrap_or_default())),
        };
        ScheduledMessage {
            id: ScheduledId(row.id),
            sender_id: UserId(row.sender_id),
            to,
            content: row.content,
            attachment_url: row.attachment_url,
            reply_to_id: row.reply_to_id.map(MessageId),
            send_at: row.send_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            failure: row.failure,
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What scheduling found.
enum Scheduling {
    Stored(Row),
    Full,
    Conflict,
}

fn ids(ids: &[ScheduledId]) -> Vec<i64> {
    ids.iter().map(|id| id.get()).collect()
}

impl ScheduleRepo for PgStore {
    async fn schedule(&self, new: NewScheduled, max: u32) -> Result<ScheduledMessage, ChatError> {
        let send = &new.send;
        let (conversation, receiver) = match send.to {
            Recipient::Conversation(id) => (Some(id.get()), None),
            Recipient::User(id) => (None, Some(id.get())),
        };
        let client_id = send
            .client_message_id
            .as_ref()
            .map(|c| c.as_str().to_owned());
        let mut conn = self.conn().await?;
        let outcome = conn
            .transaction::<_, DieselError, _>(async |conn| {
                // The sender's row serialises their schedulings, so that the bound holds.
                let held: Count = diesel::sql_query(
                    "SELECT (SELECT count(*) FROM scheduled_messages WHERE sender_id = u.id) AS n \
                       FROM users u WHERE u.id = $1 FOR UPDATE",
                )
                .bind::<BigInt, _>(send.sender.get())
                .get_result(conn)
                .await?;
                if let Some(client_id) = &client_id {
                    let earlier: Option<Row> = diesel::sql_query(format!(
                        "SELECT {COLUMNS} FROM scheduled_messages \
                          WHERE sender_id = $1 AND client_message_id = $2"
                    ))
                    .bind::<BigInt, _>(send.sender.get())
                    .bind::<Text, _>(client_id)
                    .get_result(conn)
                    .await
                    .optional()?;
                    if let Some(earlier) = earlier {
                        let same = earlier.content == send.content.as_str()
                            && earlier.send_at == new.send_at
                            && earlier.conversation_id == conversation
                            && earlier.receiver_id == receiver
                            && earlier.attachment_url.as_deref()
                                == send.attachment_url.as_ref().map(|u| u.as_str())
                            && earlier.reply_to_id == send.reply_to.map(|id| id.get());
                        return Ok(if same {
                            Scheduling::Stored(earlier)
                        } else {
                            Scheduling::Conflict
                        });
                    }
                }
                if held.n >= i64::from(max) {
                    return Ok(Scheduling::Full);
                }
                let row: Row = diesel::sql_query(format!(
                    "INSERT INTO scheduled_messages (sender_id, conversation_id, receiver_id, \
                       content, attachment_url, reply_to_id, client_message_id, send_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
                ))
                .bind::<BigInt, _>(send.sender.get())
                .bind::<Nullable<BigInt>, _>(conversation)
                .bind::<Nullable<BigInt>, _>(receiver)
                .bind::<Text, _>(send.content.as_str())
                .bind::<Nullable<Text>, _>(send.attachment_url.as_ref().map(|u| u.as_str()))
                .bind::<Nullable<BigInt>, _>(send.reply_to.map(|id| id.get()))
                .bind::<Nullable<Text>, _>(client_id.as_deref())
                .bind::<Timestamptz, _>(new.send_at)
                .get_result(conn)
                .await?;
                Ok(Scheduling::Stored(row))
            })
            .await
            .map_err(query_error)?;
        match outcome {
            Scheduling::Stored(row) => Ok(row.into()),
            Scheduling::Full => Err(ChatError::Conflict(format!(
                "at most {max} scheduled messages per user"
            ))),
            Scheduling::Conflict => Err(ChatError::Conflict(
                "clientMessageId was used for another scheduled message".into(),
            )),
        }
    }

    async fn scheduled_of(&self, sender: UserId) -> Result<Vec<ScheduledMessage>, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM scheduled_messages WHERE sender_id = $1 ORDER BY send_at, id"
        ))
        .bind::<BigInt, _>(sender.get())
        .load(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(rows.into_iter().map(ScheduledMessage::from).collect())
    }

    async fn edit_scheduled(
        &self,
        sender: UserId,
        id: ScheduledId,
        edit: ScheduledEdit,
        now: DateTime<Utc>,
    ) -> Result<ScheduledMessage, ChatError> {
        let mut conn = self.conn().await?;
        // A new time gives a failed message another try.
        let updated: Option<Row> = diesel::sql_query(format!(
            "UPDATE scheduled_messages s \
                SET content = coalesce($4, s.content), send_at = coalesce($5, s.send_at), \
                    failure = CASE WHEN $5 IS NULL THEN s.failure END, updated_at = $3 \
              WHERE s.id = $1 AND s.sender_id = $2 AND NOT {busy} \
          RETURNING {COLUMNS}",
            busy = busy()
        ))
        .bind::<BigInt, _>(id.get())
        .bind::<BigInt, _>(sender.get())
        .bind::<Timestamptz, _>(now)
        .bind::<Nullable<Text>, _>(edit.content.as_ref().map(|c| c.as_str()))
        .bind::<Nullable<Timestamptz>, _>(edit.send_at)
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(query_error)?;
        match updated {
            Some(row) => Ok(row.into()),
            None => Err(self.why_untouched(sender, id).await?),
        }
    }

    async fn cancel_scheduled(
        &self,
        sender: UserId,
        id: ScheduledId,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let mut conn = self.conn().await?;
        // A failed one goes whatever its message says: a claim that outlived its lease may
        // have sent it and still recorded a failure.
        let deleted = diesel::sql_query(format!(
            "DELETE FROM scheduled_messages s \
              WHERE s.id = $1 AND s.sender_id = $2 AND (s.failure IS NOT NULL OR NOT {busy})",
            busy = busy()
        ))
        .bind::<BigInt, _>(id.get())
        .bind::<BigInt, _>(sender.get())
        .bind::<Timestamptz, _>(now)
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        if deleted == 1 {
            Ok(())
        } else {
            Err(self.why_untouched(sender, id).await?)
        }
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ScheduledMessage>, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<Row> = diesel::sql_query(format!(
            "WITH due AS MATERIALIZED ( \
                 SELECT id FROM scheduled_messages \
                  WHERE send_at <= $1 AND failure IS NULL \
                    AND (locked_until IS NULL OR locked_until <= $1) \
                  ORDER BY send_at, id LIMIT $2 \
                    FOR UPDATE SKIP LOCKED) \
             UPDATE scheduled_messages s \
                SET locked_until = $1 + make_interval(secs => $3) \
               FROM due WHERE s.id = due.id \
          RETURNING {}",
            COLUMNS
                .split(", ")
                .map(|c| format!("s.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(i64::from(limit))
        .bind::<Double, _>(lease.as_secs_f64())
        .load(&mut conn)
        .await
        .map_err(query_error)?;
        let mut due: Vec<ScheduledMessage> = rows.into_iter().map(ScheduledMessage::from).collect();
        due.sort_by_key(|s| (s.send_at, s.id));
        Ok(due)
    }

    async fn finish_scheduled(&self, ids: &[ScheduledId]) -> Result<(), ChatError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        diesel::sql_query("DELETE FROM scheduled_messages WHERE id = ANY($1)")
            .bind::<Array<BigInt>, _>(self::ids(ids))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn fail_scheduled(&self, id: ScheduledId, reason: &str) -> Result<(), ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(
            "UPDATE scheduled_messages SET failure = $2, locked_until = NULL WHERE id = $1",
        )
        .bind::<BigInt, _>(id.get())
        .bind::<Text, _>(reason)
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(())
    }
}

impl PgStore {
    /// Why an edit or cancel changed nothing: the sender has no such scheduled message (or it
    /// was sent), or it is being sent.
    async fn why_untouched(&self, sender: UserId, id: ScheduledId) -> Result<ChatError, ChatError> {
        let mut conn = self.conn().await?;
        let pending: Option<Count> = diesel::sql_query(format!(
            "SELECT 1::bigint AS n FROM scheduled_messages s \
              WHERE s.id = $1 AND s.sender_id = $2 AND NOT {}",
            sent()
        ))
        .bind::<BigInt, _>(id.get())
        .bind::<BigInt, _>(sender.get())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(query_error)?;
        Ok(match pending {
            Some(_) => ChatError::Conflict("the scheduled message is being sent".into()),
            None => ChatError::not_found(Entity::ScheduledMessage),
        })
    }
}
