//! Reading stream events back: the columns of an event row, and turning rows into the
//! domain's events with the members, names and conversations they carry.

use std::collections::{HashMap, HashSet};

use chat_domain::{
    ChatError, ChatEvent, ConversationChanged, ConversationDetail, ConversationId,
    ConversationKind, MemberChanged, Message, MessageDeleted, MessageEdited, MessageId,
    MessageSent, MessagesRead, PinChanged, ReactionChanged, ReactionKey, Seq, StreamEvent, UserId,
    UserRef,
};
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::conversations::detail_by_id;
use crate::query_error;
use crate::rows::{ConversationMemberRow, assemble, role_of};
use crate::stream::PositionRow;

/// The columns of an event row with its message, if any, and the name of its user when that
/// is a message's sender or the member a membership event is about.
pub(crate) const EVENT_COLUMNS: &str = "
SELECT e.writer, e.position, e.kind, e.conversation_id, e.message_id, e.user_id, e.seq,
       e.created_at, e.actor_id, e.role, x.content, x.attachment_url, x.client_message_id,
       x.created_at AS message_created_at, x.updated_at AS message_updated_at,
       x.edited_at AS message_edited_at, x.reply_to_id, x.forwarded_message_id,
       x.forwarded_conversation_id, x.forwarded_sender_id, x.mentions, e.content AS edit_content,
       e.amount,
       (SELECT v.content FROM message_versions v
         WHERE e.kind = 'message' AND v.message_id = e.message_id AND v.version = 1)
         AS sent_content,
       (SELECT u.username FROM users u
         WHERE u.id = e.user_id AND e.kind IN ('message', 'edited', 'member_added',
                                               'member_removed', 'member_role')) AS user_name";

/// The members of some conversations, for the events of messages sent there.
const MEMBERS: &str = "
SELECT m.conversation_id, m.user_id, u.username, c.kind
  FROM conversation_members m JOIN users u ON u.id = m.user_id
  JOIN conversations c ON c.id = m.conversation_id
 WHERE m.conversation_id = ANY($1)
 ORDER BY m.conversation_id, m.user_id";

#[derive(QueryableByName)]
pub(crate) struct EventRow {
    #[diesel(embed)]
    at: PositionRow,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    message_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<BigInt>)]
    actor_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    attachment_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    client_message_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_updated_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    message_edited_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    reply_to_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    forwarded_message_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    forwarded_conversation_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    forwarded_sender_id: Option<i64>,
    #[diesel(sql_type = Nullable<Array<BigInt>>)]
    mentions: Option<Vec<i64>>,
    /// The text an `edited` event wrote (cleared when its message is deleted), or a
    /// reaction's key.
    #[diesel(sql_type = Nullable<Text>)]
    edit_content: Option<String>,
    /// A reaction's count after it.
    #[diesel(sql_type = Nullable<BigInt>)]
    amount: Option<i64>,
    /// The text a `message` event's message was sent with, when it was edited since.
    #[diesel(sql_type = Nullable<Text>)]
    sent_content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_name: Option<String>,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// What rows of some kinds need besides themselves: the members of conversations that
/// messages went to, and the conversations that were created or changed.
#[derive(Default)]
struct Context {
    members: HashMap<i64, Vec<UserRef>>,
    /// The conversations of `members` that are direct.
    direct: HashSet<i64>,
    details: HashMap<i64, ConversationDetail>,
}

impl EventRow {
    /// The conversation's members now, and the sender of a message among them even when they
    /// have left since (so that the message still names them; a sender is never notified of
    /// their own message).
    fn members_with_sender(&self, context: &Context) -> Vec<UserRef> {
        let mut members = context
            .members
            .get(&self.conversation_id)
            .cloned()
            .unwrap_or_default();
        if let Some(username) = &self.user_name
            && !members.iter().any(|m| m.id.get() == self.user_id)
        {
            members.push(UserRef {
                id: UserId(self.user_id),
                username: username.clone(),
            });
        }
        members
    }

