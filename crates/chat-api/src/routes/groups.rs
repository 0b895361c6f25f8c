//! Group conversations and sends by conversation id: create a group, read one conversation
//! with its members, change a group's settings (its members and roles: [`super::members`]),
//! send into any conversation the caller belongs to, and who has read a message. Every route is
//! member-scoped: outside the conversation the answer is the 404 of a missing one.

use actix_web::{HttpResponse, web};
use chat_domain::{
    AttachmentUrl, ConversationDetail, ConversationId, EventSink, GroupChange, GroupPatch,
    GroupTitle, MessageId, NewGroup, Recipient, Store, UserId,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::chat::PostBody;
use crate::envelope::{Envelope, created_unless, ok, with_status};
use crate::error::ErrorEnvelope;
use crate::input::{Object, positive, required_string_json, string_json, user_ids_json};
use crate::views::{ConversationDetailView, MessageReads, MessageView, ReadBy};
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The body of `POST /api/chat/groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CreateGroupRequest)]
pub(crate) struct CreateGroupBody {
    /// The group's name, 1 to `CHAT_MAX_TITLE_CHARS` (100) characters.
    #[schema(value_type = String, examples("Launch team"))]
    title: Option<Value>,
    /// The other members (numbers or strings of digits), at most `CHAT_MAX_GROUP_MEMBERS` ids;
    /// duplicates and the caller are ignored; may be empty.
    #[serde(rename = "memberIds")]
    #[schema(value_type = Vec<i64>, examples(json!([2, 3])))]
    member_ids: Option<Value>,
    /// An id the client picks (1 to 128 printable ASCII characters) so that a retried create
    /// answers with the group made the first time (200, whatever the rest of the body) instead
    /// of making another.
    #[serde(rename = "clientRequestId")]
    #[schema(value_type = Option<String>, nullable = false)]
    client_request_id: Option<Value>,
}

/// The body of `PATCH /api/chat/conversations/{id}`: what to change (absent fields stay).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UpdateConversationRequest)]
pub(crate) struct UpdateBody {
    /// A new title.
    #[schema(value_type = Option<String>, nullable = false)]
    title: Option<Value>,
    /// A new picture (an http(s) URL), or `null` to remove it.
    #[serde(rename = "avatarUrl", default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    avatar_url: Option<Value>,
}

/// Tells `"avatarUrl": null` (remove) from an absent field (keep): present means `Some`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

pub(super) fn conversation_of(raw: &str) -> Result<ConversationId, ApiError> {
    Ok(ConversationId(positive("id", raw)?))
}

/// The conversation record with the caller's unread count.
async fn detail_for<S: Store, E: EventSink>(
    state: &State<S, E>,
    caller: UserId,
    detail: &ConversationDetail,
) -> Result<ConversationDetailView, ApiError> {
    let id = detail.conversation.id;
    let unread = if detail.member(caller).is_some() {
        let counts = state.chat.unread_by_conversation(caller).await?;
        counts
            .iter()
            .find(|c| c.conversation_id == id)
            .map_or(0, |c| c.unread_count)
    } else {
        0
    };
    Ok(ConversationDetailView::new(detail, Some(unread)))
}

/// Applies a change to a group and answers with the group as it is now.
pub(super) async fn change<S: Store, E: EventSink>(
    state: &State<S, E>,
    caller: UserId,
    id: ConversationId,
    change: GroupChange,
) -> Result<HttpResponse, ApiError> {
    let detail = state.chat.change_group(caller, id, change).await?;
    Ok(ok(detail_for(state, caller, &detail).await?))
}

/// Create a group.
///
/// The caller becomes its `owner`, the listed users `member`s. Every member's sockets get
/// `conversation_created`.
#[utoipa::path(
    post,
    path = "/api/chat/groups",
    tag = "groups",
    request_body = CreateGroupBody,
    responses(
        (status = 201, description = "Created.", body = Envelope<ConversationDetailView>),
        (status = 200, description = "A retry with a `clientRequestId` used before: the group it created.", body = Envelope<ConversationDetailView>),
        (status = 400, description = "A missing or bad `title`, `memberIds` not a list of ids, more members than `CHAT_MAX_GROUP_MEMBERS`.", body = ErrorEnvelope),
        (status = 404, description = "Ids in `memberIds` that name no user (the message lists them); nothing was created.", body = ErrorEnvelope),
        (status = 413, description = "The body is over `CHAT_MAX_BODY_BYTES` (64 KiB).", body = ErrorEnvelope),
        (status = 429, description = "The caller creates groups, adds members or sends faster than the configured rate (one budget).", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until it is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "create_group", skip_all, fields(user = %user.0))]
pub(crate) async fn create<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    body: web::Json<Object<CreateGroupBody>>,
) -> Result<HttpResponse, ApiError> {
    let Object(body) = body.into_inner();
    let limits = state.chat.limits();
    let title = required_string_json("title", body.title.as_ref())?;
    let members = user_ids_json(
        "memberIds",
        body.member_ids.as_ref(),
        limits.max_group_members,
    )?;
    let request = string_json("clientRequestId", body.client_request_id.as_ref())?;
    let group = NewGroup::parse(user.0, &title, members, request, limits)?;
    let created = state.chat.create_group(group).await?;
    let status = created_unless(created.replayed);
    let record = detail_for(&state, user.0, &created.conversation).await?;
    Ok(with_status(status, record))
}

/// One conversation with its members.
///
/// `kind` tells direct from group; `members` carries each member's role and read watermark.
#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}",
    tag = "groups",
    params(("id" = i64, Path, description = "The conversation id.", minimum = 1)),
    responses(
        (status = 200, description = "The conversation.", body = Envelope<ConversationDetailView>),
        (status = 400, description = "The id is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "conversation", skip_all, fields(user = %user.0))]
pub(crate) async fn conversation<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let detail = state
        .chat
        .conversation(user.0, conversation_of(&id)?)
        .await?;
    Ok(ok(detail_for(&state, user.0, &detail).await?))
}

/// Change a group's title or picture (admin or owner).
///
/// The group's members get `conversation_updated`.
#[utoipa::path(
    patch,
    path = "/api/chat/conversations/{id}",
    tag = "groups",
    params(("id" = i64, Path, description = "The conversation id.", minimum = 1)),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The group as it is now.", body = Envelope<ConversationDetailView>),
        (status = 400, description = "A bad `title` or `avatarUrl`, or an id that is not a positive integer.", body = ErrorEnvelope),
        (status = 403, description = "The caller is a plain member, or the conversation is direct.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "update_conversation", skip_all, fields(user = %user.0))]
pub(crate) async fn update<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Object<UpdateBody>>,
) -> Result<HttpResponse, ApiError> {
    let Object(body) = body.into_inner();
    let limits = state.chat.limits();
    let title = string_json("title", body.title.as_ref())?
        .map(|t| GroupTitle::parse(t, limits))
        .transpose()?;
    let avatar_url = match body.avatar_url {
        None => None,
        Some(value) => Some(
            string_json("avatarUrl", Some(&value))?
                .map(|url| AttachmentUrl::parse_field("avatarUrl", url, limits))
                .transpose()?,
        ),
    };
    let patch = GroupPatch { title, avatar_url };
    change(
        &state,
        user.0,
        conversation_of(&id)?,
        GroupChange::Update(patch),
    )
    .await
}

/// Send a message into a conversation the caller belongs to (direct or group).
///
/// Delivered like any send: `new_message` to the room, `message_notification` to members
/// whose sockets are not in it.
#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/messages",
    tag = "groups",
    params(("id" = i64, Path, description = "The conversation id.", minimum = 1)),
    request_body = PostBody,
    responses(
        (status = 201, description = "Stored; `message` is \"Message sent successfully\".", body = Envelope<MessageView>),
        (status = 200, description = "A retry of a stored send (same `clientMessageId` and content).", body = Envelope<MessageView>),
        (status = 400, description = "Missing or empty `content`, content over the limit, a bad `attachmentUrl`, a `replyToId` that is not a message of the conversation, or an id that is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it.", body = ErrorEnvelope),
        (status = 409, description = "The caller already used this `clientMessageId` for a different message.", body = ErrorEnvelope),
        (status = 429, description = "The caller sends faster than the configured rate.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a send is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "post_message", skip_all, fields(user = %user.0))]
pub(crate) async fn post_message<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Object<PostBody>>,
) -> Result<HttpResponse, ApiError> {
    let Object(body) = body.into_inner();
    let to = Recipient::Conversation(conversation_of(&id)?);
    let send_at = body.send_at()?;
    let cmd = body.command(user.0, to, state.chat.limits())?;
    super::chat::sent(&state, cmd, send_at).await
}

/// Who has read a message ("seen by").
///
/// The members other than its sender whose read watermark reached it.
#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}/messages/{messageId}/reads",
    tag = "groups",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("messageId" = i64, Path, description = "The message id.", minimum = 1),
    ),
    responses(
        (status = 200, description = "The readers, by user id.", body = Envelope<MessageReads>),
        (status = 400, description = "An id is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation or the caller is not in it; or no such message in it.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "reads", skip_all, fields(user = %user.0))]
pub(crate) async fn reads<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, message) = path.into_inner();
    let conversation = conversation_of(&id)?;
    let message = MessageId(positive("messageId", &message)?);
    let readers = state
        .chat
        .message_reads(user.0, conversation, message)
        .await?;
    Ok(ok(MessageReads {
        reads: readers.iter().map(ReadBy::from).collect(),
    }))
}
