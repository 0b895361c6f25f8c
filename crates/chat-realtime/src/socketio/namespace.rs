//! Namespaces: the multiplexing key of Socket.IO, a path such as `/` or `/admin`.

use std::{fmt, sync::Arc};

use super::error::ParseError;

/// A valid namespace name. Cheap to clone; the main namespace `/` costs no allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace(Name);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Name {
    Main,
    Other(Arc<str>),
}

impl Namespace {
    /// The main namespace `/`, which packets leave implicit.
    pub const MAIN: Self = Self(Name::Main);

    /// Validates a namespace name: a `/` followed by characters that a client's URL path can
    /// hold and that the packet encoding can frame. Refused: `,` (it ends the namespace in a
    /// packet), control characters and whitespace, and `"` `{` `}` `?` `#` (which a URL path
    /// escapes, and which here betray a missing `,` before a JSON payload).
    pub fn parse(name: &str) -> Result<Self, ParseError> {
        let valid = name.starts_with('/')
            && !name.chars().any(|c| {
                c.is_control()
                    || c.is_whitespace()
                    || matches!(c, ',' | '"' | '{' | '}' | '?' | '#')
            });
        match name {
            "/" => Ok(Self::MAIN),
            _ if valid => Ok(Self(Name::Other(Arc::from(name)))),
            _ => Err(ParseError::InvalidNamespace(name.to_owned())),
        }
    }

    /// The name, `/` for the main namespace.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Name::Main => "/",
            Name::Other(name) => name,
        }
    }

    /// Whether this is the main namespace `/`.
    pub fn is_main(&self) -> bool {
        self.0 == Name::Main
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Self::MAIN
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_namespace_is_normalised() {
        assert_eq!(Namespace::parse("/").unwrap(), Namespace::MAIN);
        assert!(Namespace::parse("/").unwrap().is_main());
        assert_eq!(Namespace::default().as_str(), "/");
    }

    #[test]
    fn paths_are_accepted() {
        for name in [
            "/admin",
            "/a/b",
            "/caf%C3%A9",
            "/user_1-2.x~",
            "/café",
            "/[x]",
        ] {
            assert_eq!(Namespace::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn bad_namespaces_are_refused() {
        for name in [
            "", "admin", "/a,b", "/a b", "/a\n", "/\u{0}", "/{}", "/a\"", "/a?b", "/a#b",
        ] {
            assert!(
                matches!(Namespace::parse(name), Err(ParseError::InvalidNamespace(n)) if n == name),
                "{name:?} should be refused"
            );
        }
    }
}
