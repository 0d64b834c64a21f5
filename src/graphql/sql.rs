//! The statements every relation shares: batched by a set of parent keys,
//! windowed per parent with `ROW_NUMBER()`, filtered, and keyset-paginated
//! on the list's ordering. Tables, columns and joins all come from the
//! entities (their typed columns and their relations, see
//! [`entity::links`]); rows are read by position ([`entity::row`]).
//!
//! Parent keys travel as ONE bound parameter (`= ANY($1)` on PostgreSQL,
//! `IN (SELECT value FROM json_each(?))` on SQLite), so a level with 10,000
//! parents is still one statement, never over the bind-parameter limit, and
//! the statement text stays the same for every request.

use std::collections::HashMap;

use entity::row::{Checked, Positional, Selected};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, DynIden, Expr, ExprTrait, IntoIden, Order, Query, SelectStatement, Value,
    WindowStatement,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Iterable, Linked, RelationDef};

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{Group, RowId};
use crate::graphql::node::Wanted;
use crate::graphql::sort::primary_key;
use crate::graphql::spare;
use crate::graphql::window::Window;

/// Where child rows find the key of their parent: a column of the child
/// table itself (`agreement.partner_id`), or of a link table joined to the
/// child (`partner_crime_area.partner_id`, joined on `crime_area_id`).
#[derive(Clone, Debug)]
pub struct Path {
    table: DynIden,
    key: DynIden,
    /// With a link table: its column pointing at the child, and the child's column it points at.
    join: Option<(DynIden, DynIden)>,
}

impl Path {
    /// The path of a sea-orm `Linked` relation (one hop, or two through a
    /// link table), and the parent's column the children are matched by.
    pub fn of<L: Linked + Default>() -> ApiResult<(Self, String)> {
        let defs = L::default().link();
        let column = |def: &RelationDef, from: bool| -> ApiResult<DynIden> {
            match if from { &def.from_col } else { &def.to_col } {
                sea_orm::Identity::Unary(column) => Ok(column.clone()),
                _ => Err(ApiError::Internal(format!("{} joins on a composite key", std::any::type_name::<L>()))),
            }
        };
        let table = |def: &RelationDef| -> ApiResult<DynIden> {
            match &def.to_tbl {
                sea_orm::sea_query::TableRef::Table(name, _) => Ok(name.1.clone()),
                _ => Err(ApiError::Internal(format!("{} leads to no table", std::any::type_name::<L>()))),
            }
        };
        match defs.as_slice() {
            [to_child] => Ok((
                Path { table: table(to_child)?, key: column(to_child, false)?, join: None },
                column(to_child, true)?.inner().into_owned(),
            )),
            [to_link, to_child] => Ok((
                Path {
                    table: table(to_link)?,
                    key: column(to_link, false)?,
                    join: Some((column(to_child, true)?, column(to_child, false)?)),
                },
                column(to_link, true)?.inner().into_owned(),
            )),
            _ => Err(ApiError::Internal(format!("{} is not one or two hops", std::any::type_name::<L>()))),
        }
    }

    /// Children whose own `column` holds the parent key (a relation no
    /// foreign key declares, such as a history entry's record).
    pub fn column<C: ColumnTrait>(column: C) -> Self {
        let (table, key) = column.as_column_ref();
        Path { table, key, join: None }
    }
}

