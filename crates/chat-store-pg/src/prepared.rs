//! The hot statements that diesel's query builder cannot express, written so that each
//! connection keeps them prepared. `diesel::sql_query` is never cached (raw SQL counts as unsafe
//! to cache), so it is parsed and planned on every call; a query fragment whose binds come
//! once each, in order, is cached like any built query.

use chat_domain::NewMessage;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// Appends a message in one statement: bump the conversation's `last_seq` (its row lock
/// orders concurrent senders; the membership check rides along), insert the message with that
/// seq, and move the sender's watermark. A failure anywhere (a reused client message id, say)
/// rolls all of it back and consumes no seq.
pub(crate) struct Append<'a> {
    conversation: i64,
    sender: i64,
    content: &'a str,
    attachment_url: Option<&'a str>,
    client_message_id: Option<&'a str>,
}

impl<'a> Append<'a> {
    pub(crate) fn new(message: &'a NewMessage) -> Self {
        Append {
            conversation: message.conversation_id.get(),
            sender: message.sender_id.get(),
            content: message.content.as_str(),
            attachment_url: message.attachment_url.as_ref().map(|u| u.as_str()),
            client_message_id: message.client_message_id.as_ref().map(|c| c.as_str()),
        }
    }
}

/// Everything after the parameters, which the statement reads from `p`.
const APPEND_BODY: &str = "
), conv AS (
    UPDATE conversations c
       SET last_seq = c.last_seq + 1, message_count = c.message_count + 1,
           last_message_seq = c.last_seq + 1, last_message = p.content,
           last_message_at = now(), updated_at = now()
      FROM p
     WHERE c.id = p.conversation_id
       AND EXISTS (SELECT 1 FROM conversation_members m
                    WHERE m.conversation_id = p.conversation_id AND m.user_id = p.sender_id)
 RETURNING c.id, c.last_seq
), msg AS (
    INSERT INTO messages (conversation_id, seq, sender_id, content, attachment_url, client_message_id)
    SELECT conv.id, conv.last_seq, p.sender_id, p.content, p.attachment_url, p.client_message_id
      FROM conv, p
    RETURNING id, conversation_id, seq, sender_id, content, attachment_url, client_message_id,
              created_at, updated_at
), watermark AS (
    UPDATE conversation_members m SET last_read_seq = msg.seq, last_read_at = now()
      FROM msg
     WHERE m.conversation_id = msg.conversation_id AND m.user_id = msg.sender_id
)
SELECT * FROM msg";

impl QueryFragment<Pg> for Append<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<BigInt, _>(&self.conversation)?;
        out.push_sql("::bigint AS conversation_id, ");
        out.push_bind_param::<BigInt, _>(&self.sender)?;
        out.push_sql("::bigint AS sender_id, ");
        out.push_bind_param::<Text, _>(&self.content)?;
        out.push_sql("::text AS content, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.attachment_url)?;
        out.push_sql("::text AS attachment_url, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.client_message_id)?;
        out.push_sql("::text AS client_message_id");
        out.push_sql(APPEND_BODY);
        Ok(())
    }
}

/// Makes a statement fragment with one lifetime (`Name<'_>`) a query whose rows are read by
/// column name and which each connection keeps prepared.
macro_rules! prepared_statement {
    ($name:ident) => {
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = ();
            // Not static: the statement cache keys it by its SQL text, which never changes.
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name<'_> {}
    };
}
pub(crate) use prepared_statement;

prepared_statement!(Append);

/// A statement whose only parameters are ids, in order: `parts` are the SQL around them.
pub(crate) struct ByIds<const N: usize> {
    parts: [&'static str; N],
    tail: &'static str,
    ids: [i64; N],
}

impl<const N: usize> ByIds<N> {
    /// `parts[i]` comes before `ids[i]`; `tail` after the last one.
    pub(crate) const fn new(parts: [&'static str; N], tail: &'static str, ids: [i64; N]) -> Self {
        ByIds { parts, tail, ids }
    }
}

impl<const N: usize> QueryFragment<Pg> for ByIds<N> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (part, id) in self.parts.iter().zip(&self.ids) {
            out.push_sql(part);
            out.push_bind_param::<BigInt, _>(id)?;
        }
        out.push_sql(self.tail);
        Ok(())
    }
}

impl<const N: usize> QueryId for ByIds<N> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<const N: usize> Query for ByIds<N> {
    type SqlType = Untyped;
}

impl<Conn, const N: usize> RunQueryDsl<Conn> for ByIds<N> {}
