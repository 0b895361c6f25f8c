//! A page of a user's conversation list with every member of each conversation, read in two
//! statements: the page's conversations, then their members. One statement joining each
//! conversation to each of its members repeats the conversation's columns on every member's
//! row: for a page of groups of 50 that is 1,000 wide rows, about twice the time of the two
//! narrow statements.

use std::collections::HashMap;

use chat_domain::{ChatError, ConversationDetail, PageRequest, UserId};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::query_error;
use crate::rows::{ConversationRow, MemberRow};

/// The user's conversations on the page, newest activity first.
pub(crate) const PAGE_CONVERSATIONS: &str = "
SELECT c.id, c.kind, c.title, c.avatar_url, c.last_seq, c.message_count, c.last_message,
       c.last_message_at, c.created_at, c.updated_at
  FROM (SELECT c.id, COALESCE(c.last_message_at, c.created_at) AS activity
          FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id
         WHERE me.user_id = $1
         ORDER BY activity DESC, c.id DESC
         LIMIT $2 OFFSET $3) page
  JOIN conversations c ON c.id = page.id
 ORDER BY page.activity DESC, c.id DESC";

/// Every member of the given conversations, with their usernames, by conversation and user id.
pub(crate) const PAGE_MEMBERS: &str = "
SELECT m.conversation_id, m.user_id, m.role, m.last_read_seq, m.last_read_at, m.joined_at,
       u.username
  FROM conversation_members m JOIN users u ON u.id = m.user_id
 WHERE m.conversation_id = ANY($1)
 ORDER BY m.conversation_id, m.user_id";

/// One member of a conversation on the page.
#[derive(QueryableByName)]
struct PageMemberRow {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(embed)]
    member: MemberRow,
    #[diesel(sql_type = Text)]
    username: String,
}

/// The page of `user`'s conversations, each with all of its members. A conversation that lost
/// every member between the two statements (deleted meanwhile) is left out.
pub(crate) async fn conversation_page(
    conn: &mut AsyncPgConnection,
    user: UserId,
    page: PageRequest,
) -> Result<Vec<ConversationDetail>, ChatError> {
    let rows: Vec<ConversationRow> = diesel::sql_query(PAGE_CONVERSATIONS)
        .bind::<BigInt, _>(user.get())
        .bind::<BigInt, _>(i64::from(page.limit))
        .bind::<BigInt, _>(page.offset())
        .load(conn)
        .await
        .map_err(query_error)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let members: Vec<PageMemberRow> = diesel::sql_query(PAGE_MEMBERS)
        .bind::<Array<BigInt>, _>(&ids)
        .load(conn)
        .await
        .map_err(query_error)?;
    let at: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut details = rows
        .into_iter()
        .map(|row| {
            Ok(ConversationDetail {
                conversation: row.try_into()?,
                members: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, ChatError>>()?;
    for row in members {
        if let Some(detail) = at
            .get(&row.conversation_id)
            .and_then(|&i| details.get_mut(i))
        {
            detail.members.push(row.member.into_member(row.username)?);
        }
    }
    details.retain(|d| !d.members.is_empty());
    Ok(details)
}
