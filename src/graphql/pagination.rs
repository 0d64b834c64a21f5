//! Relay connections and the relations between node types, fetched lazily
//! and batched per sibling group: a connection object only says *which*
//! page it is; its fields load the page (and, separately, the total) on
//! first use, so `totalCount` alone costs one `COUNT`, `nodes` alone no
//! `COUNT`. The functions here are what the fields declared with
//! [`object!`](crate::graphql::declare::object) call.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, Weak};

use async_graphql::parser::types::Field;
use async_graphql::{Context, ContextSelectionSet, Object, Positioned, SimpleObject, TypeName};
use entity::row::Positional;
use foldhash::HashMap;
use sea_orm::sea_query::Condition;
use sea_orm::{EntityTrait, Linked, ModelTrait};
use tokio::sync::OnceCell;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{Group, MemoKey, RowId};
use crate::graphql::context::{db, lang, placeholder};
use crate::graphql::direct::{Direct, ObjectPlan, Writer};
use crate::graphql::input::{ListFilter, ListOrder};
use crate::graphql::list::List;
use crate::graphql::node::{NodeType, Wanted, stand_in};
use crate::graphql::sort::Sort;
use crate::graphql::spare;
use crate::graphql::sql::{self, Path, Related};
use crate::graphql::window::{NODES, Paging, Window, wanted, wanted_once, window_memo_key};

/// A contiguous run of a group's rows forming one page.
pub struct Page<E: EntityTrait> {
    sort: Sort<E>,
    group: Arc<Group<E::Model>>,
    start: usize,
    end: usize,
    has_next: bool,
    has_previous: bool,
}

impl<E: EntityTrait> Clone for Page<E> {
    fn clone(&self) -> Self {
        Page { group: self.group.clone(), ..*self }
    }
}

impl<E: EntityTrait> Page<E>
where
    E::Model: RowId,
{
    fn empty(sort: Sort<E>, group: Arc<Group<E::Model>>, has_next: bool, has_previous: bool) -> Self {
        Page { sort, group, start: 0, end: 0, has_next, has_previous }
    }

    fn cursor(&self, row: &E::Model) -> ApiResult<String> {
        Ok(self.sort.cursor(self.sort.value_of(row)?, row.row_id()))
    }
}

/// Where a connection's rows come from.
#[async_trait::async_trait]
pub trait PageSource<E: EntityTrait>: Send + Sync {
    async fn page(&self, db: &CountingDb) -> ApiResult<Page<E>>;
    async fn total(&self, db: &CountingDb) -> ApiResult<i64>;
}

/// A page of results, Relay style.
pub struct Connection<N: NodeType> {
    source: Arc<dyn PageSource<N::Entity>>,
}

impl<N: NodeType> Connection<N> {
    pub fn new(source: impl PageSource<N::Entity> + 'static) -> Self {
        Connection { source: Arc::new(source) }
    }
}

impl<N: NodeType> TypeName for Connection<N> {
    fn type_name() -> Cow<'static, str> {
        N::CONNECTION_NAME.into()
    }
}

/// A connection is resolved field by field, in place
/// ([`crate::graphql::inline::Inline`]); its nodes are written there.
impl<N: NodeType> Direct for Connection<N> {
    fn writer<'a>(_: &ContextSelectionSet<'a>, _: &'a Positioned<Field>) -> Option<Writer<Self>> {
        None
    }
}

/// One result of a connection with its cursor.
pub struct Edge<N> {
    cursor: String,
    node: N,
}

impl<N: NodeType> TypeName for Edge<N> {
    fn type_name() -> Cow<'static, str> {
        N::EDGE_NAME.into()
    }
}

/// An edge is resolved field by field; its node's fields may be written.
impl<N: NodeType> Direct for Edge<N> {
    fn writer<'a>(_: &ContextSelectionSet<'a>, _: &'a Positioned<Field>) -> Option<Writer<Self>> {
        None
    }
}

/// One result of a connection with its cursor.
#[Object(serial, name_type)]
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
#[Object(serial, name_type)]
impl<N: NodeType> Connection<N> {
    /// The results with their cursors.
    async fn edges(&self, ctx: &Context<'_>) -> ApiResult<List<Edge<N>>> {
        let page = self.source.page(db(ctx)?).await?;
        let mut edges = Vec::with_capacity(page.end - page.start);
        for i in page.start..page.end {
            edges.push(Edge { cursor: page.cursor(&page.group.rows()[i])?, node: N::new(page.group.clone(), i) });
        }
        Ok(List(edges))
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
            start_cursor: rows.first().map(|r| page.cursor(r)).transpose()?,
            end_cursor: rows.last().map(|r| page.cursor(r)).transpose()?,
        })
    }

    /// How many results the whole list has, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        self.source.total(db(ctx)?).await
    }
}

