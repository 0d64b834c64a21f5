//! Relay connections, fetched lazily: a connection object only says *which*
//! page it is; its fields load the page (and, separately, the total) on first
//! use, so `totalCount` alone costs one `COUNT`, `nodes` alone no `COUNT`.

use std::borrow::Cow;
use std::sync::Arc;

use foldhash::HashMap;

use async_graphql::{Context, Object, SelectionField, SimpleObject};
use sea_orm::sea_query::Condition;
use tokio::sync::OnceCell;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{Group, MemoKey, RowId, WINDOW_TAG};
use crate::graphql::context::{FieldKey, db, request};
use crate::graphql::list::List;
use crate::graphql::node::NodeType;
use crate::graphql::object::{Agreement, Change, CrimeArea, Funding, Partner, Project};
use crate::graphql::sort::{Cursor, Sort, SortValue, Sortable};
use crate::graphql::sql::{self, Related, Via, Wanted};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest `first` or `last` accepted.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which slice of a list a connection returns: its order, filter, size and cursors.
#[derive(Clone, Debug)]
pub struct Window {
    pub size: u64,
    /// `last`/`before`: counted from the end.
    pub backward: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    pub sort: Sort,
    pub filter: Condition,
    /// The columns the page's rows must carry (see [`Window::reading`]).
    pub wanted: Wanted,
    /// The window's number in the request (see [`Window::reading`]): its
    /// memo key without building [`Window::key`] for every sibling.
    number: Option<u64>,
}

impl Window {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Self> {
        Self::sorted(first, after, last, before, Sort::BY_ID, Condition::all())
    }

    /// A window over a list ordered by `sort` and narrowed by `filter`.
    pub fn sorted(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        sort: Sort,
        filter: Condition,
    ) -> ApiResult<Self> {
        let size = |field: &str, n: i32| -> ApiResult<u64> {
            match u64::try_from(n) {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
                _ => {
                    Err(ApiError::bad_input(field, format!("`{field}` must be between 1 and {MAX_PAGE_SIZE}, got {n}")))
                }
            }
        };
        let (size, backward) = match (first, last) {
            (Some(_), Some(_)) => return Err(ApiError::bad_input("last", "give `first` or `last`, not both")),
            (Some(n), None) => (size("first", n)?, false),
            (None, Some(n)) => (size("last", n)?, true),
            (None, None) => (DEFAULT_PAGE_SIZE, before.is_some()),
        };
        let after = after.map(|c| sort.decode("after", &c)).transpose()?;
        let before = before.map(|c| sort.decode("before", &c)).transpose()?;
        Ok(Window { size, backward, after, before, sort, filter, wanted: Wanted::ALL, number: None })
    }

    /// Narrows the columns read to those the connection field's selection
    /// (`nodes { … }`, `edges { node { … } }`) and the ordering need.
    ///
    /// Every sibling resolving the same field of the document has the same
    /// arguments, hence the same window: the columns and the window's number
    /// (its memo key) are worked out by the first and looked up by the rest.
    pub fn reading<N: NodeType>(mut self, ctx: &Context<'_>) -> Self {
        let compute = |sort: Sort| {
            let look = ctx.look_ahead();
            let (nodes, edges) = (look.field("nodes"), look.field("edges").field("node"));
            let objects: Vec<SelectionField<'_>> =
                nodes.selection_fields().into_iter().chain(edges.selection_fields()).collect();
            wanted::<N>(objects.iter().flat_map(|f| f.selection_set()), sort.column)
        };
        let Ok(request) = request(ctx) else {
            self.wanted = compute(self.sort);
            return self;
        };
        let field = field_key::<N>(ctx);
        if let Ok(memo) = request.fields.lock()
            && let (Some(&wanted), Some(&number)) = (memo.wanted.get(&field), memo.windows.get(&field))
        {
            self.wanted = wanted;
            self.number = Some(number);
            return self;
        }
        self.wanted = compute(self.sort);
        let key = self.key();
        if let Ok(mut memo) = request.fields.lock() {
            let next = memo.window_numbers.len() as u64;
            let number = *memo.window_numbers.entry(key).or_insert(next);
            memo.wanted.insert(field, self.wanted);
            memo.windows.insert(field, number);
            self.number = Some(number);
        }
        self
    }

    /// The key of the window's page run in a group's memo.
    fn memo_key(&self, relation: &'static str) -> MemoKey {
        match self.number {
            Some(number) => (Cow::Borrowed(relation), WINDOW_TAG | number),
            None => (format!("{relation}/{}", self.key()).into(), 0),
        }
    }

