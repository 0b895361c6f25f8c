//! The list endpoints' queries read through indexes, whatever the amount of history: their
//! plans are checked on a database holding 200,000 messages. The lanes' batch statements
//! read through indexes even when planned on empty tables.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_domain::{ConversationId, MessageId, MessageWindow, PageRequest, Seq, UserId};
use diesel::pg::Pg;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::append_batch::AppendBatch;
use crate::conversation_page::{PAGE_CONVERSATIONS, PAGE_MEMBERS};
use crate::conversations::{UNREAD_BY_CONVERSATION, detail_by_id};
use crate::first_contact::OpenBatch;
use crate::lane::LANE_SETTINGS;
use crate::messages::window_query;
use crate::test_support::TestDatabase;
use crate::threads::{COUNTS, thread_query};

/// 1,000 users, about 10,000 direct conversations of 20 messages each.
const HISTORY: &str = "
INSERT INTO users (id, username) SELECT g, 'u' || g FROM generate_series(1, 1000) g;
INSERT INTO conversations (kind, direct_user_low, direct_user_high, last_seq, message_count,
                           last_message, last_message_at)
     SELECT 'direct', a, a + d, 20, 20, 'message 20', now() - (a * 10 + d) * interval '1 second'
       FROM generate_series(1, 1000) a, generate_series(1, 10) d WHERE a + d <= 1000;
INSERT INTO conversation_members (conversation_id, user_id, last_read_seq)
     SELECT id, direct_user_low, 10 FROM conversations
     UNION ALL SELECT id, direct_user_high, 20 FROM conversations;
INSERT INTO messages (conversation_id, seq, sender_id, content)
     SELECT c.id, s, CASE WHEN s % 2 = 0 THEN c.direct_user_low ELSE c.direct_user_high END,
            'message ' || s
       FROM conversations c, generate_series(1, 20) s;
ANALYZE;";

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Puts numeric binds in place of `$n`, highest first so that `$1` never eats `$10`.
fn inline(sql: &str, binds: &[i64]) -> String {
    let mut sql = sql.to_owned();
    for (i, value) in binds.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), &value.to_string());
    }
    sql
}

/// The SQL and binds of a diesel query, as `debug_query` shows them.
fn dsl_sql(query: &impl diesel::query_builder::QueryFragment<Pg>) -> String {
    let shown = diesel::debug_query::<Pg, _>(query).to_string();
    let (sql, binds) = shown.split_once(" -- binds: ").unwrap();
    let binds: Vec<i64> = binds
        .trim_matches(['[', ']'])
        .split(", ")
        .map(|b| b.parse().unwrap())
        .collect();
    inline(sql, &binds)
}

pub(crate) async fn plan(conn: &mut AsyncPgConnection, sql: &str) -> String {
    let lines: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN {sql}"))
        .load(conn)
        .await
        .unwrap();
    lines
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_queries_use_indexes_on_a_large_history() {
    let db = TestDatabase::create().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute("SET search_path TO chat").await.unwrap();
    conn.batch_execute(HISTORY).await.unwrap();

    let (user, conversation) = (UserId(500), ConversationId(4321));
    let page = PageRequest { page: 2, limit: 20 };
    let queries = [
        (
            "conversation with members",
            dsl_sql(&detail_by_id(conversation.get())),
        ),
        (
            "conversation page",
            inline(PAGE_CONVERSATIONS, &[user.get(), 20, 20]),
        ),
        (
            "members of a page's conversations",
            PAGE_MEMBERS.replace("$1", "ARRAY[4321, 4322, 4323]::bigint[]"),
        ),
        (
            "conversation count",
            format!(
                "SELECT count(*) FROM conversation_members WHERE user_id = {}",
                user.get()
            ),
        ),
        (
            "unread per conversation",
            inline(UNREAD_BY_CONVERSATION, &[user.get()]),
        ),
        (
            "history page",
            dsl_sql(&window_query(user, conversation, MessageWindow::Page(page))),
        ),
        (
            "history before a cursor",
            dsl_sql(&window_query(
                user,
                conversation,
                MessageWindow::Before {
                    seq: Seq(15),
                    limit: 5,
                },
            )),
        ),
        (
            "history after a cursor",
            dsl_sql(&window_query(
                user,
                conversation,
                MessageWindow::After {
                    seq: Seq(5),
                    limit: 5,
                },
            )),
        ),
        (
            "a thread's replies",
            dsl_sql(&thread_query(
                user,
                conversation,
                MessageId(77),
                MessageWindow::Before {
                    seq: Seq(15),
                    limit: 5,
                },
            )),
        ),
        (
            "reply counts of a page",
            COUNTS.join("ARRAY[7, 8, 9]::bigint[]"),
        ),
    ];
    for (name, sql) in queries {
        let plan = plan(&mut conn, &sql).await;
        println!("-- {name}\n{plan}\n");
        for table in ["messages", "conversations", "conversation_members"] {
            assert!(
                !plan.contains(&format!("Seq Scan on {table}")),
                "{name} scans {table}:\n{plan}"
            );
        }
    }
}

/// The SQL of a query, without its binds.
fn sql_of(query: &impl diesel::query_builder::QueryFragment<Pg>) -> String {
    let shown = diesel::debug_query::<Pg, _>(query).to_string();
    shown.split_once(" -- binds: ").unwrap().0.to_owned()
}

/// The lanes plan their statements once, maybe while the tables are still empty (a fresh
/// database), where reading a whole table looks cheapest; the plan is kept as they grow. With
/// the lanes' settings, every table is still reached by key.
#[tokio::test]
async fn lane_statements_planned_on_empty_tables_reach_rows_by_key() {
    let db = TestDatabase::create().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute("SET search_path TO chat").await.unwrap();
    conn.batch_execute(LANE_SETTINGS).await.unwrap();
    let statements = [
        (
            "append batch",
            sql_of(&AppendBatch::new(std::iter::empty(), true)),
            "boolean, bigint[], bigint[], bigint[], bigint[], text[], text[], text[], bigint[], \
             bigint[], bigint[], bigint[]",
            "true, '{1}', '{3}', '{1}', '{2}', '{x}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', \
             '{NULL}', '{NULL}'",
        ),
        (
            "first contact batch",
            sql_of(&OpenBatch::new(std::iter::empty())),
            "bigint[], bigint[]",
            "'{1}', '{2}'",
        ),
    ];
    for (name, sql, types, args) in statements {
        conn.batch_execute(&format!("PREPARE lane_statement({types}) AS {sql}"))
            .await
            .unwrap();
        let plan = plan(&mut conn, &format!("EXECUTE lane_statement({args})")).await;
        conn.batch_execute("DEALLOCATE lane_statement")
            .await
            .unwrap();
        println!("-- {name}\n{plan}\n");
        assert!(!plan.contains("Seq Scan"), "{name} scans a table:\n{plan}");
    }
}
