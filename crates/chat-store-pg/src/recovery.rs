//! The recovery sessions port: Socket.IO connection state recovery kept in PostgreSQL, so a
//! client recovers after a restart, a crash, or on another node.

use std::time::Duration;

use chat_domain::{
    ChatError, ConversationId, RecoveryRepo, RecoverySession, STREAM_WRITERS, StreamToken, UserId,
};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Double, Nullable, Text};
use diesel_async::RunQueryDsl;

use crate::{PgStore, query_error};

/// Hands a session to a new owner and reads it with its rooms, in one statement.
const CLAIM: &str = "
WITH claimed AS (
    UPDATE recovery_sessions SET owner = $3, left_at = NULL
     WHERE pid = $1 AND user_id = $2
       AND (left_at IS NULL OR left_at > now() - make_interval(secs => $4))
 RETURNING pid, base, user_id
)
SELECT claimed.base, r.conversation_id, r.since,
       EXISTS (SELECT 1 FROM conversation_members m
                WHERE m.conversation_id = r.conversation_id AND m.user_id = claimed.user_id)
         AS member
  FROM claimed LEFT JOIN recovery_session_rooms r ON r.pid = claimed.pid
 ORDER BY r.conversation_id";

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = Array<BigInt>)]
    base: Vec<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    conversation_id: Option<i64>,
    #[diesel(sql_type = Nullable<Array<BigInt>>)]
    since: Option<Vec<i64>>,
    #[diesel(sql_type = Bool)]
    member: bool,
}

fn token(positions: &[i64]) -> Result<StreamToken, ChatError> {
    let positions: [i64; STREAM_WRITERS] = positions
        .try_into()
        .map_err(|_| ChatError::Internal("a recovery session's token is malformed".into()))?;
    Ok(StreamToken::new(positions))
}

fn seconds(window: Duration) -> f64 {
    window.as_secs_f64()
}

impl RecoveryRepo for PgStore {
    async fn open_session(
        &self,
        pid: &str,
        user: UserId,
        owner: &str,
        base: StreamToken,
    ) -> Result<(), ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(
            "INSERT INTO recovery_sessions (pid, user_id, base, owner) VALUES ($1, $2, $3, $4)",
        )
        .bind::<Text, _>(pid)
        .bind::<BigInt, _>(user.get())
        .bind::<Array<BigInt>, _>(base.positions().to_vec())
        .bind::<Text, _>(owner)
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn join_session(
        &self,
        pid: &str,
        conversation: ConversationId,
        since: StreamToken,
    ) -> Result<(), ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(
            "INSERT INTO recovery_session_rooms (pid, conversation_id, since) \
             SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM recovery_sessions WHERE pid = $1) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(pid)
        .bind::<BigInt, _>(conversation.get())
        .bind::<Array<BigInt>, _>(since.positions().to_vec())
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn claim_session(
        &self,
        pid: &str,
        user: UserId,
        owner: &str,
        window: Duration,
    ) -> Result<Option<RecoverySession>, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<ClaimRow> = diesel::sql_query(CLAIM)
            .bind::<Text, _>(pid)
            .bind::<BigInt, _>(user.get())
            .bind::<Text, _>(owner)
            .bind::<Double, _>(seconds(window))
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        let Some(first) = <[ClaimRow]>::first(&rows) else {
            return Ok(None);
        };
        let base = token(&first.base)?;
        let (mut rooms, mut left) = (Vec::with_capacity(rows.len()), Vec::new());
        for row in &rows {
            if let (Some(id), Some(since)) = (row.conversation_id, &row.since) {
                let room = (ConversationId(id), token(since)?);
                if row.member {
                    rooms.push(room);
                } else {
                    left.push(room);
                }
            }
        }
        Ok(Some(RecoverySession {
            user,
            base,
            rooms,
            left,
        }))
    }

    async fn leave_session(&self, pid: &str, owner: &str) -> Result<(), ChatError> {
        let mut conn = self.conn().await?;
        diesel::sql_query(
            "UPDATE recovery_sessions SET left_at = now() \
             WHERE pid = $1 AND owner = $2 AND left_at IS NULL",
        )
        .bind::<Text, _>(pid)
        .bind::<Text, _>(owner)
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn prune_sessions(&self, window: Duration, max_held: Duration) -> Result<u64, ChatError> {
        let mut conn = self.conn().await?;
        let pruned = diesel::sql_query(
            "DELETE FROM recovery_sessions \
             WHERE left_at <= now() - make_interval(secs => $1) \
                OR (left_at IS NULL AND created_at <= now() - make_interval(secs => $2))",
        )
        .bind::<Double, _>(seconds(window))
        .bind::<Double, _>(seconds(max_held))
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }
}
