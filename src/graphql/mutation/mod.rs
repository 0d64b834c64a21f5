//! The mutation roots, one per domain, merged into [`MutationRoot`], and
//! the shape every write shares: one transaction holding the row, its
//! links, its `change_log` entries and (on PostgreSQL) its notifications,
//! committed together or not at all.

mod agreement;
mod funding;
mod partner;
mod project;
pub mod validate;

use std::sync::Arc;

use async_graphql::{ID, MaybeUndefined, MergedObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::Record;
use entity::change_log;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic, Set, SqlErr};

use crate::auth::{Caller, Written};
use crate::db::{CountingDb, CountingTxn};
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, EventBus, RecordKind, with_entity};
use crate::graphql::context::{Writes, request};
use crate::graphql::id;
use crate::graphql::sql::column_in;
use crate::replicas::Replicas;

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
    /// Groups this write's history entries.
    batch: String,
    /// Recorded at commit, so the numbering lock is held briefly.
    entries: Vec<change_log::ActiveModel>,
    bus: EventBus,
    writes: Arc<Writes>,
    /// With read replicas: the token to record the commit's WAL position
    /// in, so the writer's next reads wait for a replica to have it, and the
    /// request's own record of it.
    replicas: Option<(Arc<Replicas>, i64, Written, CountingDb)>,
}

impl Write {
    /// Opens the transaction for the caller's write. The guard on every
    /// mutation has already checked the caller's role.
    pub async fn begin(ctx: &async_graphql::Context<'_>) -> ApiResult<Self> {
        let data = request(ctx)?;
        if data.writes.closed() {
            return Err(ApiError::Timeout(
                "the operation ran out of time before this write began; it was not made".into(),
            ));
        }
        Ok(Write {
            txn: data.db.begin().await?,
            now: Utc::now(),
            actor: data.caller.actor().to_owned(),
            batch: batch_id()?,
            entries: Vec::new(),
            bus: data.events.clone(),
            writes: data.writes.clone(),
            replicas: match (&data.replicas, &data.caller) {
                (Some(replicas), Caller::Token { id, written, .. }) => {
                    Some((replicas.clone(), *id, written.clone(), data.db.clone()))
                }
                _ => None,
            },
        })
    }

    fn postgres(&self) -> bool {
        self.txn.get_database_backend() == DbBackend::Postgres
    }

    /// Claims a record the caller read at version `expected`, before
    /// reading it: the version goes up by one in a statement that locks the
    /// row (PostgreSQL; on SQLite the write lock is held since `BEGIN`), so
    /// of two writers holding the same version exactly one gets through,
    /// and what is read next is the committed state nobody else can change
    /// until this write ends. Returns the new version.
    pub async fn claim(&self, kind: RecordKind, id: i64, expected: i32) -> ApiResult<i32> {
        with_entity!(kind, E => self.claim_in::<E>(kind, id, expected).await)
    }

    async fn claim_in<E: Record>(&self, kind: RecordKind, id: i64, expected: i32) -> ApiResult<i32> {
        let bump = Query::update()
            .table(E::default())
            .value(E::VERSION, Expr::col(E::VERSION).add(1))
            .and_where(E::ID.eq(id))
            .and_where(E::VERSION.eq(expected))
            .to_owned();
        if self.txn.execute(&bump).await?.rows_affected() == 1 {
            return Ok(expected + 1);
        }
        let current = Query::select().column(E::VERSION).from(E::default()).and_where(E::ID.eq(id)).to_owned();
        match self.txn.query_one(&current).await? {
            None => Err(not_found(kind)),
            Some(row) => Err(ApiError::StaleVersion { expected, current: row.try_get_by_index::<i32>(0)? }),
        }
    }

    /// Before a delete: locks the row against new dependents (PostgreSQL;
    /// a dependent's foreign-key check needs a lock this one excludes), so
    /// the dependents read next are all there will be.
    pub async fn lock_for_delete(&self, kind: RecordKind, id: i64) -> ApiResult<()> {
        if self.postgres() {
            let lock = with_entity!(kind, E => Query::select()
                .column(E::ID)
                .from(E::default())
                .and_where(E::ID.eq(id))
                .lock(LockType::Update)
                .to_owned());
            self.txn.query_one(&lock).await?;
        }
        Ok(())
    }

