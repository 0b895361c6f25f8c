//! The groups of scenario `history`: one more user, the reader, in 1,000 groups of 50 members;
//! the other members come from a pool of 1,000 users of their own, so that the direct
//! conversations' users (and their result lines) are untouched. Seeded with SQL like the rest
//! of the history: groups with consistent `last_seq`/`message_count`, members with an owner
//! each, messages from the members other than the reader, who has read all but the last 3 of
//! each group.

use anyhow::{Context, Result};

use crate::calibrate::Db;
use crate::users::MESSAGE;

/// Groups the reader belongs to.
pub(crate) const GROUPS: i64 = 1_000;
/// Members of each group, the reader included.
pub(crate) const MEMBERS: i64 = 50;
/// Messages from others the reader has not read in each group.
pub(crate) const UNREAD_PER_GROUP: i64 = 3;
/// Users the other members are drawn from, each in about `GROUPS * (MEMBERS - 1) / POOL`
/// groups.
const POOL: i64 = 1_000;
/// Offset of the reader's id from the history's base id; the pool's ids follow it.
const READER_OFFSET: i64 = 500_000;

/// The reader's id, given the history's base id.
pub(crate) fn reader(base: i64) -> i64 {
    base + READER_OFFSET
}

/// Seeds the reader, the pool, `GROUPS` groups with ids from `first` (none may exist yet) and
/// `per_group` messages in each (at least `UNREAD_PER_GROUP`) whose text is the SQL expression
/// `content` (of the group `c` and the `seq` `s`); `base` is the history's base id.
pub(crate) fn seed(db: &Db, base: i64, first: i64, per_group: i64, content: &str) -> Result<()> {
    let reader = reader(base);
    let last = first + GROUPS - 1;
    let others = MEMBERS - 1;
    db.psql(&format!(
        "INSERT INTO chat.users (id, username) \
         SELECT {reader} + g, CASE WHEN g = 0 THEN 'historyreader' ELSE 'historygroups' || g END \
           FROM generate_series(0, {POOL}) g ON CONFLICT (id) DO NOTHING"
    ))
    .context("seeding the groups' users")?;
    // Group g (from 0) holds the reader and pool users 1 + (g * others + j) % POOL for j in
    // 0..others (distinct, as others < POOL); j = 0 owns it. Message s is from j = s % others.
    let member = |g: &str, j: &str| format!("{reader} + 1 + (({g}) * {others} + ({j})) % {POOL}");
    db.psql(&format!(
        "INSERT INTO chat.conversations (id, kind, title, created_by, last_seq, message_count, \
           last_message_seq, last_message, last_message_at, created_at, updated_at) \
         OVERRIDING SYSTEM VALUE \
         SELECT {first} + g, 'group', 'group ' || g, {owner}, {per_group}, {per_group}, \
                {per_group}, '{MESSAGE}', now() - g * interval '1 second', \
                now() - interval '1 day', now() - g * interval '1 second' \
           FROM generate_series(0, {GROUPS} - 1) g",
        owner = member("g", "0"),
    ))
    .context("seeding groups")?;
    db.psql(&format!(
        "INSERT INTO chat.conversation_members (conversation_id, user_id, role, last_read_seq) \
         SELECT c.id, {reader}, 'member', greatest(c.last_seq - {UNREAD_PER_GROUP}, 0) \
           FROM chat.conversations c WHERE c.id BETWEEN {first} AND {last} \
         UNION ALL \
         SELECT c.id, {other}, CASE WHEN j = 0 THEN 'owner' ELSE 'member' END, \
                greatest(c.last_seq - {UNREAD_PER_GROUP}, 0) \
           FROM chat.conversations c, generate_series(0, {others} - 1) j \
          WHERE c.id BETWEEN {first} AND {last}",
        other = member(&format!("c.id - {first}"), "j"),
    ))
    .context("seeding group members")?;
    db.psql(&format!(
        "INSERT INTO chat.messages (conversation_id, seq, sender_id, content, created_at, \
           updated_at) \
         SELECT c.id, s, {sender}, {content}, \
                c.last_message_at - (c.last_seq - s) * interval '1 second', \
                c.last_message_at - (c.last_seq - s) * interval '1 second' \
           FROM chat.conversations c, generate_series(1, c.last_seq) s \
          WHERE c.id BETWEEN {first} AND {last}",
        sender = member(&format!("c.id - {first}"), &format!("s % {others}")),
    ))
    .context("seeding group messages")?;
    Ok(())
}
