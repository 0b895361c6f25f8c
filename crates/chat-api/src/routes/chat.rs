//! The seed's eight endpoints under `/api/chat`. Each handler parses, calls one service
//! method and maps the result.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{
    AttachmentUrl, ClientMessageId, ConversationId, EventSink, MessageBody, MessageId,
    MessageWindow, SearchQuery, SendMessage, Store, UserId,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::envelope::{ok, with_message};
use crate::input::{ListQuery, positive, positive_json, string_json};
use crate::views::{ConversationView, MessageView, Pagination};
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

pub(crate) fn configure<S: Store, E: EventSink>(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/chat")
            .route("/send", web::post().to(send::<S, E>))
            .route("/conversations", web::get().to(conversations::<S, E>))
            .route(
                "/conversations/{id}/messages",
                web::get().to(messages::<S, E>),
            )
            .route("/conversations/{id}/read", web::put().to(mark_read::<S, E>))
            .route("/conversations/{id}/search", web::get().to(search::<S, E>))
            .route("/unread-count", web::get().to(unread_count::<S, E>))
            .route("/unread", web::get().to(unread::<S, E>))
            .route("/messages/{id}", web::delete().to(delete::<S, E>)),
    );
}

/// `POST /api/chat/send`; fields stay loosely typed here so that each bad one gets its own
/// message.
#[derive(Debug, Deserialize)]
struct SendBody {
    #[serde(rename = "receiverId")]
    receiver_id: Option<Value>,
    content: Option<Value>,
    #[serde(rename = "attachmentUrl")]
    attachment_url: Option<Value>,
    #[serde(rename = "clientMessageId")]
    client_message_id: Option<Value>,
}

#[tracing::instrument(name = "send", skip_all, fields(user = %user.0))]
async fn send<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    body: web::Json<SendBody>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let receiver = UserId(positive_json("receiverId", body.receiver_id.as_ref())?);
    let content = string_json("content", body.content.as_ref())?
        .ok_or_else(|| ApiError::field("content", "content is required"))?;
    let cmd = SendMessage {
        sender: user.0,
        receiver,
        content: MessageBody::parse(content, limits)?,
        attachment_url: string_json("attachmentUrl", body.attachment_url.as_ref())?
            .map(|url| AttachmentUrl::parse(url, limits))
            .transpose()?,
        client_message_id: string_json("clientMessageId", body.client_message_id.as_ref())?
            .map(ClientMessageId::parse)
            .transpose()?,
    };
    let sent = state.chat.send_message(cmd).await?;
    let view = MessageView::new(&sent.conversation, &sent.message);
    Ok(with_message(
        StatusCode::CREATED,
        "Message sent successfully",
        view,
    ))
}

#[tracing::instrument(name = "conversations", skip_all, fields(user = %user.0))]
async fn conversations<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let page = query.page(limits.default_conversation_page, limits)?;
    let found = state.chat.conversations(user.0, page).await?;
    let list: Vec<ConversationView> = found.items.iter().map(ConversationView::from).collect();
    Ok(ok(json!({
        "conversations": list,
        "pagination": Pagination::of(&found, page.page, page.limit),
    })))
}

#[tracing::instrument(name = "messages", skip_all, fields(user = %user.0))]
async fn messages<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let conversation = ConversationId(positive("id", &id)?);
    let window = query.window(state.chat.limits())?;
    let found = state.chat.messages(user.0, conversation, window).await?;
    let page = match window {
        MessageWindow::Page(page) => page.page,
        MessageWindow::Before { .. } | MessageWindow::After { .. } => 1,
    };
    Ok(ok(json!({
        "messages": MessageView::all(&found.conversation, &found.messages),
        "pagination": Pagination::new(found.total, page, window.limit()),
    })))
}

#[tracing::instrument(name = "mark_read", skip_all, fields(user = %user.0))]
async fn mark_read<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let conversation = ConversationId(positive("id", &id)?);
    let receipt = state.chat.mark_read(user.0, conversation).await?;
    Ok(with_message(
        StatusCode::OK,
        "Messages marked as read",
        json!({ "updated": receipt.updated }),
    ))
}

#[tracing::instrument(name = "unread_count", skip_all, fields(user = %user.0))]
async fn unread_count<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let count = state.chat.unread_count(user.0).await?;
    Ok(ok(json!({ "unreadCount": count })))
}

#[tracing::instrument(name = "unread", skip_all, fields(user = %user.0))]
async fn unread<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let counts = state.chat.unread_by_conversation(user.0).await?;
    let list: Vec<Value> = counts
        .iter()
        .map(|u| json!({ "conversation_id": u.conversation_id, "unread_count": u.unread_count }))
        .collect();
    Ok(ok(list))
}

#[tracing::instrument(name = "search", skip_all, fields(user = %user.0))]
async fn search<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let conversation = ConversationId(positive("id", &id)?);
    let raw = query
        .q
        .as_deref()
        .ok_or_else(|| ApiError::field("q", "q is required"))?;
    let term = SearchQuery::parse(raw, limits)?;
    let page = query.page(limits.default_message_page, limits)?;
    let found = state.chat.search(user.0, conversation, &term, page).await?;
    Ok(ok(json!({
        "messages": MessageView::all(&found.conversation, &found.messages),
        "pagination": Pagination::new(found.total, page.page, page.limit),
    })))
}

#[tracing::instrument(name = "delete", skip_all, fields(user = %user.0))]
async fn delete<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let message = MessageId(positive("id", &id)?);
    state.chat.delete_message(user.0, message).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Message deleted successfully",
    })))
}
