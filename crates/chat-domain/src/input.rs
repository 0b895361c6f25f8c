//! Client input parsed once into values that are valid by construction.

use serde::{Deserialize, Serialize};

use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;

use crate::{ChatError, Limits, case_key, nfc};

/// Rejects the characters that no text column may hold (PostgreSQL refuses NUL) and that no
/// client means to send.
pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), ChatError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ChatError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// The text of a message: not blank, within the configured length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBody(String);

impl MessageBody {
    /// Validates raw content from a client.
    pub fn parse(raw: impl Into<String>, limits: &Limits) -> Result<Self, ChatError> {
        let raw = raw.into();
        if raw.trim().is_empty() {
            return Err(ChatError::invalid("content", "must not be empty"));
        }
        if raw.chars().count() > limits.max_message_chars {
            return Err(ChatError::invalid(
                "content",
                format!("must be at most {} characters", limits.max_message_chars),
            ));
        }
        check_text("content", &raw)?;
        Ok(MessageBody(raw))
    }

    /// The validated text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A link to an attachment: an absolute http(s) URL, so that no `javascript:` or `data:` URL
/// ever reaches another user's client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentUrl(String);

impl AttachmentUrl {
    /// Validates a URL from a client.
    pub fn parse(raw: impl Into<String>, limits: &Limits) -> Result<Self, ChatError> {
        Self::parse_field("attachmentUrl", raw, limits)
    }

    /// Validates a URL from a client given in `field` (a group's `avatarUrl` follows the same
    /// rule).
    pub fn parse_field(
        field: &'static str,
        raw: impl Into<String>,
        limits: &Limits,
    ) -> Result<Self, ChatError> {
        let raw = raw.into();
        if raw.len() > limits.max_attachment_url_len {
            return Err(ChatError::invalid(
                field,
                format!("must be at most {} bytes", limits.max_attachment_url_len),
            ));
        }
        let lower = raw.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(|| ChatError::invalid(field, "must be an absolute http(s) URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ChatError::invalid(field, "must be an absolute http(s) URL"));
        }
        Ok(AttachmentUrl(raw))
    }

    /// The validated URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A search term: not blank, bounded, matched literally (no wildcards) and case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    /// Validates a query from a client; surrounding whitespace is not part of it.
    pub fn parse(raw: &str, limits: &Limits) -> Result<Self, ChatError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ChatError::invalid("q", "must not be empty"));
        }
        if trimmed.chars().count() > limits.max_search_chars {
            return Err(ChatError::invalid(
                "q",
                format!("must be at most {} characters", limits.max_search_chars),
            ));
        }
        check_text("q", trimmed)?;
        Ok(SearchQuery(trimmed.to_owned()))
    }

    /// The term to look for, literally.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The term's case-insensitive key ([`case_key`]), which user search compares with the
    /// keys of usernames.
    pub fn key(&self) -> String {
        case_key(&self.0)
    }
}

/// Refuses the characters that make two names look alike and compare apart: invisible format
/// characters (General_Category Cf: zero-width space and joiners, soft hyphen, the
/// bidirectional embeddings, overrides and isolates U+202A-202E and U+2066-2069, ...).
fn check_visible(field: &'static str, value: &str) -> Result<(), ChatError> {
    let categories = CodePointMapData::<GeneralCategory>::new();
    if value
        .chars()
        .any(|c| categories.get(c) == GeneralCategory::Format)
    {
        return Err(ChatError::invalid(
            field,
            "must not contain invisible or text-direction characters",
        ));
    }
    Ok(())
}

