//! The server's configuration: one typed struct, read once from the environment (and `.env`),
//! with the seed's variable names. A bad value stops start-up with a message naming the
//! variable; secrets are never printed.

use std::net::IpAddr;
use std::time::Duration;

use chat_api::auth::{HashingLimits, JwtSettings, VerifyKey};
use chat_api::{ApiSettings, MetricsToken, TrustedProxies};
use chat_domain::{AccountRates, Directory, Policy, SendRate};
use chat_realtime::chat::RecoveryConfig;
use chat_store_pg::PgConfig;
use chat_webhooks::WebhookConfig;

pub use browser::{BrowserSettings, DEFAULT_CLIENT_DIR};
pub use cluster::ClusterSettings;

/// A configuration value that cannot work, named by its variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What is wrong, and what would be right.
    pub reason: String,
}

fn bad(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        reason: reason.into(),
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Readable lines, for a terminal.
    Pretty,
}

/// Socket.IO settings (`CHAT_SOCKET_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketSettings {
    /// How often the server pings each connection.
    pub ping_interval: Duration,
    /// How long a pong may take before the connection is dropped.
    pub ping_timeout: Duration,
    /// The largest packet a client may send, in bytes.
    pub max_payload: usize,
    /// Frames that may wait for one connection before it counts as too slow.
    pub outbound_queue: usize,
    /// Events from one connection that may wait to be handled before it counts as flooding.
    pub inbound_queue: usize,
    /// Rooms one connection may join.
    pub max_rooms: usize,
    /// How long a client may take to connect to a namespace after the handshake: a session
    /// without a token is closed then.
    pub connect_timeout: Duration,
    /// How long all the binary attachments of one packet may take to arrive.
    pub attachment_timeout: Duration,
    /// Engine.IO sessions one client IP address may have open at once (tokenless or not).
    pub max_connections_per_ip: usize,
    /// Sockets one user may have connected at once, over all devices.
    pub max_sockets_per_user: usize,
    /// Connection state recovery (`CHAT_SOCKET_RECOVERY`, `CHAT_RECOVERY_WINDOW_SECS`,
    /// `CHAT_RECOVERY_MAX_EVENTS`).
    pub recovery: RecoveryConfig,
}

