//! First contact, group-committed: the direct conversations asked for while a batch is being
//! committed are found or created together by the next one, in one statement and one
//! transaction (one WAL flush), on a lane with a connection of its own, as the message appends
//! are. A first message thus costs its share of a batch instead of a commit of its own.
//!
//! Every pair is asked for through the one lane of the process, so concurrent first sends of
//! a pair land in one batch (where the pair is created once) or in successive ones (where the
//! later finds it). Another process creating the same pair at the same moment is settled by
//! the pair's unique key: the batch skips the pair and the caller reads the winner's.

use std::collections::HashMap;

use chat_domain::{ChatError, ConversationDetail, DirectPair, Entity};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, BigInt};
use diesel::{QueryResult, prelude::*};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::{mpsc, oneshot};

use crate::PgConfig;
use crate::conversations::{detail_by_id, detail_by_pair, detail_columns, load_detail};
use crate::error::query_error;
use crate::lane::{self, ConnectionLost, Job, Target, fail_all};
use crate::prepared::prepared_statement;
use crate::rows::{ConversationMemberRow, assemble};
use crate::schema::{conversation_members, conversations};

/// The statement after its two array parameters (each pair's lower and higher user id): the
/// pairs found through their unique key, and those missing inserted with their two members
/// when both users exist, in key order (so that two such statements cannot deadlock). The rows
/// of a created pair come from the inserts' `RETURNING` (the statement's snapshot cannot see
/// its own inserts). A pair without rows has a missing user, or was created by a concurrent
/// transaction after this statement's snapshot (`ON CONFLICT DO NOTHING` waited for it to
/// commit); nothing of it was written.
const BODY: &str = concat!(
    ") AS a(low, high)
),
found AS (
    SELECT c.id, c.kind, c.title, c.avatar_url, c.last_seq, c.message_count, c.last_message,
           c.last_message_at, c.created_at, c.updated_at
      FROM asked a
      JOIN conversations c ON c.direct_user_low = a.low AND c.direct_user_high = a.high
),
people AS (
    SELECT u.id, u.username FROM users u
     WHERE u.id IN (SELECT low FROM asked UNION SELECT high FROM asked)
),
created AS (
    INSERT INTO conversations (kind, direct_user_low, direct_user_high)
    SELECT 'direct', a.low, a.high FROM asked a
     WHERE NOT EXISTS (SELECT 1 FROM conversations c
                        WHERE c.direct_user_low = a.low AND c.direct_user_high = a.high)
       AND EXISTS (SELECT 1 FROM people p WHERE p.id = a.low)
       AND EXISTS (SELECT 1 FROM people p WHERE p.id = a.high)
     ORDER BY a.low, a.high
        ON CONFLICT (direct_user_low, direct_user_high) DO NOTHING
    RETURNING id, kind, title, avatar_url, last_seq, message_count, last_message,
              last_message_at, created_at, updated_at, direct_user_low, direct_user_high
),
joined AS (
    INSERT INTO conversation_members (conversation_id, user_id)
    SELECT c.id, p.id FROM created c
      JOIN people p ON p.id IN (c.direct_user_low, c.direct_user_high)
     ORDER BY c.id, p.id
    RETURNING conversation_id, user_id, role, last_read_seq, last_read_at, joined_at
)
SELECT ",
    detail_columns!(),
    "
  FROM found c
  JOIN conversation_members m ON m.conversation_id = c.id
  JOIN users u ON u.id = m.user_id
UNION ALL
SELECT ",
    detail_columns!(),
    "
  FROM created c
  JOIN joined m ON m.conversation_id = c.id
  JOIN people u ON u.id = m.user_id
 ORDER BY id, user_id"
);

/// The pairs of a batch as two parallel arrays, one bind each, so that the statement text
/// never changes and the lane keeps it prepared.
pub(crate) struct OpenBatch<'a> {
    lows: Vec<i64>,
    highs: Vec<i64>,
    _pairs: std::marker::PhantomData<&'a ()>,
}

impl OpenBatch<'_> {
    pub(crate) fn new(pairs: impl Iterator<Item = DirectPair>) -> Self {
        let (lows, highs) = pairs.map(|p| (p.low().get(), p.high().get())).unzip();
        OpenBatch {
            lows,
            highs,
            _pairs: std::marker::PhantomData,
        }
    }
}

impl QueryFragment<Pg> for OpenBatch<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH asked AS (SELECT DISTINCT low, high FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.lows)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.highs)?;
        out.push_sql("::bigint[]");
        out.push_sql(BODY);
        Ok(())
    }
}

prepared_statement!(OpenBatch);

/// One asked-for pair and where its answer goes.
struct Opening {
    pair: DirectPair,
    reply: oneshot::Sender<Result<ConversationDetail, ChatError>>,
}

/// The first-contact lane's queue. Dropping the last handle lets the lane finish and stop.
#[derive(Debug)]
pub(crate) struct FirstContact {
    queue: mpsc::Sender<Opening>,
}

impl FirstContact {
    /// Starts the lane on the current Tokio runtime.
    pub(crate) fn start(config: &PgConfig) -> Self {
        FirstContact {
            queue: lane::start(Target::of(config), config.max_write_batch),
        }
    }

