//! The mutation roots, one per domain, merged into [`MutationRoot`], and
//! the shape every write shares: one transaction holding the row, its
//! links, its `change_log` entries and (on PostgreSQL) its notifications,
//! committed together or not at all.

mod agreement;
mod funding;
mod partner;
mod project;
pub mod validate;

use async_graphql::{ID, MaybeUndefined, MergedObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::change_log;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set, SqlErr};

use crate::db::CountingTxn;
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, ChangeEvent, EventBus, RecordKind};
use crate::graphql::context::request;
use crate::graphql::id;
use crate::graphql::sql::key_in;

/// Everything that can be written. Every mutation needs a token with the
/// EDITOR role.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    partner::PartnerMutation,
    agreement::AgreementMutation,
    project::ProjectMutation,
    funding::FundingMutation,
);

/// What a delete removed.
#[derive(SimpleObject)]
pub struct Deletion {
    /// The global id of the record asked for.
    pub id: ID,
    /// Its row id.
    pub database_id: i64,
    /// Every record removed, the one asked for first, then those removed
    /// with it by `cascade` (global ids).
    pub deleted: Vec<ID>,
}

/// A write in progress.
pub struct Write {
    pub txn: CountingTxn,
    pub now: DateTime<Utc>,
    actor: String,
    events: Vec<ChangeEvent>,
    bus: EventBus,
}

impl Write {
    /// Opens the transaction for the caller's write. The guard on every
    /// mutation has already checked the caller's role.
    pub async fn begin(ctx: &async_graphql::Context<'_>) -> ApiResult<Self> {
        let data = request(ctx)?;
        Ok(Write {
            txn: data.db.begin().await?,
            now: Utc::now(),
            actor: data.caller.actor().to_owned(),
            events: Vec::new(),
            bus: data.events.clone(),
        })
    }

    /// Claims a record the caller read at version `expected`: the version
    /// goes up by one, in a statement that locks the row (PostgreSQL; on
    /// SQLite the write lock is held since `BEGIN`), so of two writers
    /// holding the same version exactly one gets through and the other sees
    /// the new one. Read the record (for its "before") first: if the claim
    /// succeeds, nothing changed it in between. Returns the new version.
    pub async fn claim(&self, kind: RecordKind, id: i64, expected: i32) -> ApiResult<i32> {
        let table = kind.table();
        let version = || Expr::col(Alias::new("version"));
        let bump = Query::update()
            .table(Alias::new(table))
            .value(Alias::new("version"), version().add(1))
            .value(Alias::new("updated_at"), self.now)
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .and_where(version().eq(expected))
            .to_owned();
        if self.txn.execute(&bump).await?.rows_affected() == 1 {
            return Ok(expected + 1);
        }
        let current = Query::select()
            .column(Alias::new("version"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        match self.txn.query_one(&current).await? {
            None => Err(not_found(kind)),
            Some(row) => Err(ApiError::StaleVersion { expected, current: row.try_get::<i32>("", "version")? }),
        }
    }

    /// Records a change in `change_log` and queues its event.
    #[allow(clippy::too_many_arguments)]
    pub async fn record(
        &mut self,
        kind: RecordKind,
        id: i64,
        action: ChangeAction,
        version: Option<i32>,
        parents: Vec<i64>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> ApiResult<()> {
        let entry = change_log::ActiveModel {
            entity: Set(kind.table().to_owned()),
            entity_id: Set(id),
            action: Set(action.as_str().to_owned()),
            actor: Set(self.actor.clone()),
            at: Set(self.now),
            before: Set(before),
            after: Set(after),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        let mut parents = parents;
        parents.sort_unstable();
        parents.dedup();
        self.events.push(ChangeEvent {
            change_id: entry.id,
            kind,
            id,
            action,
            version,
            parents,
            actor: self.actor.clone(),
            at: self.now,
        });
        Ok(())
    }

    /// Sends the notifications (PostgreSQL, inside the transaction) and commits.
    pub async fn commit(self) -> ApiResult<()> {
        self.bus.notify_in(&self.txn, &self.events).await?;
        self.txn.commit().await?;
        self.bus.committed(self.events);
        Ok(())
    }
}

/// The record to change or delete does not exist (any more).
pub fn not_found(kind: RecordKind) -> ApiError {
    ApiError::NotFound(format!("no {} has this id", kind.type_name()))
}

/// The value after an update: unchanged, cleared or replaced.
pub fn patch<T>(current: Option<T>, change: MaybeUndefined<T>) -> Option<T> {
    match change {
        MaybeUndefined::Undefined => current,
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(value) => Some(value),
    }
}

/// The JSON kept in the history for a row.
pub fn snapshot(row: &impl serde::Serialize) -> ApiResult<serde_json::Value> {
    serde_json::to_value(row).map_err(|e| ApiError::Internal(format!("cannot record the row: {e}")))
}

/// A unique key already taken by another row gives a `CONFLICT` naming the
/// input field; a check that lost a race to the database's own constraint
/// reads the same.
pub async fn ensure_unique(
    txn: &CountingTxn,
    table: &str,
    column: &str,
    value: &str,
    except_id: Option<i64>,
    field: &str,
) -> ApiResult<()> {
    let mut select = Query::select();
    select.column(Alias::new("id")).from(Alias::new(table)).and_where(Expr::col(Alias::new(column)).eq(value));
    if let Some(id) = except_id {
        select.and_where(Expr::col(Alias::new("id")).ne(id));
    }
    if txn.query_one(&select.limit(1).to_owned()).await?.is_some() {
        return Err(taken(table, column, value, field));
    }
    Ok(())
}

fn taken(table: &str, column: &str, value: &str, field: &str) -> ApiError {
    ApiError::conflict(field, format!("another {table} already has the {column} `{value}`"))
}

/// Maps a unique-constraint violation on `column` to the same `CONFLICT` as
/// [`ensure_unique`]; any other database error stays internal.
pub fn unique_violation(table: &str, column: &str, value: &str, field: &str) -> impl FnOnce(DbErr) -> ApiError {
    let (table, column, value, field) = (table.to_owned(), column.to_owned(), value.to_owned(), field.to_owned());
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains(&column) => {
            taken(&table, &column, &value, &field)
        }
        _ => err.into(),
    }
}

/// Decodes a global id given in the input and checks the record exists.
pub async fn existing(txn: &CountingTxn, kind: RecordKind, field: &str, global_id: &ID) -> ApiResult<i64> {
    let id = id::decode_as(field, kind.type_name(), global_id)?;
    let select = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(kind.table()))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    match txn.query_one(&select).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::bad_input(field, format!("`{field}` names no existing {}", kind.type_name()))),
    }
}

