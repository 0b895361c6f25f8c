//! Replies: parents as their replies show them (read when the reply is read, so a parent
//! deleted or edited since shows as it is now), reply counts and thread windows, served by
//! the partial index on `(reply_to_id, seq)`.

use std::collections::HashMap;

use chat_domain::{
    ChatError, ConversationId, Message, MessageId, MessageWindow, ReplyTo, StreamEvent, Thread,
    UserId, UserRef, attach_parents, excerpt,
};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::messages::{WindowQuery, window_query};
use crate::prepared::{Param, Statement};
use crate::schema::{conversation_members, messages};
use crate::{PgStore, query_error};

/// Some messages with their senders' names, the text only of those not deleted; scoped to one
/// conversation when one is given (the second parameter is not null).
const PARENTS: [&str; 3] = [
    "SELECT m.id, m.sender_id, u.username, \
            CASE WHEN m.deleted_at IS NULL THEN m.content END AS content \
       FROM messages m JOIN users u ON u.id = m.sender_id \
      WHERE m.id = ANY(",
    ") AND m.conversation_id = coalesce(",
    "::bigint, m.conversation_id)",
];

/// How many visible replies each of some messages of a conversation has.
pub(crate) const COUNTS: [&str; 3] = [
    "SELECT r.reply_to_id AS id, count(*) AS n FROM messages r WHERE r.reply_to_id = ANY(",
    ") AND r.conversation_id = ",
    " AND r.deleted_at IS NULL GROUP BY r.reply_to_id",
];

#[derive(QueryableByName)]
struct ParentRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    sender_id: i64,
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Nullable<Text>)]
    content: Option<String>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A window of a thread: the visible replies to `parent`, scoped to members of its
/// conversation.
pub(crate) fn thread_query(
    viewer: UserId,
    conversation: ConversationId,
    parent: MessageId,
    window: MessageWindow,
) -> WindowQuery {
    window_query(viewer, conversation, window).filter(messages::reply_to_id.eq(parent.get()))
}

/// See [`chat_domain::MessageRepo::reply_parents`]; any conversation's when `conversation`
/// is `None` (a replay, whose replies name parents of their own conversations).
pub(crate) async fn parents(
    conn: &mut AsyncPgConnection,
    conversation: Option<ConversationId>,
    ids: &[MessageId],
) -> Result<HashMap<MessageId, ReplyTo>, DieselError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let params = vec![
        Param::Ids(&ids),
        Param::MaybeId(conversation.map(|c| c.get())),
    ];
    let rows: Vec<ParentRow> = Statement::new(&PARENTS, params).load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let parent = ReplyTo {
                id: MessageId(row.id),
                sender: UserRef {
                    id: UserId(row.sender_id),
                    username: row.username,
                },
                excerpt: row.content.as_deref().map(excerpt),
            };
            (parent.id, parent)
        })
        .collect())
}

/// See [`chat_domain::MessageRepo::reply_counts`].
async fn counts(
    conn: &mut AsyncPgConnection,
    conversation: ConversationId,
    ids: &[MessageId],
) -> Result<HashMap<MessageId, i64>, DieselError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let params = vec![Param::Ids(&ids), Param::Id(conversation.get())];
    let rows: Vec<CountRow> = Statement::new(&COUNTS, params).load(conn).await?;
    Ok(rows.into_iter().map(|r| (MessageId(r.id), r.n)).collect())
}

/// Sets the parents of the replies among replayed messages, as they are now.
pub(crate) async fn with_parents_now(
    conn: &mut AsyncPgConnection,
    events: &mut [StreamEvent],
) -> Result<(), DieselError> {
    let ids: Vec<MessageId> = events
        .iter_mut()
        .filter_map(|e| e.event.message_mut()?.reply_to_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found = parents(conn, None, &ids).await?;
    for event in events.iter_mut() {
        if let Some(message) = event.event.message_mut() {
            attach_parents(std::slice::from_mut(message), &found);
        }
    }
    Ok(())
}

impl PgStore {
    /// See [`chat_domain::MessageRepo::reply_parents`].
    pub(crate) async fn reply_parents_in(
        &self,
        conversation: ConversationId,
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, ReplyTo>, ChatError> {
        let mut conn = self.conn().await?;
        parents(&mut conn, Some(conversation), ids)
            .await
            .map_err(query_error)
    }

    /// See [`chat_domain::MessageRepo::reply_counts`].
    pub(crate) async fn reply_counts_in(
        &self,
        conversation: ConversationId,
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, i64>, ChatError> {
        let mut conn = self.conn().await?;
        counts(&mut conn, conversation, ids)
            .await
            .map_err(query_error)
    }

    /// See [`chat_domain::MessageRepo::replies`].
    pub(crate) async fn thread(
        &self,
        viewer: UserId,
        parent: MessageId,
        window: MessageWindow,
    ) -> Result<Option<Thread>, ChatError> {
        let mut conn = self.conn().await?;
        let conversation: Option<i64> = messages::table
            .filter(messages::id.eq(parent.get()))
            .filter(diesel::dsl::exists(
                conversation_members::table
                    .filter(conversation_members::conversation_id.eq(messages::conversation_id))
                    .filter(conversation_members::user_id.eq(viewer.get())),
            ))
            .select(messages::conversation_id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        let Some(conversation) = conversation.map(ConversationId) else {
            return Ok(None);
        };
        let mut replies: Vec<Message> = thread_query(viewer, conversation, parent, window)
            .load(&mut conn)
            .await
            .map_err(query_error)?
            .into_iter()
            .map(Message::from)
            .collect();
        if matches!(window, MessageWindow::After { .. }) {
            replies.reverse();
        }
        let total = counts(&mut conn, conversation, &[parent])
            .await
            .map_err(query_error)?
            .remove(&parent)
            .unwrap_or(0);
        Ok(Some(Thread {
            conversation,
            replies,
            total,
        }))
    }
}
