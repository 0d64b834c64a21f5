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
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryResult};

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

/// A row type read by position: its columns are selected in the order of
/// [`Columns::COLUMNS`] and read back by index. sea-orm's derived reader
/// looks every column up by name in every row and formats an error message
/// for every NULL it meets; on Q1's 13,000 rows that was most of the time
/// spent reading them.
pub trait Columns: Sized {
    /// The columns, in the order they are selected and read.
    const COLUMNS: &'static [&'static str];

    /// Reads a row selected by [`select_model`] with `selected`, from column 0 on.
    fn read(row: &QueryResult, selected: Selected) -> Result<Self, DbErr>;

    /// Whether column `index` may be left out of a statement (see `Cell::STAND_IN`).
    fn has_stand_in(index: usize) -> bool;
}

/// Which columns the resolvers need, one bit per position in
/// [`Columns::COLUMNS`]. The others, where the row can hold a stand-in
/// value, are not selected at all: neither the database nor the server
/// handles what no resolver will read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Wanted(u64);

/// The columns a statement really selects, in [`Columns::COLUMNS`] order:
/// the wanted ones and those that cannot be left out, never the
/// [`SQL_ONLY`] ones.
#[derive(Clone, Copy, Debug)]
pub struct Selected(u64);

impl Selected {
    fn of<M: Columns>(wanted: Wanted) -> Self {
        Selected(M::COLUMNS.iter().enumerate().fold(0, |bits, (index, name)| {
            let left_out = SQL_ONLY.contains(name) || (!wanted.has(index) && M::has_stand_in(index));
            if left_out { bits } else { bits | (1 << index) }
        }))
    }

    fn has(self, index: usize) -> bool {
        index < 64 && self.0 & (1 << index) != 0
    }

    /// How many columns the statement selects for the model.
    fn count(self) -> usize {
        self.0.count_ones() as usize
    }
}

impl Wanted {
    /// Every column.
    pub const ALL: Wanted = Wanted(u64::MAX);

    /// Just the named columns (and those without a stand-in).
    pub fn of<M: Columns>(names: &[&str]) -> Self {
        Wanted(
            M::COLUMNS
                .iter()
                .enumerate()
                .filter(|(_, column)| names.contains(column))
                .fold(0, |bits, (index, _)| bits | (1 << index)),
        )
    }

    fn has(self, index: usize) -> bool {
        index >= 64 || self.0 & (1 << index) != 0
    }

    /// A short tag for memo keys.
    pub fn tag(self) -> u64 {
        self.0
    }
}

/// Implements [`Columns`] for an entity's model from its field list. The
/// struct literal must name every field (or the build fails), and each
/// field's name is its column's (a test holds the list to the entity's).
macro_rules! columns {
    ($($module:ident { $($field:ident),+ $(,)? })+) => {$(
        impl Columns for entity::$module::Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            #[allow(unused_assignments)]
            fn read(row: &QueryResult, selected: Selected) -> Result<Self, DbErr> {
                let (mut index, mut position) = (0, 0);
                Ok(entity::$module::Model {
                    $($field: {
                        let value = Cell::read_at(row, index, &mut position, selected)?;
                        index += 1;
                        value
                    }),+
                })
            }

            fn has_stand_in(index: usize) -> bool {
                fn of<T: Cell>(_: fn(&entity::$module::Model) -> &T) -> bool {
                    T::STAND_IN.is_some()
                }
                [$(of(|row| &row.$field)),+].get(index).copied().unwrap_or(false)
            }
        }
    )+};
}

/// The value a row holds in place of a column left out of its statement.
type StandIn<T> = Option<fn() -> T>;

/// One column of a row, read by position. Plain values go straight to
/// sqlx, whose type check is skipped: the select is built from the same
/// entity the value's type comes from (and the suite reads every type on
/// both backends). Enums are read as text and converted; JSON takes
/// sea-orm's conversion.
trait Cell: Sized {
    /// The value the row holds when no resolver will read the column, so
    /// that the statement leaves it out (empty text, `None`, the epoch);
    /// `None` where the column is always read (ids, numbers, enums).
    const STAND_IN: StandIn<Self> = None;

    fn cell(row: &QueryResult, position: usize) -> Result<Self, DbErr>;

    /// Reads column `index` of the model at the statement's next `position`
    /// if it was selected; its stand-in otherwise.
    fn read_at(row: &QueryResult, index: usize, position: &mut usize, selected: Selected) -> Result<Self, DbErr> {
        if selected.has(index) {
            let value = Self::cell(row, *position)?;
            *position += 1;
            return Ok(value);
        }
        match Self::STAND_IN {
            Some(absent) => Ok(absent()),
            None => Err(DbErr::Type(format!("column {index} is always selected, yet was left out"))),
        }
    }
}

macro_rules! sqlx_cell {
    ($($ty:ty => $stand_in:expr),+ $(,)?) => {$(
        impl Cell for $ty {
            const STAND_IN: StandIn<Self> = $stand_in;

            fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                decode(row, index).unwrap_or_else(|| row.try_get_by_index(index))
            }
        }
    )+};
}