    /// The message of a `message` or `edited` row: as it is now, or as the edit left it.
    fn message(&self, corrupt: impl Fn() -> ChatError) -> Result<Message, ChatError> {
        let (Some(id), Some(content), Some(created_at), Some(updated_at)) = (
            self.message_id,
            self.content.clone(),
            self.message_created_at,
            self.message_updated_at,
        ) else {
            return Err(corrupt());
        };
        let mut message = Message {
            id: MessageId(id),
            conversation_id: ConversationId(self.conversation_id),
            seq: Seq(self.seq),
            sender_id: UserId(self.user_id),
            content,
            attachment_url: self.attachment_url.clone(),
            client_message_id: self.client_message_id.clone(),
            created_at,
            updated_at,
            edited_at: self.message_edited_at,
            reactions: Vec::new(),
            reply_to_id: self.reply_to_id.map(MessageId),
            reply_to: None,
            reply_count: 0,
            forwarded_from: crate::rows::forwarded_from(
                self.forwarded_message_id,
                self.forwarded_conversation_id,
                self.forwarded_sender_id,
            ),
            mentions: crate::rows::mentions(self.mentions.clone()),
        };
        if let Some(sent) = &self.sent_content {
            // The message as it was sent: its edits follow as events of their own.
            message.content.clone_from(sent);
            message.edited_at = None;
            message.updated_at = message.created_at;
        }
        if self.kind == "edited" {
            // Each edit as it was, not as the message is now.
            if let Some(text) = &self.edit_content {
                message.content.clone_from(text);
            }
            message.edited_at = Some(self.created_at);
            message.updated_at = self.created_at;
        }
        Ok(message)
    }

    fn kind_of(&self, context: &Context) -> ConversationKind {
        if context.direct.contains(&self.conversation_id) {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        }
    }

    fn into_event(self, context: &Context) -> Result<StreamEvent, ChatError> {
        let corrupt =
            || ChatError::Internal(format!("stream event {:?} is malformed", self.kind).into());
        let conversation_id = ConversationId(self.conversation_id);
        let event = match self.kind.as_str() {
            "message" => ChatEvent::MessageSent(MessageSent {
                message: self.message(corrupt)?,
                members: self.members_with_sender(context),
                kind: self.kind_of(context),
            }),
            "edited" => ChatEvent::MessageEdited(MessageEdited {
                message: self.message(corrupt)?,
                members: self.members_with_sender(context),
                kind: self.kind_of(context),
            }),
            "reaction_added" | "reaction_removed" => {
                let reaction = ReactionChanged {
                    conversation_id,
                    message_id: MessageId(self.message_id.ok_or_else(corrupt)?),
                    seq: Seq(self.seq),
                    key: ReactionKey::stored(self.edit_content.clone().ok_or_else(corrupt)?),
                    user_id: UserId(self.user_id),
                    count: self.amount.unwrap_or(0),
                };
                if self.kind == "reaction_added" {
                    ChatEvent::ReactionAdded(reaction)
                } else {
                    ChatEvent::ReactionRemoved(reaction)
                }
            }
            "pinned" | "unpinned" => {
                let pin = PinChanged {
                    conversation_id,
                    message_id: MessageId(self.message_id.ok_or_else(corrupt)?),
                    seq: Seq(self.seq),
                    by: UserId(self.user_id),
                };
                if self.kind == "pinned" {
                    ChatEvent::MessagePinned(pin)
                } else {
                    ChatEvent::MessageUnpinned(pin)
                }
            }
            "deleted" => ChatEvent::MessageDeleted(MessageDeleted {
                conversation_id,
                message_id: MessageId(self.message_id.ok_or_else(corrupt)?),
                seq: Seq(self.seq),
                deleted_by: UserId(self.user_id),
            }),
            "read" => ChatEvent::MessagesRead(MessagesRead {
                conversation_id,
                user_id: UserId(self.user_id),
                last_read_seq: Seq(self.seq),
                read_at: self.created_at,
            }),
            "created" | "updated" => {
                let changed = ConversationChanged {
                    conversation: context
                        .details
                        .get(&self.conversation_id)
                        .cloned()
                        .ok_or_else(corrupt)?,
                    by: UserId(self.user_id),
                };
                if self.kind == "created" {
                    ChatEvent::ConversationCreated(changed)
                } else {
                    ChatEvent::ConversationUpdated(changed)
                }
            }
            "member_added" | "member_removed" | "member_role" => {
                let changed = MemberChanged {
                    conversation_id,
                    member: UserRef {
                        id: UserId(self.user_id),
                        username: self.user_name.clone().unwrap_or_default(),
                    },
                    role: role_of(self.role.as_deref().ok_or_else(corrupt)?)?,
                    by: UserId(self.actor_id.ok_or_else(corrupt)?),
                };
                match self.kind.as_str() {
                    "member_added" => ChatEvent::MemberAdded(changed),
                    "member_removed" => ChatEvent::MemberRemoved(changed),
                    _ => ChatEvent::MemberRoleChanged(changed),
                }
            }
            _ => return Err(corrupt()),
        };
        Ok(StreamEvent {
            position: self.at.position(),
            event,
        })
    }
}

