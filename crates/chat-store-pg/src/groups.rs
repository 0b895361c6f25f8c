//! The group port: creating groups and changing their members and settings. Each change
//! locks the conversation's row first (so that changes to one group are serialized), checks
//! the actor's role with the domain's policy inside the same transaction, and records its
//! events last, like every other write to the stream.

use chat_domain::{
    ChatError, ChatEvent, ConversationChanged, ConversationDetail, ConversationId,
    ConversationKind, Entity, GroupChange, GroupPatch, GroupRepo, GroupWrite, NewGroup,
    StreamEvent, UserId, authorize,
};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::conversations::detail_by_id;
use crate::group_members::{add, change_role, remove, role_in};
use crate::rows::{ConversationMemberRow, ConversationRow, assemble};
use crate::schema::conversations;
use crate::stream::{Record, record};
use crate::{PgStore, query_error};

/// A transaction's failure: the database's, or a rule of the domain (nothing is written).
pub(crate) enum Failed {
    Database(DieselError),
    Refused(ChatError),
}

impl From<DieselError> for Failed {
    fn from(error: DieselError) -> Self {
        Failed::Database(error)
    }
}

impl From<ChatError> for Failed {
    fn from(error: ChatError) -> Self {
        Failed::Refused(error)
    }
}

impl From<Failed> for ChatError {
    fn from(failed: Failed) -> Self {
        match failed {
            Failed::Database(error) => query_error(error),
            Failed::Refused(error) => error,
        }
    }
}

/// The ids among `$1` that name no user, ascending.
const UNKNOWN_USERS: &str = "
SELECT t.id FROM unnest($1::bigint[]) AS t(id)
 WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.id) ORDER BY t.id";

/// Creates the group row, unless the creator's request id names one already.
const CREATE: &str = "
INSERT INTO conversations (kind, title, created_by, client_request_id)
VALUES ('group', $1, $2, $3)
ON CONFLICT (created_by, client_request_id) DO NOTHING
RETURNING id";

/// The actor's role in a conversation and its kind, locking the conversation's row.
const ACTOR: &str = "
SELECT c.kind, m.role
  FROM conversations c JOIN conversation_members m ON m.conversation_id = c.id
 WHERE c.id = $1 AND m.user_id = $2
   FOR UPDATE OF c";

#[derive(QueryableByName)]
pub(crate) struct IdRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) id: i64,
}

#[derive(QueryableByName)]
struct ActorRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    role: String,
}

/// Refuses ids that name no user, naming them as `field`.
pub(crate) async fn check_users(
    conn: &mut AsyncPgConnection,
    field: &'static str,
    ids: &[i64],
) -> Result<(), Failed> {
    let unknown: Vec<IdRow> = diesel::sql_query(UNKNOWN_USERS)
        .bind::<Array<BigInt>, _>(ids)
        .load(conn)
        .await?;
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Failed::Refused(ChatError::UnknownUsers {
        field,
        ids: unknown.into_iter().map(|r| UserId(r.id)).collect(),
    }))
}

