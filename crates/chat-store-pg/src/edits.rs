//! Edits: replacing a message's text, keeping what it replaces as a version, and recording
//! the edit in the stream with its text.

use chat_domain::{
    ChatError, Edited, Message, MessageEdited, MessageId, MessageVersion, UserId,
    edit_window_passed,
};
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Integer, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::rows::MessageRow;
use crate::stream::{Record, record};
use crate::stream_decode::members_of;
use crate::{PgStore, query_error};

/// The editor's visible message, locked, while they are a member of its conversation.
const EDITABLE: &str = "
SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.attachment_url,
       m.client_message_id, m.created_at, m.updated_at, m.edited_at, m.reply_to_id,
       m.forwarded_message_id, m.forwarded_conversation_id, m.forwarded_sender_id,
       m.mentions
  FROM messages m
 WHERE m.id = $1 AND m.sender_id = $2 AND m.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM conversation_members c
                WHERE c.conversation_id = m.conversation_id AND c.user_id = $2)
   FOR UPDATE";

/// Keeps the text being replaced as the next version, writes the new one and keeps the
/// conversation's preview right when the message is its newest.
const EDIT: &str = "
WITH kept AS (
    INSERT INTO message_versions (message_id, version, content, written_at)
    SELECT m.id,
           COALESCE((SELECT max(v.version) FROM message_versions v WHERE v.message_id = m.id), 0) + 1,
           m.content, COALESCE(m.edited_at, m.created_at)
      FROM messages m WHERE m.id = $1
), edited AS (
    UPDATE messages SET content = $2, edited_at = now(), updated_at = now()
     WHERE id = $1
 RETURNING id, conversation_id, seq, sender_id, content, attachment_url, client_message_id,
           created_at, updated_at, edited_at, reply_to_id, forwarded_message_id,
              forwarded_conversation_id, forwarded_sender_id, mentions
), preview AS (
    UPDATE conversations c SET last_message = edited.content
      FROM edited
     WHERE c.id = edited.conversation_id AND c.last_message_seq = edited.seq
)
SELECT * FROM edited";

/// Every version of a visible message of a conversation the viewer belongs to.
const HISTORY: &str = "
SELECT v.version, v.content, v.written_at
  FROM messages m JOIN message_versions v ON v.message_id = m.id
 WHERE m.id = $1 AND m.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM conversation_members c
                WHERE c.conversation_id = m.conversation_id AND c.user_id = $2)
UNION ALL
SELECT COALESCE((SELECT max(v.version) FROM message_versions v WHERE v.message_id = m.id), 0) + 1,
       m.content, COALESCE(m.edited_at, m.created_at)
  FROM messages m
 WHERE m.id = $1 AND m.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM conversation_members c
                WHERE c.conversation_id = m.conversation_id AND c.user_id = $2)
 ORDER BY 1";

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Integer)]
    version: i32,
    #[diesel(sql_type = Text)]
    content: String,
    #[diesel(sql_type = Timestamptz)]
    written_at: DateTime<Utc>,
}

/// What the transaction found.
enum Outcome {
    NotTheirs,
    TooLate,
    Done(Box<Edited>),
}

/// See [`chat_domain::MessageRepo::edit_message`].
pub(crate) async fn edit(
    store: &PgStore,
    editor: UserId,
    id: MessageId,
    content: String,
    not_before: Option<DateTime<Utc>>,
) -> Result<Option<Edited>, ChatError> {
    let mut conn = store.conn().await?;
    let outcome = conn
        .transaction::<_, DieselError, _>(async |conn| {
            lock_conversation_of(conn, id).await?;
            let found: Option<MessageRow> = diesel::sql_query(EDITABLE)
                .bind::<BigInt, _>(id.get())
                .bind::<BigInt, _>(editor.get())
                .get_result(conn)
                .await
                .optional()?;
            let Some(current) = found.map(Message::from) else {
                return Ok(Outcome::NotTheirs);
            };
            if not_before.is_some_and(|earliest| current.created_at < earliest) {
                return Ok(Outcome::TooLate);
            }
            if current.content == content {
                return Ok(Outcome::Done(Box::new(Edited::Unchanged(current))));
            }
            let row: MessageRow = diesel::sql_query(EDIT)
                .bind::<BigInt, _>(id.get())
                .bind::<Text, _>(&content)
                .get_result(conn)
                .await?;
            let message = Message::from(row);
            let (members, kind) = members_of(conn, message.conversation_id).await?;
            let position = record(
                conn,
                Record {
                    conversation: message.conversation_id,
                    kind: "edited",
                    message: Some(message.id),
                    user: editor,
                    seq: message.seq,
                    content: Some(content.clone()),
                    amount: None,
                },
            )
            .await?;
            let edited = MessageEdited {
                message,
                members,
                kind,
            };
            Ok(Outcome::Done(Box::new(Edited::Changed(edited, position))))
        })
        .await
        .map_err(query_error)?;
    match outcome {
        Outcome::NotTheirs => Ok(None),
        Outcome::TooLate => Err(edit_window_passed()),
        Outcome::Done(edited) => Ok(Some(*edited)),
    }
}

/// See [`chat_domain::MessageRepo::message_history`].
pub(crate) async fn history(
    store: &PgStore,
    viewer: UserId,
    id: MessageId,
) -> Result<Option<Vec<MessageVersion>>, ChatError> {
    let mut conn = store.conn().await?;
    let rows: Vec<VersionRow> = diesel::sql_query(HISTORY)
        .bind::<BigInt, _>(id.get())
        .bind::<BigInt, _>(viewer.get())
        .load(&mut conn)
        .await
        .map_err(query_error)?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .map(|row| MessageVersion {
                version: row.version,
                content: row.content,
                written_at: row.written_at,
            })
            .collect(),
    ))
}

/// Forgets the text of a deleted message's earlier versions and edits, so that neither
/// history nor a replay shows it, its pin and its reactions.
pub(crate) async fn purge(
    conn: &mut diesel_async::AsyncPgConnection,
    id: MessageId,
) -> Result<(), DieselError> {
    diesel::sql_query("DELETE FROM message_versions WHERE message_id = $1")
        .bind::<BigInt, _>(id.get())
        .execute(conn)
        .await?;
    diesel::sql_query("DELETE FROM pinned_messages WHERE message_id = $1")
        .bind::<BigInt, _>(id.get())
        .execute(conn)
        .await?;
    diesel::sql_query("DELETE FROM message_reactions WHERE message_id = $1")
        .bind::<BigInt, _>(id.get())
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE stream_events SET content = NULL WHERE message_id = $1 AND kind = 'edited'",
    )
    .bind::<BigInt, _>(id.get())
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the row of a message's conversation, first, as every write to a conversation takes
/// it: the write then sees every append and deletion that committed before it.
pub(crate) async fn lock_conversation_of(
    conn: &mut diesel_async::AsyncPgConnection,
    message: MessageId,
) -> Result<(), DieselError> {
    diesel::sql_query(
        "SELECT 1 FROM conversations WHERE id = \
         (SELECT conversation_id FROM messages WHERE id = $1) FOR UPDATE",
    )
    .bind::<BigInt, _>(message.get())
    .execute(conn)
    .await?;
    Ok(())
}
