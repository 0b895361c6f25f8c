//! The conversations port: direct pairs, membership-scoped lookups, lists, read watermarks
//! and unread counts.

use chat_domain::{
    ChatError, ConversationDetail, ConversationId, ConversationRepo, DirectPair, PageRequest,
    Paged, ReadReceipt, Seq, StreamPosition, UnreadCount, UserId,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::conversation_page::conversation_page;
use crate::prepared::ByIds;
use crate::rows::{ConversationMemberRow, assemble};
use crate::schema::conversation_members;
use crate::stream::{Record, record};
use crate::{PgStore, query_error};

/// The columns of a conversation joined with one member (`c`, `m`, `u`), as
/// [`ConversationMemberRow`] reads them.
macro_rules! detail_columns {
    () => {
        "c.id, c.kind, c.title, c.avatar_url, c.last_seq, c.message_count, c.last_message,
         c.last_message_at, c.created_at, c.updated_at,
         m.user_id, m.role, m.last_read_seq, m.last_read_at, m.joined_at,
         u.username"
    };
}
pub(crate) use detail_columns;

/// One conversation with its members, joined, up to its `WHERE` condition.
macro_rules! detail_where {
    () => {
        concat!(
            "SELECT ",
            detail_columns!(),
            "
  FROM conversations c
  JOIN conversation_members m ON m.conversation_id = c.id
  JOIN users u ON u.id = m.user_id
 WHERE "
        )
    };
}

/// One conversation with its members, by id.
pub(crate) fn detail_by_id(id: i64) -> ByIds<1> {
    ByIds::new(
        [concat!(detail_where!(), "c.id = ")],
        " ORDER BY m.user_id",
        [id],
    )
}

/// The direct conversation of a pair with its members, through the pair's unique key.
pub(crate) fn detail_by_pair(pair: DirectPair) -> ByIds<2> {
    ByIds::new(
        [
            concat!(detail_where!(), "c.direct_user_low = "),
            " AND c.direct_user_high = ",
        ],
        " ORDER BY m.user_id",
        [pair.low().get(), pair.high().get()],
    )
}

/// Loads one conversation with its members, in one query.
pub(crate) async fn load_detail(
    conn: &mut AsyncPgConnection,
    query: impl diesel_async::methods::LoadQuery<'static, AsyncPgConnection, ConversationMemberRow>
    + Send
    + 'static,
) -> Result<Option<ConversationDetail>, ChatError> {
    let rows: Vec<ConversationMemberRow> = query.load(conn).await.map_err(query_error)?;
    Ok(assemble(rows)?.into_iter().next())
}

#[derive(QueryableByName)]
struct ReceiptRow {
    #[diesel(sql_type = BigInt)]
    last_read_seq: i64,
    #[diesel(sql_type = Timestamptz)]
    last_read_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    updated: i64,
}

#[derive(QueryableByName)]
struct UnreadRow {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    unread_count: i64,
}

/// Moves the member's watermark to the conversation's `last_seq` and counts, in the same
/// snapshot, the visible messages from others that it passed.
const MARK_READ: &str = "
WITH me AS (
    SELECT m.last_read_seq AS old_seq, GREATEST(m.last_read_seq, c.last_seq) AS new_seq
      FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.conversation_id = $1 AND m.user_id = $2
), moved AS (
    UPDATE conversation_members m
       SET last_read_seq = me.new_seq, last_read_at = now()
      FROM me
     WHERE m.conversation_id = $1 AND m.user_id = $2
 RETURNING m.last_read_seq, m.last_read_at
)
SELECT moved.last_read_seq, moved.last_read_at,
       (SELECT count(*) FROM messages x
         WHERE x.conversation_id = $1 AND x.deleted_at IS NULL AND x.sender_id <> $2
           AND x.seq > me.old_seq AND x.seq <= me.new_seq) AS updated
  FROM moved, me";

/// Visible messages from others above each of the user's watermarks, per conversation.
pub(crate) const UNREAD_BY_CONVERSATION: &str = "
SELECT m.conversation_id, count(*) AS unread_count
  FROM conversation_members m
  JOIN messages x ON x.conversation_id = m.conversation_id AND x.seq > m.last_read_seq
 WHERE m.user_id = $1 AND x.deleted_at IS NULL AND x.sender_id <> $1
 GROUP BY m.conversation_id
 ORDER BY m.conversation_id";

impl ConversationRepo for PgStore {
    async fn direct_conversation(&self, pair: DirectPair) -> Result<ConversationDetail, ChatError> {
        // Group-committed with the other first contacts under way (`first_contact.rs`).
        self.first_contact.open(pair).await
    }

    async fn find_direct_conversation(
        &self,
        pair: DirectPair,
    ) -> Result<Option<ConversationDetail>, ChatError> {
        let mut conn = self.conn().await?;
        load_detail(&mut conn, detail_by_pair(pair)).await
    }

    async fn conversation_for(
        &self,
        viewer: UserId,
        id: ConversationId,
    ) -> Result<Option<ConversationDetail>, ChatError> {
        let mut conn = self.conn().await?;
        let detail = load_detail(&mut conn, detail_by_id(id.get())).await?;
        Ok(detail.filter(|d| d.member(viewer).is_some()))
    }

    async fn conversations_of(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Paged<ConversationDetail>, ChatError> {
        let mut conn = self.conn().await?;
        let total: i64 = conversation_members::table
            .filter(conversation_members::user_id.eq(user.get()))
            .count()
            .get_result(&mut conn)
            .await
            .map_err(query_error)?;
        let items = conversation_page(&mut conn, user, page).await?;
        Ok(Paged { items, total })
    }

    async fn mark_read(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> Result<Option<(ReadReceipt, StreamPosition)>, ChatError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, DieselError, _>(async |conn| {
            let row: Option<ReceiptRow> = diesel::sql_query(MARK_READ)
                .bind::<BigInt, _>(id.get())
                .bind::<BigInt, _>(user.get())
                .get_result(conn)
                .await
                .optional()?;
            let Some(row) = row else {
                return Ok(None);
            };
            let receipt = ReadReceipt {
                conversation_id: id,
                user_id: user,
                updated: row.updated,
                last_read_seq: Seq(row.last_read_seq),
                read_at: row.last_read_at,
            };
            let position = record(
                conn,
                Record {
                    conversation: id,
                    kind: "read",
                    message: None,
                    user,
                    seq: receipt.last_read_seq,
                    content: None,
                    amount: None,
                },
            )
            .await?;
            Ok(Some((receipt, position)))
        })
        .await
        .map_err(query_error)
    }

    async fn unread_count(&self, user: UserId) -> Result<i64, ChatError> {
        Ok(self
            .unread_by_conversation(user)
            .await?
            .iter()
            .map(|u| u.unread_count)
            .sum())
    }

    async fn unread_by_conversation(&self, user: UserId) -> Result<Vec<UnreadCount>, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<UnreadRow> = diesel::sql_query(UNREAD_BY_CONVERSATION)
            .bind::<BigInt, _>(user.get())
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(rows
            .into_iter()
            .map(|r| UnreadCount {
                conversation_id: ConversationId(r.conversation_id),
                unread_count: r.unread_count,
            })
            .collect())
    }
}
