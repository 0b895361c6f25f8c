//! The route table: the one list of every route the API serves. [`crate::configure`]
//! registers exactly [`Endpoint::ALL`], each with the method and path given here, so the table
//! cannot drift from what is served; the tests compare it with the OpenAPI document both ways.

use std::future::ready;
use std::sync::LazyLock;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, Route, web};
use chat_domain::{EventSink, Store};

use crate::{ApiError, browser, docs, health, prometheus};

use super::{
    accounts, admin, chat, dead_letters, edits, forwarding, groups, members, mentions, pins,
    reactions, scheduled, search, sync, threads, users,
};

/// One route of the HTTP surface. Adding a variant makes the compiler ask for its method, path
/// and handler (the matches below are exhaustive); adding it to [`Endpoint::ALL`] serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /api-docs/openapi.json`: the OpenAPI document.
    OpenApiJson,
    /// `GET /docs`: redirects to `/docs/`.
    DocsRoot,
    /// `GET /docs/{tail}`: the Swagger UI page and its bundled assets.
    DocsAsset,
    /// `GET /socket.io/{file}`: the socket.io-client bundle (when served).
    ClientBundle,
    /// `GET /`: the web app's page (when served).
    WebApp,
    /// `GET /app/{file}`: the web app's scripts and stylesheet.
    WebAppAsset,
    /// `GET /healthz`: liveness.
    Healthz,
    /// `GET /readyz`: readiness (database reachable).
    Readyz,
    /// `POST /api/chat/send`.
    Send,
    /// `GET /api/chat/conversations`.
    Conversations,
    /// `GET /api/chat/conversations/{id}/messages`.
    Messages,
    /// `PUT /api/chat/conversations/{id}/read`.
    MarkRead,
    /// `GET /api/chat/conversations/{id}/search`.
    Search,
    /// `GET /api/chat/unread-count`.
    UnreadCount,
    /// `GET /api/chat/unread`.
    Unread,
    /// `GET /api/chat/sync`: changes since a stream token.
    Sync,
    /// `POST /api/chat/groups`: create a group.
    CreateGroup,
    /// `GET /api/chat/conversations/{id}`: one conversation with its members.
    Conversation,
    /// `PATCH /api/chat/conversations/{id}`: a group's title or picture.
    UpdateConversation,
    /// `POST /api/chat/conversations/{id}/members`.
    AddMembers,
    /// `DELETE /api/chat/conversations/{id}/members/{userId}`: remove or leave.
    RemoveMember,
    /// `PATCH /api/chat/conversations/{id}/members/{userId}`: a member's role.
    SetRole,
    /// `POST /api/chat/conversations/{id}/messages`: send into a conversation by id.
    PostMessage,
    /// `GET /api/chat/conversations/{id}/messages/{messageId}/reads`: "seen by".
    MessageReads,
    /// `DELETE /api/chat/messages/{id}`.
    DeleteMessage,
    /// `PATCH /api/chat/messages/{id}`: edit.
    EditMessage,
    /// `GET /api/chat/messages/{id}/history`: earlier versions.
    MessageHistory,
    /// `GET /api/chat/messages/{id}/replies`: a thread.
    Replies,
    /// `POST /api/chat/messages/{id}/forward`: copies into other conversations.
    Forward,
    /// `GET /api/chat/mentions`: the caller's mentions.
    Mentions,
    /// `GET /api/chat/search`: search across the caller's conversations.
    SearchEverywhere,
    /// `GET /api/chat/scheduled`: the caller's scheduled messages.
    Scheduled,
    /// `PATCH /api/chat/scheduled/{id}`: changes a scheduled message.
    EditScheduled,
    /// `DELETE /api/chat/scheduled/{id}`: cancels a scheduled message.
    CancelScheduled,
    /// `PUT /api/chat/conversations/{id}/pins/{messageId}`.
    Pin,
    /// `DELETE /api/chat/conversations/{id}/pins/{messageId}`.
    Unpin,
    /// `GET /api/chat/conversations/{id}/pins`.
    Pins,
    /// `PUT /api/chat/messages/{id}/reactions/{key}`.
    React,
    /// `DELETE /api/chat/messages/{id}/reactions/{key}`.
    Unreact,
    /// `GET /api/users`: find users.
    Users,
    /// `GET /api/users/me`.
    Me,
    /// `GET /api/users/{id}`.
    UserById,
    /// `PUT /api/admin/users`: server-to-server user upsert.
    AdminUpsertUsers,
    /// `GET /api/admin/webhooks/dead`: dead-lettered webhook events.
    AdminDeadWebhooks,
    /// `POST /api/admin/webhooks/dead/{id}/retry`: one back in the queue.
    AdminRetryWebhook,
    /// `GET /metrics`: Prometheus metrics.
    Metrics,
    /// `POST /api/auth/register` (built-in accounts only).
    Register,
    /// `POST /api/auth/login` (built-in accounts only).
    Login,
}