    /// Serialises the writes that reshape the partner tree (PostgreSQL),
    /// so two moves checked apart cannot together make a loop.
    pub async fn lock_partner_tree(&self) -> ApiResult<()> {
        if self.postgres() {
            // An arbitrary key of this application's own.
            self.txn.execute_unprepared("SELECT pg_advisory_xact_lock(7215104)").await?;
        }
        Ok(())
    }

    /// Records a change in `change_log` (the source of its event) when the write commits.
    pub fn record(
        &mut self,
        kind: RecordKind,
        id: i64,
        action: ChangeAction,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) {
        self.entries.push(change_log::ActiveModel {
            entity: Set(kind.table().to_owned()),
            entity_id: Set(id),
            action: Set(action.as_str().to_owned()),
            actor: Set(self.actor.clone()),
            at: Set(self.now),
            before: Set(before),
            after: Set(after),
            batch: Set(Some(self.batch.clone())),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        });
    }

    /// Records the history entries (and on PostgreSQL queues the
    /// notification), commits and wakes this process's event reader. It
    /// runs to the end even if the request is cancelled meanwhile, so a
    /// commit is never left unannounced.
    pub async fn commit(self) -> ApiResult<()> {
        let Write { txn, entries, bus, writes, replicas, .. } = self;
        // From here the operation has (or may have) made a change: a
        // timeout waits for it instead of reporting it cancelled.
        writes.begin_commit();
        tokio::spawn(async move {
            bus.record_in(&txn, entries).await?;
            txn.commit().await?;
            bus.committed();
            if let Some((replicas, token, written, db)) = replicas {
                // The write is made whatever happens here: at worst the writer's
                // next read comes from a replica that has not replayed it yet.
                match replicas.record_write(&db, token).await {
                    Ok(position) => position.into_iter().for_each(|at| written.advance(at)),
                    Err(e) => tracing::warn!(error = %e, "cannot record the primary's WAL position after a write"),
                }
            }
            Ok::<_, ApiError>(())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("the commit task failed: {e}")))?
    }
}

/// A fresh batch id: 128 random bits, in hex.
fn batch_id() -> ApiResult<String> {
    use rand::TryRngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("no randomness for a batch id: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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

/// A required value after an update: unchanged or replaced, never cleared.
pub fn required<T>(field: &str, current: T, change: MaybeUndefined<T>) -> ApiResult<T> {
    match change {
        MaybeUndefined::Undefined => Ok(current),
        MaybeUndefined::Null => Err(ApiError::bad_input(field, format!("`{field}` may not be null"))),
        MaybeUndefined::Value(value) => Ok(value),
    }
}

/// The history's "before" of a row of `E` read after its claim: as it
/// was, at the version the caller read.
pub fn before<E: Record>(mut snapshot: serde_json::Value, expected: i32) -> serde_json::Value {
    snapshot[E::VERSION.as_str()] = expected.into();
    snapshot
}

/// The JSON kept in the history for a row.
pub fn snapshot(row: &impl serde::Serialize) -> ApiResult<serde_json::Value> {
    serde_json::to_value(row).map_err(|e| ApiError::Internal(format!("cannot record the row: {e}")))
}

/// A unique key already taken by another row gives a `CONFLICT` naming the
/// input field; a check that lost a race to the database's own constraint
/// reads the same.
pub async fn ensure_unique<E: Record>(
    txn: &CountingTxn,
    column: E::Column,
    value: &str,
    except_id: Option<i64>,
    field: &str,
) -> ApiResult<()> {
    let mut select = Query::select();
    select.column(E::ID).from(E::default()).and_where(column.eq(value));
    if let Some(id) = except_id {
        select.and_where(E::ID.ne(id));
    }
    if txn.query_one(&select.limit(1).to_owned()).await?.is_some() {
        return Err(taken::<E>(column, value, field));
    }
    Ok(())
}

fn taken<E: EntityTrait>(column: E::Column, value: &str, field: &str) -> ApiError {
    let table = E::default().table_name();
    ApiError::conflict(field, format!("another {table} already has the {} `{value}`", column.as_str()))
}

/// Maps a unique-constraint violation on `column` to the same `CONFLICT` as
/// [`ensure_unique`]; any other database error stays internal.
pub fn unique_violation<E: EntityTrait>(column: E::Column, value: &str, field: &str) -> impl FnOnce(DbErr) -> ApiError {
    let (value, field) = (value.to_owned(), field.to_owned());
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains(column.as_str()) => {
            taken::<E>(column, &value, &field)
        }
        _ => err.into(),
    }
}

/// Decodes a global id given in the input and checks the record exists.
/// On PostgreSQL the row is share-locked until the write ends, so it cannot
/// be deleted between this check and the write that refers to it.
pub async fn existing(txn: &CountingTxn, kind: RecordKind, field: &str, global_id: &ID) -> ApiResult<i64> {
    let id = id::decode_as(field, kind.type_name(), global_id)?;
    let mut select =
        with_entity!(kind, E => Query::select().column(E::ID).from(E::default()).and_where(E::ID.eq(id)).to_owned());
    if txn.get_database_backend() == DbBackend::Postgres {
        select.lock(LockType::KeyShare);
    }
    match txn.query_one(&select).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::bad_input(field, format!("`{field}` names no existing {}", kind.type_name()))),
    }
}

