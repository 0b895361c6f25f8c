//! The event stream port: recording an event under its writer, and reading events back to fill
//! a gap, to replay a recovered session or to answer a sync.

use chat_domain::{
    ChatError, ConversationId, MessageId, Role, Seq, StreamEvent, StreamPosition, StreamRepo,
    StreamScope, StreamToken, UserId, writer_of,
};
use diesel::QueryableByName;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Nullable, SmallInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::stream_decode::{EVENT_COLUMNS, EventRow, events};
use crate::{PgStore, query_error};

/// Bumps the conversation's writer and inserts the event at its new position. Run it as the
/// last statement of its transaction: the writer's row lock is then held only until commit,
/// so each writer's positions are gapless and in commit order, and nobody waits in a cycle.
const RECORD: &str = "
WITH bumped AS (
    UPDATE stream_writers SET position = position + 1
     WHERE writer = ($1 % 8)
 RETURNING writer, position
)
INSERT INTO stream_events (writer, position, conversation_id, kind, message_id, user_id, seq,
                           actor_id, role, content, amount)
SELECT writer, position, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM bumped
RETURNING writer, position";

/// One writer's events in a range of positions.
const RANGE: &str = "
  FROM stream_events e LEFT JOIN messages x ON x.id = e.message_id
 WHERE e.writer = $1 AND e.position > $2 AND e.position <= $3
 ORDER BY e.position";

/// A reader's events from per-conversation tokens: `$2`/`$3` pair conversations with their
/// own tokens, `$4` is the token of the reader's other conversations (none when NULL), `$5`
/// the end. The conversations are those the reader belongs to, each read from no earlier than
/// the reader's latest `member_added` there (what came before they joined is not theirs), and
/// those they were removed from since, each read up to that `member_removed` (so that they
/// learn of it, and get what came before it). A message deleted since is left out, and so
/// are its edits (its deletion follows); the index on `(conversation_id, writer, position)` serves each
/// conversation's range, `stream_events_membership_idx` the membership lookups.
const FOR_READER: &str = "
  FROM (SELECT w.conversation_id, w.writer, GREATEST(w.since[w.writer + 1], w.joined - 1) AS after,
               LEAST(($5::bigint[])[w.writer + 1], COALESCE(w.until, ($5::bigint[])[w.writer + 1])) AS upto
          FROM (SELECT m.conversation_id, (m.conversation_id % 8)::smallint AS writer, m.until,
                       COALESCE(r.since, $4::bigint[]) AS since,
                       COALESCE((SELECT max(a.position) FROM stream_events a
                                  WHERE a.user_id = $1 AND a.conversation_id = m.conversation_id
                                    AND a.kind = 'member_added'), 0) AS joined
                  FROM (SELECT me.conversation_id, NULL::bigint AS until
                          FROM conversation_members me WHERE me.user_id = $1
                        UNION ALL
                        SELECT gone.conversation_id, max(gone.position)
                          FROM stream_events gone
                         WHERE gone.user_id = $1 AND gone.kind = 'member_removed'
                           AND NOT EXISTS (SELECT 1 FROM conversation_members n
                                            WHERE n.conversation_id = gone.conversation_id
                                              AND n.user_id = $1)
                         GROUP BY gone.conversation_id) m
                  LEFT JOIN (SELECT c, string_to_array(t, '.')::bigint[] AS since
                               FROM unnest($2::bigint[], $3::text[]) AS r(c, t)) r
                    ON r.c = m.conversation_id) w
         WHERE w.since IS NOT NULL) scope
  JOIN stream_events e
    ON e.conversation_id = scope.conversation_id AND e.writer = scope.writer
   AND e.position > scope.after AND e.position <= scope.upto
  LEFT JOIN messages x ON x.id = e.message_id
 WHERE e.kind NOT IN ('message', 'edited') OR x.deleted_at IS NULL
 ORDER BY e.writer, e.position
 LIMIT $6";

/// The highest seq of a conversation's messages at or below a writer's position: the last
/// message event there; else, when all of its message events are later, the seq before the
/// first of them (older messages predate the stream); else its newest message.
const SEQ_AT: &str = "
SELECT COALESCE(
    (SELECT e.seq FROM stream_events e
      WHERE e.conversation_id = $1 AND e.writer = $2 AND e.position <= $3 AND e.kind = 'message'
      ORDER BY e.position DESC LIMIT 1),
    (SELECT e.seq - 1 FROM stream_events e
      WHERE e.conversation_id = $1 AND e.writer = $2 AND e.kind = 'message'
      ORDER BY e.position LIMIT 1),
    (SELECT max(m.seq) FROM messages m WHERE m.conversation_id = $1),
    0) AS seq";

/// An event to record.
pub(crate) struct Record {
    pub(crate) conversation: ConversationId,
    /// `deleted`, `read`, `created`, `updated`, `edited`, `pinned`, `unpinned`,
    /// `reaction_added`, `reaction_removed` (messages are recorded by the append itself;
    /// membership events by [`record_member`]).
    pub(crate) kind: &'static str,
    pub(crate) message: Option<MessageId>,
    pub(crate) user: UserId,
    pub(crate) seq: Seq,
    /// The text an edit wrote, or a reaction's key.
    pub(crate) content: Option<String>,
    /// How many members react with a reaction's key after it.
    pub(crate) amount: Option<i64>,
}

