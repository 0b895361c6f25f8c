//! Search across the caller's conversations: words in web search syntax, ranked, with
//! excerpts, paged by cursor.

use actix_web::{HttpResponse, web};
use chat_domain::{
    ConversationId, EventSink, ExcerptPart, Limits, PageRequest, SearchCursor, SearchQuery, Store,
    TextSearch, UserId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::positive;
use crate::views::MessageView;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The default number of results of a page.
const DEFAULT_LIMIT: u32 = 20;

/// The query parameters of `GET /api/chat/search`; unknown ones are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchParams {
    q: Option<String>,
    #[serde(rename = "conversationId")]
    conversation_id: Option<String>,
    from: Option<String>,
    before: Option<String>,
    after: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// An instant in RFC 3339 (`2026-12-01T09:30:00Z`, any offset).
fn instant(field: &'static str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    Ok(raw
        .map(|raw| chat_domain::fields::time_text(field, raw))
        .transpose()?)
}

impl SearchParams {
    /// The search these parameters ask for, validated.
    fn search(&self, limits: &Limits) -> Result<TextSearch, ApiError> {
        let raw = self
            .q
            .as_deref()
            .ok_or_else(|| ApiError::field("q", "q is required"))?;
        let id = |field, raw: Option<&str>| raw.map(|raw| positive(field, raw)).transpose();
        let limit = id("limit", self.limit.as_deref())?;
        let limit = PageRequest::parse(None, limit, DEFAULT_LIMIT, limits.max_page_size)?.limit;
        let cursor = self
            .cursor
            .as_deref()
            .map(|raw| SearchCursor::parse("cursor", raw))
            .transpose()?;
        Ok(TextSearch {
            query: SearchQuery::parse(raw, limits)?,
            conversation: id("conversationId", self.conversation_id.as_deref())?
                .map(ConversationId),
            sender: id("from", self.from.as_deref())?.map(UserId),
            before: instant("before", self.before.as_deref())?,
            after: instant("after", self.after.as_deref())?,
            cursor,
            limit,
        })
    }
}

/// One message that matches.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResult {
    /// The message, as history shows it (with its `conversation_id`).
    message: MessageView,
    /// How well it matches: higher is better, comparable only within one search.
    #[schema(examples(0.1))]
    rank: f64,
    /// Its text around the matches, in pieces: render them in order, as text, emphasising
    /// those with `match: true`.
    excerpt: Vec<ExcerptPart>,
}

/// `data` of `GET /api/chat/search`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchPage {
    /// The matches, best first (by rank, then newest first).
    results: Vec<SearchResult>,
    /// The `cursor` of the next page, or null when this page is the last.
    #[serde(rename = "nextCursor")]
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Search the caller's conversations.
///
/// Finds the words of `q` in the visible messages of every conversation the caller belongs
/// to (or of one, with `conversationId`), in web search syntax: every word is required,
/// `"quoted words"` must appear together in that order, `-word` must not appear, and `or`
/// between two terms takes either. Words are compared as the server's text search
/// configuration reads them (`CHAT_SEARCH_LANGUAGE`; by default `simple`: lowercased, not
/// stemmed). Results come best first with an excerpt around the matches; pass `nextCursor`
/// as `cursor` for the next page.
#[utoipa::path(
    get,
    path = "/api/chat/search",
    tag = "chat",
    params(
        ("q" = String, Query, description = "The words to find (1 to 200 characters), in web search syntax."),
        ("conversationId" = Option<i64>, Query, description = "Only this conversation.", minimum = 1),
        ("from" = Option<i64>, Query, description = "Only messages this user sent.", minimum = 1),
        ("before" = Option<String>, Query, description = "Only messages sent before this RFC 3339 time."),
        ("after" = Option<String>, Query, description = "Only messages sent after this RFC 3339 time."),
        ("cursor" = Option<String>, Query, description = "Where to continue: the previous page's `nextCursor`."),
        ("limit" = Option<u32>, Query, description = "Page size (default 20); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1),
    ),
    responses(
        (status = 200, description = "One page of results.", body = Envelope<SearchPage>),
        (status = 400, description = "`q` is missing or too long, or a bad parameter; `errors` names it.", body = ErrorEnvelope),
        (status = 404, description = "`conversationId` names no conversation of the caller's.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "search_everywhere", skip_all, fields(user = %user.0))]
pub(crate) async fn search<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let search = params.search(state.chat.limits())?;
    let found = state.chat.search_everywhere(user.0, &search).await?;
    let results = found
        .hits
        .into_iter()
        .map(|(conversation, hit)| SearchResult {
            message: MessageView::new(&conversation, &hit.message),
            // The f32 as it prints (0.1, not 0.10000000149011612): JSON numbers are f64.
            rank: hit.rank.to_string().parse().unwrap_or(f64::from(hit.rank)),
            excerpt: hit.excerpt,
        })
        .collect();
    let next_cursor = found.next.map(SearchCursor::encode);
    Ok(ok(SearchPage {
        results,
        next_cursor,
    }))
}
