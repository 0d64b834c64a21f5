//! Which slice of a list a connection returns — its order, filter, size and
//! cursors — and which columns its rows must carry.

use std::borrow::Cow;

use async_graphql::{Context, SelectionField};
use sea_orm::EntityTrait;
use sea_orm::sea_query::Condition;

use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{MemoKey, WINDOW_TAG};
use crate::graphql::context::{FieldKey, FieldMemo, request};
use crate::graphql::lang::Lang;
use crate::graphql::node::{NodeType, Wanted};
use crate::graphql::sort::{Cursor, Sort};

/// The name of a connection's field of results without cursors, as
/// async-graphql names `Connection::nodes` (a test in `pagination` holds
/// the two together).
pub const NODES: &str = "nodes";

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest `first` or `last` accepted.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The paging arguments every connection takes, as given.
#[derive(Clone, Debug, Default)]
pub struct Paging {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Which slice of a list of `E` a connection returns.
pub struct Window<E: EntityTrait> {
    pub size: u64,
    /// `last`/`before`: counted from the end.
    pub backward: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    pub sort: Sort<E>,
    pub filter: Condition,
    /// The columns the page's rows must carry.
    pub wanted: Wanted,
    /// The window's number in the request: its memo key without building
    /// [`Window::key`] for every sibling.
    number: Option<u64>,
}

impl<E: EntityTrait> Window<E> {
    /// A window over a list ordered by `sort` and narrowed by `filter`,
    /// reading every column.
    pub fn new(paging: Paging, sort: Sort<E>, filter: Condition) -> ApiResult<Self> {
        let Paging { first, after, last, before } = paging;
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

    /// The window the connection field being resolved asks for, reading
    /// only the columns its selection (`nodes { … }`, `edges { node { … } }`)
    /// and its ordering need.
    ///
    /// Every sibling resolving the same field of the document has the same
    /// arguments, hence the same window: the columns and the window's number
    /// (its memo key) are worked out by the first and looked up by the rest.
    pub fn for_field<N: NodeType<Entity = E>>(
        ctx: &Context<'_>,
        paging: Paging,
        sort: Sort<E>,
        filter: Condition,
    ) -> ApiResult<Self> {
        let mut window = Self::new(paging, sort, filter)?;
        let request = request(ctx)?;
        let field = field_key::<N>(ctx);
        if let Ok(memo) = request.fields.lock()
            && let (Some(&wanted), Some(&number)) = (memo.wanted.get(&field), memo.windows.get(&field))
        {
            window.wanted = wanted;
            window.number = Some(number);
            return Ok(window);
        }
        window.wanted = if request.narrows() {
            let look = ctx.look_ahead();
            let (nodes, edges) = (look.field(NODES), look.field("edges").field("node"));
            let objects: Vec<SelectionField<'_>> =
                nodes.selection_fields().into_iter().chain(edges.selection_fields()).collect();
            let sort_column = window.sort.column.map(|c| sea_orm::IdenStatic::as_str(&c));
            wanted::<N>(ctx, objects.iter().flat_map(|f| f.selection_set()), sort_column)?
        } else {
            Wanted::ALL
        };
        let key = window.key();
        if let Ok(mut memo) = request.fields.lock() {
            let next = memo.window_numbers.len() as u64;
            let number = *memo.window_numbers.entry(key).or_insert(next);
            memo.wanted.insert(field, window.wanted);
            memo.windows.insert(field, number);
            window.number = Some(number);
        }
        Ok(window)
    }

    /// The key of the window's page run in a group's memo.
    pub fn memo_key(&self, relation: &'static str) -> MemoKey {
        match self.number {
            Some(number) => numbered(relation, number),
            None => (format!("{relation}/{}", self.key()).into(), 0),
        }
    }

    /// Identifies the window in a group's memo: siblings asking for the same
    /// window share one statement.
    fn key(&self) -> String {
        use std::fmt::Write;
        // The common case (no cursor, no filter) skips `Debug`, which escapes strings char by char.
        let mut key = format!("{}:{}:{}:{:x}", self.size, self.backward, self.sort.name(), self.wanted.bits());
        if self.after.is_some() || self.before.is_some() {
            let _ = write!(key, ":{:?}:{:?}", self.after, self.before);
        }
        if !self.filter.is_empty() {
            let _ = write!(key, ":{:?}", self.filter);
        }
        key
    }

    /// The most rows fetched for one list: the page and one more, which
    /// tells whether another page follows.
    pub fn rows_fetched(&self) -> usize {
        usize::try_from(self.size).unwrap_or(usize::MAX).saturating_add(1)
    }

    /// Cuts the (up to `size + 1`) rows fetched for one list into a page:
    /// how many to keep, whether a next and a previous page exist.
    pub fn cut(&self, len: usize) -> (usize, bool, bool) {
        let more = len as u64 > self.size;
        let kept = len.min(self.size as usize);
        if self.backward { (kept, self.before.is_some(), more) } else { (kept, more, self.after.is_some()) }
    }
}

/// Works the columns for the objects of the field being resolved out once
/// per request: every sibling resolving that field asks the same.
pub fn wanted_once<N: NodeType>(ctx: &Context<'_>, compute: impl FnOnce() -> ApiResult<Wanted>) -> ApiResult<Wanted> {
    let request = request(ctx)?;
    if !request.narrows() {
        return Ok(Wanted::ALL);
    }
    let key = field_key::<N>(ctx);
    if let Some(known) = request.fields.lock().ok().and_then(|memo| memo.wanted.get(&key).copied()) {
        return Ok(known);
    }
    let wanted = compute()?;
    if let Ok(mut memo) = request.fields.lock() {
        memo.wanted.insert(key, wanted);
    }
    Ok(wanted)
}

/// The language `field` answers in: its `lang` argument, else the
/// request's; `None` when the argument cannot be read (the field's
/// resolver then says why).
fn asked_lang(ctx: &Context<'_>, field: &SelectionField<'_>) -> Option<Lang> {
    let arguments = field.arguments().ok()?;
    let asked = arguments.into_iter().find(|(name, _)| name.as_str() == "lang").map(|(_, value)| value);
    // As the resolver reads it: absent, or null (a variable not given), is the request's language.
    let asked = <Option<Lang> as async_graphql::InputType>::parse(asked).ok()?;
    Some(crate::graphql::context::lang(ctx, asked))
}

/// The field being resolved, as its siblings all know it.
fn field_key<N: NodeType>(ctx: &Context<'_>) -> FieldKey {
    field_key_at::<N>(ctx.item.pos)
}

/// The field of `N` objects at `pos` in the document, as its siblings all know it.
pub fn field_key_at<N: NodeType>(pos: async_graphql::Pos) -> FieldKey {
    (((pos.line as u64) << 32) | pos.column as u64, N::TYPE_NAME)
}

/// The window the field of `N` objects at `pos` was given when its first
/// sibling resolved ([`Window::for_field`]), as a group's memo knows its
/// page run; `None` before that.
pub fn window_memo_key<N: NodeType>(
    memo: &FieldMemo,
    pos: async_graphql::Pos,
    relation: &'static str,
) -> Option<MemoKey> {
    Some(numbered(relation, *memo.windows.get(&field_key_at::<N>(pos))?))
}

/// The memo key of the page run of the window numbered `number`.
fn numbered(relation: &'static str, number: u64) -> MemoKey {
    (Cow::Borrowed(relation), WINDOW_TAG | number)
}

/// The columns a selection of `N` objects reads, plus `also` (a sort
/// column); every column when a field is not one of `N`'s (validation
/// lets none through, and a generic test holds every field to a
/// declaration).
pub fn wanted<'a, N: NodeType>(
    ctx: &Context<'_>,
    fields: impl Iterator<Item = SelectionField<'a>>,
    also: Option<&str>,
) -> ApiResult<Wanted> {
    use entity::row::Positional;
    let mut wanted = Wanted::NONE;
    if let Some(column) = also {
        let position = N::Model::position(column)
            .ok_or_else(|| ApiError::Internal(format!("{} has no column {column}", N::TYPE_NAME)))?;
        wanted = wanted.with(position);
    }
    for field in fields {
        match field.name() {
            "__typename" => {}
            name => match N::reads(name) {
                Some(reads) => wanted = wanted.union(reads.wanted(|| asked_lang(ctx, &field))),
                None => return Ok(Wanted::ALL),
            },
        }
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::{Paging, Window};
    use crate::graphql::sort::Sort;
    use sea_orm::sea_query::Condition;

    type Partner = entity::partner::Entity;

    fn window(first: Option<i32>, last: Option<i32>) -> Window<Partner> {
        Window::new(Paging { first, last, ..Paging::default() }, Sort::BY_ID, Condition::all()).expect("a valid window")
    }

    #[test]
    fn a_page_keeps_its_size_and_says_what_lies_beyond() {
        assert_eq!(window(Some(2), None).cut(3), (2, true, false));
        assert_eq!(window(Some(2), None).cut(2), (2, false, false));
        assert_eq!(window(None, Some(2)).cut(3), (2, false, true));
        assert_eq!(window(None, None).cut(25), (20, true, false));
    }

    #[test]
    fn page_sizes_outside_the_bounds_are_refused() {
        let paging = |first| Paging { first: Some(first), ..Paging::default() };
        assert!(Window::<Partner>::new(paging(0), Sort::BY_ID, Condition::all()).is_err());
        assert!(Window::<Partner>::new(paging(101), Sort::BY_ID, Condition::all()).is_err());
        let both = Paging { first: Some(1), last: Some(1), ..Paging::default() };
        assert!(Window::<Partner>::new(both, Sort::BY_ID, Condition::all()).is_err());
    }
}
