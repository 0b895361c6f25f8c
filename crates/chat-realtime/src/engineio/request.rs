//! What an Engine.IO request asks for, read from its query (`EIO`, `transport`, `sid`), and the
//! error answers of the reference server when it asks for something wrong. Pure: the engine
//! passes in how to find a session.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{Method, StatusCode, header},
    web,
};

use super::open::TransportKind;

/// The only protocol revision served.
const PROTOCOL: &str = "4";

/// The query parameters of an Engine.IO request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct EngineQuery {
    /// Every parameter, decoded, in order (kept for [`super::HandshakeRequest`]).
    pub(super) pairs: Vec<(String, String)>,
}

impl EngineQuery {
    /// Decodes a query string; a malformed one is a bad request.
    pub(super) fn parse(query: &str) -> Result<Self, RequestError> {
        web::Query::<Vec<(String, String)>>::from_query(query)
            .map(|pairs| Self {
                pairs: pairs.into_inner(),
            })
            .map_err(|_| RequestError::BadRequest)
    }

    /// The first value of `name`, as the reference reads a repeated parameter's first value.
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The errors of the reference server, with its codes and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RequestError {
    /// `transport` is missing or neither `polling` nor `websocket`.
    UnknownTransport = 0,
    /// `sid` names no open session.
    UnknownSid = 1,
    /// A handshake (no `sid`) with another method than GET.
    BadHandshakeMethod = 2,
    /// Anything else malformed: a transport that does not match the session's, a WebSocket
    /// handshake without the upgrade, overlapping requests, a bad payload.
    BadRequest = 3,
    /// `EIO` is missing or not `4`.
    UnsupportedProtocolVersion = 5,
}

impl RequestError {
    /// The numeric code of the JSON answer.
    pub(super) fn code(self) -> u8 {
        self as u8
    }

    /// The message of the JSON answer, word for word the reference's.
    pub(super) fn message(self) -> &'static str {
        match self {
            Self::UnknownTransport => "Transport unknown",
            Self::UnknownSid => "Session ID unknown",
            Self::BadHandshakeMethod => "Bad handshake method",
            Self::BadRequest => "Bad request",
            Self::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// The answer: HTTP 400 with `{"code":N,"message":"..."}`; to a WebSocket handshake, the
    /// reference answers 400 with the bare message as `text/html` instead.
    pub(super) fn response(self, websocket_upgrade: bool) -> HttpResponse {
        let mut response = HttpResponse::build(StatusCode::BAD_REQUEST);
        if websocket_upgrade {
            return response
                .content_type("text/html")
                .insert_header((header::CONNECTION, "close"))
                .body(self.message());
        }
        let body = format!(
            "{{\"code\":{},\"message\":\"{}\"}}",
            self.code(),
            self.message()
        );
        response.content_type("application/json").body(body)
    }
}

/// The answer to a handshake from an address that has `max_sessions_per_ip` sessions open:
/// HTTP 429 with the reference's JSON error shape and its code for a refused request (4,
/// "Forbidden" in the reference, here with the reason), to polling and WebSocket alike.
pub(super) fn too_many_sessions() -> HttpResponse {
    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
        .content_type("application/json")
        .insert_header((header::CONNECTION, "close"))
        .body(r#"{"code":4,"message":"Too many connections"}"#)
}

/// Where a valid request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route<S> {
    /// A new session on this transport.
    Handshake(TransportKind),
    /// A request of an open session (`S` is how the engine holds it): a polling GET or POST,
    /// or a WebSocket that upgrades it.
    Session(S),
}

/// Checks a request in the reference server's order: transport, session (and its transport,
/// unless the request is a WebSocket upgrade), handshake method, WebSocket handshake without
/// upgrade, protocol version. `session` finds an open session and its current transport.
pub(super) fn route<S>(
    query: &EngineQuery,
    method: &Method,
    websocket_upgrade: bool,
    session: impl FnOnce(&str) -> Option<(S, TransportKind)>,
) -> Result<Route<S>, RequestError> {
    let transport: TransportKind = query
        .get("transport")
        .and_then(|name| name.parse().ok())
        .ok_or(RequestError::UnknownTransport)?;
    if websocket_upgrade && transport == TransportKind::Polling {
        return Err(RequestError::BadRequest);
    }
    let route = match query.get("sid") {
        Some(sid) => {
            let (found, current) = session(sid).ok_or(RequestError::UnknownSid)?;
            if !websocket_upgrade && current != transport {
                return Err(RequestError::BadRequest);
            }
            Route::Session(found)
        }
        None => {
            if method != Method::GET {
                return Err(RequestError::BadHandshakeMethod);
            }
            if transport == TransportKind::Websocket && !websocket_upgrade {
                return Err(RequestError::BadRequest);
            }
            Route::Handshake(transport)
        }
    };
    if query.get("EIO") != Some(PROTOCOL) {
        return Err(RequestError::UnsupportedProtocolVersion);
    }
    Ok(route)
}

/// Whether the request asks to switch to the WebSocket protocol.
pub(super) fn is_websocket_upgrade(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLLING: TransportKind = TransportKind::Polling;
    const WEBSOCKET: TransportKind = TransportKind::Websocket;

    /// Routes `query` where the only session is `abc`, on `current`.
    fn check(
        query: &str,
        method: Method,
        upgrade: bool,
        current: TransportKind,
    ) -> Result<Route<&'static str>, RequestError> {
        let query = EngineQuery::parse(query).unwrap();
        route(&query, &method, upgrade, |sid| {
            (sid == "abc").then_some(("abc", current))
        })
    }

