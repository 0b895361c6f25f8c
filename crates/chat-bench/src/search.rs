//! Scenario `search`: the two searches against a large stored history, seeded as `history`'s
//! (same sizes, users, conversations and groups) but with words that vary: each message ends
//! in `w<n>` (n in 0..1000, each in about one message in 1,000) and `t<n>` (n in 0..10, each in
//! one message in 10). At each size one client measures, as the reader in 1,000 groups, a
//! word search across everything it can see (`GET /api/chat/search?q=w123`) and a common word
//! (`q=t4`); as a member of the big conversation, the same rare word across its conversations
//! and the seed's substring search in the big conversation
//! (`GET /api/chat/conversations/:id/search?q=w123`).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::Ctx;
use crate::history::{self, BASE, Size};
use crate::history_extras::Query;
use crate::history_groups::{self, GROUPS};
use crate::report::Outcome;
use crate::users::MESSAGE;

/// The whole scenario's bound.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(900);
/// The rare word searched for (in about one message in 1,000).
const RARE: &str = "w123";
/// The common word searched for (in one message in 10).
const COMMON: &str = "t4";

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    tokio::time::timeout(SCENARIO_TIMEOUT, all(ctx))
        .await
        .context("search did not finish in time")?
}

/// Each message's text: the benchmark sentence and two words that vary with the conversation
/// and the seq (7,919 is prime to 1,000, so every `w` word comes round in a long conversation).
fn content() -> String {
    format!("'{MESSAGE} w' || ((s * 7919 + c.id * 31) % 1000) || ' t' || ((s * 3 + c.id) % 10)")
}

async fn all(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let db = ctx
        .db
        .clone()
        .context("search seeds its data with psql and needs --db-url")?;
    let requests = if ctx.quick { 100 } else { 1_000 };
    let mut outcomes = Vec::new();
    let mut small: Vec<(String, f64, f64)> = Vec::new();
    for size in history::sizes(ctx.quick) {
        eprintln!(
            "chat-bench: search/{}: seeding {} messages",
            size.label, size.total
        );
        let seeding = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || history::seed(&db, size, &content()))
                .await
                .context("the seeding thread panicked")??
        };
        let measured = history::measure(ctx, "search", size, &queries(), requests, check).await?;
        for mut outcome in measured {
            let query = history::query_of(&outcome);
            if query == "word-everywhere" {
                let d = &mut outcome.details;
                d.insert("stored_messages".into(), json!(size.total));
                d.insert("reader_groups".into(), json!(GROUPS));
                d.insert(
                    "reader_visible_messages".into(),
                    json!(GROUPS * size.group_messages),
                );
                d.insert("big_conversation_messages".into(), json!(size.big));
                d.insert("seed_s".into(), json!((seeding * 10.0).round() / 10.0));
            }
            history::relate_to_small(&mut small, query, &mut outcome);
            outcome.print_json()?;
            outcomes.push(outcome);
        }
    }
    Ok(outcomes)
}

/// The measured queries: name, request path and who asks.
fn queries() -> [Query; 4] {
    let conversation = BASE + 1;
    let reader = history_groups::reader(BASE);
    [
        (
            "word-everywhere",
            format!("/api/chat/search?q={RARE}"),
            reader,
        ),
        (
            "common-word-everywhere",
            format!("/api/chat/search?q={COMMON}"),
            reader,
        ),
        (
            "word-everywhere-direct",
            format!("/api/chat/search?q={RARE}"),
            conversation,
        ),
        (
            "substring-big",
            format!("/api/chat/conversations/{conversation}/search?q={RARE}&limit=20"),
            conversation,
        ),
    ]
}

/// Checks that an answer found messages, each holding the word it was asked for.
fn check(name: &str, body: &Value, _size: Size) -> Result<()> {
    let data = body.get("data").unwrap_or(body);
    let (word, messages): (&str, Vec<&Value>) = if name == "substring-big" {
        let list = data["messages"].as_array().context("no `messages` list")?;
        (RARE, list.iter().collect())
    } else {
        let list = data["results"].as_array().context("no `results` list")?;
        let word = if name.starts_with("common") {
            COMMON
        } else {
            RARE
        };
        (word, list.iter().map(|r| &r["message"]).collect())
    };
    if messages.is_empty() {
        bail!("{name}: nothing found in {body}");
    }
    for message in messages {
        let text = message["content"].as_str().unwrap_or_default();
        if !text.split(' ').any(|w| w == word) {
            bail!("{name}: {text:?} does not hold {word}");
        }
    }
    Ok(())
}