/// Everything the server reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`CHAT_HOST`, default all interfaces).
    pub host: IpAddr,
    /// Port to listen on (`PORT`, default 3010; 0 picks a free one).
    pub port: u16,
    /// The database and pool (`DATABASE_URL` or `DB_*`, `CHAT_DB_*`).
    pub database: PgConfig,
    /// Origin allowed by CORS (`FRONTEND_URL`).
    pub frontend_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`CHAT_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Token verification (`JWT_SECRET`, or `JWT_PUBLIC_KEY[_FILE]` with `JWT_ALGORITHM`;
    /// `JWT_USER_CLAIM`, `JWT_LEEWAY_SECS`, `JWT_REQUIRE_EXP`).
    pub jwt: JwtSettings,
    /// Built-in accounts (`CHAT_BUILTIN_ACCOUNTS`, default on; needs `JWT_SECRET`).
    pub builtin_accounts: bool,
    /// The HTTP surface: body limit, admin token, token lifetime (`CHAT_MAX_BODY_BYTES`,
    /// `CHAT_ADMIN_TOKEN`, `CHAT_TOKEN_TTL_SECS`).
    pub api: ApiSettings,
    /// Log format (`LOG_FORMAT`: `pretty` or `json`).
    pub log_format: LogFormat,
    /// HTTP worker threads (`CHAT_WORKERS`, default one per core).
    pub workers: Option<usize>,
    /// How long in-flight requests may take to finish on shutdown (`CHAT_SHUTDOWN_TIMEOUT_SECS`).
    pub shutdown_timeout: Duration,
    /// The rules' knobs: input bounds, send rate, directory (`CHAT_MAX_*`, `CHAT_SEND_*`).
    pub policy: Policy,
    /// Socket.IO limits and heartbeat (`CHAT_SOCKET_*`).
    pub sockets: SocketSettings,
    /// How often built-in accounts may be tried (`CHAT_LOGIN_RATE_PER_MIN`,
    /// `CHAT_LOGIN_BURST`, `CHAT_LOGIN_IP_RATE_PER_MIN`, `CHAT_LOGIN_IP_BURST`,
    /// `CHAT_REGISTER_RATE_PER_MIN`, `CHAT_REGISTER_BURST`).
    pub account_rates: AccountRates,
    /// Password hashes computed at once and waiting (`CHAT_HASH_CONCURRENCY`, `CHAT_HASH_QUEUE`).
    pub hashing: HashingLimits,
    /// How long a request body may take to arrive in full (`CHAT_BODY_TIMEOUT_SECS`).
    pub body_timeout: Duration,
    /// The cluster this node is part of (`REDIS_URL`, `CHAT_REDIS_PREFIX`,
    /// `CHAT_PRESENCE_TTL_SECS`); `None` runs the node alone.
    pub cluster: Option<ClusterSettings>,
    /// The bearer token `/metrics` asks for (`CHAT_METRICS_TOKEN`); `None` serves it openly.
    pub metrics_token: Option<MetricsToken>,
    /// Webhooks for offline users (`CHAT_WEBHOOK_*`); `None` sends none.
    pub webhooks: Option<WebhookConfig>,
    /// The client bundle and the web app (`CHAT_SERVE_CLIENT`, `CHAT_CLIENT_DIR`, `CHAT_WEB_APP`).
    pub browser: BrowserSettings,
    /// The scheduled-message loops (`CHAT_SCHEDULE_POLL_MS`, `CHAT_SCHEDULE_BATCH`,
    /// `CHAT_SCHEDULE_CONCURRENCY`).
    pub schedule: crate::scheduled::ScheduleSettings,
}

/// Reads variables by name; the process environment in production, a map in tests.
pub trait Source {
    /// The value of `name`, if set and not empty.
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name).filter(|v| !v.trim().is_empty())
    }
}

/// The process environment (after `.env` was loaded into it).
pub fn environment() -> impl Source {
    |name: &str| std::env::var(name).ok()
}

fn parsed<T: std::str::FromStr>(
    src: &impl Source,
    var: &'static str,
    default: T,
    expected: &str,
) -> Result<T, ConfigError> {
    match src.get(var) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| bad(var, format!("expected {expected}, got {raw:?}"))),
    }
}

impl Config {
    /// Reads and validates the whole configuration.
    pub fn from_source(src: &impl Source) -> Result<Config, ConfigError> {
        let port = parsed(src, "PORT", 3010u16, "a port number (0-65535)")?;
        let host = parsed(
            src,
            "CHAT_HOST",
            IpAddr::from([0, 0, 0, 0]),
            "an IP address",
        )?;
        let log_format = match src.get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("expected pretty or json, got {other:?}"),
                ));
            }
        };
        let workers = match src.get("CHAT_WORKERS") {
            None => None,
            Some(_) => Some(positive(src, "CHAT_WORKERS", 1)?),
        };
        let shutdown_secs = parsed(
            src,
            "CHAT_SHUTDOWN_TIMEOUT_SECS",
            30u64,
            "a number of seconds",
        )?;
        let limits = limits::limits(src)?;
        let defaults = SendRate::default();
        let send_rate = SendRate {
            per_second: parsed(
                src,
                "CHAT_SEND_RATE_PER_SEC",
                defaults.per_second,
                "a number of messages per second",
            )?,
            burst: u32::try_from(positive(src, "CHAT_SEND_BURST", defaults.burst as usize)?)
                .map_err(|_| bad("CHAT_SEND_BURST", "is too large"))?,
        };
        if !(send_rate.per_second.is_finite() && send_rate.per_second > 0.0) {
            return Err(bad("CHAT_SEND_RATE_PER_SEC", "expected a positive number"));
        }
        let jwt = jwt(src)?;
        let builtin_accounts = parsed(src, "CHAT_BUILTIN_ACCOUNTS", true, "true or false")?;
        if builtin_accounts && !matches!(jwt.key, VerifyKey::Hs256Secret(_)) {
            return Err(bad(
                "CHAT_BUILTIN_ACCOUNTS",
                "built-in accounts sign tokens with JWT_SECRET; set CHAT_BUILTIN_ACCOUNTS=false when verifying with a public key",
            ));
        }
        let api = ApiSettings {
            max_body_bytes: positive(src, "CHAT_MAX_BODY_BYTES", 64 * 1024)?,
            admin_token: src.get("CHAT_ADMIN_TOKEN"),
            token_ttl: Duration::from_secs(parsed(
                src,
                "CHAT_TOKEN_TTL_SECS",
                86_400u64,
                "a number of seconds",
            )?),
        };
        if api.admin_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(bad("CHAT_ADMIN_TOKEN", "must be at least 16 characters"));
        }
        let millis = |var: &'static str, default: usize| {
            positive(src, var, default)
                .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)))
        };
        let sockets = SocketSettings {
            ping_interval: millis("CHAT_SOCKET_PING_INTERVAL_MS", 25_000)?,
            ping_timeout: millis("CHAT_SOCKET_PING_TIMEOUT_MS", 20_000)?,
            max_payload: positive(src, "CHAT_SOCKET_MAX_PAYLOAD", 1_000_000)?,
            outbound_queue: positive(src, "CHAT_SOCKET_QUEUE", 1024)?,
            inbound_queue: positive(src, "CHAT_SOCKET_INBOUND_QUEUE", 256)?,
            max_rooms: positive(src, "CHAT_SOCKET_MAX_ROOMS", 100)?,
            connect_timeout: millis("CHAT_SOCKET_CONNECT_TIMEOUT_MS", 10_000)?,
            attachment_timeout: millis("CHAT_SOCKET_ATTACHMENT_TIMEOUT_MS", 20_000)?,
            max_connections_per_ip: positive(src, "CHAT_MAX_CONNECTIONS_PER_IP", 1000)?,
            max_sockets_per_user: positive(src, "CHAT_MAX_SOCKETS_PER_USER", 20)?,
            recovery: recovery::recovery(src)?,
        };
        let webhooks = webhooks::webhooks(src)?;
        let mut database = database(src)?;
        database.webhook_outbox = webhooks.is_some();
        let (account_rates, hashing) =
            (credentials::account_rates(src)?, credentials::hashing(src)?);
        let body_timeout = Duration::from_secs(
            u64::try_from(positive(src, "CHAT_BODY_TIMEOUT_SECS", 10)?).unwrap_or(u64::MAX),
        );
        Ok(Config {
            cluster: cluster::cluster(src)?,
            metrics_token: credentials::metrics_token(src)?,
            webhooks,
            browser: browser::browser(src)?,
            schedule: crate::scheduled::ScheduleSettings {
                poll: Duration::from_millis(
                    u64::try_from(positive(src, "CHAT_SCHEDULE_POLL_MS", 250)?).unwrap_or(u64::MAX),
                ),
                batch: u32::try_from(positive(src, "CHAT_SCHEDULE_BATCH", 1_000)?)
                    .unwrap_or(u32::MAX),
                concurrency: positive(src, "CHAT_SCHEDULE_CONCURRENCY", 4)?,
            },
            account_rates,
            hashing,
            body_timeout,
            sockets,
            host,
            port,
            database,
            frontend_url: network::frontend_url(src)?,
            trusted_proxies: network::trusted_proxies(src)?,
            jwt,
            builtin_accounts,
            api,
            log_format,
            workers,
            shutdown_timeout: Duration::from_secs(shutdown_secs),
            policy: Policy {
                limits,
                send_rate,
                directory: if builtin_accounts {
                    Directory::Everyone
                } else {
                    Directory::Contacts
                },
            },
        })
    }
}

fn positive(src: &impl Source, var: &'static str, default: usize) -> Result<usize, ConfigError> {
    let value = parsed(src, var, default, "a positive number")?;
    if value == 0 {
        return Err(bad(var, "expected a positive number, got 0"));
    }
    Ok(value)
}

fn database(src: &impl Source) -> Result<PgConfig, ConfigError> {
    // DB_SYNC is the seed's switch for creating tables; migrations always run here, so the
    // value is only checked.
    parsed(src, "DB_SYNC", true, "true or false")?;
    let url = match src.get("DATABASE_URL") {
        Some(url) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(bad("DATABASE_URL", "expected a postgres:// URL"));
            }
            url
        }
        None => {
            let name = src.get("DB_NAME").ok_or_else(|| {
                bad("DATABASE_URL", "set DATABASE_URL, or DB_NAME with DB_HOST, DB_PORT, DB_USERNAME and DB_PASSWORD")
            })?;
            let host = src.get("DB_HOST").unwrap_or_else(|| "localhost".into());
            let port = parsed(src, "DB_PORT", 5432u16, "a port number (1-65535)")?;
            if port == 0 {
                return Err(bad("DB_PORT", "expected a port number (1-65535), got 0"));
            }
            let user = src.get("DB_USERNAME").unwrap_or_else(|| "postgres".into());
            let credentials = match src.get("DB_PASSWORD") {
                Some(password) => format!("{}:{}", encode(&user), encode(&password)),
                None => encode(&user),
            };
            format!("postgres://{credentials}@{host}:{port}/{}", encode(&name))
        }
    };
    let mut config = PgConfig::new(url);
    if let Some(schema) = src.get("CHAT_DB_SCHEMA") {
        config.schema = schema;
    }
    if let Some(language) = src.get("CHAT_SEARCH_LANGUAGE") {
        // Configuration names are lowercase identifiers; start-up checks that it exists.
        config.search_language = language.trim().to_ascii_lowercase();
    }
    config.max_connections = positive(src, "CHAT_DB_POOL_SIZE", config.max_connections)?;
    config.write_lanes = positive(src, "CHAT_DB_WRITE_LANES", config.write_lanes)?;
    config.max_write_batch = positive(src, "CHAT_DB_WRITE_BATCH", config.max_write_batch)?;
    let acquire_ms = positive(src, "CHAT_DB_ACQUIRE_TIMEOUT_MS", 5_000)?;
    config.acquire_timeout = Duration::from_millis(u64::try_from(acquire_ms).unwrap_or(u64::MAX));
    Ok(config)
}

fn jwt(src: &impl Source) -> Result<JwtSettings, ConfigError> {
    let pem = match (src.get("JWT_PUBLIC_KEY"), src.get("JWT_PUBLIC_KEY_FILE")) {
        (Some(pem), _) => Some(pem.replace("\\n", "\n")),
        (None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| bad("JWT_PUBLIC_KEY_FILE", format!("cannot read {path:?}: {e}")))?,
        ),
        (None, None) => None,
    };
    let algorithm = src
        .get("JWT_ALGORITHM")
        .map(|a| a.trim().to_ascii_uppercase());
    let key = match (pem, src.get("JWT_SECRET")) {
        (Some(pem), _) => {
            if !pem.contains("-----BEGIN") {
                return Err(bad("JWT_PUBLIC_KEY", "expected a PEM public key"));
            }
            match algorithm.as_deref().unwrap_or("RS256") {
                "RS256" => VerifyKey::Rs256Pem(pem),
                "ES256" => VerifyKey::Es256Pem(pem),
                other => {
                    return Err(bad(
                        "JWT_ALGORITHM",
                        format!("a public key needs RS256 or ES256, got {other:?}"),
                    ));
                }
            }
        }
        (None, Some(secret)) => {
            if algorithm.as_deref().is_some_and(|a| a != "HS256") {
                return Err(bad(
                    "JWT_ALGORITHM",
                    "JWT_SECRET is used with HS256 only; set JWT_PUBLIC_KEY for RS256 or ES256",
                ));
            }
            VerifyKey::Hs256Secret(secret)
        }
        (None, None) => {
            return Err(bad(
                "JWT_SECRET",
                "is required to verify tokens (or set JWT_PUBLIC_KEY / JWT_PUBLIC_KEY_FILE); `cargo xtask run` generates one for development",
            ));
        }
    };
    Ok(JwtSettings {
        key,
        user_claim: src.get("JWT_USER_CLAIM").unwrap_or_else(|| "id".into()),
        leeway: Duration::from_secs(parsed(
            src,
            "JWT_LEEWAY_SECS",
            30u64,
            "a number of seconds",
        )?),
        require_exp: parsed(src, "JWT_REQUIRE_EXP", true, "true or false")?,
    })
}

/// Percent-encodes a URL component (user, password, database name).
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

mod browser;
mod cluster;
mod credentials;
mod limits;
mod network;
mod recovery;
#[cfg(test)]
mod tests;
mod webhooks;
