//! The OpenAPI 3.1 document of the REST API, derived at compile time by utoipa from the
//! `#[utoipa::path]` annotations on the handlers and the `ToSchema` types the handlers answer
//! with (the envelopes, the views and the `data` records: nothing here mirrors them). The
//! answers every authenticated or database-backed operation shares (401, 500, 503) are added
//! here once, as shared response components, instead of on each handler. The document is
//! committed as `docs/openapi.json` and a test compares the two.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema};

use crate::error::{ErrorEnvelope, FieldError};
use crate::routes::{
    accounts, admin, chat, dead_letters, edits, forwarding, groups, members, mentions, pins,
    reactions, scheduled, search, sync, threads, users,
};
use crate::{health, prometheus, views};

/// Security scheme of the host application's (or a built-in account's) user tokens.
pub(crate) const USER_TOKEN: &str = "bearer_jwt";
/// Security scheme of the server-to-server admin API.
pub(crate) const ADMIN_TOKEN: &str = "admin_token";
/// Security scheme of the metrics scrape.
pub(crate) const METRICS_TOKEN: &str = "metrics_token";

/// Every documented operation (one per [`crate::Endpoint`] in the document) and the shared
/// schemas; the tests check the list against the route table.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chat REST API",
        description = "REST API of the self-hosted chat server: the seed's eight `/api/chat` \
            endpoints, groups, sync, users, built-in accounts, the admin upsert and health probes. Every \
            answer but the probes is an envelope: `{ success: true, message?, data }` or \
            `{ success: false, message, code, errors?, requestId? }`. See docs/rest.md for \
            a walk-through with curl."
    ),
    paths(
        health::healthz,
        health::readyz,
        chat::send,
        chat::conversations,
        chat::messages,
        chat::mark_read,
        chat::search,
        chat::unread_count,
        chat::unread,
        sync::sync,
        groups::create,
        groups::conversation,
        groups::update,
        members::add_members,
        members::remove_member,
        members::set_role,
        groups::post_message,
        groups::reads,
        chat::delete,
        edits::edit,
        edits::history,
        threads::replies,
        forwarding::forward,
        mentions::mentions,
        search::search,
        scheduled::list,
        scheduled::edit,
        scheduled::cancel,
        pins::pin,
        pins::unpin,
        pins::list,
        reactions::add,
        reactions::remove,
        users::search,
        users::me,
        users::by_id,
        admin::upsert_users,
        dead_letters::list,
        dead_letters::retry,
        prometheus::scrape,
        accounts::register,
        accounts::login,
    ),
    components(schemas(
        views::MessageView,
        chat_domain::wire::ScheduledView,
        views::ConversationView,
        views::UserView,
        views::UserSummary,
        views::Pagination,
        ErrorEnvelope,
        FieldError,
    )),
    modifiers(&SecuritySchemes, &SharedResponses),
    tags(
        (name = "chat", description = "Messages and conversations: send, list, read, search, edit, delete, reply and page threads, forward, mentions, search across conversations, schedule, pin, react."),
        (name = "groups", description = "Group conversations (members, roles, settings), one conversation with its members, sends by conversation id, \"seen by\"."),
        (name = "users", description = "Profiles and the user directory."),
        (name = "accounts", description = "Built-in accounts (when `CHAT_BUILTIN_ACCOUNTS` is on)."),
        (name = "admin", description = "Server-to-server API, authenticated by `CHAT_ADMIN_TOKEN`."),
        (name = "health", description = "Probes for orchestrators; no envelope, no authentication."),
        (name = "metrics", description = "Prometheus metrics, behind `CHAT_METRICS_TOKEN` when it is set."),
    )
)]
struct ApiDoc;

/// The document served at [`crate::docs::OPENAPI_PATH`].
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// Declares the two Bearer schemes the operations refer to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            USER_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT issued by the host application: HS256 signed with `JWT_SECRET` \
                         (or RS256/ES256 with `JWT_PUBLIC_KEY`), the user id in the `id` claim \
                         (`sub` accepted), `exp` required. Built-in accounts get one from \
                         `POST /api/auth/login`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ADMIN_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The server's `CHAT_ADMIN_TOKEN` (16 characters or more), for \
                         server-to-server calls only.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            METRICS_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The server's `CHAT_METRICS_TOKEN` (16 characters or more), for \
                         Prometheus; `/metrics` is open when it is unset.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds, by reference to shared components, 401 to every operation that needs a token, and
