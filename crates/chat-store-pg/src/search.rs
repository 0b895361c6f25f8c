//! Full-text search across a user's conversations: `websearch_to_tsquery` over an expression
//! index on `to_tsvector(<language>, content)` of visible messages, ranked by `ts_rank_cd`,
//! with excerpts from `ts_headline`.
//!
//! The language (a text search configuration) is spliced into the SQL, not bound: only then
//! does the planner see the index expression in the query. It is checked to be an identifier
//! and to name a configuration before any query is built.

use chat_domain::{
    ChatError, MATCH_END, MATCH_START, SearchHit, TextSearch, UserId, excerpt_parts,
};
use diesel::sql_types::{BigInt, Float4, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::rows::MessageRow;
use crate::{PgStore, StoreError, query_error};

/// What `<` becomes in the text `ts_headline` reads (U+0003, which no message contains), and
/// is turned back into afterwards, so that text like `x<y and y>z` is not cut as a tag.
const LESS_THAN_STAND_IN: char = '\u{3}';

/// The words of a message's text in `language`, as the search index reads them (`<` as a
/// space: messages are plain text, never HTML tags). `column` is the text's column.
fn document(language: &str, column: &str) -> String {
    format!("to_tsvector('{language}'::regconfig, replace({column}, '<', ' '))")
}

/// `ts_headline`'s options: matches between the domain's marks, in one stretch of 15 to 35
/// words from the best match on (a short message whole).
fn headline_options() -> String {
    format!("StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=35, MinWords=15")
}

#[derive(QueryableByName)]
struct HitRow {
    #[diesel(embed)]
    message: MessageRow,
    #[diesel(sql_type = Float4)]
    rank: f32,
    #[diesel(sql_type = Text)]
    excerpt: String,
}

/// The name of the index that serves searches in `language`.
fn index_name(language: &str) -> String {
    format!("messages_search_{language}_idx")
}

/// Checks that `language` names a text search configuration and makes its index when it is
/// missing (the migrations make the one for `simple`). Built concurrently, so that other nodes
/// keep writing; a build another node left unfinished (an invalid index) is reported, since
/// dropping it is an operator's decision.
pub(crate) async fn ensure_index(
    conn: &mut AsyncPgConnection,
    language: &str,
) -> Result<(), StoreError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        valid: bool,
    }
    let fail = |e: diesel::result::Error| StoreError::Connect(e.to_string());
    let known: Option<Found> = diesel::sql_query(
        "SELECT true AS valid FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace \
          WHERE c.cfgname = $1 AND n.nspname = 'pg_catalog'",
    )
    .bind::<Text, _>(language)
    .get_result(conn)
    .await
    .optional()
    .map_err(fail)?;
    if known.is_none() {
        return Err(StoreError::Config(format!(
            "search language {language:?} is not a text search configuration of this \
             PostgreSQL (SELECT cfgname FROM pg_ts_config lists them)"
        )));
    }
    let name = index_name(language);
    let existing: Option<Found> = diesel::sql_query(
        "SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
          WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
    )
    .bind::<Text, _>(&name)
    .get_result(conn)
    .await
    .optional()
    .map_err(fail)?;
    match existing {
        Some(Found { valid: true }) => Ok(()),
        Some(Found { valid: false }) => {
            tracing::warn!(
                index = %name,
                "the search index is invalid (an interrupted build?); searches read the table \
                 until it is dropped and the server restarted"
            );
            Ok(())
        }
        None => {
            tracing::info!(index = %name, "building the search index for the search language");
            conn.batch_execute(&format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON messages \
                 USING gin ({}) WHERE deleted_at IS NULL",
                document(language, "content")
            ))
            .await
            .map_err(fail)
        }
    }
}

/// The search's SQL and its binds, in order: only the filters a search uses appear in it.
pub(crate) fn search_sql(language: &str, search: &TextSearch) -> String {
    let vector = document(language, "m.content");
    let mut sql = format!(
        "SELECT h.*, ts_headline('{language}'::regconfig, \
                                 replace(h.content, '<', '{LESS_THAN_STAND_IN}'), \
                                 h.query, $3) AS excerpt \
           FROM (SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, \
                        m.attachment_url, m.client_message_id, m.created_at, m.updated_at, \
                        m.edited_at, m.reply_to_id, m.forwarded_message_id, \
                        m.forwarded_conversation_id, m.forwarded_sender_id, m.mentions, \
                        ts_rank_cd({vector}, q.query) AS rank, q.query \
                   FROM websearch_to_tsquery('{language}'::regconfig, $1) AS q (query) \
                   JOIN messages m ON {vector} @@ q.query \
                  WHERE m.deleted_at IS NULL \
                    AND m.conversation_id IN (SELECT c.conversation_id \
                                                FROM conversation_members c \
                                               WHERE c.user_id = $2)"
    );
    let mut next = 4;
    let mut filter = |condition: &str| {
        sql.push_str(&format!(
            " AND {}",
            condition.replace('#', &format!("${next}"))
        ));
        next += 1;
    };
    if search.conversation.is_some() {
        filter("m.conversation_id = #");
    }
    if search.sender.is_some() {
        filter("m.sender_id = #");
    }
    // To the millisecond, as the API shows times.
    if search.before.is_some() {
        filter("date_trunc('milliseconds', m.created_at) < date_trunc('milliseconds', #)");
    }
    if search.after.is_some() {
        filter("date_trunc('milliseconds', m.created_at) > date_trunc('milliseconds', #)");
    }
    if search.cursor.is_some() {
        filter(&format!("(ts_rank_cd({vector}, q.query), m.id) < (#"));
        sql.push_str(&format!(", ${next})"));
        next += 1;
    }
    sql.push_str(&format!(
        " ORDER BY rank DESC, m.id DESC LIMIT ${next}) h ORDER BY h.rank DESC, h.id DESC"
    ));
    sql
}

impl PgStore {
    /// See [`chat_domain::MessageRepo::search_text`].
    pub(crate) async fn search_text_in(
        &self,
        viewer: UserId,
        search: &TextSearch,
    ) -> Result<Vec<SearchHit>, ChatError> {
        let sql = search_sql(&self.search_language, search);
        let mut query = diesel::sql_query(sql)
            .into_boxed()
            .bind::<Text, _>(search.query.as_str().to_owned())
            .bind::<BigInt, _>(viewer.get())
            .bind::<Text, _>(headline_options());
        if let Some(conversation) = search.conversation {
            query = query.bind::<BigInt, _>(conversation.get());
        }
        if let Some(sender) = search.sender {
            query = query.bind::<BigInt, _>(sender.get());
        }
        if let Some(before) = search.before {
            query = query.bind::<Timestamptz, _>(before);
        }
        if let Some(after) = search.after {
            query = query.bind::<Timestamptz, _>(after);
        }
        if let Some(cursor) = search.cursor {
            query = query
                .bind::<Float4, _>(cursor.rank)
                .bind::<BigInt, _>(cursor.id.get());
        }
        let query = query.bind::<BigInt, _>(i64::from(search.limit));
        let mut conn = self.conn().await?;
        let rows: Vec<HitRow> = query.load(&mut conn).await.map_err(query_error)?;
        Ok(rows
            .into_iter()
            .map(|row| SearchHit {
                message: row.message.into(),
                rank: row.rank,
                excerpt: excerpt_parts(&row.excerpt.replace(LESS_THAN_STAND_IN, "<")),
            })
            .collect())
    }
}
