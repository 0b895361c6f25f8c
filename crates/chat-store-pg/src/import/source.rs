//! The Node service's database, read only: its tables and columns found by name, and its rows
//! read in import order through cursors of one read-only snapshot, so that the import sees the
//! source as it was at one moment and sorts each table once, whatever its size.
//!
//! The seed's models (`Conversation`, `Message`) are stored by Sequelize in the tables
//! `"Conversations"` and `"Messages"`: the seed's attribute columns (`participant_1_id`,
//! `sender_id`, `is_read`, ...), Sequelize's own `id`, `createdAt` and `updatedAt`, and the
//! paranoid model's `deletedAt`. Each column is found among its spellings (the seed's, the
//! camelCase of a model without `field` names, the snake_case of `underscored: true`), so a
//! deployment that changed those settings imports too.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::ImportError;

/// The spellings a conversations table may have, the seed's first.
const CONVERSATION_TABLES: &[&str] = &["Conversations", "conversations"];
/// The spellings a messages table may have, the seed's first.
const MESSAGE_TABLES: &[&str] = &["Messages", "messages"];
/// The host application's users table, when `--users-table` names none.
const USER_TABLES: &[&str] = &["users", "Users"];

/// A user the imported rows name, with the source's username when it has one.
#[derive(Debug, QueryableByName)]
pub(crate) struct SourceUser {
    #[diesel(sql_type = BigInt)]
    pub(crate) id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) username: Option<String>,
}

/// A row of `"Conversations"`.
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct SourceConversation {
    #[diesel(sql_type = BigInt)]
    pub(crate) id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) participant_1: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) participant_2: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) updated_at: DateTime<Utc>,
}

/// A row of `"Messages"`.
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct SourceMessage {
    #[diesel(sql_type = BigInt)]
    pub(crate) id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) conversation_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) sender_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) receiver_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) attachment_url: Option<String>,
    #[diesel(sql_type = Bool)]
    pub(crate) is_read: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub(crate) read_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) updated_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The tables and columns of the source, as quoted SQL, found once.
#[derive(Debug)]
struct Layout {
    /// `SELECT` of the referenced users, in id order.
    users: String,
    /// `SELECT` of the conversations, in id order.
    conversations: String,
    /// `SELECT` of the messages, by conversation, then `createdAt`, then id.
    messages: String,
    /// Counts of the three, in that order, for the progress bar.
    counts: [String; 3],
}

/// How many rows each phase will read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SourceTotals {
    pub(crate) users: u64,
    pub(crate) conversations: u64,
    pub(crate) messages: u64,
}

/// The source database in a read-only, repeatable-read transaction.
pub(crate) struct Source {
    conn: AsyncPgConnection,
    layout: Layout,
    /// The cursor open now, if any.
    open: Option<&'static str>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn source_error(what: &str) -> impl Fn(diesel::result::Error) -> ImportError + '_ {
    move |e| ImportError::Source(format!("{what}: {e}"))
}

/// The columns of the source's visible tables, as `(table, column)`.
async fn columns(conn: &mut AsyncPgConnection) -> Result<Vec<(String, String)>, ImportError> {
    const COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name
                             FROM information_schema.columns
                            WHERE table_schema = current_schema()";
    let rows: Vec<Column> = diesel::sql_query(COLUMNS)
        .load(conn)
        .await
        .map_err(source_error("listing the source's tables"))?;
    Ok(rows
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect())
}

/// Finds tables and columns among their spellings.
struct Catalog(Vec<(String, String)>);

impl Catalog {
    fn table(&self, spellings: &[&str]) -> Option<String> {
        spellings
            .iter()
            .find(|t| self.0.iter().any(|(table, _)| table == *t))
            .map(|t| (*t).to_owned())
    }

    fn column(&self, table: &str, spellings: &[&str]) -> Option<String> {
        spellings
            .iter()
            .find(|c| self.0.iter().any(|(t, col)| t == table && col == *c))
            .map(|c| quote(c))
    }

    fn required(&self, table: &str, spellings: &[&str]) -> Result<String, ImportError> {
        self.column(table, spellings).ok_or_else(|| {
            ImportError::Layout(format!(
                "table {table:?} has no column named {}",
                spellings.join(" or ")
            ))
        })
    }

