//! A user's mentions, newest first, from `message_mentions` (written by the append batch).

use chat_domain::{ChatError, Message, MessageId, UserId};
use diesel_async::RunQueryDsl;

use crate::prepared::{Param, Statement};
use crate::rows::MessageRow;
use crate::{PgStore, query_error};

/// The visible messages that mention a user with an id below a cursor, in conversations the
/// user belongs to, newest first, at most a limit.
const MENTIONS: [&str; 4] = [
    "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.attachment_url, \
            m.client_message_id, m.created_at, m.updated_at, m.edited_at, m.reply_to_id, \
            m.forwarded_message_id, m.forwarded_conversation_id, m.forwarded_sender_id, \
            m.mentions \
       FROM message_mentions mm JOIN messages m ON m.id = mm.message_id \
      WHERE mm.user_id = ",
    " AND mm.message_id < ",
    " AND m.deleted_at IS NULL \
        AND EXISTS (SELECT 1 FROM conversation_members c \
                     WHERE c.conversation_id = m.conversation_id AND c.user_id = mm.user_id) \
      ORDER BY mm.message_id DESC LIMIT ",
    "",
];

impl PgStore {
    /// See [`chat_domain::MessageRepo::mentions_of`].
    pub(crate) async fn mentions_of_user(
        &self,
        viewer: UserId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        let mut conn = self.conn().await?;
        let params = vec![
            Param::Id(viewer.get()),
            Param::Id(before.map_or(i64::MAX, |id| id.get())),
            Param::Id(i64::from(limit)),
        ];
        let rows: Vec<MessageRow> = Statement::new(&MENTIONS, params)
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(rows.into_iter().map(Message::from).collect())
    }
}