    /// Identifies the window in a group's memo: siblings asking for the same
    /// window share one statement.
    fn key(&self) -> String {
        use std::fmt::Write;
        // Every sibling builds this key, so the common case (no cursor, no
        // filter) skips `Debug`, which escapes strings char by char.
        let sort = &self.sort;
        let mut key = format!(
            "{}:{}:{}:{}:{:x}",
            self.size,
            self.backward,
            sort.column.unwrap_or("id"),
            sort.descending,
            self.wanted.tag()
        );
        if self.after.is_some() || self.before.is_some() {
            let _ = write!(key, ":{:?}:{:?}", self.after, self.before);
        }
        if !self.filter.is_empty() {
            let _ = write!(key, ":{:?}", self.filter);
        }
        key
    }

    /// Cuts the (up to `size + 1`) rows fetched for one list into a page.
    fn cut(&self, len: usize) -> (usize, bool, bool) {
        let more = len as u64 > self.size;
        let kept = len.min(self.size as usize);
        if self.backward { (kept, self.before.is_some(), more) } else { (kept, more, self.after.is_some()) }
    }
}

/// `compute`s the columns for the objects of the field being resolved once
/// per request: every sibling resolving that field asks the same.
fn wanted_once<N: NodeType>(ctx: &Context<'_>, compute: impl FnOnce() -> Wanted) -> Wanted {
    let Ok(request) = request(ctx) else { return compute() };
    let key = field_key::<N>(ctx);
    if let Some(known) = request.fields.lock().ok().and_then(|memo| memo.wanted.get(&key).copied()) {
        return known;
    }
    let wanted = compute();
    if let Ok(mut memo) = request.fields.lock() {
        memo.wanted.insert(key, wanted);
    }
    wanted
}

/// The field being resolved, as its siblings all know it.
fn field_key<N: NodeType>(ctx: &Context<'_>) -> FieldKey {
    let pos = ctx.item.pos;
    (((pos.line as u64) << 32) | pos.column as u64, N::TYPE_NAME)
}

/// The columns a selection of `N` objects reads, plus `also` (a sort
/// column): every column as soon as one field does not say what it reads.
pub fn wanted<'a, N: NodeType>(fields: impl Iterator<Item = SelectionField<'a>>, also: Option<&str>) -> Wanted {
    let mut names: Vec<&str> = also.into_iter().collect();
    for field in fields {
        match field.name() {
            "__typename" => {}
            name => match N::reads(name) {
                Some(columns) => names.extend_from_slice(columns),
                None => return Wanted::ALL,
            },
        }
    }
    Wanted::of::<N::Model>(&names)
}

/// A contiguous run of a group's rows forming one page.
pub struct Page<M> {
    sort: Sort,
    group: Arc<Group<M>>,
    start: usize,
    end: usize,
    has_next: bool,
    has_previous: bool,
}

impl<M> Clone for Page<M> {
    fn clone(&self) -> Self {
        Page { group: self.group.clone(), ..*self }
    }
}

impl<M: RowId> Page<M> {
    fn empty(sort: Sort, group: Arc<Group<M>>, has_next: bool, has_previous: bool) -> Self {
        Page { sort, group, start: 0, end: 0, has_next, has_previous }
    }

    fn cursor(&self, row: &M) -> String
    where
        M: Sortable,
    {
        self.sort.cursor(self.sort.column.map_or(SortValue::Null, |c| row.sort_value(c)), row.row_id())
    }
}

/// Where a connection's rows come from.
#[async_trait::async_trait]
pub trait PageSource<M>: Send + Sync {
    async fn page(&self, db: &CountingDb) -> ApiResult<Page<M>>;
    async fn total(&self, db: &CountingDb) -> ApiResult<i64>;
}

/// A page of results, Relay style.
pub struct Connection<N: NodeType> {
    source: Arc<dyn PageSource<N::Model>>,
}

impl<N: NodeType> Connection<N> {
    pub fn new(source: impl PageSource<N::Model> + 'static) -> Self {
        Connection { source: Arc::new(source) }
    }
}

/// One result of a connection with its cursor.
pub struct Edge<N> {
    cursor: String,
    node: N,
}

/// One result of a connection with its cursor.
#[Object(
    serial,
    concrete(name = "PartnerEdge", params(Partner)),
    concrete(name = "AgreementEdge", params(Agreement)),
    concrete(name = "ProjectEdge", params(Project)),
    concrete(name = "FundingEdge", params(Funding)),
    concrete(name = "CrimeAreaEdge", params(CrimeArea)),
    concrete(name = "ChangeEdge", params(Change))
)]
impl<N: NodeType> Edge<N> {
    /// Pass this to `after` (or `before`) to continue from this result.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The result itself.
    async fn node(&self) -> &N {
        &self.node
    }
}