    /// The pair's direct conversation with its members, created if missing, once the batch
    /// that found or created it has committed.
    pub(crate) async fn open(&self, pair: DirectPair) -> Result<ConversationDetail, ChatError> {
        lane::ask(&self.queue, |reply| Opening { pair, reply }).await
    }
}

impl Job for Opening {
    async fn commit_all(
        conn: &mut AsyncPgConnection,
        batch: &mut Vec<Self>,
    ) -> Result<(), ConnectionLost> {
        commit(conn, batch).await
    }

    fn fail(self, error: ChatError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Finds or creates the batch's pairs in one statement and answers every caller. A pair the
/// statement left without rows, and every pair of a statement that failed for a reason that
/// may lie in one pair (a user deleted meanwhile, say; nothing of it was written), is settled
/// on its own, so that only its own caller can fail.
async fn commit(
    conn: &mut AsyncPgConnection,
    batch: &mut Vec<Opening>,
) -> Result<(), ConnectionLost> {
    let rows: Result<Vec<ConversationMemberRow>, DieselError> =
        OpenBatch::new(batch.iter().map(|o| o.pair))
            .load(conn)
            .await;
    let mut opened = match rows.map_err(query_error) {
        // Rows it cannot read are settled pair by pair, each caller getting its own error.
        Ok(rows) => assemble(rows).map(by_pair).unwrap_or_default(),
        Err(unavailable @ ChatError::Unavailable(_)) => {
            fail_all(batch, &unavailable);
            return Err(ConnectionLost);
        }
        Err(_) => HashMap::new(),
    };
    let mut lost = false;
    for opening in batch.drain(..) {
        let result = match opened.get(&opening.pair) {
            Some(detail) => Ok(detail.clone()),
            None => match open_one(conn, opening.pair).await {
                Ok(detail) => {
                    opened.insert(opening.pair, detail.clone());
                    Ok(detail)
                }
                Err(e) => Err(e),
            },
        };
        lost |= matches!(result, Err(ChatError::Unavailable(_)));
        let _ = opening.reply.send(result);
    }
    if lost {
        return Err(ConnectionLost);
    }
    Ok(())
}

/// The batch's conversations by pair: a direct conversation's two members are its pair.
fn by_pair(details: Vec<ConversationDetail>) -> HashMap<DirectPair, ConversationDetail> {
    details
        .into_iter()
        .filter_map(|detail| match detail.members.as_slice() {
            [a, b] => DirectPair::new(a.user.id, b.user.id)
                .ok()
                .map(|pair| (pair, detail)),
            _ => None,
        })
        .collect()
}

/// One pair on its own: the batch statement for it alone, else (a concurrent transaction
/// created it, or a user is missing) the pair read again, else created in a transaction of its
/// own, where a missing user fails the members' foreign key and is `NotFound(User)` with
/// nothing written.
async fn open_one(
    conn: &mut AsyncPgConnection,
    pair: DirectPair,
) -> Result<ConversationDetail, ChatError> {
    let rows: Vec<ConversationMemberRow> =
        match OpenBatch::new(std::iter::once(pair)).load(conn).await {
            Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                return Err(ChatError::not_found(Entity::User));
            }
            other => other.map_err(query_error)?,
        };
    if let Some(found) = assemble(rows)?.into_iter().next() {
        return Ok(found);
    }
    if let Some(found) = load_detail(conn, detail_by_pair(pair)).await? {
        return Ok(found);
    }
    create_direct(conn, pair).await
}

/// The direct conversation of a pair, created in a transaction of its own if missing (the
/// last resort of [`open_one`]): a missing user fails the members' foreign key, which rolls
/// everything back and is `NotFound(User)`.
async fn create_direct(
    conn: &mut AsyncPgConnection,
    pair: DirectPair,
) -> Result<ConversationDetail, ChatError> {
    let (low, high) = (pair.low().get(), pair.high().get());
    let created = conn
        .transaction::<i64, DieselError, _>(async |conn| {
            // DO UPDATE (a no-op write) instead of DO NOTHING so that the row is returned
            // and locked also when a concurrent first send created it a moment ago.
            let id: i64 = diesel::insert_into(conversations::table)
                .values((
                    conversations::kind.eq("direct"),
                    conversations::direct_user_low.eq(low),
                    conversations::direct_user_high.eq(high),
                ))
                .on_conflict((
                    conversations::direct_user_low,
                    conversations::direct_user_high,
                ))
                .do_update()
                .set(conversations::updated_at.eq(conversations::updated_at))
                .returning(conversations::id)
                .get_result(conn)
                .await?;
            diesel::insert_into(conversation_members::table)
                .values(&[
                    (
                        conversation_members::conversation_id.eq(id),
                        conversation_members::user_id.eq(low),
                    ),
                    (
                        conversation_members::conversation_id.eq(id),
                        conversation_members::user_id.eq(high),
                    ),
                ])
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            Ok(id)
        })
        .await;
    let id = match created {
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            return Err(ChatError::not_found(Entity::User));
        }
        other => other.map_err(query_error)?,
    };
    load_detail(conn, detail_by_id(id))
        .await?
        .ok_or_else(|| ChatError::Internal("created conversation vanished".into()))
}

#[cfg(test)]
#[path = "first_contact_tests.rs"]
mod tests;
