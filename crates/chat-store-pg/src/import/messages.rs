//! Writing a batch of messages into the server's database: each new message takes its
//! conversation's next seq (the row locked, as a send takes it), and the conversation's
//! counters, preview and read watermarks follow, in the batch's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::validate::MessageRecord;

#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
}

/// The conversation of each message of the batch that the target already holds.
pub(crate) async fn messages_there(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<HashMap<i64, i64>, diesel::result::Error> {
    let rows: Vec<Placed> =
        diesel::sql_query("SELECT id, conversation_id FROM messages WHERE id = ANY($1)")
            .bind::<Array<BigInt>, _>(ids)
            .load(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.conversation_id))
        .collect())
}

#[derive(QueryableByName)]
struct LastSeq {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Writes new messages after their conversations' last seq, in the order given (each
/// conversation's in creation order); keeps counters, previews and read watermarks right.
/// Returns how many watermarks moved.
pub(crate) async fn write_messages(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
) -> Result<u64, diesel::result::Error> {
    if new.is_empty() {
        return Ok(0);
    }
    // The conversations' rows, locked, give each its next seq as a send would take it.
    let mut conversation_ids: Vec<i64> = new.iter().map(|m| m.conversation_id).collect();
    conversation_ids.dedup();
    let locked: Vec<LastSeq> = diesel::sql_query(
        "SELECT id, last_seq FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind::<Array<BigInt>, _>(&conversation_ids)
    .load(conn)
    .await?;
    let mut last_seq: HashMap<i64, i64> = locked.into_iter().map(|r| (r.id, r.last_seq)).collect();
    let seqs: Vec<i64> = new
        .iter()
        .map(|m| {
            let seq = last_seq.entry(m.conversation_id).or_default();
            *seq += 1;
            *seq
        })
        .collect();
    insert_messages(conn, new, &seqs).await?;
    update_conversations(conn, new, &seqs).await?;
    move_watermarks(conn, new, &seqs).await
}

async fn insert_messages(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
    seqs: &[i64],
) -> Result<(), diesel::result::Error> {
    const INSERT: &str = "
        INSERT INTO messages (id, conversation_id, seq, sender_id, content, attachment_url,
                              deleted_at, created_at, updated_at)
        OVERRIDING SYSTEM VALUE
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                             $6::text[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])";
    diesel::sql_query(INSERT)
        .bind::<Array<BigInt>, _>(new.iter().map(|m| m.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(new.iter().map(|m| m.conversation_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(seqs)
        .bind::<Array<BigInt>, _>(new.iter().map(|m| m.sender_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(new.iter().map(|m| m.content.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(
            new.iter()
                .map(|m| m.attachment_url.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Timestamptz>>, _>(
            new.iter().map(|m| m.deleted_at).collect::<Vec<_>>(),
        )
        .bind::<Array<Timestamptz>, _>(new.iter().map(|m| m.created_at).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(new.iter().map(|m| m.updated_at).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(())
}

/// Per conversation of the batch: its new last seq, its new visible messages, its newest
/// visible message (the preview) and the time of its newest message.
#[derive(Default)]
struct ConversationChange<'a> {
    last_seq: i64,
    visible: i64,
    preview: Option<(i64, &'a str)>,
    newest_at: Option<DateTime<Utc>>,
}

async fn update_conversations(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
    seqs: &[i64],
) -> Result<(), diesel::result::Error> {
    // A deletion keeps last_message_at (it is when the conversation last had a message sent),
    // as the server's own deletions do.
    const UPDATE: &str = "
        UPDATE conversations c
           SET last_seq = v.last_seq, message_count = c.message_count + v.visible,
               last_message_seq = COALESCE(v.preview_seq, c.last_message_seq),
               last_message = CASE WHEN v.preview_seq IS NULL THEN c.last_message
                                   ELSE v.preview END,
               last_message_at = GREATEST(c.last_message_at, v.newest_at),
               updated_at = GREATEST(c.updated_at, v.newest_at)
          FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                      $6::timestamptz[]) AS v(id, last_seq, visible, preview_seq, preview, newest_at)
         WHERE c.id = v.id";
    let mut order: Vec<i64> = Vec::new();
    let mut changes: HashMap<i64, ConversationChange<'_>> = HashMap::new();
    for (message, seq) in new.iter().zip(seqs) {
        let change = changes.entry(message.conversation_id).or_insert_with(|| {
            order.push(message.conversation_id);
            ConversationChange::default()
        });
        change.last_seq = *seq;
        change.newest_at = change.newest_at.max(Some(message.created_at));
        if message.deleted_at.is_none() {
            change.visible += 1;
            change.preview = Some((*seq, message.content.as_str()));
        }
    }
    let changes: Vec<&ConversationChange<'_>> =
        order.iter().filter_map(|id| changes.get(id)).collect();
    diesel::sql_query(UPDATE)
        .bind::<Array<BigInt>, _>(&order)
        .bind::<Array<BigInt>, _>(changes.iter().map(|c| c.last_seq).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(changes.iter().map(|c| c.visible).collect::<Vec<_>>())
        .bind::<Array<Nullable<BigInt>>, _>(
            changes
                .iter()
                .map(|c| c.preview.map(|p| p.0))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            changes
                .iter()
                .map(|c| c.preview.map(|p| p.1))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Timestamptz>>, _>(
            changes.iter().map(|c| c.newest_at).collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves each reader's watermark to the newest message of the batch the source marks read
/// for them (`is_read`), with its `read_at`; a watermark never moves back.
async fn move_watermarks(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
    seqs: &[i64],
) -> Result<u64, diesel::result::Error> {
    const UPDATE: &str = "
        UPDATE conversation_members m SET last_read_seq = v.seq, last_read_at = v.read_at
          FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[])
               AS v(conversation_id, user_id, seq, read_at)
         WHERE m.conversation_id = v.conversation_id AND m.user_id = v.user_id
           AND m.last_read_seq < v.seq";
    let mut newest: HashMap<(i64, i64), (i64, DateTime<Utc>)> = HashMap::new();
    for (message, seq) in new.iter().zip(seqs) {
        if let Some(read_at) = message.read {
            newest.insert(
                (message.conversation_id, message.reader_id),
                (*seq, read_at),
            );
        }
    }
    if newest.is_empty() {
        return Ok(0);
    }
    let (keys, values): (Vec<_>, Vec<_>) = newest.into_iter().unzip();
    let moved = diesel::sql_query(UPDATE)
        .bind::<Array<BigInt>, _>(keys.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(keys.iter().map(|k| k.1).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(values.iter().map(|v| v.0).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(values.iter().map(|v| v.1).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(u64::try_from(moved).unwrap_or_default())
}