/// The conversations of some rows of `kinds`, distinct.
fn conversations_of(rows: &[EventRow], kinds: &[&str]) -> Vec<i64> {
    let mut conversations: Vec<i64> = rows
        .iter()
        .filter(|r| kinds.contains(&r.kind.as_str()))
        .map(|r| r.conversation_id)
        .collect();
    conversations.sort_unstable();
    conversations.dedup();
    conversations
}

/// The members of one conversation and its kind, for an event about one of its messages.
pub(crate) async fn members_of(
    conn: &mut AsyncPgConnection,
    conversation: ConversationId,
) -> Result<(Vec<UserRef>, ConversationKind), DieselError> {
    let found: Vec<MemberRow> = diesel::sql_query(MEMBERS)
        .bind::<Array<BigInt>, _>(vec![conversation.get()])
        .load(conn)
        .await?;
    let direct = <[MemberRow]>::first(&found).is_some_and(|row| row.kind == "direct");
    let members = found
        .into_iter()
        .map(|row| UserRef {
            id: UserId(row.user_id),
            username: row.username,
        })
        .collect();
    let kind = if direct {
        ConversationKind::Direct
    } else {
        ConversationKind::Group
    };
    Ok((members, kind))
}

/// Turns rows into events, reading what their kinds need besides the row.
pub(crate) async fn events(
    conn: &mut AsyncPgConnection,
    rows: Vec<EventRow>,
) -> Result<Vec<StreamEvent>, ChatError> {
    let mut context = Context::default();
    let sent_to = conversations_of(&rows, &["message", "edited"]);
    if !sent_to.is_empty() {
        let found: Vec<MemberRow> = diesel::sql_query(MEMBERS)
            .bind::<Array<BigInt>, _>(&sent_to)
            .load(conn)
            .await
            .map_err(query_error)?;
        for row in found {
            if row.kind == "direct" {
                context.direct.insert(row.conversation_id);
            }
            context
                .members
                .entry(row.conversation_id)
                .or_default()
                .push(UserRef {
                    id: UserId(row.user_id),
                    username: row.username,
                });
        }
    }
    for id in conversations_of(&rows, &["created", "updated"]) {
        let found: Vec<ConversationMemberRow> =
            detail_by_id(id).load(conn).await.map_err(query_error)?;
        if let Some(detail) = assemble(found)?.into_iter().next() {
            context.details.insert(id, detail);
        } else {
            context
                .details
                .insert(id, crate::groups::memberless(conn, id).await?);
        }
    }
    let mut events = rows
        .into_iter()
        .map(|row| row.into_event(&context))
        .collect::<Result<Vec<_>, _>>()?;
    crate::threads::with_parents_now(conn, &mut events)
        .await
        .map_err(query_error)?;
    Ok(events)
}