/// 500 and 503 to every operation that reaches the database (all but the probes).
struct SharedResponses;

const UNAUTHORIZED: &str = "Unauthorized";
const INTERNAL: &str = "InternalError";
const UNAVAILABLE: &str = "Unavailable";

fn error_response(description: &str, request_id: bool) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
            .build(),
    );
    if request_id {
        response = response.header(
            "X-Request-Id",
            HeaderBuilder::new()
                .schema(Some(String::schema()))
                .description(Some("The request's id, also in the body as `requestId`."))
                .build(),
        );
    }
    response.build()
}

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description, request_id) in [
            (
                UNAUTHORIZED,
                "No token, or a token that is malformed, wrongly signed or expired.",
                false,
            ),
            (
                INTERNAL,
                "A fault of the server; the body holds no internals, only `requestId`.",
                true,
            ),
            (
                UNAVAILABLE,
                "The database cannot be reached now; retrying later may succeed.",
                true,
            ),
        ] {
            components.responses.insert(
                name.to_owned(),
                RefOr::T(error_response(description, request_id)),
            );
        }
        let shared = |name: &str| RefOr::Ref(Ref::new(format!("#/components/responses/{name}")));
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                if operation
                    .tags
                    .iter()
                    .flatten()
                    .any(|tag| tag == "health" || tag == "metrics")
                {
                    continue;
                }
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let responses = &mut operation.responses.responses;
                if secured {
                    responses
                        .entry("401".into())
                        .or_insert_with(|| shared(UNAUTHORIZED));
                }
                responses
                    .entry("500".into())
                    .or_insert_with(|| shared(INTERNAL));
                responses
                    .entry("503".into())
                    .or_insert_with(|| shared(UNAVAILABLE));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use crate::Endpoint;

    fn document() -> Value {
        serde_json::to_value(super::document()).expect("the document serializes")
    }

    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let paths = doc["paths"].as_object().expect("paths");
        let mut found = Vec::new();
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("path item") {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
        found
    }

    /// The committed document, which reviewers read and clients generate code from.
    const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    #[test]
    fn the_document_matches_the_committed_snapshot() {
        // Through `Value`, whose keys are sorted: a stable order for the file.
        let generated = format!(
            "{}\n",
            serde_json::to_string_pretty(&document()).expect("the document serializes")
        );
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(SNAPSHOT, &generated).expect("docs/openapi.json is writable");
            return;
        }
        let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json differs from the document the code generates: a schema, path or \
             description changed. If the change is intended, regenerate the file with \
             `UPDATE_OPENAPI=1 cargo test -p chat-api openapi` and commit it."
        );
    }

    #[test]
    fn the_document_describes_exactly_the_route_table() {
        let documented: BTreeSet<(String, String)> = operations(&document())
            .into_iter()
            .map(|(method, path, _)| (method, path))
            .collect();
        let served: BTreeSet<(String, String)> = Endpoint::ALL
            .iter()
            .filter(|e| e.in_api_document())
            .map(|e| (e.method().to_string(), e.path().to_owned()))
            .collect();
        assert_eq!(documented, served);
    }

    #[test]
    fn every_operation_has_a_summary_a_success_and_known_security() {
        let doc = document();
        let schemes = doc["components"]["securitySchemes"]
            .as_object()
            .expect("security schemes");
        for (method, path, operation) in operations(&doc) {
            let at = format!("{method} {path}");
            assert!(operation["summary"].is_string(), "{at}: summary");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|s| s.starts_with('2')), "{at}: 2xx");
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().expect("requirement").keys() {
                    assert!(schemes.contains_key(scheme), "{at}: scheme {scheme}");
                }
                assert!(responses.contains_key("401"), "{at}: 401");
            }
        }
    }
}
