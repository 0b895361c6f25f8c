//! Bearer credentials (RFC 6750), read the same way by REST's `Authorization` header and by a
//! Socket.IO handshake (its header, or the `auth.token` a browser client sends instead).

/// The token of an `Authorization` value `Bearer <token>`: the scheme in any case (RFC 7235
/// schemes are case-insensitive), then one or more spaces, the token; surrounding whitespace
/// trimmed. `None` for another scheme, a missing separator or an empty token.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The token of a Socket.IO handshake's `auth.token`, which clients send bare or, copying the
/// header, as `Bearer <token>`: the token either way, trimmed.
pub fn handshake_token(value: &str) -> &str {
    bearer_token(value).unwrap_or_else(|| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_bearer_in_any_case_and_the_token_is_trimmed() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("  bearer   abc  "), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        for refused in [
            "",
            "Bearer",
            "Bearer ",
            "Basic abc",
            "Bearerabc",
            "abc",
            "Bearer\tabc",
        ] {
            assert_eq!(bearer_token(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_handshake_token_may_come_with_or_without_the_scheme() {
        assert_eq!(handshake_token("abc"), "abc");
        assert_eq!(handshake_token("Bearer abc"), "abc");
        assert_eq!(handshake_token("bearer abc "), "abc");
    }
}
