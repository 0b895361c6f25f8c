//! Scenario `group-send`: closed-loop clients sending `POST /api/chat/conversations/{id}/messages`
//! back to back, each into a group of its own (like the calibration's one conversation per
//! client), each send from the next of its group's members in turn.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::Ctx;
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::rest_send::{self, Target};
use crate::users;

/// Clients, each sending into a group of its own.
const CLIENTS: usize = 16;
/// Members of each group, its creator included.
const MEMBERS: usize = 50;
/// The first id of this scenario's users, after those of the other scenarios.
const BASE: i64 = 8_000_000;

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let outcome = tokio::time::timeout(ctx.duration() + Duration::from_secs(180), once(ctx))
        .await
        .context("group-send did not finish in time")??;
    outcome.print_json()?;
    Ok(vec![outcome])
}

/// One client's group: its members' tokens, sending in turn.
struct GroupSenders {
    /// The members' tokens.
    tokens: Vec<String>,
    /// The member who sends next.
    next: usize,
    /// Where the sends go.
    path: String,
    /// The body of every send.
    body: Vec<u8>,
}

impl Target for GroupSenders {
    fn next(&mut self) -> (&str, &str, &[u8]) {
        let sender = self.next % self.tokens.len();
        self.next = sender + 1;
        (&self.tokens[sender], &self.path, &self.body)
    }
}

/// Creates the groups (one send into each, not measured, as a first send would), then
/// measures.
async fn once(ctx: &Ctx) -> Result<Outcome> {
    let ids: Vec<i64> = (1..=i64::try_from(CLIENTS * MEMBERS)?)
        .map(|i| BASE + i)
        .collect();
    let tokens = users::seed(ctx.addr, &ctx.secret, &ids).await?;
    let mut conn = HttpConn::new(ctx.addr);
    let mut targets = Vec::with_capacity(CLIENTS);
    for (members, tokens) in ids.chunks(MEMBERS).zip(tokens.chunks(MEMBERS)) {
        let group = users::create_group(&mut conn, &tokens[0], "bench", &members[1..]).await?;
        let path = users::conversation_send_path(group);
        let body = users::conversation_send_body();
        let (seq, _) = users::post_message(&mut conn, &tokens[0], &path, &body).await?;
        if seq != 1 {
            bail!("group {group}: the first send got seq {seq}");
        }
        targets.push(GroupSenders {
            tokens: tokens.to_vec(),
            next: 1,
            path,
            body,
        });
    }
    let mut details = serde_json::Map::new();
    details.insert("clients".into(), json!(CLIENTS));
    details.insert("members".into(), json!(MEMBERS));
    rest_send::measure(ctx, format!("group-send/{CLIENTS}"), targets, details).await
}
