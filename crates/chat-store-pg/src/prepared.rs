//! The hot statements that diesel's query builder cannot express, written so that each
//! connection keeps them prepared. `diesel::sql_query` is never cached (raw SQL counts as unsafe
//! to cache), so it is parsed and planned on every call; a query fragment whose binds come
//! once each, in order, is cached like any built query.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// Makes a statement fragment with one lifetime (`Name<'_>`) a query whose rows are read by
/// column name and which each connection keeps prepared.
macro_rules! prepared_statement {
    ($name:ident) => {
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = ();
            // Not static: the statement cache keys it by its SQL text, which never changes.
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name<'_> {}
    };
}
pub(crate) use prepared_statement;

/// A statement whose only parameters are ids, in order: `parts` are the SQL around them.
pub(crate) struct ByIds<const N: usize> {
    parts: [&'static str; N],
    tail: &'static str,
    ids: [i64; N],
}

impl<const N: usize> ByIds<N> {
    /// `parts[i]` comes before `ids[i]`; `tail` after the last one.
    pub(crate) const fn new(parts: [&'static str; N], tail: &'static str, ids: [i64; N]) -> Self {
        ByIds { parts, tail, ids }
    }
}

impl<const N: usize> QueryFragment<Pg> for ByIds<N> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (part, id) in self.parts.iter().zip(&self.ids) {
            out.push_sql(part);
            out.push_bind_param::<BigInt, _>(id)?;
        }
        out.push_sql(self.tail);
        Ok(())
    }
}

impl<const N: usize> QueryId for ByIds<N> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<const N: usize> Query for ByIds<N> {
    type SqlType = Untyped;
}

impl<Conn, const N: usize> RunQueryDsl<Conn> for ByIds<N> {}

/// A parameter of a [`Statement`].
pub(crate) enum Param<'a> {
    /// An id (`bigint`).
    Id(i64),
    /// A list of ids (`bigint[]`).
    Ids(&'a [i64]),
}

/// A statement of fixed text whose parameters are ids and lists of ids, kept prepared by each
/// connection: `parts[i]` comes before `params[i]`, and the last part after the last parameter.
pub(crate) struct Statement<'a> {
    parts: &'static [&'static str],
    params: Vec<Param<'a>>,
}

impl<'a> Statement<'a> {
    /// A statement of `parts` around `params` (one more part than parameters).
    pub(crate) fn new(parts: &'static [&'static str], params: Vec<Param<'a>>) -> Self {
        debug_assert_eq!(
            parts.len(),
            params.len() + 1,
            "one more part than parameters"
        );
        Statement { parts, params }
    }
}

impl QueryFragment<Pg> for Statement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (part, param) in self.parts.iter().zip(&self.params) {
            out.push_sql(part);
            match param {
                Param::Id(id) => out.push_bind_param::<BigInt, _>(id)?,
                Param::Ids(ids) => out.push_bind_param::<Array<BigInt>, _>(ids)?,
            }
        }
        for part in self.parts.iter().skip(self.params.len()) {
            out.push_sql(part);
        }
        Ok(())
    }
}

prepared_statement!(Statement);