/// Column `index` decoded by sqlx itself, borrowing from the row where the
/// type allows; `None` for a row of neither backend's sqlx type.
fn decode<'r, T>(row: &'r QueryResult, index: usize) -> Option<Result<T, DbErr>>
where
    T: sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres> + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>,
{
    use sea_orm::sqlx::Row;
    let read = if let Some(row) = row.try_as_pg_row() {
        row.try_get_unchecked(index)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get_unchecked(index)
    } else {
        return None;
    };
    Some(read.map_err(|e| DbErr::Type(format!("column {index}: {e}"))))
}

sqlx_cell!(
    i64 => None,
    i32 => None,
    String => Some(String::new),
    Option<i64> => Some(|| None),
    Option<i32> => Some(|| None),
    Option<String> => Some(|| None),
    Option<chrono::NaiveDate> => Some(|| None),
    chrono::DateTime<chrono::Utc> => Some(|| chrono::DateTime::UNIX_EPOCH),
);

/// Enums are stored as their text: read as text, then converted.
macro_rules! enum_cell {
    ($($ty:ty),+) => {$(
        impl Cell for $ty {
            fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                // The text is compared where it lies in the row: no String per cell.
                static VARIANTS: std::sync::LazyLock<Vec<(String, $ty)>> = std::sync::LazyLock::new(|| {
                    <$ty as sea_orm::Iterable>::iter().map(|v| (sea_orm::ActiveEnum::to_value(&v), v)).collect()
                });
                with_text(row, index, |text| {
                    match VARIANTS.iter().find(|(value, _)| value == text) {
                        Some((_, variant)) => Ok(variant.clone()),
                        None => <$ty as sea_orm::ActiveEnum>::try_from_value(&text.to_owned()),
                    }
                })
            }
        }
    )+};
}

/// Hands a text column to `read` without copying it out of the row.
fn with_text<T>(row: &QueryResult, index: usize, read: impl FnOnce(&str) -> Result<T, DbErr>) -> Result<T, DbErr> {
    match decode::<&str>(row, index) {
        Some(text) => read(text?),
        None => read(&String::cell(row, index)?),
    }
}

enum_cell!(
    entity::enums::PartnerKind,
    entity::enums::Sector,
    entity::enums::AgreementKind,
    entity::enums::AgreementStatus,
    entity::enums::ProjectStatus,
    entity::enums::FundingKind,
    entity::enums::FundingStatus
);

impl Cell for Option<serde_json::Value> {
    fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
        row.try_get_by_index(index)
    }
}

columns! {
    partner {
        id, slug, name_en, name_fr, acronym_en, acronym_fr, kind, sector, parent_id, country_code, website,
        description_en, description_fr, source_url, name_en_key, name_fr_key, search_names, search_text, version,
        created_at, updated_at,
    }
    agreement {
        id, partner_id, reference, title_en, title_fr, kind, status, signed_year, signed_on, effective_from,
        expires_on, summary_en, summary_fr, source_url, title_en_key, title_fr_key, search_names, search_text,
        version, created_at, updated_at,
    }
    project {
        id, agreement_id, code, name_en, name_fr, description_en, description_fr, status, starts_on, ends_on,
        source_url, name_en_key, name_fr_key, search_names, search_text, version, created_at, updated_at,
    }
    funding {
        id, project_id, funder_id, kind, status, amount_minor, currency, programme, committed_on, source_url,
        version, created_at, updated_at,
    }
    crime_area { id, slug, name_en, name_fr, created_at, updated_at }
    policing_goal { id, number, name_en, name_fr, created_at, updated_at }
    change_log { id, entity, entity_id, action, actor, at, before, after, batch, created_at, updated_at }
}

/// Columns that only SQL reads: the normalised search keys (see
/// `entity::search`). No resolver looks at them, yet they are over a third of a
/// partner's or project's row; they are never selected (rows hold empty strings).
const SQL_ONLY: [&str; 2] = ["search_text", "search_names"];

/// A select of `E`'s `selected` columns, in [`Columns`] order.
fn select_model<E: EntityTrait>(selected: Selected) -> SelectStatement
where
    E::Model: Columns,
{
    let entity = E::default();
    let mut select = Query::select();
    for (index, &name) in E::Model::COLUMNS.iter().enumerate() {
        if selected.has(index) {
            select.column((entity, Alias::new(name)));
        }
    }
    select.from(entity);
    select
}

/// Runs a select built by [`select_model`] and reads its rows.
async fn load<E>(db: &CountingDb, select: &SelectStatement, selected: Selected) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Columns,
{
    let rows = db.query_all(select).await?;
    // Sized up front: collecting `Result`s would grow the vector by doubling,
    // copying every (large) row each time.
    let mut read = Vec::with_capacity(rows.len());
    for row in &rows {
        read.push(E::Model::read(row, selected)?);
    }
    Ok(read)
}

