//! A user's mentions, newest first, from `message_mentions` (written by the append batch).

use chat_domain::{ChatError, Message, MessageId, UserId};
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

use crate::rows::MessageRow;
use crate::{PgStore, query_error};

/// The visible messages that mention `$1` with an id below `$2`, in conversations `$1`
/// belongs to, newest first, at most `$3`.
const MENTIONS: &str = "
SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.attachment_url,
       m.client_message_id, m.created_at, m.updated_at, m.edited_at, m.reply_to_id,
       m.forwarded_message_id, m.forwarded_conversation_id, m.forwarded_sender_id, m.mentions
  FROM message_mentions mm JOIN messages m ON m.id = mm.message_id
 WHERE mm.user_id = $1 AND mm.message_id < $2 AND m.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM conversation_members c
                WHERE c.conversation_id = m.conversation_id AND c.user_id = $1)
 ORDER BY mm.message_id DESC
 LIMIT $3";

impl PgStore {
    /// See [`chat_domain::MessageRepo::mentions_of`].
    pub(crate) async fn mentions_of_user(
        &self,
        viewer: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> = diesel::sql_query(MENTIONS)
            .bind::<BigInt, _>(viewer.get())
            .bind::<BigInt, _>(before.map_or(i64::MAX, |id| id.get()))
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(rows.into_iter().map(Message::from).collect())
    }
}