/// Whether more results lie beyond this page, and the cursors at its ends.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More results follow the last one of this page.
    has_next_page: bool,
    /// Results precede the first one of this page.
    has_previous_page: bool,
    /// The cursor of the first result, if any.
    start_cursor: Option<String>,
    /// The cursor of the last result, if any.
    end_cursor: Option<String>,
}

/// A page of results, Relay style: `nodes` (or `edges` with cursors), where
/// the page stands (`pageInfo`), and how many results there are in all.
#[Object(
    serial,
    concrete(name = "PartnerConnection", params(Partner)),
    concrete(name = "AgreementConnection", params(Agreement)),
    concrete(name = "ProjectConnection", params(Project)),
    concrete(name = "FundingConnection", params(Funding)),
    concrete(name = "CrimeAreaConnection", params(CrimeArea)),
    concrete(name = "ChangeConnection", params(Change))
)]
impl<N: NodeType> Connection<N>
where
    Edge<N>: async_graphql::resolver_utils::ContainerType,
{
    /// The results with their cursors.
    async fn edges(&self, ctx: &Context<'_>) -> ApiResult<List<Edge<N>>> {
        let page = self.source.page(db(ctx)?).await?;
        Ok(List(
            (page.start..page.end)
                .map(|i| Edge { cursor: page.cursor(&page.group.rows()[i]), node: N::new(page.group.clone(), i) })
                .collect(),
        ))
    }

    /// The results, without cursors.
    async fn nodes(&self, ctx: &Context<'_>) -> ApiResult<List<N>> {
        let page = self.source.page(db(ctx)?).await?;
        Ok(List((page.start..page.end).map(|i| N::new(page.group.clone(), i)).collect()))
    }

    /// Where this page stands in the whole list.
    async fn page_info(&self, ctx: &Context<'_>) -> ApiResult<PageInfo> {
        let page = self.source.page(db(ctx)?).await?;
        let rows = &page.group.rows()[page.start..page.end];
        Ok(PageInfo {
            has_next_page: page.has_next,
            has_previous_page: page.has_previous,
            start_cursor: rows.first().map(|r| page.cursor(r)),
            end_cursor: rows.last().map(|r| page.cursor(r)),
        })
    }

    /// How many results the whole list has, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        self.source.total(db(ctx)?).await
    }
}

/// A top-level list (`partners`, `projects`, …).
pub struct TopLevel<N: NodeType> {
    window: Window,
    page: OnceCell<Page<N::Model>>,
    total: OnceCell<i64>,
}

impl<N: NodeType> TopLevel<N> {
    pub fn connection(window: Window) -> Connection<N> {
        Connection::new(TopLevel::<N> { window, page: OnceCell::new(), total: OnceCell::new() })
    }
}

#[async_trait::async_trait]
impl<N: NodeType> PageSource<N::Model> for TopLevel<N> {
    async fn page(&self, db: &CountingDb) -> ApiResult<Page<N::Model>> {
        let page = self
            .page
            .get_or_try_init(|| async {
                let mut rows = sql::fetch_page::<N::Entity>(db, &self.window).await?;
                let (kept, has_next, has_previous) = self.window.cut(rows.len());
                rows.truncate(kept);
                if self.window.backward {
                    rows.reverse();
                }
                let end = rows.len();
                Ok::<_, ApiError>(Page {
                    sort: self.window.sort,
                    group: Group::new(rows),
                    start: 0,
                    end,
                    has_next,
                    has_previous,
                })
            })
            .await?;
        Ok(page.clone())
    }

    async fn total(&self, db: &CountingDb) -> ApiResult<i64> {
        Ok(*self.total.get_or_try_init(|| sql::count_all::<N::Entity>(db, &self.window.filter)).await?)
    }
}

/// A relation from the rows of a parent group to child rows.
pub struct Relation<P> {
    /// Names the relation in the group's memo.
    pub name: &'static str,
    pub via: Via,
    /// The key a parent row is matched by (usually its id).
    pub key: fn(&P) -> Option<i64>,
}

impl<P> Clone for Relation<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for Relation<P> {}

impl<P: RowId> Relation<P> {
    fn keys(&self, parents: &Group<P>) -> Vec<i64> {
        crate::graphql::batch::distinct(parents.rows().iter().filter_map(self.key))
    }
}