/// Rows of `E` whose `column` is one of `keys`, in one statement.
pub async fn rows_where<E: EntityTrait>(txn: &CountingTxn, column: &str, keys: &[i64]) -> ApiResult<Vec<E::Model>> {
    use sea_orm::QueryFilter;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let table = E::default().table_name();
    Ok(E::find().filter(key_in(txn.get_database_backend(), table, column, keys)).all(txn).await?)
}

/// Deletes the rows of `table` whose `column` is one of `keys`.
pub async fn delete_where(txn: &CountingTxn, table: &str, column: &str, keys: &[i64]) -> ApiResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let delete = Query::delete()
        .from_table(Alias::new(table))
        .cond_where(key_in(txn.get_database_backend(), table, column, keys))
        .to_owned();
    txn.execute(&delete).await?;
    Ok(())
}

/// The global ids of rows of one kind.
pub fn global_ids(kind: RecordKind, ids: &[i64]) -> Vec<ID> {
    ids.iter().map(|&id| ID(id::encode(kind.type_name(), id))).collect()
}

/// The ids of crime areas given by slug, each checked to exist.
pub async fn crime_area_ids(txn: &CountingTxn, slugs: &[String]) -> ApiResult<Vec<i64>> {
    use entity::crime_area;
    use sea_orm::{ColumnTrait, QueryFilter};
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let found =
        crime_area::Entity::find().filter(crime_area::Column::Slug.is_in(slugs.iter().cloned())).all(txn).await?;
    let mut ids = Vec::with_capacity(slugs.len());
    for slug in slugs {
        match found.iter().find(|c| &c.slug == slug) {
            Some(c) => ids.push(c.id),
            None => {
                return Err(ApiError::bad_input(
                    "input.crimeAreas",
                    format!(
                        "there is no crime area `{}`; see `crimeAreas` for the slugs",
                        slug.chars().take(64).collect::<String>()
                    ),
                ));
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Replaces the rows of a link table for one owner.
pub async fn replace_links<V: Into<sea_orm::Value> + Clone>(
    txn: &CountingTxn,
    table: &str,
    owner_column: &str,
    owner: i64,
    other_column: &str,
    others: &[V],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    delete_where(txn, table, owner_column, &[owner]).await?;
    if others.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(Alias::new(table)).columns([
        Alias::new(owner_column),
        Alias::new(other_column),
        Alias::new("created_at"),
        Alias::new("updated_at"),
    ]);
    for other in others {
        insert
            .values([owner.into(), other.clone().into().into(), now.into(), now.into()])
            .map_err(|e| ApiError::Internal(format!("link row does not fit {table}: {e}")))?;
    }
    txn.execute(&insert).await?;
    Ok(())
}