impl Endpoint {
    /// Every route, in registration order. The documentation routes come first (a later
    /// catch-all scope cannot hide them), and `/api/users/me` before `/api/users/{id}`.
    pub const ALL: [Endpoint; 48] = [
        Endpoint::OpenApiJson,
        Endpoint::DocsRoot,
        Endpoint::DocsAsset,
        Endpoint::ClientBundle,
        Endpoint::WebApp,
        Endpoint::WebAppAsset,
        Endpoint::Healthz,
        Endpoint::Readyz,
        Endpoint::Send,
        Endpoint::Conversations,
        Endpoint::Messages,
        Endpoint::MarkRead,
        Endpoint::Search,
        Endpoint::UnreadCount,
        Endpoint::Unread,
        Endpoint::Sync,
        Endpoint::CreateGroup,
        Endpoint::Conversation,
        Endpoint::UpdateConversation,
        Endpoint::AddMembers,
        Endpoint::RemoveMember,
        Endpoint::SetRole,
        Endpoint::PostMessage,
        Endpoint::MessageReads,
        Endpoint::DeleteMessage,
        Endpoint::EditMessage,
        Endpoint::MessageHistory,
        Endpoint::Replies,
        Endpoint::Forward,
        Endpoint::Mentions,
        Endpoint::SearchEverywhere,
        Endpoint::Scheduled,
        Endpoint::EditScheduled,
        Endpoint::CancelScheduled,
        Endpoint::Pin,
        Endpoint::Unpin,
        Endpoint::Pins,
        Endpoint::React,
        Endpoint::Unreact,
        Endpoint::Users,
        Endpoint::Me,
        Endpoint::UserById,
        Endpoint::AdminUpsertUsers,
        Endpoint::AdminDeadWebhooks,
        Endpoint::AdminRetryWebhook,
        Endpoint::Metrics,
        Endpoint::Register,
        Endpoint::Login,
    ];

    /// The HTTP method.
    pub const fn method(self) -> Method {
        match self {
            Endpoint::Send
            | Endpoint::Register
            | Endpoint::Login
            | Endpoint::CreateGroup
            | Endpoint::AddMembers
            | Endpoint::PostMessage
            | Endpoint::Forward
            | Endpoint::AdminRetryWebhook => Method::POST,
            Endpoint::MarkRead | Endpoint::AdminUpsertUsers | Endpoint::Pin | Endpoint::React => {
                Method::PUT
            }
            Endpoint::UpdateConversation
            | Endpoint::SetRole
            | Endpoint::EditMessage
            | Endpoint::EditScheduled => Method::PATCH,
            Endpoint::DeleteMessage
            | Endpoint::CancelScheduled
            | Endpoint::RemoveMember
            | Endpoint::Unpin
            | Endpoint::Unreact => Method::DELETE,
            Endpoint::OpenApiJson
            | Endpoint::DocsRoot
            | Endpoint::DocsAsset
            | Endpoint::ClientBundle
            | Endpoint::WebApp
            | Endpoint::WebAppAsset
            | Endpoint::Healthz
            | Endpoint::Readyz
            | Endpoint::Conversations
            | Endpoint::Messages
            | Endpoint::Search
            | Endpoint::UnreadCount
            | Endpoint::Unread
            | Endpoint::Sync
            | Endpoint::Conversation
            | Endpoint::MessageReads
            | Endpoint::MessageHistory
            | Endpoint::Replies
            | Endpoint::Mentions
            | Endpoint::SearchEverywhere
            | Endpoint::Scheduled
            | Endpoint::Pins
            | Endpoint::Users
            | Endpoint::Me
            | Endpoint::UserById
            | Endpoint::AdminDeadWebhooks
            | Endpoint::Metrics => Method::GET,
        }
    }