    fn get(query: &str) -> Result<Route<&'static str>, RequestError> {
        check(query, Method::GET, false, POLLING)
    }

    #[test]
    fn handshakes_are_routed_by_transport() {
        assert_eq!(
            get("EIO=4&transport=polling"),
            Ok(Route::Handshake(POLLING))
        );
        assert_eq!(
            check("EIO=4&transport=websocket", Method::GET, true, POLLING),
            Ok(Route::Handshake(WEBSOCKET))
        );
        assert_eq!(
            get("transport=polling&EIO=4&t=Nx1"),
            Ok(Route::Handshake(POLLING))
        );
    }

    #[test]
    fn session_requests_are_routed_to_their_session() {
        assert_eq!(
            get("EIO=4&transport=polling&sid=abc"),
            Ok(Route::Session("abc"))
        );
        let post = check(
            "EIO=4&transport=polling&sid=abc",
            Method::POST,
            false,
            POLLING,
        );
        assert_eq!(post, Ok(Route::Session("abc")));
        let upgrade = check(
            "EIO=4&transport=websocket&sid=abc",
            Method::GET,
            true,
            POLLING,
        );
        assert_eq!(upgrade, Ok(Route::Session("abc")));
    }

    #[test]
    fn a_missing_or_unknown_transport_is_error_0() {
        assert_eq!(get("EIO=4"), Err(RequestError::UnknownTransport));
        assert_eq!(
            get("EIO=4&transport=abc"),
            Err(RequestError::UnknownTransport)
        );
        assert_eq!(
            get("transport=flash&sid=abc"),
            Err(RequestError::UnknownTransport)
        );
    }

    #[test]
    fn an_unknown_sid_is_error_1() {
        assert_eq!(
            get("EIO=4&transport=polling&sid=nope"),
            Err(RequestError::UnknownSid)
        );
    }

    #[test]
    fn a_handshake_other_than_get_is_error_2() {
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            let answer = check("EIO=4&transport=polling", method, false, POLLING);
            assert_eq!(answer, Err(RequestError::BadHandshakeMethod));
        }
    }

    #[test]
    fn mismatched_transports_are_error_3() {
        let after_upgrade = check(
            "EIO=4&transport=polling&sid=abc",
            Method::GET,
            false,
            WEBSOCKET,
        );
        assert_eq!(after_upgrade, Err(RequestError::BadRequest));
        let websocket_without_upgrade = get("EIO=4&transport=websocket");
        assert_eq!(websocket_without_upgrade, Err(RequestError::BadRequest));
        let polling_with_upgrade = check("EIO=4&transport=polling", Method::GET, true, POLLING);
        assert_eq!(polling_with_upgrade, Err(RequestError::BadRequest));
    }

    #[test]
    fn a_missing_or_other_protocol_version_is_error_5() {
        for query in [
            "transport=polling",
            "EIO=3&transport=polling",
            "EIO=abc&transport=polling",
        ] {
            assert_eq!(get(query), Err(RequestError::UnsupportedProtocolVersion));
        }
    }

    #[test]
    fn errors_answer_400_with_the_reference_json() {
        let cases = [
            (
                RequestError::UnknownTransport,
                r#"{"code":0,"message":"Transport unknown"}"#,
            ),
            (
                RequestError::UnknownSid,
                r#"{"code":1,"message":"Session ID unknown"}"#,
            ),
            (
                RequestError::BadHandshakeMethod,
                r#"{"code":2,"message":"Bad handshake method"}"#,
            ),
            (
                RequestError::BadRequest,
                r#"{"code":3,"message":"Bad request"}"#,
            ),
            (
                RequestError::UnsupportedProtocolVersion,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            ),
        ];
        for (error, json) in cases {
            let response = error.response(false);
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let content_type = response.headers().get(header::CONTENT_TYPE).unwrap();
            assert_eq!(content_type, "application/json");
            let body = actix_web::body::to_bytes(response.into_body());
            let body = futures_util::FutureExt::now_or_never(body)
                .unwrap()
                .unwrap();
            assert_eq!(body, json.as_bytes());
        }
    }

    #[test]
    fn errors_to_a_websocket_handshake_are_plain_text() {
        let response = RequestError::UnknownSid.response(true);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html"
        );
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let query = EngineQuery::parse("EIO=4&transport=polling&token=a%20b%2Bc").unwrap();
        assert_eq!(query.get("token"), Some("a b+c"));
        assert_eq!(query.pairs.len(), 3);
    }
}
