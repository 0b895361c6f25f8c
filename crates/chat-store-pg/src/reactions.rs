//! Reactions: one row per member and key on a message, each change recorded in the stream with
//! the key's count after it. A change locks its message's row, so that concurrent reactions
//! to one message count right; other messages are not held up.

use std::collections::HashMap;

use chat_domain::{
    ChatError, MessageId, Reaction, ReactionChanged, ReactionKey, ReactionWrite, Seq, UserId,
    too_many_reaction_kinds,
};
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::prepared::{Param, Statement};
use crate::stream::{Record, record};
use crate::{PgStore, query_error};

/// The visible message, its row locked, while the actor is a member of its conversation.
/// Reactions to one message take turns on this lock.
const TARGET: &str = "
SELECT x.conversation_id, x.seq
  FROM messages x
 WHERE x.id = $1 AND x.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM conversation_members m
                WHERE m.conversation_id = x.conversation_id AND m.user_id = $2)
   FOR UPDATE OF x";

/// Whether the actor reacts with the key, whether anyone does, and how many keys the message
/// has. A statement of its own, after the lock: under READ COMMITTED it sees what the
/// reactions that held the lock before committed (the locking statement's own snapshot
/// predates its wait).
const STATE: &str = "
SELECT EXISTS (SELECT 1 FROM message_reactions r
                WHERE r.message_id = $1 AND r.key = $3 AND r.user_id = $2) AS mine,
       EXISTS (SELECT 1 FROM message_reactions r WHERE r.message_id = $1 AND r.key = $3) AS used,
       (SELECT count(DISTINCT r.key) FROM message_reactions r WHERE r.message_id = $1) AS kinds";

/// Adds the actor's row, dated like the key's first use so that keys keep their order while
/// any member still reacts with them.
const ADD: &str = "
INSERT INTO message_reactions (message_id, key, user_id, created_at)
SELECT $1, $2, $3, COALESCE((SELECT min(r.created_at) FROM message_reactions r
                              WHERE r.message_id = $1 AND r.key = $2), clock_timestamp())";

/// Some messages' reactions as one reader sees them, keys in the order first used.
const FOR_READER: [&str; 3] = [
    "SELECT r.message_id, r.key, count(*) AS count, bool_or(r.user_id = ",
    ") AS me FROM message_reactions r WHERE r.message_id = ANY(",
    ") GROUP BY r.message_id, r.key ORDER BY r.message_id, min(r.created_at), r.key",
];

#[derive(QueryableByName)]
struct TargetRow {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Bool)]
    mine: bool,
    #[diesel(sql_type = Bool)]
    used: bool,
    #[diesel(sql_type = BigInt)]
    kinds: i64,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct ReactionRow {
    #[diesel(sql_type = BigInt)]
    message_id: i64,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = Bool)]
    me: bool,
}

/// What the transaction found.
enum Outcome {
    NotVisible,
    TooMany,
    Done(ReactionWrite),
}

/// See [`chat_domain::MessageRepo::set_reaction`].
pub(crate) async fn set_reaction(
    store: &PgStore,
    actor: UserId,
    message: MessageId,
    key: ReactionKey,
    on: bool,
    max_kinds: usize,
) -> Result<Option<ReactionWrite>, ChatError> {
    let mut conn = store.conn().await?;
    let outcome = conn
        .transaction::<_, DieselError, _>(async |conn| {
            let target: Option<TargetRow> = diesel::sql_query(TARGET)
                .bind::<BigInt, _>(message.get())
                .bind::<BigInt, _>(actor.get())
                .get_result(conn)
                .await
                .optional()?;
            let Some(target) = target else {
                return Ok(Outcome::NotVisible);
            };
            let state: StateRow = diesel::sql_query(STATE)
                .bind::<BigInt, _>(message.get())
                .bind::<BigInt, _>(actor.get())
                .bind::<Text, _>(key.as_str())
                .get_result(conn)
                .await?;
            if state.mine == on {
                return Ok(Outcome::Done(ReactionWrite::Unchanged));
            }
            if on && !state.used && usize::try_from(state.kinds).unwrap_or(usize::MAX) >= max_kinds
            {
                return Ok(Outcome::TooMany);
            }
            let change = if on {
                ADD
            } else {
                "DELETE FROM message_reactions WHERE message_id = $1 AND key = $2 AND user_id = $3"
            };
            diesel::sql_query(change)
                .bind::<BigInt, _>(message.get())
                .bind::<Text, _>(key.as_str())
                .bind::<BigInt, _>(actor.get())
                .execute(conn)
                .await?;
            let counted: CountRow = diesel::sql_query(
                "SELECT count(*) AS count FROM message_reactions WHERE message_id = $1 AND key = $2",
            )
            .bind::<BigInt, _>(message.get())
            .bind::<Text, _>(key.as_str())
            .get_result(conn)
            .await?;
            let conversation = chat_domain::ConversationId(target.conversation_id);
            let position = record(
                conn,
                Record {
                    conversation,
                    kind: if on { "reaction_added" } else { "reaction_removed" },
                    message: Some(message),
                    user: actor,
                    seq: Seq(target.seq),
                    content: Some(key.as_str().to_owned()),
                    amount: Some(counted.count),
                },
            )
            .await?;
            let changed = ReactionChanged {
                conversation_id: conversation,
                message_id: message,
                seq: Seq(target.seq),
                key: key.clone(),
                user_id: actor,
                count: counted.count,
            };
            Ok(Outcome::Done(ReactionWrite::Changed(changed, position)))
        })
        .await
        .map_err(query_error)?;
    match outcome {
        Outcome::NotVisible => Ok(None),
        Outcome::TooMany => Err(too_many_reaction_kinds(max_kinds)),
        Outcome::Done(write) => Ok(Some(write)),
    }
}

/// See [`chat_domain::MessageRepo::reactions_for`].
pub(crate) async fn reactions_for(
    store: &PgStore,
    viewer: UserId,
    messages: &[MessageId],
) -> Result<HashMap<MessageId, Vec<Reaction>>, ChatError> {
    let ids: Vec<i64> = messages.iter().map(|id| id.get()).collect();
    let mut conn = store.conn().await?;
    let rows: Vec<ReactionRow> =
        Statement::new(&FOR_READER, vec![Param::Id(viewer.get()), Param::Ids(&ids)])
            .load(&mut conn)
            .await
            .map_err(query_error)?;
    let mut found: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    for row in rows {
        found
            .entry(MessageId(row.message_id))
            .or_default()
            .push(Reaction {
                key: ReactionKey::stored(row.key),
                count: row.count,
                me: row.me,
            });
    }
    Ok(found)
}
