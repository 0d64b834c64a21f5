//! The statements every relation shares: batched by a set of parent keys,
//! windowed per parent with `ROW_NUMBER()`, filtered, and keyset-paginated
//! on the list's ordering.
//!
//! Parent keys travel as ONE bound parameter (`= ANY($1)` on PostgreSQL,
//! `IN (SELECT value FROM json_each(?))` on SQLite), so a level with 10,000
//! parents is still one statement, never over the bind-parameter limit, and
//! the statement text stays the same for every request.

use std::collections::HashMap;

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Order, Query, SelectStatement, Value, WindowStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable};

use crate::db::CountingDb;
use crate::error::ApiResult;
use crate::graphql::pagination::Window;

/// How child rows hang off their parent's key: `table.key` holds the parent
/// key; when `table` is a link table, `table.child` points at the child's id.
#[derive(Clone, Copy, Debug)]
pub struct Via {
    pub table: &'static str,
    pub key: &'static str,
    pub child: Option<&'static str>,
}

impl Via {
    /// The child table itself holds the parent key (`agreement.partner_id`).
    pub const fn column(table: &'static str, key: &'static str) -> Self {
        Via { table, key, child: None }
    }

    /// A link table joins parent key and child id (`project_crime_area`).
    pub const fn link(table: &'static str, key: &'static str, child: &'static str) -> Self {
        Via { table, key, child: Some(child) }
    }
}

/// `"table"."column"` is one of `keys`, with all keys in one parameter.
pub fn key_in(backend: DbBackend, table: &str, column: &str, keys: &[i64]) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_values(format!(r#""{table}"."{column}" = ANY($1)"#), [Value::from(keys.to_vec())])
        }
        _ => {
            let list = serde_json::Value::from(keys.to_vec()).to_string();
            Expr::cust_with_values(format!(r#""{table}"."{column}" IN (SELECT value FROM json_each(?))"#), [list])
        }
    }
}

/// The window's filter and its keyset bounds.
fn window_conditions(window: &Window, table: &str) -> Condition {
    let mut cond = window.filter.clone();
    if let Some(after) = &window.after {
        cond = cond.add(window.sort.bound(table, after, true));
    }
    if let Some(before) = &window.before {
        cond = cond.add(window.sort.bound(table, before, false));
    }
    cond
}

/// Columns that only SQL reads: the normalised search keys (see
/// `entity::search`). No resolver looks at them, yet they are over a third of a
/// partner's or project's row; they are selected as empty strings, so rows
/// keep their type and the text is neither sent nor decoded.
const SQL_ONLY: [&str; 2] = ["search_text", "search_names"];

/// A select of `E`'s columns as resolvers need them.
fn select_model<E: EntityTrait>() -> SelectStatement {
    let entity = E::default();
    let mut select = Query::select();
    for column in E::Column::iter() {
        let name = column.as_str();
        if SQL_ONLY.contains(&name) {
            select.expr_as(Expr::cust("''"), Alias::new(name));
        } else {
            select.column((entity, column));
        }
    }
    select.from(entity);
    select
}

/// Runs a select built by [`select_model`] and reads its rows.
async fn load<E>(db: &CountingDb, select: &SelectStatement) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    let rows = db.query_all(select).await?;
    rows.iter().map(|row| Ok(E::Model::from_query_result(row, "")?)).collect()
}

/// The select of the child's columns plus its parent key as `__parent`.
fn related_select<E: EntityTrait>(backend: DbBackend, via: Via, keys: &[i64]) -> SelectStatement {
    let entity = E::default();
    let table = entity.table_name();
    let mut select = select_model::<E>();
    select.expr_as(Expr::col((Alias::new(via.table), Alias::new(via.key))), Alias::new("__parent"));
    if let Some(child) = via.child {
        select.inner_join(
            Alias::new(via.table),
            Expr::col((Alias::new(via.table), Alias::new(child))).equals((Alias::new(table), Alias::new("id"))),
        );
    }
    select.and_where(key_in(backend, via.table, via.key, keys));
    select
}

