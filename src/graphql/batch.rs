//! Sibling groups: the unit of batching.
//!
//! Every set of rows fetched by one statement (a page of partners, the
//! agreements of all those partners, …) becomes a [`Group`]. When a field of
//! one row needs related rows, the group loads them for *all* its rows in one
//! statement, once, and every sibling reads its share of that result. The
//! number of statements a query costs therefore depends only on its shape —
//! one per relation per level — never on timing, load or data size.

use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex};

use entity::row::Selected;
use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::spare;

/// A row with a 64-bit primary key.
pub trait RowId: Send + Sync + 'static {
    fn row_id(&self) -> i64;
}

type Slot = Arc<OnceCell<Result<Arc<dyn Any + Send + Sync>, ApiError>>>;

/// What a group's memo entry holds: a name (static for the common
/// relations, so looking one up allocates nothing) and a tag: 0 for a
/// relation loaded whole, the column set for a to-one lookup (below 2^62,
/// or all ones), [`WINDOW_TAG`] with a window's number for a page run.
pub type MemoKey = (Cow<'static, str>, u64);

/// Marks a memo tag as a window's number (see [`crate::graphql::context::FieldMemo`]).
pub const WINDOW_TAG: u64 = 1 << 62;

/// Rows fetched together, the columns their statement selected (the others
/// hold stand-ins), and the memo of what has been loaded for them.
pub struct Group<M> {
    rows: Vec<M>,
    selected: Selected,
    memo: Mutex<foldhash::HashMap<MemoKey, Slot>>,
    /// Where the rows' vector goes once the group is dropped ([`spare`]).
    give_back: fn(&mut Vec<M>),
}

impl<M> Drop for Group<M> {
    fn drop(&mut self) {
        (self.give_back)(&mut self.rows);
    }
}

impl<M: RowId> Group<M> {
    /// Rows read whole.
    pub fn new(rows: Vec<M>) -> Arc<Self> {
        Self::read(rows, Selected::ALL)
    }

    /// Rows whose statement selected only the `selected` columns.
    pub fn read(rows: Vec<M>, selected: Selected) -> Arc<Self> {
        Arc::new(Group { rows, selected, memo: Mutex::new(foldhash::HashMap::default()), give_back: spare::give_back })
    }

    pub fn rows(&self) -> &[M] {
        &self.rows
    }

    /// The columns the rows hold for real; the others are stand-ins.
    pub fn selected(&self) -> Selected {
        self.selected
    }

    /// The distinct primary keys of the group, in row order.
    pub fn ids(&self) -> Vec<i64> {
        distinct(self.rows.iter().map(RowId::row_id))
    }

    /// Runs `load` the first time `key` is asked for and shares its result
    /// (or its error) with every later caller, concurrent ones included.
    pub async fn once<T, F, Fut>(&self, key: MemoKey, load: F) -> ApiResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<T>> + Send,
    {
        let slot = {
            let mut memo = self.memo.lock().map_err(|_| ApiError::Internal("group memo poisoned".into()))?;
            match memo.get(&key) {
                Some(slot) => slot.clone(),
                None => memo.entry(key).or_default().clone(),
            }
        };
        // Only the first caller runs `load`; boxing it keeps its (large, SQL
        // driver) state out of every sibling's future, which would otherwise
        // carry it inline while it waits: thousands of siblings, each that big.
        let value = slot
            .get_or_init(|| -> BoxFuture<'_, Result<Arc<dyn Any + Send + Sync>, ApiError>> {
                let load = load();
                Box::pin(async move { load.await.map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>) })
            })
            .await
            .clone()?;
        value.downcast::<T>().map_err(|_| ApiError::Internal("group memo holds another type under this key".into()))
    }
}

impl<M> Group<M> {
    /// What `key` has loaded, if it has been loaded and did not fail.
    pub fn peek<T: Send + Sync + 'static>(&self, key: &MemoKey) -> Option<Arc<T>> {
        let slot = self.memo.lock().ok()?.get(key)?.clone();
        let loaded = slot.get()?.as_ref().ok()?.clone();
        loaded.downcast::<T>().ok()
    }
}

/// One row among its siblings, as a field that batches for the whole group
/// sees it: its id and the group's, and the database, reached once for the
/// whole group; none of the row's other columns (a field that reads columns
/// declares them).
pub struct Siblings<'a, M> {
    group: &'a Group<M>,
    index: usize,
    db: &'a CountingDb,
}

impl<'a, M: RowId> Siblings<'a, M> {
    pub fn new(group: &'a Group<M>, index: usize, db: &'a CountingDb) -> Self {
        Siblings { group, index, db }
    }

    /// This row's id.
    pub fn id(&self) -> i64 {
        self.group.rows[self.index].row_id()
    }

    /// Runs `load` with the database and the ids of every row of the group
    /// the first time `key` is asked for, and shares its result with every
    /// sibling (see [`Group::once`]).
    pub async fn load<T, F, Fut>(&self, key: MemoKey, load: F) -> ApiResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&'a CountingDb, Vec<i64>) -> Fut,
        Fut: Future<Output = ApiResult<T>> + Send,
    {
        let (db, group) = (self.db, self.group);
        group.once(key, || load(db, group.ids())).await
    }
}

/// Distinct values in first-seen order.
pub fn distinct(values: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut seen = foldhash::HashSet::default();
    values.filter(|v| seen.insert(*v)).collect()
}
