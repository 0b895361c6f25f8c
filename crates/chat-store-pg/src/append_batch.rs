//! Many appends in one statement, so that concurrent sends share one transaction and one WAL
//! flush. Each conversation's row is bumped once by the number of its messages in the batch;
//! its messages take the seqs in between, in the order they were queued. Each stream writer
//! the batch touches is bumped likewise, last (after the watermarks, whose rows a read receipt
//! locks before its own writer), so that a transaction holding a writer waits for nothing but
//! its commit; and every message gets its stream event, each mention its row, and (with webhooks on)
//! each message its row in the webhook outbox. Two batches never share a writer: each
//! writer belongs to one lane (see `GroupCommit::append`).

use chat_domain::{Appended, Message, NewMessage, StreamPosition};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, SmallInt, Text};
use diesel::{QueryResult, QueryableByName};

use crate::prepared::prepared_statement;
use crate::rows::MessageRow;

/// A scheduled message (client message id `scheduled:<id>`, the prefix
/// [`chat_domain::SCHEDULED_CLIENT_ID_PREFIX`]) goes out while its sender may be away: it does
/// not move their read watermark, as a send of theirs does.
///
/// The statement after its two mention arrays (`mp`: pairs of a message's position in the
/// batch and a user it mentions) and nine message arrays: per message its position in the
/// batch (`ord`), and per conversation the count `n` and the message's rank `k` among them.
const BODY: &str = "
) WITH ORDINALITY AS p(conversation_id, sender_id, content, attachment_url, client_message_id,
                       reply_to_id, forwarded_message_id, forwarded_conversation_id,
                       forwarded_sender_id, ord)
), ok AS (
    SELECT p.*,
           row_number() OVER (PARTITION BY p.conversation_id ORDER BY p.ord) AS k,
           count(*) OVER (PARTITION BY p.conversation_id) AS n
      FROM p
     WHERE EXISTS (SELECT 1 FROM conversation_members m
                    WHERE m.conversation_id = p.conversation_id AND m.user_id = p.sender_id)
), conv AS (
    UPDATE conversations c
       SET last_seq = c.last_seq + ok.n, message_count = c.message_count + ok.n,
           last_message_seq = c.last_seq + ok.n, last_message = ok.content,
           last_message_at = now(), updated_at = now()
      FROM ok
     WHERE c.id = ok.conversation_id AND ok.k = ok.n
 RETURNING c.id, c.last_seq
), planned AS (
    SELECT ok.ord, ok.conversation_id, conv.last_seq - ok.n + ok.k AS seq, ok.sender_id,
           ok.content, ok.attachment_url, ok.client_message_id, ok.reply_to_id,
           ok.forwarded_message_id, ok.forwarded_conversation_id, ok.forwarded_sender_id,
           (SELECT array_agg(mp.user_id ORDER BY mp.i) FROM mp WHERE mp.ord = ok.ord) AS mentions
      FROM ok JOIN conv ON conv.id = ok.conversation_id
), msg AS (
    INSERT INTO messages (conversation_id, seq, sender_id, content, attachment_url,
                          client_message_id, reply_to_id, forwarded_message_id,
                          forwarded_conversation_id, forwarded_sender_id, mentions)
    SELECT conversation_id, seq, sender_id, content, attachment_url, client_message_id,
           reply_to_id, forwarded_message_id, forwarded_conversation_id, forwarded_sender_id,
           mentions
      FROM planned ORDER BY ord
    RETURNING id, conversation_id, seq, sender_id, content, attachment_url, client_message_id,
              created_at, updated_at, edited_at, reply_to_id, forwarded_message_id,
              forwarded_conversation_id, forwarded_sender_id, mentions
), mentioned AS (
    INSERT INTO message_mentions (user_id, message_id)
    SELECT mp.user_id, msg.id
      FROM mp JOIN planned ON planned.ord = mp.ord
      JOIN msg ON msg.conversation_id = planned.conversation_id AND msg.seq = planned.seq
), outbox AS (
    INSERT INTO webhook_outbox (message_id)
    SELECT msg.id FROM msg, flags WHERE flags.outbox
), watermark AS (
    UPDATE conversation_members m SET last_read_seq = w.seq, last_read_at = now()
      FROM (SELECT conversation_id, sender_id, max(seq) AS seq FROM msg
             WHERE client_message_id IS NULL OR client_message_id NOT LIKE 'scheduled:%'
             GROUP BY 1, 2) w
     WHERE m.conversation_id = w.conversation_id AND m.user_id = w.sender_id
 RETURNING 1
), ranked AS (
    SELECT msg.id, msg.conversation_id, msg.seq, msg.sender_id,
           (msg.conversation_id % 8)::smallint AS writer,
           row_number() OVER (PARTITION BY msg.conversation_id % 8
                              ORDER BY msg.conversation_id, msg.seq) AS r,
           count(*) OVER (PARTITION BY msg.conversation_id % 8) AS n
      FROM msg
), bumped AS (
    UPDATE stream_writers s SET position = s.position + x.n
      FROM (SELECT writer, max(n) AS n FROM ranked GROUP BY writer) x,
           (SELECT count(*) FROM watermark) settled
     WHERE s.writer = x.writer
 RETURNING s.writer, s.position
), ev AS (
    INSERT INTO stream_events (writer, position, conversation_id, kind, message_id, user_id, seq)
    SELECT ranked.writer, bumped.position - ranked.n + ranked.r, ranked.conversation_id,
           'message', ranked.id, ranked.sender_id, ranked.seq
      FROM ranked JOIN bumped ON bumped.writer = ranked.writer
    RETURNING writer, position, message_id
)
SELECT planned.ord, msg.*, ev.writer, ev.position
  FROM msg JOIN planned ON planned.conversation_id = msg.conversation_id AND planned.seq = msg.seq
  JOIN ev ON ev.message_id = msg.id";