    fn optional(&self, table: &str, spellings: &[&str], absent: &str) -> String {
        self.column(table, spellings)
            .unwrap_or_else(|| absent.to_owned())
    }
}

impl Layout {
    fn find(catalog: &Catalog, users_table: Option<&str>) -> Result<Layout, ImportError> {
        let missing = |spellings: &[&str]| {
            ImportError::Layout(format!(
                "the source has no table named {} in its schema (set one with the URL's \
                 options=-csearch_path=...)",
                spellings.join(" or ")
            ))
        };
        let conv_table = catalog
            .table(CONVERSATION_TABLES)
            .ok_or_else(|| missing(CONVERSATION_TABLES))?;
        let msg_table = catalog
            .table(MESSAGE_TABLES)
            .ok_or_else(|| missing(MESSAGE_TABLES))?;
        let c = |s: &[&str]| catalog.required(&conv_table, s);
        let (c_id, p1, p2) = (
            c(&["id"])?,
            c(&["participant_1_id", "participant1Id", "participant1_id"])?,
            c(&["participant_2_id", "participant2Id", "participant2_id"])?,
        );
        let (c_created, c_updated) = (
            c(&["createdAt", "created_at"])?,
            c(&["updatedAt", "updated_at"])?,
        );
        let m = |s: &[&str]| catalog.required(&msg_table, s);
        let o = |s: &[&str], absent: &str| catalog.optional(&msg_table, s, absent);
        let (m_id, m_conv, sender) = (
            m(&["id"])?,
            m(&["conversation_id", "conversationId"])?,
            m(&["sender_id", "senderId"])?,
        );
        let receiver = o(&["receiver_id", "receiverId"], "NULL");
        let content = m(&["content"])?;
        let attachment = o(&["attachment_url", "attachmentUrl"], "NULL");
        let is_read = o(&["is_read", "isRead"], "false");
        let read_at = o(&["read_at", "readAt"], "NULL");
        let deleted_at = o(&["deletedAt", "deleted_at"], "NULL");
        let (m_created, m_updated) = (
            m(&["createdAt", "created_at"])?,
            m(&["updatedAt", "updated_at"])?,
        );
        let (conv_table, msg_table) = (quote(&conv_table), quote(&msg_table));

        let referenced = format!(
            "SELECT {p1}::bigint AS id FROM {conv_table}
             UNION SELECT {p2}::bigint FROM {conv_table}
             UNION SELECT {sender}::bigint FROM {msg_table}
             UNION SELECT {receiver}::bigint FROM {msg_table}"
        );
        let user_table = match users_table {
            Some(name) => Some(catalog.table(&[name]).ok_or_else(|| missing(&[name]))?),
            None => catalog.table(USER_TABLES),
        };
        let named = user_table.as_deref().and_then(|t| {
            let id = catalog.column(t, &["id"])?;
            let name = catalog.column(t, &["username", "userName", "user_name"])?;
            Some((quote(t), id, name))
        });
        let users = match named {
            Some((table, id, name)) => format!(
                // The id column is compared uncast, so that its index serves each lookup.
                "SELECT r.id, (SELECT u.{name}::text FROM {table} u WHERE u.{id} = r.id
                                LIMIT 1) AS username
                   FROM ({referenced}) r WHERE r.id IS NOT NULL ORDER BY r.id"
            ),
            None => format!(
                "SELECT r.id, NULL::text AS username
                   FROM ({referenced}) r WHERE r.id IS NOT NULL ORDER BY r.id"
            ),
        };
        let conversations = format!(
            "SELECT {c_id}::bigint AS id, {p1}::bigint AS participant_1,
                    {p2}::bigint AS participant_2, {c_created}::timestamptz AS created_at,
                    {c_updated}::timestamptz AS updated_at
               FROM {conv_table} ORDER BY {c_id}"
        );
        let messages = format!(
            "SELECT {m_id}::bigint AS id, {m_conv}::bigint AS conversation_id,
                    {sender}::bigint AS sender_id, {receiver}::bigint AS receiver_id,
                    {content}::text AS content, {attachment}::text AS attachment_url,
                    COALESCE({is_read}::boolean, false) AS is_read,
                    {read_at}::timestamptz AS read_at, {deleted_at}::timestamptz AS deleted_at,
                    {m_created}::timestamptz AS created_at, {m_updated}::timestamptz AS updated_at
               FROM {msg_table} ORDER BY {m_conv}, {m_created}, {m_id}"
        );
        Ok(Layout {
            counts: [
                format!("SELECT count(*) AS n FROM ({referenced}) r WHERE r.id IS NOT NULL"),
                format!("SELECT count(*) AS n FROM {conv_table}"),
                format!("SELECT count(*) AS n FROM {msg_table}"),
            ],
            users,
            conversations,
            messages,
        })
    }
}