/// The select of the child's columns plus its parent key as `__parent`.
fn related_select<E: EntityTrait>(backend: DbBackend, via: Via, keys: &[i64], selected: Selected) -> SelectStatement
where
    E::Model: Columns,
{
    let entity = E::default();
    let table = entity.table_name();
    let mut select = select_model::<E>(selected);
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
) -> ApiResult<Related<E::Model>>
where
    E: EntityTrait,
    E::Model: Columns,
{
    if keys.is_empty() {
        return Ok(Related { parents: Vec::new(), rows: Vec::new() });
    }
    let backend = db.get_database_backend();
    let table = E::default().table_name();
    let selected = Selected::of::<E::Model>(window.map_or(Wanted::ALL, |w| w.wanted));
    let mut select = related_select::<E>(backend, via, keys, selected);
    let statement = match window {
        Some(window) => {
            select.cond_where(window_conditions(window, table));
            let mut over = WindowStatement::partition_by((Alias::new(via.table), Alias::new(via.key)));
            for (term, order) in window.sort.order_by(table, window.backward) {
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
            .order_by((Alias::new(table), Alias::new("id")), Order::Asc)
            .take(),
    };
    let rows = db.query_all(&statement).await?;
    // `__parent` (then `__rn`, in a window) follows the model's columns.
    let parent = selected.count();
    let mut related = Related { parents: Vec::with_capacity(rows.len()), rows: Vec::with_capacity(rows.len()) };
    let mut numbers = Vec::with_capacity(if window.is_some() { rows.len() } else { 0 });
    for row in &rows {
        related.parents.push(i64::cell(row, parent)?);
        if window.is_some() {
            numbers.push(i64::cell(row, parent + 1)?);
        }
        related.rows.push(E::Model::read(row, selected)?);
    }
    drop(rows);
    Ok(related.in_order(&numbers))
}

/// Rows fetched for many parents, grouped by parent (in window order within
/// each): `parents[i]` is the parent of `rows[i]`.
pub struct Related<M> {
    pub parents: Vec<i64>,
    pub rows: Vec<M>,
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
    E::Model: Columns,
{
    fetch_wanted_by_ids::<E>(db, ids, Wanted::ALL).await
}

/// Rows of `E` whose id is one of `ids`, in id order, with only the
/// `wanted` columns read.
pub async fn fetch_wanted_by_ids<E>(db: &CountingDb, ids: &[i64], wanted: Wanted) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Columns,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let table = E::default().table_name();
    let selected = Selected::of::<E::Model>(wanted);
    let mut select = select_model::<E>(selected);
    select
        .and_where(key_in(db.get_database_backend(), table, "id", ids))
        .order_by((Alias::new(table), Alias::new("id")), Order::Asc);
    load::<E>(db, &select, selected).await
}

/// One page of a top-level list: at most `window.size + 1` rows.
pub async fn fetch_page<E>(db: &CountingDb, window: &Window) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Columns,
{
    let table = E::default().table_name();
    let selected = Selected::of::<E::Model>(window.wanted);
    let mut select = select_model::<E>(selected);
    select.cond_where(window_conditions(window, table));
    for (term, order) in window.sort.order_by(table, window.backward) {
        select.order_by_expr(term, order);
    }
    select.limit(window.size + 1);
    load::<E>(db, &select, selected).await
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
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::{Columns, Related};

    #[test]
    fn related_rows_are_put_in_parent_then_number_order() {
        let related = Related { parents: vec![7, 3, 7, 3, 9], rows: vec!["7b", "3a", "7a", "3b", "9a"] };
        let ordered = related.in_order(&[2, 1, 1, 2, 1]);
        assert_eq!(ordered.parents, [3, 3, 7, 7, 9]);
        assert_eq!(ordered.rows, ["3a", "3b", "7a", "7b", "9a"]);

        // Without numbers, rows keep their order within a parent.
        let related = Related { parents: vec![2, 1, 2, 1], rows: vec!["2a", "1a", "2b", "1b"] };
        let ordered = related.in_order(&[]);
        assert_eq!(ordered.parents, [1, 1, 2, 2]);
        assert_eq!(ordered.rows, ["1a", "1b", "2a", "2b"]);

        // Already in order: left as it is.
        let related = Related { parents: vec![1, 1, 4], rows: vec!["1a", "1b", "4a"] };
        assert_eq!(related.in_order(&[1, 2, 1]).rows, ["1a", "1b", "4a"]);
    }

    /// The positional readers name exactly their entity's columns.
    fn same_columns<E: EntityTrait>()
    where
        E::Model: Columns,
    {
        let mut declared: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
        let mut read = E::Model::COLUMNS.to_vec();
        declared.sort_unstable();
        read.sort_unstable();
        assert_eq!(read, declared, "{}", E::default().table_name());
    }

    #[test]
    fn positional_readers_cover_every_column() {
        same_columns::<entity::partner::Entity>();
        same_columns::<entity::agreement::Entity>();
        same_columns::<entity::project::Entity>();
        same_columns::<entity::funding::Entity>();
        same_columns::<entity::crime_area::Entity>();
        same_columns::<entity::policing_goal::Entity>();
        same_columns::<entity::change_log::Entity>();
    }
}
