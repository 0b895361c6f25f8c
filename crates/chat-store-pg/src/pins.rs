//! Pins: a conversation's pinned messages, each pin and unpin recorded in the stream. The
//! role check runs in the transaction that writes, after the conversation's row is locked.

use chat_domain::{
    ChatError, ConversationId, ConversationKind, Entity, Message, MessageId, Pin, PinChanged,
    PinWrite, Role, Seq, UserId, may_pin, too_many_pins,
};
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::rows::MessageRow;
use crate::stream::{Record, record};
use crate::{PgStore, query_error};

/// The actor's role and the conversation's kind, the conversation's row locked.
const ACTOR: &str = "
SELECT c.kind, m.role
  FROM conversations c JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $2
 WHERE c.id = $1
   FOR UPDATE OF c";

/// The message's seq, whether it is pinned, and how many pins the conversation holds.
const TARGET: &str = "
SELECT x.seq,
       EXISTS (SELECT 1 FROM pinned_messages p WHERE p.message_id = x.id) AS pinned,
       (SELECT count(*) FROM pinned_messages p WHERE p.conversation_id = $2) AS held
  FROM messages x
 WHERE x.id = $1 AND x.conversation_id = $2 AND x.deleted_at IS NULL";

/// The pins of a conversation, the latest first.
const PINS: &str = "
SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.attachment_url,
       m.client_message_id, m.created_at, m.updated_at, m.edited_at, m.reply_to_id,
       m.forwarded_message_id, m.forwarded_conversation_id, m.forwarded_sender_id,
       m.mentions,
       p.pinned_by, p.pinned_at
  FROM pinned_messages p JOIN messages m ON m.id = p.message_id
 WHERE p.conversation_id = $1 AND m.deleted_at IS NULL
 ORDER BY p.pinned_at DESC, m.seq DESC";

#[derive(QueryableByName)]
struct ActorRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    role: String,
}

#[derive(QueryableByName)]
struct TargetRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Bool)]
    pinned: bool,
    #[diesel(sql_type = BigInt)]
    held: i64,
}

#[derive(QueryableByName)]
struct PinRow {
    #[diesel(embed)]
    message: MessageRow,
    #[diesel(sql_type = BigInt)]
    pinned_by: i64,
    #[diesel(sql_type = Timestamptz)]
    pinned_at: DateTime<Utc>,
}

/// What the transaction found.
enum Outcome {
    NotAMember,
    Refused(ChatError),
    Done(PinWrite),
}

/// See [`chat_domain::MessageRepo::set_pin`].
pub(crate) async fn set_pin(
    store: &PgStore,
    actor: UserId,
    conversation: ConversationId,
    message: MessageId,
    pinned: bool,
    max_pins: usize,
) -> Result<Option<PinWrite>, ChatError> {
    let mut conn = store.conn().await?;
    let outcome = conn
        .transaction::<_, DieselError, _>(async |conn| {
            let found: Option<ActorRow> = diesel::sql_query(ACTOR)
                .bind::<BigInt, _>(conversation.get())
                .bind::<BigInt, _>(actor.get())
                .get_result(conn)
                .await
                .optional()?;
            let Some(found) = found else {
                return Ok(Outcome::NotAMember);
            };
            let kind = ConversationKind::parse(&found.kind).unwrap_or(ConversationKind::Group);
            let role = Role::parse(&found.role).unwrap_or(Role::Member);
            if let Err(refused) = may_pin(kind, role) {
                return Ok(Outcome::Refused(refused));
            }
            let target: Option<TargetRow> = diesel::sql_query(TARGET)
                .bind::<BigInt, _>(message.get())
                .bind::<BigInt, _>(conversation.get())
                .get_result(conn)
                .await
                .optional()?;
            let Some(target) = target else {
                return Ok(Outcome::Refused(ChatError::not_found(Entity::Message)));
            };
            if target.pinned == pinned {
                return Ok(Outcome::Done(PinWrite::Unchanged));
            }
            if pinned {
                if usize::try_from(target.held).unwrap_or(usize::MAX) >= max_pins {
                    return Ok(Outcome::Refused(too_many_pins(max_pins)));
                }
                diesel::sql_query(
                    "INSERT INTO pinned_messages (message_id, conversation_id, pinned_by) \
                     VALUES ($1, $2, $3)",
                )
                .bind::<BigInt, _>(message.get())
                .bind::<BigInt, _>(conversation.get())
                .bind::<BigInt, _>(actor.get())
                .execute(conn)
                .await?;
            } else {
                diesel::sql_query("DELETE FROM pinned_messages WHERE message_id = $1")
                    .bind::<BigInt, _>(message.get())
                    .execute(conn)
                    .await?;
            }
            let position = record(
                conn,
                Record {
                    conversation,
                    kind: if pinned { "pinned" } else { "unpinned" },
                    message: Some(message),
                    user: actor,
                    seq: Seq(target.seq),
                    content: None,
                    amount: None,
                },
            )
            .await?;
            let changed = PinChanged {
                conversation_id: conversation,
                message_id: message,
                seq: Seq(target.seq),
                by: actor,
            };
            Ok(Outcome::Done(PinWrite::Changed(changed, position)))
        })
        .await
        .map_err(query_error)?;
    match outcome {
        Outcome::NotAMember => Ok(None),
        Outcome::Refused(error) => Err(error),
        Outcome::Done(write) => Ok(Some(write)),
    }
}

/// See [`chat_domain::MessageRepo::pins`].
pub(crate) async fn pins(
    store: &PgStore,
    viewer: UserId,
    conversation: ConversationId,
) -> Result<Option<Vec<Pin>>, ChatError> {
    let mut conn = store.conn().await?;
    let member: Option<i64> = diesel::sql_query(
        "SELECT user_id AS id FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind::<BigInt, _>(conversation.get())
    .bind::<BigInt, _>(viewer.get())
    .get_result::<IdRow>(&mut conn)
    .await
    .optional()
    .map_err(query_error)?
    .map(|row| row.id);
    if member.is_none() {
        return Ok(None);
    }
    let rows: Vec<PinRow> = diesel::sql_query(PINS)
        .bind::<BigInt, _>(conversation.get())
        .load(&mut conn)
        .await
        .map_err(query_error)?;
    Ok(Some(
        rows.into_iter()
            .map(|row| Pin {
                message: Message::from(row.message),
                pinned_by: UserId(row.pinned_by),
                pinned_at: row.pinned_at,
            })
            .collect(),
    ))
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}