/// The pages of one relation for every parent of a group.
struct ChildPages<M> {
    group: Arc<Group<M>>,
    pages: HashMap<i64, (usize, usize, bool, bool)>,
}

/// A connection nested under a parent row (`Partner.agreements`, …): the
/// first sibling to ask loads the pages of every sibling in one statement.
pub struct Nested<P, N: NodeType> {
    parents: Arc<Group<P>>,
    key: Option<i64>,
    relation: Relation<P>,
    window: Window,
    _node: std::marker::PhantomData<fn() -> N>,
}

impl<P: RowId + Send + Sync + 'static, N: NodeType> Nested<P, N> {
    pub fn connection(parents: &Arc<Group<P>>, index: usize, relation: Relation<P>, window: Window) -> Connection<N> {
        let key = (relation.key)(&parents.rows()[index]);
        Connection::new(Nested::<P, N> {
            parents: parents.clone(),
            key,
            relation,
            window,
            _node: std::marker::PhantomData,
        })
    }
}

#[async_trait::async_trait]
impl<P: RowId + Send + Sync + 'static, N: NodeType> PageSource<N::Model> for Nested<P, N> {
    async fn page(&self, db: &CountingDb) -> ApiResult<Page<N::Model>> {
        let relation = self.relation;
        let window = &self.window;
        let all = self
            .parents
            .once(window.memo_key(relation.name), || async {
                let keys = relation.keys(&self.parents);
                let fetched = sql::fetch_related::<N::Entity>(db, relation.via, &keys, Some(window)).await?;
                Ok(child_pages(fetched, window))
            })
            .await?;
        Ok(match self.key.and_then(|k| all.pages.get(&k)) {
            Some(&(start, end, has_next, has_previous)) => {
                Page { sort: window.sort, group: all.group.clone(), start, end, has_next, has_previous }
            }
            None => {
                let (_, has_next, has_previous) = window.cut(0);
                Page::empty(window.sort, all.group.clone(), has_next, has_previous)
            }
        })
    }

    async fn total(&self, db: &CountingDb) -> ApiResult<i64> {
        let relation = self.relation;
        let counts = self
            .parents
            .once((format!("{}/count/{:?}", relation.name, self.window.filter).into(), 0), || async {
                sql::count_related::<N::Entity>(db, relation.via, &relation.keys(&self.parents), &self.window.filter)
                    .await
            })
            .await?;
        Ok(self.key.and_then(|k| counts.get(&k).copied()).unwrap_or(0))
    }
}

/// Splits rows fetched for many parents (grouped by parent, in window
/// order) into one page per parent, dropping each page's look-ahead row so
/// that the next level never loads anything for it. The rows stay where
/// they are unless a look-ahead row goes: each page is a range of them.
fn child_pages<M: RowId>(fetched: Related<M>, window: &Window) -> ChildPages<M> {
    let Related { parents, mut rows } = fetched;
    let mut pages = HashMap::default();
    let mut keep = Vec::new();
    let (mut start, mut kept_before) = (0, 0);
    while start < rows.len() {
        let parent = parents[start];
        let run = parents[start..].iter().take_while(|&&p| p == parent).count();
        let (kept, has_next, has_previous) = window.cut(run);
        if window.backward {
            rows[start..start + kept].reverse();
        }
        if kept < run && keep.is_empty() {
            keep = vec![true; rows.len()];
        }
        if !keep.is_empty() {
            keep[start + kept..start + run].fill(false);
        }
        pages.insert(parent, (kept_before, kept_before + kept, has_next, has_previous));
        kept_before += kept;
        start += run;
    }
    if !keep.is_empty() {
        let mut keep = keep.into_iter();
        rows.retain(|_| keep.next().unwrap_or(true));
    }
    ChildPages { group: Group::new(rows), pages }
}

/// Related rows of every parent of a group, unpaginated, for short lists
/// (a partner's crime areas, a project's funders) and to-one relations.
pub struct Linked<M> {
    group: Arc<Group<M>>,
    ranges: HashMap<i64, (usize, usize)>,
}

impl<M: RowId> Linked<M> {
    pub fn of<N: NodeType<Model = M>>(&self, key: Option<i64>) -> Vec<N> {
        match key.and_then(|k| self.ranges.get(&k)) {
            Some(&(start, end)) => (start..end).map(|i| N::new(self.group.clone(), i)).collect(),
            None => Vec::new(),
        }
    }
}