    /// The path as actix-web matches it; for the documented routes it is also the OpenAPI
    /// path template (`{id}` segments).
    pub const fn path(self) -> &'static str {
        match self {
            Endpoint::OpenApiJson => docs::OPENAPI_PATH,
            Endpoint::DocsRoot => "/docs",
            Endpoint::DocsAsset => "/docs/{tail:.*}",
            // Exactly the Node server's file names, so that any other path under `/socket.io/`
            // stays unknown (the Engine.IO endpoint itself is `/socket.io/`).
            Endpoint::ClientBundle => {
                r"/socket.io/{file:socket\.io\.(?:js|min\.js|esm\.min\.js|msgpack\.min\.js)(?:\.map)?}"
            }
            Endpoint::WebApp => "/",
            Endpoint::WebAppAsset => "/app/{file}",
            Endpoint::Healthz => "/healthz",
            Endpoint::Readyz => "/readyz",
            Endpoint::Send => "/api/chat/send",
            Endpoint::Conversations => "/api/chat/conversations",
            Endpoint::Messages => "/api/chat/conversations/{id}/messages",
            Endpoint::MarkRead => "/api/chat/conversations/{id}/read",
            Endpoint::Search => "/api/chat/conversations/{id}/search",
            Endpoint::UnreadCount => "/api/chat/unread-count",
            Endpoint::Unread => "/api/chat/unread",
            Endpoint::Sync => "/api/chat/sync",
            Endpoint::CreateGroup => "/api/chat/groups",
            Endpoint::Conversation | Endpoint::UpdateConversation => "/api/chat/conversations/{id}",
            Endpoint::AddMembers => "/api/chat/conversations/{id}/members",
            Endpoint::RemoveMember | Endpoint::SetRole => {
                "/api/chat/conversations/{id}/members/{userId}"
            }
            Endpoint::PostMessage => "/api/chat/conversations/{id}/messages",
            Endpoint::MessageReads => "/api/chat/conversations/{id}/messages/{messageId}/reads",
            Endpoint::DeleteMessage | Endpoint::EditMessage => "/api/chat/messages/{id}",
            Endpoint::MessageHistory => "/api/chat/messages/{id}/history",
            Endpoint::Replies => "/api/chat/messages/{id}/replies",
            Endpoint::Forward => "/api/chat/messages/{id}/forward",
            Endpoint::Mentions => "/api/chat/mentions",
            Endpoint::SearchEverywhere => "/api/chat/search",
            Endpoint::Scheduled => "/api/chat/scheduled",
            Endpoint::EditScheduled | Endpoint::CancelScheduled => "/api/chat/scheduled/{id}",
            Endpoint::Pin | Endpoint::Unpin => "/api/chat/conversations/{id}/pins/{messageId}",
            Endpoint::Pins => "/api/chat/conversations/{id}/pins",
            Endpoint::React | Endpoint::Unreact => "/api/chat/messages/{id}/reactions/{key}",
            Endpoint::Users => "/api/users",
            Endpoint::Me => "/api/users/me",
            Endpoint::UserById => "/api/users/{id}",
            Endpoint::AdminUpsertUsers => "/api/admin/users",
            Endpoint::AdminDeadWebhooks => "/api/admin/webhooks/dead",
            Endpoint::AdminRetryWebhook => "/api/admin/webhooks/dead/{id}/retry",
            Endpoint::Metrics => crate::METRICS_PATH,
            Endpoint::Register => "/api/auth/register",
            Endpoint::Login => "/api/auth/login",
        }
    }

    /// Whether the route belongs in the OpenAPI document; the routes that serve the
    /// documentation itself, the client bundle and the web app do not.
    pub const fn in_api_document(self) -> bool {
        !matches!(
            self,
            Endpoint::OpenApiJson
                | Endpoint::DocsRoot
                | Endpoint::DocsAsset
                | Endpoint::ClientBundle
                | Endpoint::WebApp
                | Endpoint::WebAppAsset
        )
    }

    /// Whether the route is served only when built-in accounts are on.
    pub const fn needs_builtin_accounts(self) -> bool {
        matches!(self, Endpoint::Register | Endpoint::Login)
    }

    /// Whether the route is served with `parts`: register and login with built-in accounts,
    /// the bundle and the app when they are on, everything else always.
    const fn is_served(self, parts: Parts) -> bool {
        match self {
            _ if self.needs_builtin_accounts() => parts.builtin_accounts,
            Endpoint::ClientBundle => parts.client_bundle,
            Endpoint::WebApp | Endpoint::WebAppAsset => parts.web_app,
            _ => true,
        }
    }

    /// Whether the endpoint also answers `HEAD`: the probes, which load balancers' health
    /// checks often ask that way, and the files served to browsers.
    pub const fn answers_head(self) -> bool {
        matches!(
            self,
            Endpoint::Healthz
                | Endpoint::Readyz
                | Endpoint::ClientBundle
                | Endpoint::WebApp
                | Endpoint::WebAppAsset
        )
    }

    /// Every method the endpoint answers: its own, and `HEAD` for the probes.
    fn methods(self) -> impl Iterator<Item = Method> {
        let head = self.answers_head().then_some(Method::HEAD);
        std::iter::once(self.method()).chain(head)
    }

    /// The actix route: this endpoint's handler, for requests with `method`.
    fn route<S: Store, E: EventSink>(self, method: Method) -> Route {
        let route = web::route().method(method);
        match self {
            Endpoint::OpenApiJson => route.to(docs::openapi_json),
            Endpoint::DocsRoot => route.to(docs::docs_root),
            Endpoint::DocsAsset => route.to(docs::docs_asset),
            Endpoint::ClientBundle => route.to(browser::client_file),
            Endpoint::WebApp => route.to(browser::app_index),
            Endpoint::WebAppAsset => route.to(browser::app_asset),
            Endpoint::Healthz => route.to(health::healthz),
            Endpoint::Readyz => route.to(health::readyz::<S, E>),
            Endpoint::Send => route.to(chat::send::<S, E>),
            Endpoint::Conversations => route.to(chat::conversations::<S, E>),
            Endpoint::Messages => route.to(chat::messages::<S, E>),
            Endpoint::MarkRead => route.to(chat::mark_read::<S, E>),
            Endpoint::Search => route.to(chat::search::<S, E>),
            Endpoint::UnreadCount => route.to(chat::unread_count::<S, E>),
            Endpoint::Unread => route.to(chat::unread::<S, E>),
            Endpoint::Sync => route.to(sync::sync::<S, E>),
            Endpoint::CreateGroup => route.to(groups::create::<S, E>),
            Endpoint::Conversation => route.to(groups::conversation::<S, E>),
            Endpoint::UpdateConversation => route.to(groups::update::<S, E>),
            Endpoint::AddMembers => route.to(members::add_members::<S, E>),
            Endpoint::RemoveMember => route.to(members::remove_member::<S, E>),
            Endpoint::SetRole => route.to(members::set_role::<S, E>),
            Endpoint::PostMessage => route.to(groups::post_message::<S, E>),
            Endpoint::MessageReads => route.to(groups::reads::<S, E>),
            Endpoint::DeleteMessage => route.to(chat::delete::<S, E>),
            Endpoint::EditMessage => route.to(edits::edit::<S, E>),
            Endpoint::MessageHistory => route.to(edits::history::<S, E>),
            Endpoint::Replies => route.to(threads::replies::<S, E>),
            Endpoint::Forward => route.to(forwarding::forward::<S, E>),
            Endpoint::Mentions => route.to(mentions::mentions::<S, E>),
            Endpoint::SearchEverywhere => route.to(search::search::<S, E>),
            Endpoint::Scheduled => route.to(scheduled::list::<S, E>),
            Endpoint::EditScheduled => route.to(scheduled::edit::<S, E>),
            Endpoint::CancelScheduled => route.to(scheduled::cancel::<S, E>),
            Endpoint::Pin => route.to(pins::pin::<S, E>),
            Endpoint::Unpin => route.to(pins::unpin::<S, E>),
            Endpoint::Pins => route.to(pins::list::<S, E>),
            Endpoint::React => route.to(reactions::add::<S, E>),
            Endpoint::Unreact => route.to(reactions::remove::<S, E>),
            Endpoint::Users => route.to(users::search::<S, E>),
            Endpoint::Me => route.to(users::me::<S, E>),
            Endpoint::UserById => route.to(users::by_id::<S, E>),
            Endpoint::AdminUpsertUsers => route.to(admin::upsert_users::<S, E>),
            Endpoint::AdminDeadWebhooks => route.to(dead_letters::list::<S, E>),
            Endpoint::AdminRetryWebhook => route.to(dead_letters::retry::<S, E>),
            Endpoint::Metrics => route.to(prometheus::scrape),
            Endpoint::Register => route.to(accounts::register::<S, E>),
            Endpoint::Login => route.to(accounts::login::<S, E>),
        }
    }
}