/// A membership event to record: `member_added`, `member_removed` or `member_role`.
pub(crate) struct MemberRecord {
    pub(crate) conversation: ConversationId,
    pub(crate) kind: &'static str,
    /// The member the change is about.
    pub(crate) member: UserId,
    /// Who made it.
    pub(crate) actor: UserId,
    /// The member's role after it (before it, for a removal).
    pub(crate) role: Role,
}

#[derive(QueryableByName)]
pub(crate) struct PositionRow {
    #[diesel(sql_type = SmallInt)]
    writer: i16,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

impl PositionRow {
    pub(crate) fn position(&self) -> StreamPosition {
        StreamPosition {
            writer: usize::try_from(self.writer).unwrap_or(0),
            position: self.position,
        }
    }
}

/// Records one event; see [`RECORD`] for when to call it.
pub(crate) async fn record(
    conn: &mut AsyncPgConnection,
    event: Record,
) -> Result<StreamPosition, DieselError> {
    let row: PositionRow = diesel::sql_query(RECORD)
        .bind::<BigInt, _>(event.conversation.get())
        .bind::<Text, _>(event.kind)
        .bind::<Nullable<BigInt>, _>(event.message.map(MessageId::get))
        .bind::<BigInt, _>(event.user.get())
        .bind::<BigInt, _>(event.seq.get())
        .bind::<Nullable<BigInt>, _>(None::<i64>)
        .bind::<Nullable<Text>, _>(None::<&str>)
        .bind::<Nullable<Text>, _>(event.content.as_deref())
        .bind::<Nullable<BigInt>, _>(event.amount)
        .get_result(conn)
        .await?;
    Ok(row.position())
}

/// Records one membership event; see [`RECORD`] for when to call it.
pub(crate) async fn record_member(
    conn: &mut AsyncPgConnection,
    event: MemberRecord,
) -> Result<StreamPosition, DieselError> {
    let row: PositionRow = diesel::sql_query(RECORD)
        .bind::<BigInt, _>(event.conversation.get())
        .bind::<Text, _>(event.kind)
        .bind::<Nullable<BigInt>, _>(None::<i64>)
        .bind::<BigInt, _>(event.member.get())
        .bind::<BigInt, _>(0_i64)
        .bind::<Nullable<BigInt>, _>(Some(event.actor.get()))
        .bind::<Nullable<Text>, _>(Some(event.role.as_str()))
        .bind::<Nullable<Text>, _>(None::<&str>)
        .bind::<Nullable<BigInt>, _>(None::<i64>)
        .get_result(conn)
        .await?;
    Ok(row.position())
}

impl StreamRepo for PgStore {
    async fn stream_head(&self) -> Result<StreamToken, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<PositionRow> =
            diesel::sql_query("SELECT writer, position FROM stream_writers ORDER BY writer")
                .load(&mut conn)
                .await
                .map_err(query_error)?;
        Ok(rows.iter().map(PositionRow::position).collect())
    }

    async fn stream_range(
        &self,
        writer: usize,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StreamEvent>, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<EventRow> = diesel::sql_query(format!("{EVENT_COLUMNS}{RANGE}"))
            .bind::<SmallInt, _>(i16::try_from(writer).unwrap_or(i16::MAX))
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(upto)
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        events(&mut conn, rows).await
    }

    async fn seq_at(
        &self,
        conversation: ConversationId,
        upto: StreamToken,
    ) -> Result<Seq, ChatError> {
        #[derive(QueryableByName)]
        struct SeqRow {
            #[diesel(sql_type = BigInt)]
            seq: i64,
        }
        let writer = writer_of(conversation);
        let mut conn = self.conn().await?;
        let row: SeqRow = diesel::sql_query(SEQ_AT)
            .bind::<BigInt, _>(conversation.get())
            .bind::<SmallInt, _>(i16::try_from(writer).unwrap_or(i16::MAX))
            .bind::<BigInt, _>(upto.get(writer))
            .get_result(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(Seq(row.seq))
    }

    async fn stream_for(
        &self,
        reader: UserId,
        scope: &StreamScope,
        upto: StreamToken,
        limit: usize,
    ) -> Result<Vec<StreamEvent>, ChatError> {
        let mut conn = self.conn().await?;
        let room_ids: Vec<i64> = scope.rooms.iter().map(|(id, _)| id.get()).collect();
        let room_tokens: Vec<String> = scope.rooms.iter().map(|(_, t)| t.to_string()).collect();
        let others: Option<Vec<i64>> = scope.others.map(|t| t.positions().to_vec());
        let rows: Vec<EventRow> = diesel::sql_query(format!("{EVENT_COLUMNS}{FOR_READER}"))
            .bind::<BigInt, _>(reader.get())
            .bind::<Array<BigInt>, _>(&room_ids)
            .bind::<Array<Text>, _>(&room_tokens)
            .bind::<Nullable<Array<BigInt>>, _>(others)
            .bind::<Array<BigInt>, _>(upto.positions().to_vec())
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        events(&mut conn, rows).await
    }
}