/// Rows of `E` whose `column` is one of `keys`, in one statement.
pub async fn rows_where<E: EntityTrait>(
    txn: &CountingTxn,
    column: E::Column,
    keys: &[i64],
) -> ApiResult<Vec<E::Model>> {
    use sea_orm::QueryFilter;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(E::find().filter(column_in(txn.get_database_backend(), column, keys)).all(txn).await?)
}

/// [`rows_where`], locking the rows for update on PostgreSQL: the records a
/// cascade is about to delete cannot move elsewhere meanwhile.
pub async fn rows_to_delete<E: EntityTrait>(
    txn: &CountingTxn,
    column: E::Column,
    keys: &[i64],
) -> ApiResult<Vec<E::Model>> {
    use sea_orm::{QueryFilter, QuerySelect};
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    let mut select = E::find().filter(column_in(backend, column, keys));
    if backend == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select.all(txn).await?)
}

/// Deletes the rows of `E` whose `column` is one of `keys`.
pub async fn delete_where<E: EntityTrait>(txn: &CountingTxn, column: E::Column, keys: &[i64]) -> ApiResult<()> {
    use sea_orm::QueryFilter;
    if keys.is_empty() {
        return Ok(());
    }
    E::delete_many().filter(column_in(txn.get_database_backend(), column, keys)).exec(txn).await?;
    Ok(())
}

/// The global ids of rows of one kind.
pub fn global_ids(kind: RecordKind, ids: &[i64]) -> Vec<ID> {
    ids.iter().map(|&id| ID(id::encode(kind.type_name(), id))).collect()
}

/// The ids of crime areas given by slug, each checked to exist.
pub async fn crime_area_ids(txn: &CountingTxn, slugs: &[String]) -> ApiResult<Vec<i64>> {
    use entity::crime_area;
    use sea_orm::QueryFilter;
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

/// Deletes the links of these projects (crime areas, policing goals, countries).
pub async fn delete_project_links(txn: &CountingTxn, projects: &[i64]) -> ApiResult<()> {
    use entity::{project_country, project_crime_area, project_policing_goal};
    delete_where::<project_crime_area::Entity>(txn, project_crime_area::Column::ProjectId, projects).await?;
    delete_where::<project_policing_goal::Entity>(txn, project_policing_goal::Column::ProjectId, projects).await?;
    delete_where::<project_country::Entity>(txn, project_country::Column::ProjectId, projects).await
}

/// Replaces the rows of a link table held by one owner (its `owner`
/// column) with `rows`.
pub async fn replace_links<A>(
    txn: &CountingTxn,
    owner: <A::Entity as EntityTrait>::Column,
    id: i64,
    rows: Vec<A>,
) -> ApiResult<()>
where
    A: ActiveModelTrait + Send,
{
    delete_where::<A::Entity>(txn, owner, &[id]).await?;
    if rows.is_empty() {
        return Ok(());
    }
    A::Entity::insert_many(rows).exec(txn).await?;
    Ok(())
}