/// The window a connection field of `N` asks for: its paging, its
/// `orderBy` (in the request's language unless it names one) and its
/// `filter`, reading only what the field's selection needs.
fn window<N, F, O>(
    ctx: &Context<'_>,
    paging: Paging,
    filter: Option<F>,
    order: Option<O>,
    also: Condition,
) -> ApiResult<Window<N::Entity>>
where
    N: NodeType,
    F: ListFilter<N::Entity>,
    O: ListOrder<N::Entity>,
{
    let sort = O::sort(order, lang(ctx, None));
    let filter = match filter {
        Some(filter) => filter.condition()?.add(also),
        None => also,
    };
    Window::for_field::<N>(ctx, paging, sort, filter)
}

/// A top-level list (`partners`, `projects`, …), filtered and ordered as asked.
pub fn top_level<N, F, O>(
    ctx: &Context<'_>,
    _root: &impl Sized,
    paging: Paging,
    filter: Option<F>,
    order: Option<O>,
) -> ApiResult<Connection<N>>
where
    N: NodeType,
    F: ListFilter<N::Entity>,
    O: ListOrder<N::Entity>,
{
    top_level_where(ctx, _root, paging, filter, order, Condition::all())
}

/// [`top_level`], narrowed further by `also`.
pub fn top_level_where<N, F, O>(
    ctx: &Context<'_>,
    _root: &impl Sized,
    paging: Paging,
    filter: Option<F>,
    order: Option<O>,
    also: Condition,
) -> ApiResult<Connection<N>>
where
    N: NodeType,
    F: ListFilter<N::Entity>,
    O: ListOrder<N::Entity>,
{
    let window = window::<N, F, O>(ctx, paging, filter, order, also)?;
    Ok(Connection::new(TopLevel::<N> { window, page: OnceCell::new(), total: OnceCell::new() }))
}

/// The rows of a top-level list.
struct TopLevel<N: NodeType> {
    window: Window<N::Entity>,
    page: OnceCell<Page<N::Entity>>,
    total: OnceCell<i64>,
}