/// The optional parts of the surface and whether each is on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts {
    /// Register and login.
    pub(crate) builtin_accounts: bool,
    /// The socket.io-client bundle under `/socket.io/`.
    pub(crate) client_bundle: bool,
    /// The web app at `/`.
    pub(crate) web_app: bool,
}

/// Registers every route of [`Endpoint::ALL`] whose part is on. Any other request gets the
/// envelope: 405 when the path has other methods, 404 otherwise.
pub(crate) fn register<S: Store, E: EventSink>(cfg: &mut web::ServiceConfig, parts: Parts) {
    for endpoint in Endpoint::ALL {
        if !endpoint.is_served(parts) {
            continue;
        }
        for method in endpoint.methods() {
            cfg.route(endpoint.path(), endpoint.route::<S, E>(method));
        }
    }
    cfg.default_service(web::to(move |request: HttpRequest| {
        ready(Err::<HttpResponse, _>(unmatched(&request, parts)))
    }));
}

/// Every endpoint's path as actix-web matches it, built once.
static PATTERNS: LazyLock<Vec<(Endpoint, ResourceDef)>> = LazyLock::new(|| {
    Endpoint::ALL
        .iter()
        .map(|e| (*e, ResourceDef::new(e.path())))
        .collect()
});

/// Why no route took the request: a path served with other methods (405 naming them), or a
/// path not served at all (404).
fn unmatched(request: &HttpRequest, parts: Parts) -> ApiError {
    let allowed: Vec<Method> = PATTERNS
        .iter()
        .filter(|(e, _)| e.is_served(parts))
        .filter(|(_, pattern)| pattern.is_match(request.path()))
        .flat_map(|(e, _)| e.methods())
        .collect();
    if allowed.is_empty() {
        ApiError::NoSuchPath
    } else {
        ApiError::MethodNotAllowed { allowed }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::Endpoint;

    #[test]
    fn the_table_lists_each_route_once() {
        let routes: HashSet<_> = Endpoint::ALL
            .iter()
            .map(|e| (e.method(), e.path()))
            .collect();
        assert_eq!(routes.len(), Endpoint::ALL.len());
        let variants: HashSet<_> = Endpoint::ALL.iter().collect();
        assert_eq!(variants.len(), Endpoint::ALL.len());
    }

    #[test]
    fn me_is_matched_before_a_user_id() {
        let position = |e| Endpoint::ALL.iter().position(|x| *x == e);
        assert!(position(Endpoint::Me) < position(Endpoint::UserById));
    }
}