impl Source {
    /// Connects to `url`, finds the seed's tables (and the users table `users_table`, else
    /// `users` or `Users`, when there is one) and opens the snapshot every read comes from.
    pub(crate) async fn open(url: &str, users_table: Option<&str>) -> Result<Source, ImportError> {
        let mut conn = AsyncPgConnection::establish(url)
            .await
            .map_err(|e| ImportError::Source(format!("cannot connect: {e}")))?;
        conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(source_error("starting a read-only snapshot"))?;
        let catalog = Catalog(columns(&mut conn).await?);
        let layout = Layout::find(&catalog, users_table)?;
        Ok(Source {
            conn,
            layout,
            open: None,
        })
    }

    /// How many users, conversations and messages the source holds.
    pub(crate) async fn totals(&mut self) -> Result<SourceTotals, ImportError> {
        let mut n = [0u64; 3];
        for (slot, query) in n.iter_mut().zip(&self.layout.counts) {
            let count: Count = diesel::sql_query(query)
                .get_result(&mut self.conn)
                .await
                .map_err(source_error("counting the source's rows"))?;
            *slot = u64::try_from(count.n).unwrap_or_default();
        }
        Ok(SourceTotals {
            users: n[0],
            conversations: n[1],
            messages: n[2],
        })
    }

    /// Opens the cursor `name` over `query`, closing the one before it.
    async fn declare(&mut self, name: &'static str, query: String) -> Result<(), ImportError> {
        if let Some(open) = self.open.take() {
            self.conn
                .batch_execute(&format!("CLOSE {open}"))
                .await
                .map_err(source_error("closing a cursor"))?;
        }
        self.conn
            .batch_execute(&format!("DECLARE {name} NO SCROLL CURSOR FOR {query}"))
            .await
            .map_err(source_error("reading the source"))?;
        self.open = Some(name);
        Ok(())
    }

    /// The next `n` rows of the open cursor; fewer (or none) at its end.
    async fn fetch<T>(&mut self, n: usize) -> Result<Vec<T>, ImportError>
    where
        T: QueryableByName<diesel::pg::Pg> + Send + 'static,
    {
        let name = self
            .open
            .ok_or_else(|| ImportError::Source("no cursor is open".to_owned()))?;
        diesel::sql_query(format!("FETCH FORWARD {n} FROM {name}"))
            .load(&mut self.conn)
            .await
            .map_err(source_error("reading the source"))
    }

    /// Starts reading the referenced users, in id order.
    pub(crate) async fn start_users(&mut self) -> Result<(), ImportError> {
        let query = self.layout.users.clone();
        self.declare("import_users", query).await
    }

    /// The next users, at most `n`.
    pub(crate) async fn users(&mut self, n: usize) -> Result<Vec<SourceUser>, ImportError> {
        self.fetch(n).await
    }

    /// Starts reading the conversations, in id order.
    pub(crate) async fn start_conversations(&mut self) -> Result<(), ImportError> {
        let query = self.layout.conversations.clone();
        self.declare("import_conversations", query).await
    }

    /// The next conversations, at most `n`.
    pub(crate) async fn conversations(
        &mut self,
        n: usize,
    ) -> Result<Vec<SourceConversation>, ImportError> {
        self.fetch(n).await
    }

    /// Starts reading the messages, by conversation, `createdAt` and id.
    pub(crate) async fn start_messages(&mut self) -> Result<(), ImportError> {
        let query = self.layout.messages.clone();
        self.declare("import_messages", query).await
    }

    /// The next messages, at most `n`.
    pub(crate) async fn messages(&mut self, n: usize) -> Result<Vec<SourceMessage>, ImportError> {
        self.fetch(n).await
    }
}