/// Child rows of every key, in key order then window order. With a window,
/// at most `window.size + 1` rows per key (the extra one tells whether another
/// page follows); without one, all of them.
pub async fn fetch_related<E>(
    db: &CountingDb,
    via: Via,
    keys: &[i64],
    window: Option<&Window>,
) -> ApiResult<Vec<(i64, E::Model)>>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let table = E::default().table_name();
    let mut select = related_select::<E>(backend, via, keys);
    let statement = match window {
        Some(window) => {
            select.cond_where(window_conditions(window, table));
            let mut over = WindowStatement::partition_by((Alias::new(via.table), Alias::new(via.key)));
            for (term, order) in window.sort.order_by(table, window.backward) {
                over.order_by_expr(term, order);
            }
            select.expr_window_as(Expr::cust("ROW_NUMBER()"), over, Alias::new("__rn"));
            Query::select()
                .column(Asterisk)
                .from_subquery(select, Alias::new("w"))
                .and_where(Expr::col(Alias::new("__rn")).lte(window.size + 1))
                .order_by(Alias::new("__parent"), Order::Asc)
                .order_by(Alias::new("__rn"), Order::Asc)
                .take()
        }
        None => select
            .order_by(Alias::new("__parent"), Order::Asc)
            .order_by((Alias::new(table), Alias::new("id")), Order::Asc)
            .take(),
    };
    let rows = db.query_all(&statement).await?;
    rows.iter().map(|row| Ok((row.try_get::<i64>("", "__parent")?, E::Model::from_query_result(row, "")?))).collect()
}

/// How many children each key has, in one `GROUP BY`.
pub async fn count_related<E: EntityTrait>(
    db: &CountingDb,
    via: Via,
    keys: &[i64],
    filter: &Condition,
) -> ApiResult<HashMap<i64, i64>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let entity = E::default();
    let parent = || Expr::col((Alias::new(via.table), Alias::new(via.key)));
    let mut select = Query::select();
    select
        .expr_as(parent(), Alias::new("__parent"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("__count"))
        .from(entity);
    if let Some(child) = via.child {
        select.inner_join(
            Alias::new(via.table),
            Expr::col((Alias::new(via.table), Alias::new(child))).equals((entity, Alias::new("id"))),
        );
    }
    select.and_where(key_in(backend, via.table, via.key, keys)).cond_where(filter.clone()).add_group_by([parent()]);
    let rows = db.query_all(&select).await?;
    rows.iter().map(|row| Ok((row.try_get::<i64>("", "__parent")?, row.try_get::<i64>("", "__count")?))).collect()
}

/// Rows of `E` whose id is one of `ids`, in id order.
pub async fn fetch_by_ids<E>(db: &CountingDb, ids: &[i64]) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let table = E::default().table_name();
    let mut select = select_model::<E>();
    select
        .and_where(key_in(db.get_database_backend(), table, "id", ids))
        .order_by((Alias::new(table), Alias::new("id")), Order::Asc);
    load::<E>(db, &select).await
}

/// One page of a top-level list: at most `window.size + 1` rows.
pub async fn fetch_page<E>(db: &CountingDb, window: &Window) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    let table = E::default().table_name();
    let mut select = select_model::<E>();
    select.cond_where(window_conditions(window, table));
    for (term, order) in window.sort.order_by(table, window.backward) {
        select.order_by_expr(term, order);
    }
    select.limit(window.size + 1);
    load::<E>(db, &select).await
}

/// How many rows a top-level list has.
pub async fn count_all<E: EntityTrait>(db: &CountingDb, filter: &Condition) -> ApiResult<i64> {
    let select = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("__count"))
        .from(E::default())
        .cond_where(filter.clone())
        .take();
    let row = db.query_one(&select).await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "__count")?,
        None => 0,
    })
}
