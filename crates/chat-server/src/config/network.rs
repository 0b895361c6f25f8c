//! Where clients come from: the browser origin CORS admits, and the reverse proxies whose
//! `X-Forwarded-For` is believed.

use chat_api::TrustedProxies;

use super::{ConfigError, Source, bad};

/// `FRONTEND_URL`: an http(s) origin, without a trailing slash.
pub(super) fn frontend_url(src: &impl Source) -> Result<Option<String>, ConfigError> {
    match src.get("FRONTEND_URL") {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(Some(url.trim_end_matches('/').to_owned()))
        }
        Some(url) => Err(bad(
            "FRONTEND_URL",
            format!("expected an http(s) origin, got {url:?}"),
        )),
        None => Ok(None),
    }
}

/// `CHAT_TRUSTED_PROXIES`: addresses and CIDR networks, comma-separated; none by default.
pub(super) fn trusted_proxies(src: &impl Source) -> Result<TrustedProxies, ConfigError> {
    TrustedProxies::parse(&src.get("CHAT_TRUSTED_PROXIES").unwrap_or_default()).map_err(|entry| {
        bad(
            "CHAT_TRUSTED_PROXIES",
            format!("{entry:?} is neither an IP address nor a CIDR network (e.g. 10.0.0.0/8)"),
        )
    })
}