/// A conversation with its members as they are now (possibly none: everyone left).
pub(crate) async fn current(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<ConversationDetail, ChatError> {
    let rows: Vec<ConversationMemberRow> =
        detail_by_id(id).load(conn).await.map_err(query_error)?;
    match assemble(rows)?.into_iter().next() {
        Some(detail) => Ok(detail),
        None => memberless(conn, id).await,
    }
}

/// A conversation that nobody belongs to any more.
pub(crate) async fn memberless(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<ConversationDetail, ChatError> {
    let row: ConversationRow = conversations::table
        .find(id)
        .select(ConversationRow::as_select())
        .get_result(conn)
        .await
        .map_err(query_error)?;
    Ok(ConversationDetail {
        conversation: row.try_into()?,
        members: Vec::new(),
    })
}

/// Records a creation or an update of settings and returns it as published.
async fn conversation_event(
    conn: &mut AsyncPgConnection,
    id: i64,
    by: UserId,
    created: bool,
) -> Result<StreamEvent, Failed> {
    let conversation = current(conn, id).await?;
    let kind = if created { "created" } else { "updated" };
    let position = record(
        conn,
        Record {
            conversation: ConversationId(id),
            kind,
            message: None,
            user: by,
            seq: chat_domain::Seq::ZERO,
            content: None,
            amount: None,
        },
    )
    .await?;
    let changed = ConversationChanged { conversation, by };
    let event = if created {
        ChatEvent::ConversationCreated(changed)
    } else {
        ChatEvent::ConversationUpdated(changed)
    };
    Ok(StreamEvent { position, event })
}

async fn create(conn: &mut AsyncPgConnection, group: &NewGroup) -> Result<GroupWrite, Failed> {
    let request = group.client_request_id.as_ref().map(|id| id.as_str());
    let created: Option<IdRow> = diesel::sql_query(CREATE)
        .bind::<Text, _>(group.title.as_str())
        .bind::<BigInt, _>(group.creator.get())
        .bind::<Nullable<Text>, _>(request)
        .get_result(conn)
        .await
        .optional()?;
    let Some(IdRow { id }) = created else {
        let earlier: i64 = conversations::table
            .filter(conversations::created_by.eq(group.creator.get()))
            .filter(conversations::client_request_id.eq(request))
            .select(conversations::id)
            .get_result(conn)
            .await?;
        return Ok(GroupWrite {
            conversation: current(conn, earlier).await?,
            events: Vec::new(),
        });
    };
    let everyone: Vec<i64> = std::iter::once(group.creator)
        .chain(group.members.iter().copied())
        .map(UserId::get)
        .collect();
    check_users(conn, "memberIds", &everyone).await?;
    diesel::sql_query(
        "INSERT INTO conversation_members (conversation_id, user_id, role)
         SELECT $1, u, CASE WHEN u = $2 THEN 'owner' ELSE 'member' END
           FROM unnest($3::bigint[]) AS u",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(group.creator.get())
    .bind::<Array<BigInt>, _>(&everyone)
    .execute(conn)
    .await?;
    let event = conversation_event(conn, id, group.creator, true).await?;
    let ChatEvent::ConversationCreated(changed) = &event.event else {
        return Err(Failed::Refused(ChatError::Internal(
            "a creation recorded another event".into(),
        )));
    };
    Ok(GroupWrite {
        conversation: changed.conversation.clone(),
        events: vec![event],
    })
}

async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    actor: UserId,
    patch: GroupPatch,
) -> Result<Vec<StreamEvent>, Failed> {
    let avatar = patch
        .avatar_url
        .clone()
        .map(|a| a.map(|u| u.as_str().to_owned()));
    let changed: Option<IdRow> = diesel::sql_query(
        "UPDATE conversations
            SET title = COALESCE($2, title),
                avatar_url = CASE WHEN $3 THEN $4 ELSE avatar_url END,
                updated_at = now()
          WHERE id = $1
            AND (title, avatar_url) IS DISTINCT FROM
                (COALESCE($2, title), CASE WHEN $3 THEN $4 ELSE avatar_url END)
      RETURNING id",
    )
    .bind::<BigInt, _>(id)
    .bind::<Nullable<Text>, _>(patch.title.as_ref().map(|t| t.as_str()))
    .bind::<Bool, _>(avatar.is_some())
    .bind::<Nullable<Text>, _>(avatar.flatten())
    .get_result(conn)
    .await
    .optional()?;
    if changed.is_none() {
        return Ok(Vec::new());
    }
    Ok(vec![conversation_event(conn, id, actor, false).await?])
}

async fn change(
    conn: &mut AsyncPgConnection,
    actor: UserId,
    id: ConversationId,
    change: GroupChange,
) -> Result<Option<GroupWrite>, Failed> {
    let me: Option<ActorRow> = diesel::sql_query(ACTOR)
        .bind::<BigInt, _>(id.get())
        .bind::<BigInt, _>(actor.get())
        .get_result(conn)
        .await
        .optional()?;
    let Some(me) = me else {
        return Ok(None);
    };
    let kind = ConversationKind::parse(&me.kind)
        .ok_or_else(|| ChatError::Internal(format!("conversation kind {:?}", me.kind).into()))?;
    let target = match &change {
        GroupChange::RemoveMember(user) | GroupChange::SetRole(user, _) => Some(*user),
        GroupChange::Update(_) | GroupChange::AddMembers(_) => None,
    };
    let target_role = match target {
        Some(user) => role_in(conn, id, user).await?,
        None => None,
    };
    let actor_role = crate::rows::role_of(&me.role)?;
    authorize(kind, actor, actor_role, &change, target_role)?;
    let missing = || Failed::Refused(ChatError::not_found(Entity::User));
    let events = match change {
        GroupChange::Update(patch) => update(conn, id.get(), actor, patch).await?,
        GroupChange::AddMembers(users) => add(conn, id, actor, &users).await?,
        GroupChange::RemoveMember(user) => {
            remove(conn, id, actor, user, target_role.ok_or_else(missing)?).await?
        }
        GroupChange::SetRole(user, role) => {
            let old = target_role.ok_or_else(missing)?;
            change_role(conn, id, actor, (user, old, role)).await?
        }
    };
    Ok(Some(GroupWrite {
        conversation: current(conn, id.get()).await?,
        events,
    }))
}

impl GroupRepo for PgStore {
    async fn create_group(&self, group: NewGroup) -> Result<GroupWrite, ChatError> {
        let mut conn = self.conn().await?;
        Ok(conn
            .transaction::<_, Failed, _>(async |conn| create(conn, &group).await)
            .await?)
    }

    async fn change_group(
        &self,
        actor: UserId,
        id: ConversationId,
        change_: GroupChange,
    ) -> Result<Option<GroupWrite>, ChatError> {
        let mut conn = self.conn().await?;
        Ok(conn
            .transaction::<_, Failed, _>(async |conn| change(conn, actor, id, change_).await)
            .await?)
    }
}
