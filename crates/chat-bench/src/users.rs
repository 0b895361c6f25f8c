//! Bench users: HS256 tokens minted here, users created by their first request, a small RNG.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use futures_util::{StreamExt, TryStreamExt};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

use crate::http::HttpConn;

/// How long minted tokens live (longer than any run).
const TOKEN_TTL_SECS: i64 = 6 * 3600;

/// The claims the server reads: the user id, a name, the expiry.
#[derive(Debug, Serialize)]
struct Claims {
    /// User id (the server's default `JWT_USER_CLAIM`).
    id: i64,
    /// The name the user gets when the server first sees it.
    username: String,
    /// Expiry, seconds since the epoch.
    exp: i64,
}

/// A token for user `id`, signed with the server's secret.
pub(crate) fn token(secret: &str, id: i64) -> Result<String> {
    let claims = Claims {
        id,
        username: format!("bench{id}"),
        exp: chrono::Utc::now().timestamp() + TOKEN_TTL_SECS,
    };
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("signing a token")
}

/// Mints a token for each id and creates the users through `GET /api/users/me` (the server
/// provisions a user on its first authenticated request); returns the tokens in order.
pub(crate) async fn seed(addr: SocketAddr, secret: &str, ids: &[i64]) -> Result<Vec<String>> {
    let tokens = ids
        .iter()
        .map(|&id| token(secret, id))
        .collect::<Result<Vec<_>>>()?;
    futures_util::stream::iter(tokens.chunks(32).map(|chunk| async move {
        let mut conn = HttpConn::new(addr);
        for token in chunk {
            let response = conn
                .request("GET", "/api/users/me", Some(token), None)
                .await?;
            if response.status != 200 {
                bail!(
                    "GET /api/users/me answered {}: {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                );
            }
        }
        Ok(())
    }))
    .buffer_unordered(8)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(tokens)
}

/// Sends one message over REST; returns its seq and conversation id.
pub(crate) async fn send(conn: &mut HttpConn, token: &str, receiver: i64) -> Result<(u64, i64)> {
    post_message(conn, token, "/api/chat/send", &send_body(receiver)).await
}

/// Posts one message (`body` to `path`, answered 201); returns its seq and conversation id.
pub(crate) async fn post_message(
    conn: &mut HttpConn,
    token: &str,
    path: &str,
    body: &[u8],
) -> Result<(u64, i64)> {
    let response = conn.request("POST", path, Some(token), Some(body)).await?;
    if response.status != 201 {
        bail!(
            "send answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    let body = response.json()?;
    let data = &body["data"];
    let seq = data["seq"]
        .as_u64()
        .context("no data.seq in the send's answer")?;
    let conversation = data["conversation_id"]
        .as_i64()
        .context("no data.conversation_id in the send's answer")?;
    Ok((seq, conversation))
}

/// Creates a group (`POST /api/chat/groups`) owned by `token`'s user with `members` besides
/// it; returns the group's conversation id.
pub(crate) async fn create_group(
    conn: &mut HttpConn,
    token: &str,
    title: &str,
    members: &[i64],
) -> Result<i64> {
    let body = serde_json::json!({ "title": title, "memberIds": members }).to_string();
    let response = conn
        .request(
            "POST",
            "/api/chat/groups",
            Some(token),
            Some(body.as_bytes()),
        )
        .await?;
    if response.status != 201 {
        bail!(
            "creating a group answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    response.json()?["data"]["id"]
        .as_i64()
        .context("no data.id in the group's answer")
}

/// Where a send into conversation `id` goes (`POST`, any conversation the sender is in).
pub(crate) fn conversation_send_path(id: i64) -> String {
    format!("/api/chat/conversations/{id}/messages")
}

/// The body of a send into a conversation by id: the same text as [`send_body`].
pub(crate) fn conversation_send_body() -> Vec<u8> {
    format!(r#"{{"content":"{MESSAGE}"}}"#).into_bytes()
}

/// The body of a send from the bench: a fixed-length text, like the calibration's.
pub(crate) fn send_body(receiver: i64) -> Vec<u8> {
    format!(r#"{{"receiverId":{receiver},"content":"{MESSAGE}"}}"#).into_bytes()
}

/// The text every bench message carries (the pgbench calibration stores one as long).
pub(crate) const MESSAGE: &str = "benchmark message: the quick brown fox jumps";

/// A xorshift generator: enough to shuffle users, no dependency.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// Seeded with `seed`: the same seed gives the same numbers.
    pub(crate) fn new(seed: u64) -> Self {
        // Spread small seeds over the bits; xorshift must not start at zero.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Seeded from the clock.
    pub(crate) fn from_clock() -> Self {
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(1);
        Self(nanos.unsigned_abs() | 1)
    }

    /// Seeded from the clock and `salt`, so that generators made at once differ.
    pub(crate) fn seeded(salt: u64) -> Self {
        let clock = Self::from_clock().0;
        Self((clock ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.next() % (i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}