/// `table.column` is one of `keys`, with all keys in one parameter.
pub fn key_in(backend: DbBackend, (table, column): (DynIden, DynIden), keys: &[i64]) -> Expr {
    let (table, column) = (table.inner(), column.inner());
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

/// [`key_in`] on an entity's typed column.
pub fn column_in(backend: DbBackend, column: impl ColumnTrait, keys: &[i64]) -> Expr {
    key_in(backend, column.as_column_ref(), keys)
}

/// The window's filter and its keyset bounds.
fn window_conditions<E: EntityTrait>(window: &Window<E>) -> ApiResult<Condition> {
    let mut cond = window.filter.clone();
    if let Some(after) = &window.after {
        cond = cond.add(window.sort.bound(after, true)?);
    }
    if let Some(before) = &window.before {
        cond = cond.add(window.sort.bound(before, false)?);
    }
    Ok(cond)
}

/// A select of `E`'s `selected` columns, in declaration order.
fn select_model<E: EntityTrait>(selected: Selected) -> SelectStatement {
    let entity = E::default();
    let mut select = Query::select();
    for (position, column) in E::Column::iter().enumerate() {
        if selected.has(position) {
            select.column((entity, column));
        }
    }
    select.from(entity);
    select
}

/// Runs a select built by [`select_model`] and reads its rows as they come,
/// with room for `expected` of them.
async fn load<E>(
    db: &CountingDb,
    select: &SelectStatement,
    selected: Selected,
    expected: usize,
) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Positional,
{
    let statement = db.get_database_backend().build(select);
    let capacity = expected.min(RESERVED_ROWS);
    let (models, _) = db
        .read_each(
            statement,
            || (spare::vec_with_capacity(capacity), None),
            |(models, checked), row| {
                let checked = Checked::<E::Model>::at(checked, row, selected, 0)?;
                models.push(checked.read(row)?);
                Ok(())
            },
        )
        .await?;
    Ok(models)
}

/// The select of the child's columns plus its parent key as `__parent`.
fn related_select<E>(backend: DbBackend, path: &Path, keys: &[i64], selected: Selected) -> SelectStatement
where
    E: EntityTrait,
    E::Model: Positional,
{
    let mut select = select_model::<E>(selected);
    select.expr_as(Expr::col((path.table.clone(), path.key.clone())), Alias::new("__parent"));
    if let Some((link, child)) = &path.join {
        select.inner_join(
            path.table.clone(),
            Expr::col((path.table.clone(), link.clone())).equals((E::default().into_iden(), child.clone())),
        );
    }
    select.and_where(key_in(backend, (path.table.clone(), path.key.clone()), keys));
    select
}

/// Rows fetched for many parents, grouped by parent (in window order within
/// each): `parents[i]` is the parent of `rows[i]`.
pub struct Related<M> {
    pub parents: Vec<i64>,
    pub rows: Vec<M>,
    pub selected: Selected,
}

/// The most rows a level reserves room for before they come; a level that
/// returns more grows its vectors as they arrive.
const RESERVED_ROWS: usize = 1 << 15;

/// Child rows of every key, in key order then window order, with the
/// `wanted` columns. With a window, at most `window.size + 1` rows per key
/// (the extra one tells whether another page follows); without one, all of them.
pub async fn fetch_related<E>(
    db: &CountingDb,
    path: &Path,
    keys: &[i64],
    window: Option<&Window<E>>,
    wanted: Wanted,
) -> ApiResult<Related<E::Model>>
where
    E: EntityTrait,
    E::Model: Positional,
{
    let selected = Selected::of::<E::Model>(wanted.bits());
    if keys.is_empty() {
        return Ok(Related { parents: Vec::new(), rows: Vec::new(), selected });
    }
    let backend = db.get_database_backend();
    let mut select = related_select::<E>(backend, path, keys, selected);
    let statement = match window {
        Some(window) => {
            select.cond_where(window_conditions(window)?);
            let mut over = WindowStatement::partition_by((path.table.clone(), path.key.clone()));
            for (term, order) in window.sort.order_by(window.backward)? {
                over.order_by_expr(term, order);
            }
            select.expr_window_as(Expr::cust("ROW_NUMBER()"), over, Alias::new("__rn"));
            // No ORDER BY: the rows are put in (parent, row number) order
            // below, which costs nothing when they come in that order, as
            // they do from the window; sorting them in the database would
            // hold every row back until the last was numbered.
            Query::select()
                .column(Asterisk)
                .from_subquery(select, Alias::new("w"))
                .and_where(Expr::col(Alias::new("__rn")).lte(window.size + 1))
                .take()
        }
        None => select
            .order_by(Alias::new("__parent"), Order::Asc)
            .order_by((E::default(), primary_key::<E>()?), Order::Asc)
            .take(),
    };
    // `__parent` (then `__rn`, in a window) follows the model's columns.
    let keys_after = if window.is_some() { 2 } else { 1 };
    // Room for every row a window can return, so that the (large) models
    // are never moved as the vector grows.
    let capacity = match window {
        Some(window) => keys.len().saturating_mul(window.rows_fetched()),
        None => keys.len(),
    }
    .min(RESERVED_ROWS);
    let (related, mut numbers, _) = db
        .read_each(
            backend.build(&statement),
            || {
                let related = Related {
                    parents: spare::vec_with_capacity(capacity),
                    rows: spare::vec_with_capacity(capacity),
                    selected,
                };
                (related, spare::vec_with_capacity(if window.is_some() { capacity } else { 0 }), None)
            },
            |(related, numbers, checked), row| {
                let checked = Checked::<E::Model>::at(checked, row, selected, keys_after)?;
                related.parents.push(checked.key(row, 0)?);
                if window.is_some() {
                    numbers.push(checked.key(row, 1)?);
                }
                related.rows.push(checked.read(row)?);
                Ok(())
            },
        )
        .await?;
    let related = related.in_order(&numbers);
    spare::give_back(&mut numbers);
    Ok(related)
}

impl<M> Related<M> {
    /// Puts the rows in (parent, row number) order; `numbers` may be empty
    /// (rows already in order within each parent). The common case, rows
    /// that came in that order, is one pass with nothing moved.
    fn in_order(mut self, numbers: &[i64]) -> Self {
        let key = |i: usize| (self.parents[i], numbers.get(i).copied().unwrap_or(0));
        if (1..self.rows.len()).all(|i| key(i - 1) <= key(i)) {
            return self;
        }
        let mut all: Vec<_> = (0..self.rows.len()).map(key).zip(self.rows).collect();
        // Stable: rows of equal keys keep the order they came in.
        all.sort_by_key(|&(key, _)| key);
        (self.parents, self.rows) = all.into_iter().map(|((parent, _), row)| (parent, row)).unzip();
        self
    }
}

/// How many children each key has, in one `GROUP BY`.
pub async fn count_related<E: EntityTrait>(
    db: &CountingDb,
    path: &Path,
    keys: &[i64],
    filter: &Condition,
) -> ApiResult<HashMap<i64, i64>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let entity = E::default();
    let parent = || Expr::col((path.table.clone(), path.key.clone()));
    let mut select = Query::select();
    select
        .expr_as(parent(), Alias::new("__parent"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("__count"))
        .from(entity);
    if let Some((link, child)) = &path.join {
        select.inner_join(
            path.table.clone(),
            Expr::col((path.table.clone(), link.clone())).equals((entity.into_iden(), child.clone())),
        );
    }
    select
        .and_where(key_in(backend, (path.table.clone(), path.key.clone()), keys))
        .cond_where(filter.clone())
        .add_group_by([parent()]);
    let rows = db.query_all(&select).await?;
    rows.iter().map(|row| Ok((row.try_get::<i64>("", "__parent")?, row.try_get::<i64>("", "__count")?))).collect()
}

/// Rows of `E` whose id is one of `ids`, in id order, with the `wanted`
/// columns, as one group.
pub async fn fetch_by_ids<E>(db: &CountingDb, ids: &[i64], wanted: Wanted) -> ApiResult<std::sync::Arc<Group<E::Model>>>
where
    E: EntityTrait,
    E::Model: Positional + RowId,
{
    let selected = Selected::of::<E::Model>(wanted.bits());
    if ids.is_empty() {
        return Ok(Group::read(Vec::new(), selected));
    }
    let id = primary_key::<E>()?;
    let mut select = select_model::<E>(selected);
    select.and_where(column_in(db.get_database_backend(), id, ids)).order_by((E::default(), id), Order::Asc);
    Ok(Group::read(load::<E>(db, &select, selected, ids.len()).await?, selected))
}

/// The rows of `E` meeting `condition`, in id order, with the `wanted`
/// columns, as one group (a lookup by a unique key).
pub async fn fetch_where<E>(
    db: &CountingDb,
    condition: Condition,
    wanted: Wanted,
) -> ApiResult<std::sync::Arc<Group<E::Model>>>
where
    E: EntityTrait,
    E::Model: Positional + RowId,
{
    let selected = Selected::of::<E::Model>(wanted.bits());
    let mut select = select_model::<E>(selected);
    select.cond_where(condition).order_by((E::default(), primary_key::<E>()?), Order::Asc);
    Ok(Group::read(load::<E>(db, &select, selected, 1).await?, selected))
}

/// One page of a top-level list: at most `window.size + 1` rows, and the
/// columns they hold.
pub async fn fetch_page<E>(db: &CountingDb, window: &Window<E>) -> ApiResult<(Vec<E::Model>, Selected)>
where
    E: EntityTrait,
    E::Model: Positional,
{
    let selected = Selected::of::<E::Model>(window.wanted.bits());
    let mut select = select_model::<E>(selected);
    select.cond_where(window_conditions(window)?);
    for (term, order) in window.sort.order_by(window.backward)? {
        select.order_by_expr(term, order);
    }
    select.limit(window.size + 1);
    Ok((load::<E>(db, &select, selected, window.rows_fetched()).await?, selected))
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

#[cfg(test)]
mod tests {
    use super::{Path, Related};
    use entity::row::Selected;

    #[test]
    fn related_rows_are_put_in_parent_then_number_order() {
        let related = |parents, rows| Related::<&str> { parents, rows, selected: Selected::ALL };
        let ordered = related(vec![7, 3, 7, 3, 9], vec!["7b", "3a", "7a", "3b", "9a"]).in_order(&[2, 1, 1, 2, 1]);
        assert_eq!(ordered.parents, [3, 3, 7, 7, 9]);
        assert_eq!(ordered.rows, ["3a", "3b", "7a", "7b", "9a"]);

        // Without numbers, rows keep their order within a parent.
        let ordered = related(vec![2, 1, 2, 1], vec!["2a", "1a", "2b", "1b"]).in_order(&[]);
        assert_eq!(ordered.parents, [1, 1, 2, 2]);
        assert_eq!(ordered.rows, ["1a", "1b", "2a", "2b"]);

        // Already in order: left as it is.
        assert_eq!(related(vec![1, 1, 4], vec!["1a", "1b", "4a"]).in_order(&[1, 2, 1]).rows, ["1a", "1b", "4a"]);
    }

    /// Every named relation reads as a path the statements can follow: one
    /// hop, or two through a link table, matched by a column of the parent.
    #[test]
    fn relations_read_as_paths() {
        use entity::links::{PartnerAgreements, ProjectPartner};
        use entity::{agreement, partner, project};
        use sea_orm::{ColumnTrait, IdenStatic};
        let names = |(table, column): (sea_orm::sea_query::DynIden, sea_orm::sea_query::DynIden)| {
            (table.inner().into_owned(), column.inner().into_owned())
        };

        let (path, key) = Path::of::<PartnerAgreements>().expect("a path");
        assert_eq!(names((path.table, path.key)), names(agreement::Column::PartnerId.as_column_ref()));
        assert!(path.join.is_none());
        assert_eq!(key, partner::Column::Id.as_str());

        // Through the agreement: keyed by the project's agreement, joined to the partner.
        let (path, key) = Path::of::<ProjectPartner>().expect("a path");
        assert_eq!(names((path.table.clone(), path.key)), names(agreement::Column::Id.as_column_ref()));
        assert_eq!(key, project::Column::AgreementId.as_str());
        let (link, child) = path.join.expect("a join");
        assert_eq!(names((path.table, link)), names(agreement::Column::PartnerId.as_column_ref()));
        assert_eq!(child.inner(), partner::Column::Id.as_str());
    }
}
