//! Membership changes of a group: adding members, removing one (with the ownership hand-over)
//! and changing a role, each inside the transaction [`crate::groups`] opened after locking the
//! conversation's row and checking the actor's role, each recorded as a stream event.

use chat_domain::{
    ChatEvent, ConversationId, MemberChanged, Role, Seniority, StreamEvent, UserId, UserRef,
    keeps_an_owner, successor,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::groups::{Failed, IdRow, check_users};
use crate::schema::conversation_members;
use crate::stream::{MemberRecord, record_member};

/// The members of a conversation with what the ownership hand-over weighs.
const SENIORITY: &str = "
SELECT user_id AS id, role, joined_at FROM conversation_members WHERE conversation_id = $1";

#[derive(QueryableByName)]
struct SeniorityRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Timestamptz)]
    joined_at: DateTime<Utc>,
}

/// Records a membership event and returns it as published.
async fn member_event(
    conn: &mut AsyncPgConnection,
    kind: &'static str,
    changed: MemberChanged,
) -> Result<StreamEvent, Failed> {
    let position = record_member(
        conn,
        MemberRecord {
            conversation: changed.conversation_id,
            kind,
            member: changed.member.id,
            actor: changed.by,
            role: changed.role,
        },
    )
    .await?;
    let event = match kind {
        "member_added" => ChatEvent::MemberAdded(changed),
        "member_removed" => ChatEvent::MemberRemoved(changed),
        _ => ChatEvent::MemberRoleChanged(changed),
    };
    Ok(StreamEvent { position, event })
}

async fn username(conn: &mut AsyncPgConnection, id: UserId) -> Result<UserRef, Failed> {
    use crate::schema::users;
    let name: String = users::table
        .find(id.get())
        .select(users::username)
        .get_result(conn)
        .await?;
    Ok(UserRef { id, username: name })
}

pub(crate) async fn add(
    conn: &mut AsyncPgConnection,
    id: ConversationId,
    actor: UserId,
    users: &[UserId],
) -> Result<Vec<StreamEvent>, Failed> {
    let ids: Vec<i64> = users.iter().map(|u| u.get()).collect();
    check_users(conn, "userIds", &ids).await?;
    let mut added: Vec<IdRow> = diesel::sql_query(
        "INSERT INTO conversation_members (conversation_id, user_id, role, last_read_seq)
         SELECT $1, u, 'member', (SELECT last_seq FROM conversations WHERE id = $1)
           FROM unnest($2::bigint[]) AS u
         ON CONFLICT DO NOTHING RETURNING user_id AS id",
    )
    .bind::<BigInt, _>(id.get())
    .bind::<Array<BigInt>, _>(&ids)
    .load(conn)
    .await?;
    added.sort_unstable_by_key(|r| r.id);
    let mut events = Vec::with_capacity(added.len());
    for IdRow { id: user } in added {
        let member = username(conn, UserId(user)).await?;
        let changed = MemberChanged {
            conversation_id: id,
            member,
            role: Role::Member,
            by: actor,
        };
        events.push(member_event(conn, "member_added", changed).await?);
    }
    Ok(events)
}

async fn seniority(conn: &mut AsyncPgConnection, id: i64) -> Result<Vec<Seniority>, Failed> {
    let rows: Vec<SeniorityRow> = diesel::sql_query(SENIORITY)
        .bind::<BigInt, _>(id)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Seniority {
                user: UserId(r.id),
                role: crate::rows::role_of(&r.role)?,
                joined_at: r.joined_at,
            })
        })
        .collect()
}

async fn set_role(
    conn: &mut AsyncPgConnection,
    id: i64,
    user: UserId,
    role: Role,
) -> Result<(), Failed> {
    diesel::sql_query(
        "UPDATE conversation_members SET role = $3 WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(user.get())
    .bind::<Text, _>(role.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The role of `user` in the conversation, if they are a member.
pub(crate) async fn role_in(
    conn: &mut AsyncPgConnection,
    id: ConversationId,
    user: UserId,
) -> Result<Option<Role>, Failed> {
    let role: Option<String> = conversation_members::table
        .find((id.get(), user.get()))
        .select(conversation_members::role)
        .get_result(conn)
        .await
        .optional()?;
    Ok(role.map(|r| crate::rows::role_of(&r)).transpose()?)
}

pub(crate) async fn remove(
    conn: &mut AsyncPgConnection,
    id: ConversationId,
    actor: UserId,
    user: UserId,
    role: Role,
) -> Result<Vec<StreamEvent>, Failed> {
    let member = username(conn, user).await?;
    diesel::sql_query(
        "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind::<BigInt, _>(id.get())
    .bind::<BigInt, _>(user.get())
    .execute(conn)
    .await?;
    let heir = if role == Role::Owner {
        successor(&seniority(conn, id.get()).await?)
    } else {
        None
    };
    let mut events = Vec::new();
    if let Some(heir) = heir {
        set_role(conn, id.get(), heir, Role::Owner).await?;
    }
    let removed = MemberChanged {
        conversation_id: id,
        member,
        role,
        by: actor,
    };
    events.push(member_event(conn, "member_removed", removed).await?);
    if let Some(heir) = heir {
        let promoted = MemberChanged {
            conversation_id: id,
            member: username(conn, heir).await?,
            role: Role::Owner,
            by: actor,
        };
        events.push(member_event(conn, "member_role", promoted).await?);
    }
    Ok(events)
}

pub(crate) async fn change_role(
    conn: &mut AsyncPgConnection,
    id: ConversationId,
    actor: UserId,
    (user, old, role): (UserId, Role, Role),
) -> Result<Vec<StreamEvent>, Failed> {
    if old == role {
        return Ok(Vec::new());
    }
    if old == Role::Owner {
        let owners = seniority(conn, id.get())
            .await?
            .iter()
            .filter(|m| m.role == Role::Owner)
            .count();
        keeps_an_owner(owners.saturating_sub(1))?;
    }
    set_role(conn, id.get(), user, role).await?;
    let changed = MemberChanged {
        conversation_id: id,
        member: username(conn, user).await?,
        role,
        by: actor,
    };
    Ok(vec![member_event(conn, "member_role", changed).await?])
}
