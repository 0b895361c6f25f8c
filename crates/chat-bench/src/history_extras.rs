//! What a lived-in history has beside its messages, for scenario `history`: reactions,
//! replies and edits in the big conversation, and the two pages measured again over them.

use anyhow::{Context, Result};
use serde_json::json;

use crate::calibrate::Db;
use crate::report::Outcome;

/// A measured query: its name, request path and the user who asks.
pub(crate) type Query = (&'static str, String, i64);

/// The big conversation's first and deep pages (the first two of `plain`) again, once it has
/// reactions, replies and edits.
pub(crate) fn queries(plain: [Query; 6]) -> [Query; 2] {
    let [first, deep, ..] = plain;
    [
        ("first-page-extras", first.1, first.2),
        ("deep-page-extras", deep.1, deep.2),
    ]
}

/// Gives the big conversation (`base + 1`) what a lived-in history has: both members react to
/// every other message (two keys each), every fifth message replies to the one before, every
/// seventh was edited once (its first version kept).
pub(crate) fn seed(db: &Db, base: i64) -> Result<()> {
    let conversation = base + 1;
    db.psql(&format!(
        "INSERT INTO chat.message_reactions (message_id, key, user_id, created_at) \
         SELECT m.id, k.key, u.id, m.created_at FROM chat.messages m \
           CROSS JOIN (VALUES ('thumbsup'), ('heart')) k(key) \
           CROSS JOIN (SELECT direct_user_low AS id FROM chat.conversations \
                        WHERE id = {conversation} \
                       UNION ALL SELECT direct_user_high FROM chat.conversations \
                        WHERE id = {conversation}) u \
          WHERE m.conversation_id = {conversation} AND m.seq % 2 = 0"
    ))
    .context("seeding reactions")?;
    db.psql(&format!(
        "UPDATE chat.messages m SET reply_to_id = p.id FROM chat.messages p \
          WHERE m.conversation_id = {conversation} AND m.seq % 5 = 0 \
            AND p.conversation_id = {conversation} AND p.seq = m.seq - 1"
    ))
    .context("seeding replies")?;
    db.psql(&format!(
        "INSERT INTO chat.message_versions (message_id, version, content, written_at) \
         SELECT id, 1, content, created_at FROM chat.messages \
          WHERE conversation_id = {conversation} AND seq % 7 = 0; \
         UPDATE chat.messages SET edited_at = updated_at \
          WHERE conversation_id = {conversation} AND seq % 7 = 0"
    ))
    .context("seeding edits")?;
    db.psql("VACUUM (ANALYZE) chat.messages, chat.message_reactions, chat.message_versions")
        .context("vacuuming")?;
    db.psql("CHECKPOINT").context("checkpointing")?;
    Ok(())
}

/// Adds the outcomes over extras to `measured`, each with the ratio of its p50 and p99 to the
/// same page's without them.
pub(crate) fn compare(measured: &mut Vec<Outcome>, extras: Vec<Outcome>) {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    for mut outcome in extras {
        let plain = outcome.scenario.replace("-extras", "");
        if let Some(plain) = measured.iter().find(|o| o.scenario == plain) {
            let (p50, p99) = (plain.latency.p50_ms, plain.latency.p99_ms);
            if p50 > 0.0 && p99 > 0.0 {
                let d = &mut outcome.details;
                let ratio = |x: f64, of: f64| json!(round(x / of));
                d.insert(
                    "p50_ratio_to_plain".into(),
                    ratio(outcome.latency.p50_ms, p50),
                );
                d.insert(
                    "p99_ratio_to_plain".into(),
                    ratio(outcome.latency.p99_ms, p99),
                );
            }
        }
        measured.push(outcome);
    }
}
