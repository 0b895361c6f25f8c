//! The messages port: the append that assigns `seq`, history windows, search and soft delete.

use chat_domain::{
    Appended, ChatError, ConversationId, Edited, Message, MessageId, MessageRepo, MessageVersion,
    MessageWindow, NewMessage, PageRequest, Paged, Pin, PinWrite, Reaction, ReactionKey,
    ReactionWrite, ReplyTo, SearchHit, SearchQuery, StreamPosition, TextSearch, Thread, UserId,
};
use chrono::{DateTime, Utc};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

use crate::rows::MessageRow;
use crate::schema::messages;
use crate::scope::{member_of, member_of_its_conversation};
use crate::stream::{Record, record};
use crate::{PgStore, query_error};

/// Soft-deletes the sender's visible message and keeps the conversation's counter and
/// last-message pointer right. Runs after the conversation row is locked, so that it sees
/// every delete and append that committed before it.
const DELETE: &str = "
WITH del AS (
    UPDATE messages SET deleted_at = now(), updated_at = now()
     WHERE id = $1 AND sender_id = $2 AND deleted_at IS NULL
       AND EXISTS (SELECT 1 FROM conversation_members m
                    WHERE m.conversation_id = messages.conversation_id AND m.user_id = $2)
 RETURNING id, conversation_id, seq, sender_id, content, attachment_url, client_message_id,
           created_at, updated_at, edited_at, reply_to_id, forwarded_message_id,
              forwarded_conversation_id, forwarded_sender_id, mentions
), conv AS (
    UPDATE conversations c
       SET message_count = c.message_count - 1, updated_at = now(),
           last_message_seq = CASE WHEN c.last_message_seq = del.seq THEN prev.seq
                                   ELSE c.last_message_seq END,
           last_message = CASE WHEN c.last_message_seq = del.seq THEN prev.content
                               ELSE c.last_message END
      FROM del
      LEFT JOIN LATERAL (
            SELECT x.seq, x.content FROM messages x
             WHERE x.conversation_id = del.conversation_id AND x.deleted_at IS NULL
               AND x.id <> del.id
             ORDER BY x.seq DESC LIMIT 1) prev ON true
     WHERE c.id = del.conversation_id
)
SELECT * FROM del";

/// Escapes LIKE's wildcards so that a search matches its text literally.
fn like_pattern(query: &SearchQuery) -> String {
    let mut pattern = String::with_capacity(query.as_str().len() + 2);
    pattern.push('%');
    for c in query.as_str().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A history window as one boxed query, so that tests can read its plan.
pub(crate) type WindowQuery =
    messages::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<MessageRow, Pg>>>;

/// The visible messages of a window, scoped to members of the conversation.
pub(crate) fn window_query(
    viewer: UserId,
    conversation: ConversationId,
    window: MessageWindow,
) -> WindowQuery {
    let visible = messages::table
        .filter(messages::conversation_id.eq(conversation.get()))
        .filter(messages::deleted_at.is_null())
        .filter(member_of(viewer.get(), conversation.get()))
        .select(MessageRow::as_select())
        .into_boxed();
    windowed(visible, window)
}

/// A query of visible messages cut to a window: its size, order and cursor.
pub(crate) fn windowed(visible: WindowQuery, window: MessageWindow) -> WindowQuery {
    let visible = visible.limit(i64::from(window.limit()));
    match window {
        MessageWindow::Page(page) => visible.order(messages::seq.desc()).offset(page.offset()),
        MessageWindow::Before { seq, .. } => visible
            .filter(messages::seq.lt(seq.get()))
            .order(messages::seq.desc()),
        MessageWindow::After { seq, .. } => visible
            .filter(messages::seq.gt(seq.get()))
            .order(messages::seq.asc()),
    }
}

/// Answers a send whose client message id the sender used before: the stored message when
/// it is the same send (a retry after a lost answer), a `Conflict` otherwise.
pub(crate) async fn earlier_send(
    conn: &mut AsyncPgConnection,
    message: &NewMessage,
) -> Result<Option<Appended>, ChatError> {
    let conflict =
        || ChatError::Conflict("clientMessageId was already used for another message".into());
    let Some(client_id) = &message.client_message_id else {
        return Err(conflict());
    };
    let earlier: MessageRow = messages::table
        .filter(messages::sender_id.eq(message.sender_id.get()))
        .filter(messages::client_message_id.eq(client_id.as_str()))
        .select(MessageRow::as_select())
        .first(conn)
        .await
        .optional()
        .map_err(query_error)?
        .ok_or_else(conflict)?;
    let earlier = Message::from(earlier);
    let same = earlier.conversation_id == message.conversation_id
        && earlier.reply_to_id == message.reply_to
        && earlier.content == message.content.as_str()
        && earlier.attachment_url.as_deref() == message.attachment_url.as_ref().map(|u| u.as_str());
    if same {
        Ok(Some(Appended::Retried(earlier)))
    } else {
        Err(conflict())
    }
}

/// The visible messages of a conversation whose text contains `pattern` (an `ILIKE` pattern,
/// `\\` escaping), if `viewer` is a member; the trigram index serves it.
pub(crate) fn substring_query(
    viewer: i64,
    conversation: i64,
    pattern: String,
) -> messages::BoxedQuery<'static, Pg> {
    messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::deleted_at.is_null())
        .filter(messages::content.ilike(pattern).escape('\\'))
        .filter(member_of(viewer, conversation))
        .into_boxed()
}

impl MessageRepo for PgStore {
    async fn append_message(&self, message: NewMessage) -> Result<Option<Appended>, ChatError> {
        self.writes.append(message).await
    }

