//! The event stream port: recording an event under its writer, and reading events back to fill
//! a gap, to replay a recovered session or to answer a sync.

use std::collections::HashMap;

use chat_domain::{
    ChatError, ChatEvent, ConversationId, Message, MessageDeleted, MessageId, MessageSent,
    MessagesRead, Seq, StreamEvent, StreamPosition, StreamRepo, StreamScope, StreamToken, UserId,
    UserRef, writer_of,
};
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Nullable, SmallInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

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
INSERT INTO stream_events (writer, position, conversation_id, kind, message_id, user_id, seq)
SELECT writer, position, $1, $2, $3, $4, $5 FROM bumped
RETURNING writer, position";

/// The columns of an event row with its message, if any.
const EVENT_COLUMNS: &str = "
SELECT e.writer, e.position, e.kind, e.conversation_id, e.message_id, e.user_id, e.seq,
       e.created_at, x.content, x.attachment_url, x.client_message_id,
       x.created_at AS message_created_at, x.updated_at AS message_updated_at";

/// One writer's events in a range of positions.
const RANGE: &str = "
  FROM stream_events e LEFT JOIN messages x ON x.id = e.message_id
 WHERE e.writer = $1 AND e.position > $2 AND e.position <= $3
 ORDER BY e.position";

/// A reader's events from per-conversation tokens: `$2`/`$3` pair conversations with their
/// own tokens, `$4` is the token of the reader's other conversations (none when NULL), `$5`
/// the end. A message deleted since is left out (its deletion follows); the index on
/// `(conversation_id, writer, position)` serves each conversation's range.
const FOR_READER: &str = "
  FROM (SELECT me.conversation_id, (me.conversation_id % 8)::smallint AS writer,
               COALESCE(r.since, $4::bigint[]) AS since
          FROM conversation_members me
          LEFT JOIN (SELECT c, string_to_array(t, '.')::bigint[] AS since
                       FROM unnest($2::bigint[], $3::text[]) AS r(c, t)) r
            ON r.c = me.conversation_id
         WHERE me.user_id = $1) scope
  JOIN stream_events e
    ON e.conversation_id = scope.conversation_id AND e.writer = scope.writer
   AND e.position > scope.since[scope.writer + 1]
   AND e.position <= ($5::bigint[])[scope.writer + 1]
  LEFT JOIN messages x ON x.id = e.message_id
 WHERE e.kind <> 'message' OR x.deleted_at IS NULL
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

/// The members of some conversations, for the events of messages sent there.
const MEMBERS: &str = "
SELECT m.conversation_id, m.user_id, u.username
  FROM conversation_members m JOIN users u ON u.id = m.user_id
 WHERE m.conversation_id = ANY($1)
 ORDER BY m.conversation_id, m.user_id";

/// An event to record.
pub(crate) struct Record {
    pub(crate) conversation: ConversationId,
    /// `deleted` or `read` (messages are recorded by the append itself).
    pub(crate) kind: &'static str,
    pub(crate) message: Option<MessageId>,
    pub(crate) user: UserId,
    pub(crate) seq: Seq,
}

#[derive(QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = SmallInt)]
    writer: i16,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

impl PositionRow {
    fn position(&self) -> StreamPosition {
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
        .get_result(conn)
        .await?;
    Ok(row.position())
}

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(embed)]
    at: PositionRow,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    message_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    attachment_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    client_message_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_updated_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    username: String,
}

impl EventRow {
    fn into_event(self, members: &HashMap<i64, Vec<UserRef>>) -> Result<StreamEvent, ChatError> {
        let corrupt =
            || ChatError::Internal(format!("stream event {:?} is malformed", self.kind).into());
        let conversation_id = ConversationId(self.conversation_id);
        let event = match self.kind.as_str() {
            "message" => {
                let (Some(id), Some(content), Some(created_at), Some(updated_at)) = (
                    self.message_id,
                    self.content.clone(),
                    self.message_created_at,
                    self.message_updated_at,
                ) else {
                    return Err(corrupt());
                };
                ChatEvent::MessageSent(MessageSent {
                    message: Message {
                        id: MessageId(id),
                        conversation_id,
                        seq: Seq(self.seq),
                        sender_id: UserId(self.user_id),
                        content,
                        attachment_url: self.attachment_url.clone(),
                        client_message_id: self.client_message_id.clone(),
                        created_at,
                        updated_at,
                    },
                    members: members
                        .get(&self.conversation_id)
                        .cloned()
                        .unwrap_or_default(),
                })
            }
            "deleted" => ChatEvent::MessageDeleted(MessageDeleted {
                conversation_id,
                message_id: MessageId(self.message_id.ok_or_else(corrupt)?),
                seq: Seq(self.seq),
                deleted_by: UserId(self.user_id),
            }),
            "read" => ChatEvent::MessagesRead(MessagesRead {
                conversation_id,
                user_id: UserId(self.user_id),
                last_read_seq: Seq(self.seq),
                read_at: self.created_at,
            }),
            _ => return Err(corrupt()),
        };
        Ok(StreamEvent {
            position: self.at.position(),
            event,
        })
    }
}

/// Turns rows into events, reading the members of the conversations whose messages they hold.
async fn events(
    conn: &mut AsyncPgConnection,
    rows: Vec<EventRow>,
) -> Result<Vec<StreamEvent>, ChatError> {
    let mut conversations: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "message")
        .map(|r| r.conversation_id)
        .collect();
    conversations.sort_unstable();
    conversations.dedup();
    let mut members: HashMap<i64, Vec<UserRef>> = HashMap::new();
    if !conversations.is_empty() {
        let rows: Vec<MemberRow> = diesel::sql_query(MEMBERS)
            .bind::<Array<BigInt>, _>(&conversations)
            .load(conn)
            .await
            .map_err(query_error)?;
        for row in rows {
            members
                .entry(row.conversation_id)
                .or_default()
                .push(UserRef {
                    id: UserId(row.user_id),
                    username: row.username,
                });
        }
    }
    rows.into_iter()
        .map(|row| row.into_event(&members))
        .collect()
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