/// A user's display handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    /// Longest accepted username, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Validates a username from a token, an admin call or a registration: trimmed, in NFC
    /// (so that one name typed two ways is one name), without control or invisible
    /// characters.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ChatError> {
        let raw = nfc(&raw.into());
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ChatError::invalid("username", "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ChatError::invalid(
                "username",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        check_text("username", trimmed)?;
        check_visible("username", trimmed)?;
        Ok(Username(trimmed.to_owned()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name's case-insensitive key ([`case_key`]): what login, "unique ignoring case" and
    /// user search compare.
    pub fn key(&self) -> String {
        case_key(&self.0)
    }
}

/// An id the client picks for a send, so that a retried send can be recognised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientMessageId(String);

impl ClientMessageId {
    /// Longest accepted client message id, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Validates a client message id; the prefix `scheduled:` is the server's
    /// ([`crate::SCHEDULED_CLIENT_ID_PREFIX`]).
    pub fn parse(raw: impl Into<String>) -> Result<Self, ChatError> {
        let id = Self::parse_field("clientMessageId", raw)?;
        if id.0.starts_with(crate::SCHEDULED_CLIENT_ID_PREFIX) {
            return Err(ChatError::invalid(
                "clientMessageId",
                "must not start with \"scheduled:\" (the server's own prefix)",
            ));
        }
        Ok(id)
    }

    /// The id a scheduled message is sent with: `scheduled:<id>`.
    pub fn scheduled(id: crate::ScheduledId) -> Self {
        ClientMessageId(format!("{}{id}", crate::SCHEDULED_CLIENT_ID_PREFIX))
    }

    /// Validates a client-chosen id given in `field` (`clientRequestId` for a group's
    /// creation follows the same rule).
    pub fn parse_field(field: &'static str, raw: impl Into<String>) -> Result<Self, ChatError> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ChatError::invalid(
                field,
                format!("must be 1 to {} bytes", Self::MAX_LEN),
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ChatError::invalid(
                field,
                "must be printable ASCII without spaces",
            ));
        }
        Ok(ClientMessageId(raw))
    }

    /// The validated id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: ChatError) -> &'static str {
        match err {
            ChatError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn message_body_rejects_blank_oversized_and_nul() {
        let limits = Limits {
            max_message_chars: 5,
            ..Limits::default()
        };
        assert_eq!(
            field_of(MessageBody::parse("", &limits).unwrap_err()),
            "content"
        );
        assert!(MessageBody::parse(" \n\t ", &limits).is_err());
        assert!(MessageBody::parse("123456", &limits).is_err());
        assert!(MessageBody::parse("a\0b", &limits).is_err());
        assert_eq!(
            MessageBody::parse("héllo", &limits).unwrap().as_str(),
            "héllo"
        );
        assert!(MessageBody::parse("a\nb", &limits).is_ok());
    }

    #[test]
    fn attachment_url_accepts_only_absolute_http() {
        let limits = Limits::default();
        for good in [
            "https://cdn.example.com/a.png",
            "http://h/x?y=1",
            "HTTPS://H.COM",
        ] {
            assert!(AttachmentUrl::parse(good, &limits).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative.png",
            "https://",
            "https:///path",
            "ftp://host/file",
            "https://host/a b",
        ] {
            assert_eq!(
                field_of(AttachmentUrl::parse(bad, &limits).unwrap_err()),
                "attachmentUrl"
            );
        }
        let long = format!("https://h/{}", "a".repeat(3000));
        assert!(AttachmentUrl::parse(long, &limits).is_err());
    }

    #[test]
    fn search_query_is_trimmed_and_bounded() {
        let limits = Limits::default();
        assert_eq!(
            SearchQuery::parse("  50%_off ", &limits).unwrap().as_str(),
            "50%_off"
        );
        assert_eq!(
            field_of(SearchQuery::parse("   ", &limits).unwrap_err()),
            "q"
        );
        assert!(SearchQuery::parse(&"x".repeat(201), &limits).is_err());
    }

    #[test]
    fn username_and_client_message_id_are_bounded() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse(" ").is_err());
        assert!(Username::parse("a".repeat(65)).is_err());
        assert!(ClientMessageId::parse("c-1").is_ok());
        assert!(ClientMessageId::parse("").is_err());
        assert!(ClientMessageId::parse("has space").is_err());
        assert!(ClientMessageId::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn usernames_are_nfc_and_refuse_invisible_and_direction_characters() {
        let composed = Username::parse("Jos\u{e9}").unwrap();
        assert_eq!(Username::parse("Jose\u{301}").unwrap(), composed);
        for hidden in [
            "ali\u{200b}ce",
            "ali\u{200d}ce",
            "\u{feff}alice",
            "al\u{ad}ice",
            "\u{202e}ecila",
            "\u{2066}alice\u{2069}",
            "alice\u{202a}",
        ] {
            assert_eq!(
                field_of(Username::parse(hidden).unwrap_err()),
                "username",
                "{hidden:?}"
            );
        }
        assert_eq!(Username::parse("İlker").unwrap().key(), "ilker");
    }
}