/// Loads a relation for the whole parent group once; `dedup` drops rows
/// repeated under one parent (a funder funding a project twice).
pub async fn linked<P, N>(
    ctx: &Context<'_>,
    parents: &Group<P>,
    relation: Relation<P>,
    dedup: bool,
) -> ApiResult<Arc<Linked<N::Model>>>
where
    P: RowId,
    N: NodeType,
{
    let db = db(ctx)?;
    parents
        .once((relation.name.into(), 0), || async {
            let keys = relation.keys(parents);
            let fetched = sql::fetch_related::<N::Entity>(db, relation.via, &keys, None).await?;
            let mut rows: Vec<N::Model> = Vec::with_capacity(fetched.rows.len());
            let mut ranges: HashMap<i64, (usize, usize)> = HashMap::default();
            for (parent, row) in fetched.parents.into_iter().zip(fetched.rows) {
                let range = ranges.entry(parent).or_insert((rows.len(), rows.len()));
                if dedup && rows[range.0..range.1].iter().any(|r| r.row_id() == row.row_id()) {
                    continue;
                }
                rows.push(row);
                range.1 = rows.len();
            }
            Ok(Linked { group: Group::new(rows), ranges })
        })
        .await
}

/// A to-one relation by foreign key (`Funding.funder`): the first sibling
/// to ask loads the targets of the whole group in one statement.
pub async fn to_one<P, N>(
    ctx: &Context<'_>,
    parents: &Group<P>,
    name: &'static str,
    fk: fn(&P) -> Option<i64>,
    key: Option<i64>,
) -> ApiResult<Option<N>>
where
    P: RowId,
    N: NodeType,
{
    let Some(key) = key else { return Ok(None) };
    let db = db(ctx)?;
    let wanted = wanted_once::<N>(ctx, || wanted::<N>(ctx.field().selection_set(), None));
    let targets = parents
        .once((name.into(), wanted.tag()), || async {
            let ids = crate::graphql::batch::distinct(parents.rows().iter().filter_map(fk));
            let group = Group::new(sql::fetch_wanted_by_ids::<N::Entity>(db, &ids, wanted).await?);
            let index: HashMap<i64, usize> = group.rows().iter().enumerate().map(|(i, r)| (r.row_id(), i)).collect();
            Ok((group, index))
        })
        .await?;
    Ok(targets.1.get(&key).map(|&i| N::new(targets.0.clone(), i)))
}

#[cfg(test)]
mod tests {
    use super::{Related, Window, child_pages};
    use crate::graphql::batch::RowId;

    #[derive(Debug, PartialEq)]
    struct Row(i64);

    impl RowId for Row {
        fn row_id(&self) -> i64 {
            self.0
        }
    }

    fn related(runs: &[(i64, &[i64])]) -> Related<Row> {
        let (mut parents, mut rows) = (Vec::new(), Vec::new());
        for &(parent, ids) in runs {
            for &id in ids {
                parents.push(parent);
                rows.push(Row(id));
            }
        }
        Related { parents, rows }
    }

    /// The group a level hands to the next holds the pages' rows only: a
    /// look-ahead row would have its own children loaded for nothing.
    #[test]
    fn look_ahead_rows_leave_the_group() {
        let window = Window::new(Some(2), None, None, None).expect("a valid window");
        let pages = child_pages(related(&[(1, &[10, 11, 12]), (2, &[20]), (3, &[30, 31, 32])]), &window);
        let ids: Vec<i64> = pages.group.rows().iter().map(|r| r.0).collect();
        assert_eq!(ids, [10, 11, 20, 30, 31]);
        assert_eq!(pages.pages[&1], (0, 2, true, false));
        assert_eq!(pages.pages[&2], (2, 3, false, false));
        assert_eq!(pages.pages[&3], (3, 5, true, false));

        // Counted from the end (`last`), rows come newest first and each page is turned round.
        let window = Window::new(None, None, Some(2), None).expect("a valid window");
        let pages = child_pages(related(&[(1, &[12, 11, 10]), (2, &[21, 20])]), &window);
        let ids: Vec<i64> = pages.group.rows().iter().map(|r| r.0).collect();
        assert_eq!(ids, [11, 12, 20, 21]);
        assert_eq!(pages.pages[&1], (0, 2, false, true));
        assert_eq!(pages.pages[&2], (2, 4, false, false));

        // Nothing to drop: the rows stay as they came.
        let window = Window::new(Some(5), None, None, None).expect("a valid window");
        let pages = child_pages(related(&[(4, &[40, 41])]), &window);
        assert_eq!(pages.group.rows(), [Row(40), Row(41)]);
        assert_eq!(pages.pages[&4], (0, 2, false, false));
    }
}
