//! A group's members: adding them, removing one (or leaving) and changing a role. Each is a
//! [`GroupChange`] the store applies after checking the caller's role; the answer is the group
//! as it is now.

use actix_web::{HttpResponse, web};
use chat_domain::{ChatError, EventSink, GroupChange, Role, Store, UserId};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::groups::{change, conversation_of};
use crate::envelope::Envelope;
use crate::error::ErrorEnvelope;
use crate::input::{Object, positive, required_string_json, user_ids_json};
use crate::views::ConversationDetailView;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The body of `POST /api/chat/conversations/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AddMembersRequest)]
pub(crate) struct AddMembersBody {
    /// The users to add; those already in are left as they are.
    #[serde(rename = "userIds")]
    #[schema(value_type = Vec<i64>, examples(json!([4])))]
    user_ids: Option<Value>,
}

/// The body of `PATCH /api/chat/conversations/{id}/members/{userId}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = SetRoleRequest)]
pub(crate) struct SetRoleBody {
    /// `owner`, `admin` or `member`.
    #[schema(value_type = String, examples("admin"))]
    role: Option<Value>,
}

fn role_of(value: Option<&Value>) -> Result<Role, ApiError> {
    let name = required_string_json("role", value)?;
    Role::parse(&name)
        .ok_or_else(|| ChatError::invalid("role", "must be owner, admin or member").into())
}

/// Add members to a group (admin or owner).
///
/// Users already in are left as they are. The room and each new member get `member_added`.
#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/members",
    tag = "groups",
    params(("id" = i64, Path, description = "The conversation id.", minimum = 1)),
    request_body = AddMembersBody,
    responses(
        (status = 200, description = "The group as it is now.", body = Envelope<ConversationDetailView>),
        (status = 400, description = "`userIds` is not a list of ids, the group would pass `CHAT_MAX_GROUP_MEMBERS`, or the id is not a positive integer.", body = ErrorEnvelope),
        (status = 403, description = "The caller is a plain member, or the conversation is direct.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation or the caller is not in it; or ids that name no user (listed; nobody was added).", body = ErrorEnvelope),
        (status = 429, description = "The caller creates groups, adds members or sends faster than the configured rate (one budget).", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until it is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "add_members", skip_all, fields(user = %user.0))]
pub(crate) async fn add_members<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Object<AddMembersBody>>,
) -> Result<HttpResponse, ApiError> {
    let Object(body) = body.into_inner();
    let max = state.chat.limits().max_group_members;
    let users = user_ids_json("userIds", body.user_ids.as_ref(), max)?;
    change(
        &state,
        user.0,
        conversation_of(&id)?,
        GroupChange::AddMembers(users),
    )
    .await
}

/// Remove a member, or leave (the caller's own id).
///
/// An owner removes anyone, an admin plain members; anyone may leave. When the last owner
/// goes, the admin who joined first (else the member who joined first) becomes owner. The
/// room and the removed member get `member_removed`, and the removed member's sockets leave
/// the room at once.
#[utoipa::path(
    delete,
    path = "/api/chat/conversations/{id}/members/{userId}",
    tag = "groups",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("userId" = i64, Path, description = "The member to remove (the caller's own id to leave).", minimum = 1),
    ),
    responses(
        (status = 200, description = "The group as it is now (without the caller, after leaving).", body = Envelope<ConversationDetailView>),
        (status = 400, description = "An id is not a positive integer.", body = ErrorEnvelope),
        (status = 403, description = "The caller's role does not allow removing this member, or the conversation is direct.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation or the caller is not in it; or `userId` is not a member (`User not found`).", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "remove_member", skip_all, fields(user = %user.0))]
pub(crate) async fn remove_member<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, member) = path.into_inner();
    let member = UserId(positive("userId", &member)?);
    change(
        &state,
        user.0,
        conversation_of(&id)?,
        GroupChange::RemoveMember(member),
    )
    .await
}

/// Give a member a role (owner only).
///
/// The room and the member get `member_role_changed`. A group keeps at least one owner.
#[utoipa::path(
    patch,
    path = "/api/chat/conversations/{id}/members/{userId}",
    tag = "groups",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("userId" = i64, Path, description = "The member.", minimum = 1),
    ),
    request_body = SetRoleBody,
    responses(
        (status = 200, description = "The group as it is now.", body = Envelope<ConversationDetailView>),
        (status = 400, description = "`role` is not `owner`, `admin` or `member`, or an id is not a positive integer.", body = ErrorEnvelope),
        (status = 403, description = "The caller is not an owner, or the conversation is direct.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation or the caller is not in it; or `userId` is not a member.", body = ErrorEnvelope),
        (status = 409, description = "The last owner cannot step down: make someone else owner first.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "set_role", skip_all, fields(user = %user.0))]
pub(crate) async fn set_role<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: web::Json<Object<SetRoleBody>>,
) -> Result<HttpResponse, ApiError> {
    let (id, member) = path.into_inner();
    let member = UserId(positive("userId", &member)?);
    let Object(body) = body.into_inner();
    let role = role_of(body.role.as_ref())?;
    change(
        &state,
        user.0,
        conversation_of(&id)?,
        GroupChange::SetRole(member, role),
    )
    .await
}