/// The batch's mentions as two parallel arrays and its messages as nine, one bind each, so
/// that the statement text never changes and every connection keeps it prepared.
pub(crate) struct AppendBatch<'a> {
    conversations: Vec<i64>,
    senders: Vec<i64>,
    contents: Vec<&'a str>,
    attachment_urls: Vec<Option<&'a str>>,
    client_message_ids: Vec<Option<&'a str>>,
    reply_to_ids: Vec<Option<i64>>,
    forwarded_messages: Vec<Option<i64>>,
    forwarded_conversations: Vec<Option<i64>>,
    forwarded_senders: Vec<Option<i64>>,
    /// Per mention: the 1-based position of its message in the batch, and the user.
    mention_ords: Vec<i64>,
    mention_users: Vec<i64>,
    /// Whether each message gets its row in the webhook outbox.
    outbox: bool,
}

impl<'a> AppendBatch<'a> {
    pub(crate) fn new<'m>(
        messages: impl ExactSizeIterator<Item = &'m NewMessage>,
        outbox: bool,
    ) -> Self
    where
        'm: 'a,
    {
        let n = messages.len();
        let mut batch = AppendBatch {
            conversations: Vec::with_capacity(n),
            senders: Vec::with_capacity(n),
            contents: Vec::with_capacity(n),
            attachment_urls: Vec::with_capacity(n),
            client_message_ids: Vec::with_capacity(n),
            reply_to_ids: Vec::with_capacity(n),
            forwarded_messages: Vec::with_capacity(n),
            forwarded_conversations: Vec::with_capacity(n),
            forwarded_senders: Vec::with_capacity(n),
            mention_ords: Vec::new(),
            mention_users: Vec::new(),
            outbox,
        };
        for (ord, message) in (1..).zip(messages) {
            for user in &message.mentions {
                batch.mention_ords.push(ord);
                batch.mention_users.push(user.get());
            }
            batch.conversations.push(message.conversation_id.get());
            batch.senders.push(message.sender_id.get());
            batch.contents.push(message.content.as_str());
            batch
                .attachment_urls
                .push(message.attachment_url.as_ref().map(|u| u.as_str()));
            batch
                .client_message_ids
                .push(message.client_message_id.as_ref().map(|c| c.as_str()));
            batch.reply_to_ids.push(message.reply_to.map(|id| id.get()));
            let from = message.forwarded_from;
            batch
                .forwarded_messages
                .push(from.map(|f| f.message_id.get()));
            batch
                .forwarded_conversations
                .push(from.map(|f| f.conversation_id.get()));
            batch
                .forwarded_senders
                .push(from.map(|f| f.sender_id.get()));
        }
        batch
    }
}

/// A stored message, the position in the batch of the request that sent it and its place in
/// the stream.
#[derive(Debug, QueryableByName)]
pub(crate) struct BatchRow {
    /// 1-based position in the batch.
    #[diesel(sql_type = BigInt)]
    pub(crate) ord: i64,
    #[diesel(embed)]
    pub(crate) message: MessageRow,
    #[diesel(sql_type = SmallInt)]
    pub(crate) writer: i16,
    #[diesel(sql_type = BigInt)]
    pub(crate) position: i64,
}

impl BatchRow {
    /// The stored message and where it sits in the stream.
    pub(crate) fn appended(self) -> Appended {
        let position = StreamPosition {
            writer: usize::try_from(self.writer).unwrap_or(0),
            position: self.position,
        };
        Appended::New(Message::from(self.message), position)
    }
}

impl QueryFragment<Pg> for AppendBatch<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH flags AS (SELECT ");
        out.push_bind_param::<Bool, _>(&self.outbox)?;
        out.push_sql("::boolean AS outbox), mp AS (SELECT * FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.mention_ords)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.mention_users)?;
        out.push_sql(
            "::bigint[]) WITH ORDINALITY AS mp(ord, user_id, i)), p AS (SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.conversations)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.senders)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<Text>, _>(&self.contents)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.attachment_urls)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.client_message_ids)?;
        out.push_sql("::text[]");
        for ids in [
            &self.reply_to_ids,
            &self.forwarded_messages,
            &self.forwarded_conversations,
            &self.forwarded_senders,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<BigInt>>, _>(ids)?;
            out.push_sql("::bigint[]");
        }
        out.push_sql(BODY);
        Ok(())
    }
}

prepared_statement!(AppendBatch);

#[cfg(test)]
mod tests {
    #[test]
    fn the_watermark_skips_the_scheduled_prefix() {
        let pattern = format!("NOT LIKE '{}%'", chat_domain::SCHEDULED_CLIENT_ID_PREFIX);
        assert!(super::BODY.contains(&pattern));
    }
}