    async fn messages(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        window: MessageWindow,
    ) -> Result<Vec<Message>, ChatError> {
        let mut conn = self.conn().await?;
        let query = window_query(viewer, conversation, window);
        let mut rows: Vec<Message> = query
            .load(&mut conn)
            .await
            .map_err(query_error)?
            .into_iter()
            .map(Message::from)
            .collect();
        if matches!(window, MessageWindow::After { .. }) {
            rows.reverse();
        }
        Ok(rows)
    }

    async fn search_messages(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<Paged<Message>, ChatError> {
        let mut conn = self.conn().await?;
        let pattern = like_pattern(query);
        let matching = || substring_query(viewer.get(), conversation.get(), pattern.clone());
        let total: i64 = matching()
            .count()
            .get_result(&mut conn)
            .await
            .map_err(query_error)?;
        let items = matching()
            .order(messages::seq.desc())
            .limit(i64::from(page.limit))
            .offset(page.offset())
            .select(MessageRow::as_select())
            .load(&mut conn)
            .await
            .map_err(query_error)?
            .into_iter()
            .map(Message::from)
            .collect();
        Ok(Paged { items, total })
    }

    async fn search_text(
        &self,
        viewer: UserId,
        search: &TextSearch,
    ) -> Result<Vec<SearchHit>, ChatError> {
        self.search_text_in(viewer, search).await
    }

    async fn message(
        &self,
        viewer: UserId,
        conversation: ConversationId,
        id: MessageId,
    ) -> Result<Option<Message>, ChatError> {
        let mut conn = self.conn().await?;
        let found: Option<MessageRow> = messages::table
            .filter(messages::id.eq(id.get()))
            .filter(messages::conversation_id.eq(conversation.get()))
            .filter(messages::deleted_at.is_null())
            .filter(member_of(viewer.get(), conversation.get()))
            .select(MessageRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(found.map(Message::from))
    }

    async fn visible_message(
        &self,
        viewer: UserId,
        id: MessageId,
    ) -> Result<Option<Message>, ChatError> {
        let mut conn = self.conn().await?;
        let found: Option<MessageRow> = messages::table
            .filter(messages::id.eq(id.get()))
            .filter(messages::deleted_at.is_null())
            .filter(member_of_its_conversation(viewer.get()))
            .select(MessageRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(found.map(Message::from))
    }

    async fn delete_message(
        &self,
        sender: UserId,
        id: MessageId,
    ) -> Result<Option<(Message, StreamPosition)>, ChatError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, DieselError, _>(async |conn| {
            crate::edits::lock_conversation_of(conn, id).await?;
            let deleted: Option<MessageRow> = diesel::sql_query(DELETE)
                .bind::<BigInt, _>(id.get())
                .bind::<BigInt, _>(sender.get())
                .get_result(conn)
                .await
                .optional()?;
            let Some(deleted) = deleted.map(Message::from) else {
                return Ok(None);
            };
            crate::edits::purge(conn, deleted.id).await?;
            let position = record(
                conn,
                Record {
                    conversation: deleted.conversation_id,
                    kind: "deleted",
                    message: Some(deleted.id),
                    user: sender,
                    seq: deleted.seq,
                    content: None,
                    amount: None,
                },
            )
            .await?;
            Ok(Some((deleted, position)))
        })
        .await
        .map_err(query_error)
    }

    async fn edit_message(
        &self,
        editor: UserId,
        id: MessageId,
        content: String,
        not_before: Option<DateTime<Utc>>,
    ) -> Result<Option<Edited>, ChatError> {
        crate::edits::edit(self, editor, id, content, not_before).await
    }

    async fn message_history(
        &self,
        viewer: UserId,
        id: MessageId,
    ) -> Result<Option<Vec<MessageVersion>>, ChatError> {
        crate::edits::history(self, viewer, id).await
    }

    async fn set_pin(
        &self,
        actor: UserId,
        conversation: ConversationId,
        message: MessageId,
        pinned: bool,
        max_pins: usize,
    ) -> Result<Option<PinWrite>, ChatError> {
        crate::pins::set_pin(self, actor, conversation, message, pinned, max_pins).await
    }

    async fn pins(
        &self,
        viewer: UserId,
        conversation: ConversationId,
    ) -> Result<Option<Vec<Pin>>, ChatError> {
        crate::pins::pins(self, viewer, conversation).await
    }

    async fn set_reaction(
        &self,
        actor: UserId,
        message: MessageId,
        key: ReactionKey,
        on: bool,
        max_kinds: usize,
    ) -> Result<Option<ReactionWrite>, ChatError> {
        crate::reactions::set_reaction(self, actor, message, key, on, max_kinds).await
    }

    async fn reactions_for(
        &self,
        viewer: UserId,
        messages: &[MessageId],
    ) -> Result<HashMap<MessageId, Vec<Reaction>>, ChatError> {
        crate::reactions::reactions_for(self, viewer, messages).await
    }

    async fn mentions_of(
        &self,
        viewer: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        self.mentions_of_user(viewer, before, limit).await
    }

    async fn reply_parents(
        &self,
        conversation: ConversationId,
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, ReplyTo>, ChatError> {
        self.reply_parents_in(conversation, ids).await
    }

    async fn reply_counts(&self, ids: &[MessageId]) -> Result<HashMap<MessageId, i64>, ChatError> {
        self.reply_counts_in(ids).await
    }

    async fn replies(
        &self,
        viewer: UserId,
        parent: MessageId,
        window: MessageWindow,
    ) -> Result<Option<Thread>, ChatError> {
        self.thread(viewer, parent, window).await
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::Limits;

    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        let query = SearchQuery::parse(r"50%_a\b", &Limits::default()).unwrap();
        assert_eq!(like_pattern(&query), r"%50\%\_a\\b%");
    }
}