#[async_trait::async_trait]
impl<N: NodeType> PageSource<N::Entity> for TopLevel<N> {
    async fn page(&self, db: &CountingDb) -> ApiResult<Page<N::Entity>> {
        let page = self
            .page
            .get_or_try_init(|| async {
                let (mut rows, selected) = sql::fetch_page::<N::Entity>(db, &self.window).await?;
                let (kept, has_next, has_previous) = self.window.cut(rows.len());
                rows.truncate(kept);
                if self.window.backward {
                    rows.reverse();
                }
                let end = rows.len();
                Ok::<_, ApiError>(Page {
                    sort: self.window.sort,
                    group: Group::read(rows, selected),
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

/// A relation from rows of `P` to rows of another entity: the path its
/// statements follow, and the parent's column the children are matched by.
pub struct Relation<P> {
    /// Names the relation in a group's memo.
    name: &'static str,
    path: Path,
    /// Reads the parent's key column, at `position`.
    key: fn(&P) -> Option<i64>,
    position: usize,
}

impl<P> Relation<P>
where
    P: ModelTrait + Positional + RowId,
{
    /// The relation a sea-orm `Linked` path describes.
    pub fn linked<L: Linked<FromEntity = P::Entity> + Default>() -> ApiResult<Self> {
        let (path, key) = Path::of::<L>()?;
        // The path's own name, short: it is hashed each time a sibling looks the relation up.
        let name = std::any::type_name::<L>();
        Self::keyed(name.rsplit("::").next().unwrap_or(name), path, &key)
    }

    /// Children found through `path`, matched by the parent's `key` column.
    pub fn keyed(name: &'static str, path: Path, key: &str) -> ApiResult<Self> {
        let unknown = || ApiError::Internal(format!("{name}: the parent has no integer column {key}"));
        let position = P::position(key).ok_or_else(unknown)?;
        let reader = P::key_reader(position).ok_or_else(unknown)?;
        Ok(Relation { name, path, key: reader, position })
    }

    /// The parent's columns the relation reads: its key.
    pub fn reads(&self) -> Wanted {
        Wanted::of(&[self.position])
    }

    /// The parent's columns a relation along `L` reads; none for a path
    /// that cannot be followed (its field answers with the error).
    pub fn reads_of<L: Linked<FromEntity = P::Entity> + Default>() -> Wanted {
        Self::linked::<L>().map_or(Wanted::NONE, |relation| relation.reads())
    }

    /// Fails when the parents' statement left the key out.
    fn check(&self, parents: &Group<P>) -> ApiResult<()> {
        if parents.selected().has(self.position) {
            Ok(())
        } else {
            Err(stand_in(std::any::type_name::<P>(), self.name, P::NAMES.get(self.position).copied().unwrap_or("?")))
        }
    }

    /// The key of the parent at `index`.
    fn key_of(&self, parents: &Group<P>, index: usize) -> ApiResult<Option<i64>> {
        self.check(parents)?;
        Ok((self.key)(&parents.rows()[index]))
    }

    /// The distinct keys of every parent of the group.
    fn keys(&self, parents: &Group<P>) -> ApiResult<Vec<i64>> {
        self.check(parents)?;
        Ok(crate::graphql::batch::distinct(parents.rows().iter().filter_map(self.key)))
    }
}

/// A relation declared once per field, built on first use.
pub type Declared<P> = std::sync::LazyLock<ApiResult<Relation<P>>>;

fn declared<P: ModelTrait>(relation: &Declared<P>) -> ApiResult<&Relation<P>> {
    relation.as_ref().map_err(|e| ApiError::Internal(format!("a relation cannot be followed: {e}")))
}

/// The pages of one relation for every parent of a group.
struct ChildPages<M> {
    group: Arc<Group<M>>,
    pages: HashMap<i64, (usize, usize, bool, bool)>,
}

/// A connection nested under each row of a group (`Partner.agreements`,
/// …): the first sibling to ask loads the pages of every sibling in one
/// statement.
pub fn nested<P, N, F, O>(
    ctx: &Context<'_>,
    parent: &P,
    paging: Paging,
    relation: &'static Declared<P::Model>,
    filter: Option<F>,
    order: Option<O>,
) -> ApiResult<Connection<N>>
where
    P: NodeType,
    N: NodeType,
    F: ListFilter<N::Entity>,
    O: ListOrder<N::Entity>,
{
    nested_where(ctx, parent, paging, relation, filter, order, Condition::all())
}

/// [`nested`], narrowed further by `also`.
pub fn nested_where<P, N, F, O>(
    ctx: &Context<'_>,
    parent: &P,
    paging: Paging,
    relation: &'static Declared<P::Model>,
    filter: Option<F>,
    order: Option<O>,
    also: Condition,
) -> ApiResult<Connection<N>>
where
    P: NodeType,
    N: NodeType,
    F: ListFilter<N::Entity>,
    O: ListOrder<N::Entity>,
{
    let relation = declared(relation)?;
    let window = window::<N, F, O>(ctx, paging, filter, order, also)?;
    let parents = parent.group().clone();
    let key = relation.key_of(&parents, parent.index())?;
    Ok(Connection::new(Nested::<P, N> { parents, key, relation, window }))
}

struct Nested<P: NodeType, N: NodeType> {
    parents: Arc<Group<P::Model>>,
    key: Option<i64>,
    relation: &'static Relation<P::Model>,
    window: Window<N::Entity>,
}

#[async_trait::async_trait]
impl<P: NodeType, N: NodeType> PageSource<N::Entity> for Nested<P, N> {
    async fn page(&self, db: &CountingDb) -> ApiResult<Page<N::Entity>> {
        let relation = self.relation;
        let window = &self.window;
        let all = self
            .parents
            .once(window.memo_key(relation.name), || async {
                let keys = relation.keys(&self.parents)?;
                let fetched =
                    sql::fetch_related::<N::Entity>(db, &relation.path, &keys, Some(window), window.wanted).await?;
                Ok(child_pages(fetched, |len| window.cut(len), window.backward))
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
                let keys = relation.keys(&self.parents)?;
                sql::count_related::<N::Entity>(db, &relation.path, &keys, &self.window.filter).await
            })
            .await?;
        Ok(self.key.and_then(|k| counts.get(&k).copied()).unwrap_or(0))
    }
}

/// Splits rows fetched for many parents (grouped by parent, in window
/// order) into one page per parent, `cut` telling how many rows of a run
/// to keep and what lies beyond; each page's look-ahead row is dropped so
/// that the next level never loads anything for it. The rows stay where
/// they are unless a look-ahead row goes: each page is a range of them.
fn child_pages<M: RowId>(
    fetched: Related<M>,
    cut: impl Fn(usize) -> (usize, bool, bool),
    backward: bool,
) -> ChildPages<M> {
    let Related { mut parents, mut rows, selected } = fetched;
    let mut pages = HashMap::default();
    let mut keep = Vec::new();
    let (mut start, mut kept_before) = (0, 0);
    while start < rows.len() {
        let parent = parents[start];
        let run = parents[start..].iter().take_while(|&&p| p == parent).count();
        let (kept, has_next, has_previous) = cut(run);
        if backward {
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
    spare::give_back(&mut parents);
    ChildPages { group: Group::read(rows, selected), pages }
}

/// Related rows of every parent of a group, unpaginated.
struct LinkedRows<M> {
    group: Arc<Group<M>>,
    ranges: HashMap<i64, (usize, usize)>,
}

/// What a relation loaded whole with the `wanted` columns is kept under in
/// its parents' group: [`load_linked`] loads it there, a to-one writer reads it.
fn linked_key<P>(relation: &Relation<P>, wanted: Wanted) -> MemoKey {
    (relation.name.into(), wanted.bits())
}

/// Loads a relation for the whole parent group once, with the columns the
/// field's selection reads; `distinct` drops rows repeated under one
/// parent (a funder funding a project twice).
async fn load_linked<P, N>(
    ctx: &Context<'_>,
    parent: &P,
    relation: &'static Relation<P::Model>,
    distinct: bool,
) -> ApiResult<(Arc<LinkedRows<N::Model>>, Option<i64>)>
where
    P: NodeType,
    N: NodeType,
{
    let db = db(ctx)?;
    let wanted = wanted_once::<N>(ctx, || wanted::<N>(ctx, ctx.field().selection_set(), None))?;
    let parents = parent.group();
    let linked = parents
        .once(linked_key(relation, wanted), || async {
            let keys = relation.keys(parents)?;
            let fetched = sql::fetch_related::<N::Entity>(db, &relation.path, &keys, None, wanted).await?;
            let mut rows: Vec<N::Model> = Vec::with_capacity(fetched.rows.len());
            let mut ranges: HashMap<i64, (usize, usize)> = HashMap::default();
            for (parent, row) in fetched.parents.into_iter().zip(fetched.rows) {
                let range = ranges.entry(parent).or_insert((rows.len(), rows.len()));
                if distinct && rows[range.0..range.1].iter().any(|r| r.row_id() == row.row_id()) {
                    continue;
                }
                rows.push(row);
                range.1 = rows.len();
            }
            Ok(LinkedRows { group: Group::read(rows, fetched.selected), ranges })
        })
        .await?;
    Ok((linked, relation.key_of(parents, parent.index())?))
}

/// A short list of related objects (a partner's crime areas, a project's
/// funders), every row of the relation; `distinct`: each object once.
pub async fn linked<P, N>(
    ctx: &Context<'_>,
    parent: &P,
    relation: &'static Declared<P::Model>,
    distinct: bool,
) -> ApiResult<List<N>>
where
    P: NodeType,
    N: NodeType,
{
    let (linked, key) = load_linked::<P, N>(ctx, parent, declared(relation)?, distinct).await?;
    Ok(List(match key.and_then(|k| linked.ranges.get(&k)) {
        Some(&(start, end)) => (start..end).map(|i| N::new(linked.group.clone(), i)).collect(),
        None => Vec::new(),
    }))
}

/// What a to-one relation answers with: the object, when there is one.
pub trait ToOne<N>: Sized {
    /// `found` is the related object, if it exists; `of` names the parent's type in errors.
    fn from_found(found: Option<N>, of: &str) -> ApiResult<Self>;
}

impl<N> ToOne<N> for Option<N> {
    fn from_found(found: Option<N>, _: &str) -> ApiResult<Self> {
        Ok(found)
    }
}

impl<N: NodeType> ToOne<N> for crate::graphql::inline::Inline<N> {
    /// A required relation whose row has gone (deleted between two
    /// statements of one request) is `NOT_FOUND`.
    fn from_found(found: Option<N>, of: &str) -> ApiResult<Self> {
        found.map(crate::graphql::inline::Inline).ok_or_else(|| {
            ApiError::NotFound(format!(
                "the {} of this {} no longer exists",
                N::TYPE_NAME.to_lowercase(),
                of.to_lowercase()
            ))
        })
    }
}

/// A to-one relation (`Funding.funder`, `Project.partner`): the first
/// sibling to ask loads the targets of the whole group in one statement.
pub async fn to_one<P, N, T>(ctx: &Context<'_>, parent: &P, relation: &'static Declared<P::Model>) -> ApiResult<T>
where
    P: NodeType,
    N: NodeType,
    T: ToOne<N>,
{
    let (linked, key) = load_linked::<P, N>(ctx, parent, declared(relation)?, false).await?;
    let found = key.and_then(|k| linked.ranges.get(&k)).map(|&(start, _)| N::new(linked.group.clone(), start));
    T::from_found(found, P::TYPE_NAME)
}

/// What a writer found loaded last: what one parent group's memo holds
/// under one key, kept with the group it came from, since the siblings of
/// a selection are mostly of one group. The group's allocation is held
/// (`Weak`), so no other group can take its address.
struct LastLoaded<P, T>(Mutex<Option<Loaded<P, T>>>);

/// A parent group, and what its memo held under a writer's key.
type Loaded<P, T> = (Weak<Group<P>>, Arc<T>);

impl<P, T> Default for LastLoaded<P, T> {
    fn default() -> Self {
        LastLoaded(Mutex::new(None))
    }
}

impl<P, T: Send + Sync + 'static> LastLoaded<P, T> {
    /// What `parents`' memo holds under `key`, if it has been loaded.
    fn of(&self, parents: &Arc<Group<P>>, key: &MemoKey) -> Option<Arc<T>> {
        let mut last = self.0.lock().ok()?;
        if let Some((group, loaded)) = &*last
            && std::ptr::eq(group.as_ptr(), Arc::as_ptr(parents))
        {
            return Some(loaded.clone());
        }
        let loaded = parents.peek::<T>(key)?;
        *last = Some((Arc::downgrade(parents), loaded.clone()));
        Some(loaded)
    }
}

/// The writer of a to-one relation field. The first sibling to ask loads
/// the relation through its resolver ([`to_one`]); each later one is
/// written from the loaded rows, its object's fields by their writers.
pub fn to_one_writer<'a, P, N, T>(
    ctx: &ContextSelectionSet<'a>,
    field: &'a Positioned<Field>,
    relation: &'static Declared<P::Model>,
) -> Option<Writer<P>>
where
    P: NodeType,
    N: NodeType,
    T: ToOne<N>,
{
    let relation = declared(relation).ok()?;
    let ctx_field = ctx.with_field(field);
    let wanted =
        wanted_once::<N>(&ctx_field, || wanted::<N>(&ctx_field, ctx_field.field().selection_set(), None)).ok()?;
    let plan = ObjectPlan::<N>::of(ctx, field, placeholder(ctx))?;
    let key = linked_key(relation, wanted);
    let last = LastLoaded::<P::Model, LinkedRows<N::Model>>::default();
    Some(Box::new(move |parent: &P, out: &mut Vec<u8>| {
        let parents = parent.group();
        let Some(linked) = last.of(parents, &key) else { return false };
        let Ok(Some(found)) = relation.key_of(parents, parent.index()) else { return false };
        let Some(&(start, _)) = linked.ranges.get(&found) else { return false };
        plan.write(&N::new(linked.group.clone(), start), out)
    }))
}

/// The writer of a connection nested under each row (`= nested(…)`), for
/// a selection of `nodes` and `__typename` alone. The first sibling
/// resolves the field, which loads the pages of every sibling and numbers
/// the field's window ([`Window::for_field`]); each later one is written
/// from those pages, its nodes by their writers. The writer reads no
/// argument of its own: it finds the pages by the window the resolver
/// gave the field, so it cannot write another window's.
pub fn nested_writer<'a, P, N>(
    ctx: &ContextSelectionSet<'a>,
    field: &'a Positioned<Field>,
    relation: &'static Declared<P::Model>,
) -> Option<Writer<P>>
where
    P: NodeType,
    N: NodeType,
{
    use async_graphql::parser::types::Selection;
    let relation = declared(relation).ok()?;
    let memo = Arc::downgrade(&ctx.data::<crate::graphql::context::RequestData>().ok()?.fields);
    let placeholder = placeholder(ctx);
    let connection = ctx.with_field(field).with_selection_set(&field.node.selection_set);
    // Each field's `"key":`, and the plan of its nodes (`None`: `__typename`).
    let mut parts = Vec::new();
    for selection in &field.node.selection_set.node.items {
        let Selection::Field(part) = &selection.node else { return None };
        let key = &part.node.response_key().node;
        if placeholder.is_some_and(|p| p.is(key)) {
            continue;
        }
        let mut rendered = vec![if parts.is_empty() { b'{' } else { b',' }];
        rendered.extend(crate::graphql::render::rendered_key(key).ok()?);
        let plan = match part.node.name.node.as_str() {
            NODES => Some(ObjectPlan::<N>::of(&connection, part, placeholder)?),
            "__typename" => None,
            _ => return None,
        };
        parts.push((rendered, plan));
    }
    let pos = field.pos;
    let key: std::sync::OnceLock<MemoKey> = std::sync::OnceLock::new();
    let last = LastLoaded::<P::Model, ChildPages<N::Model>>::default();
    Some(Box::new(move |parent: &P, out: &mut Vec<u8>| {
        let key = match key.get() {
            Some(key) => key,
            None => {
                let Some(memo) = memo.upgrade() else { return false };
                let Some(found) = memo.lock().ok().and_then(|m| window_memo_key::<N>(&m, pos, relation.name)) else {
                    return false;
                };
                key.get_or_init(|| found)
            }
        };
        let parents = parent.group();
        let Some(all) = last.of(parents, key) else { return false };
        let Ok(found) = relation.key_of(parents, parent.index()) else { return false };
        // A parent with no rows has an empty page, as `Nested::page` gives it.
        let (start, end) = found.and_then(|k| all.pages.get(&k)).map_or((0, 0), |&(start, end, _, _)| (start, end));
        if parts.is_empty() {
            out.extend_from_slice(b"{}");
            return true;
        }
        for (rendered, plan) in &parts {
            out.extend_from_slice(rendered);
            match plan {
                Some(plan) => {
                    out.push(b'[');
                    for row in start..end {
                        if row > start {
                            out.push(b',');
                        }
                        if !plan.write(&N::new(all.group.clone(), row), out) {
                            return false;
                        }
                    }
                    out.push(b']');
                }
                None => {
                    if crate::graphql::render::write_str(out, N::CONNECTION_NAME).is_err() {
                        return false;
                    }
                }
            }
        }
        out.push(b'}');
        true
    }))
}

#[cfg(test)]
mod tests {
    use super::{Related, child_pages};
    use crate::graphql::batch::RowId;
    use entity::row::Selected;

    /// The writers and the window find a connection's results by this name.
    #[test]
    fn nodes_is_the_name_of_a_connections_results() {
        let names = crate::graphql::declare::field_names::<super::Connection<crate::graphql::object::Partner>>();
        assert!(names.iter().any(|name| name == super::NODES), "{names:?}");
    }

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
        Related { parents, rows, selected: Selected::ALL }
    }

    /// Keeps `size` rows of a run, as a window of that size does.
    fn cut(size: usize, backward: bool) -> impl Fn(usize) -> (usize, bool, bool) {
        move |len| {
            let (kept, more) = (len.min(size), len > size);
            if backward { (kept, false, more) } else { (kept, more, false) }
        }
    }

    /// The group a level hands to the next holds the pages' rows only: a
    /// look-ahead row would have its own children loaded for nothing.
    #[test]
    fn look_ahead_rows_leave_the_group() {
        let pages = child_pages(related(&[(1, &[10, 11, 12]), (2, &[20]), (3, &[30, 31, 32])]), cut(2, false), false);
        let ids: Vec<i64> = pages.group.rows().iter().map(|r| r.0).collect();
        assert_eq!(ids, [10, 11, 20, 30, 31]);
        assert_eq!(pages.pages[&1], (0, 2, true, false));
        assert_eq!(pages.pages[&2], (2, 3, false, false));
        assert_eq!(pages.pages[&3], (3, 5, true, false));

        // Counted from the end (`last`), rows come newest first and each page is turned round.
        let pages = child_pages(related(&[(1, &[12, 11, 10]), (2, &[21, 20])]), cut(2, true), true);
        let ids: Vec<i64> = pages.group.rows().iter().map(|r| r.0).collect();
        assert_eq!(ids, [11, 12, 20, 21]);
        assert_eq!(pages.pages[&1], (0, 2, false, true));
        assert_eq!(pages.pages[&2], (2, 4, false, false));

        // Nothing to drop: the rows stay as they came.
        let pages = child_pages(related(&[(4, &[40, 41])]), cut(5, false), false);
        assert_eq!(pages.group.rows(), [Row(40), Row(41)]);
        assert_eq!(pages.pages[&4], (0, 2, false, false));
    }
}
