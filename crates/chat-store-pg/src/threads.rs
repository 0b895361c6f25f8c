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

use crate::messages::{WindowQuery, windowed};
use crate::prepared::{Param, Statement};
use crate::rows::MessageRow;
use crate::schema::messages;
use crate::scope::{member_of, member_of_its_conversation};
use crate::{PgStore, query_error};

/// Some messages with their conversations and senders' names, the text only of those not
/// deleted. Found by id alone: the statement is kept prepared, and a generic plan must not
/// trade the primary key for a conversation's index (which the biggest conversation makes
/// slow); the conversation is checked on the rows.
const PARENTS: [&str; 2] = [
    "SELECT m.id, m.conversation_id, m.sender_id, u.username, \
            CASE WHEN m.deleted_at IS NULL THEN m.content END AS content \
       FROM messages m JOIN users u ON u.id = m.sender_id \
      WHERE m.id = ANY(",
    ")",
];

/// How many visible replies each of some messages has. A reply is always in its parent's
/// conversation, so the parents' ids scope it; naming the conversation too would let a generic
/// plan read the whole conversation by its index instead of the replies by theirs.
pub(crate) const COUNTS: [&str; 2] = [
    "SELECT r.reply_to_id AS id, count(*) AS n FROM messages r WHERE r.reply_to_id = ANY(",
    ") AND r.deleted_at IS NULL GROUP BY r.reply_to_id",
];

#[derive(QueryableByName)]
struct ParentRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
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
/// conversation. Found by the parent alone (its replies share its conversation), so that even
/// a generic plan reads the replies' index, not the whole conversation's.
pub(crate) fn thread_query(
    viewer: UserId,
    conversation: ConversationId,
    parent: MessageId,
    window: MessageWindow,
) -> WindowQuery {
    let replies = messages::table
        .filter(messages::reply_to_id.eq(parent.get()))
        .filter(messages::deleted_at.is_null())
        .filter(member_of(viewer.get(), conversation.get()))
        .select(MessageRow::as_select())
        .into_boxed();
    windowed(replies, window)
}

/// See [`chat_domain::MessageRepo::reply_parents`]; any conversation's when `conversation`
/// is `None` (a replay, whose replies name parents of their own conversations).
pub(crate) async fn parents(
    conn: &mut AsyncPgConnection,
    conversation: Option<ConversationId>,
    ids: &[MessageId],
) -> Result<HashMap<MessageId, ReplyTo>, DieselError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let rows: Vec<ParentRow> = Statement::new(&PARENTS, vec![Param::Ids(&ids)])
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| conversation.is_none_or(|c| c.get() == row.conversation_id))
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
    ids: &[MessageId],
) -> Result<HashMap<MessageId, i64>, DieselError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let rows: Vec<CountRow> = Statement::new(&COUNTS, vec![Param::Ids(&ids)])
        .load(conn)
        .await?;
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
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, i64>, ChatError> {
        let mut conn = self.conn().await?;
        counts(&mut conn, ids).await.map_err(query_error)
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
            .filter(member_of_its_conversation(viewer.get()))
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
        let total = counts(&mut conn, &[parent])
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
