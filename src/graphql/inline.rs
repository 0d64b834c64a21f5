//! Objects resolved in place: an object's fields run one after the other,
//! each resolver awaited where it stands.
//!
//! async-graphql resolves an object by boxing one future per field, each as
//! large as the object's largest resolver (about a kilobyte), then gathering
//! the values. Q1 resolves some 56,000 fields, most of them plain reads of a
//! row already in memory, so that allocation and copy is most of the
//! executor's cost. Here the fields of list items ([`crate::graphql::list`])
//! and of [`Inline`] values are resolved by awaiting the same generated
//! `resolve_field` directly: no allocation per field, same values, same
//! errors, same order.
//!
//! Connections are [`Inline`] too. Boxing happens once per
//! [`List`](crate::graphql::list::List), which is what keeps these nested futures
//! of finite size: an object type cannot reach itself through [`Inline`]
//! fields alone, or the build fails.
//!
//! Unless the request's document names a response key twice, the objects
//! are written as JSON text as their fields resolve, not gathered into maps
//! ([`crate::graphql::render`]); a field with a writer
//! ([`crate::graphql::direct`]) is written without being resolved, and the
//! value of any other field is written in its object's text, lent to it
//! ([`render::Loans`]).
//!
//! This skips the hooks of schema extensions, so it runs only on the fast
//! path, which is off whenever an extension is installed (see
//! [`crate::graphql::Executor`]); with custom directives registered it
//! falls back to async-graphql's own resolution too.

use std::any::TypeId;
use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, QueryPathNode, ServerError, ServerResult, Value, registry,
};
use smallvec::SmallVec;

use crate::graphql::context::RequestData;
use crate::graphql::direct::{Direct, Json, ObjectPlan, Writer};
use crate::graphql::placeholder::Placeholder;
use crate::graphql::render::{self, Loans};

/// A value whose object is resolved in place; in the schema, the same type as `T`.
pub struct Inline<T>(pub T);

impl<T: ContainerType + Direct + 'static> OutputType for Inline<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match resolution(ctx) {
            Resolution::Standard => self.0.resolve(ctx, field).await,
            Resolution::InPlace { text, request } => object(ctx, &self.0, text, request).await,
        }
    }
}

/// Written by the plan of its selection ([`crate::graphql::direct`]).
impl<T: Direct + OutputType + Send + Sync + 'static> Json for Inline<T> {
    type Plan = ObjectPlan<T>;

    fn plan<'a>(ctx: &ContextSelectionSet<'a>, field: &'a Positioned<Field>) -> Option<ObjectPlan<T>> {
        ObjectPlan::of(ctx, field, crate::graphql::context::placeholder(ctx))
    }

    fn write(&self, plan: &ObjectPlan<T>, out: &mut Vec<u8>) -> bool {
        plan.write(&self.0, out)
    }
}

/// How this request's objects resolve.
#[derive(Clone, Copy)]
pub enum Resolution<'a> {
    /// By async-graphql, off the fast path (see [`crate::graphql::Executor`]).
    Standard,
    /// In place, and written as JSON text unless the document names a
    /// response key twice ([`render::writes_text`]); `request`: the
    /// request's data, looked up once here rather than by every object.
    InPlace { text: bool, request: &'a RequestData },
}

/// How the objects of the field being resolved resolve.
pub fn resolution<'a>(ctx: &ContextSelectionSet<'a>) -> Resolution<'a> {
    match ctx.data::<RequestData>() {
        Ok(request) if request.fast && ctx.schema_env.custom_directives.is_empty() => {
            let operation = &ctx.query_env.operation.node.selection_set.node;
            let text = render::writes_text(&request.writes_text, &ctx.query_env.fragments, operation);
            Resolution::InPlace { text, request }
        }
        _ => Resolution::Standard,
    }
}

/// Resolves `root`'s selection set field after field, as async-graphql's
/// serial resolution does, without boxing each field; `text`: written as JSON.
async fn object<'a, T: ContainerType + Direct + 'static>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    text: bool,
    request: &'a RequestData,
) -> ServerResult<Value> {
    // On the stack for the usual few fields: one object of many thousands.
    let mut fields: SmallVec<[&Positioned<Field>; 8]> = SmallVec::new();
    collect(ctx, root, &ctx.item.node, request.placeholder.as_ref(), &mut fields)?;
    if text {
        let writers = writers(ctx, &fields, root.introspection_type_name() == T::type_name(), request);
        if let Some(mut lent) = Borrowed::of(ctx, request) {
            let written = write_fields(ctx, root, &fields, &writers, &mut lent.text, request).await;
            return lent.give_back(written);
        }
        let mut out = Vec::with_capacity(128);
        write_fields(ctx, root, &fields, &writers, &mut out, request).await?;
        return Ok(render::text(out));
    }
    resolve_fields(ctx, root, &fields).await
}

/// The text an object lent to the value at `ctx`, the value of one of its
/// fields ([`render::Loans`]), taken out to be written in.
struct Borrowed<'r> {
    loans: &'r Loans,
    key: usize,
    text: Vec<u8>,
    start: usize,
}

impl<'r> Borrowed<'r> {
    /// The text lent to the value at `ctx`, if its object lent it any.
    fn of(ctx: &ContextSelectionSet<'_>, request: &'r RequestData) -> Option<Self> {
        let key = place_key(ctx.path_node.as_ref()?.parent?);
        let text = request.loans.take(key)?;
        Some(Borrowed { loans: &request.loans, key, start: text.len(), text })
    }

    /// Gives the text back to its lender, with the value written at its
    /// end, or as it was lent if writing failed (the value is then left
    /// to the lender, a `null` or an error).
    fn give_back(mut self, written: ServerResult<()>) -> ServerResult<Value> {
        if written.is_err() {
            self.text.truncate(self.start);
        }
        self.loans.lend(self.key, std::mem::take(&mut self.text));
        written.map(|()| render::written_in_place())
    }
}

/// The key text is lent under: the address of the lender's place in the
/// response, which its fields' values see as their place's parent. No
/// other place can have that address while the lender is resolving one
/// of its fields.
fn place_key(node: &QueryPathNode<'_>) -> usize {
    std::ptr::from_ref(node) as usize
}

/// A loan of an object's text for one field's value; should the value
/// never finish (its request dropped), the loan ends with it.
struct Loan<'r> {
    loans: &'r Loans,
    key: usize,
    ended: bool,
}

impl Loan<'_> {
    /// The text back, with whatever the value wrote in it.
    fn end(mut self) -> Option<Vec<u8>> {
        self.ended = true;
        self.loans.take(self.key)
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.loans.take(self.key);
        }
    }
}

/// [`field_value`], with `out` lent to the value, which may write itself
/// at its end and answer [`render::written_in_place`].
async fn lent_field_value<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    field: &'a Positioned<Field>,
    out: &mut Vec<u8>,
    request: &RequestData,
) -> ServerResult<Option<Value>> {
    let Some(node) = ctx.path_node.as_ref() else {
        return Ok(field_value(ctx, root, field).await);
    };
    let key = place_key(node);
    request.loans.lend(key, std::mem::take(out));
    let loan = Loan { loans: &request.loans, key, ended: false };
    let value = field_value(ctx, root, field).await;
    *out = loan
        .end()
        .ok_or_else(|| ServerError::new("the text of an object was lent and not given back", Some(field.pos)))?;
    Ok(value)
}

/// The writer of each field of a selection, when it has one
/// ([`crate::graphql::direct`]), with the `"key":` it writes after.
type Writers<T> = Vec<Option<(Vec<u8>, Writer<T>)>>;

/// The writers of `fields`, the fields the selection at `ctx` asks of a
/// `T`. The writers of an object type's selection (`concrete`) are worked
/// out the first time the request meets it, and kept for every later list
/// or object of that selection: the fundings of 2,500 projects are 2,500
/// lists of one selection.
fn writers<T: Direct + OutputType + 'static>(
    ctx: &ContextSelectionSet<'_>,
    fields: &[&Positioned<Field>],
    concrete: bool,
    request: &RequestData,
) -> Arc<Writers<T>> {
    let work_out = || -> Arc<Writers<T>> {
        let with_key = |field: &Positioned<Field>| {
            let writer = T::writer(ctx, field)?;
            Some((render::rendered_key(&field.node.response_key().node).ok()?, writer))
        };
        Arc::new(fields.iter().map(|&field| with_key(field)).collect())
    };
    if !concrete {
        return work_out();
    }
    let pos = ctx.item.pos;
    let key = ((pos.line as u64) << 32 | pos.column as u64, TypeId::of::<T>());
    let known = request.fields.lock().ok().and_then(|memo| memo.writers.get(&key).cloned());
    if let Some(known) = known.and_then(|known| known.downcast::<Writers<T>>().ok()) {
        return known;
    }
    let writers = work_out();
    if let Ok(mut memo) = request.fields.lock() {
        memo.writers.insert(key, writers.clone());
    }
    writers
}

/// Resolves the items of a list in order, each in place; `text`: written
/// as JSON, in the text lent by the list's object if it lent any.
pub async fn list<'a, T: ContainerType + Direct + 'static>(
    ctx: &ContextSelectionSet<'a>,
    items: &'a [T],
    text: bool,
    request: &'a RequestData,
) -> ServerResult<Value> {
    if text {
        if let Some(mut lent) = Borrowed::of(ctx, request) {
            let written = write_list(ctx, items, &mut lent.text, request).await;
            return lent.give_back(written);
        }
        let mut out = Vec::new();
        write_list(ctx, items, &mut out, request).await?;
        return Ok(render::text(out));
    }
    let mut values = Vec::with_capacity(items.len());
    let mut fields = Vec::with_capacity(ctx.item.node.items.len());
    let mut fields_of: Option<Cow<'static, str>> = None;
    for (index, item) in items.iter().enumerate() {
        let ctx_index = ctx.with_index(index);
        // Fragments apply by the item's type, the only thing that can
        // change from one item to the next.
        let type_name = item.introspection_type_name();
        if fields_of.as_deref() != Some(&*type_name) {
            fields.clear();
            collect(ctx, item, &ctx.item.node, request.placeholder.as_ref(), &mut fields)
                .map_err(|e| ctx_index.set_error_path(e))?;
            fields_of = Some(type_name);
        }
        let value = resolve_fields(&ctx_index, item, &fields).await;
        values.push(value.map_err(|e| ctx_index.set_error_path(e))?);
    }
    Ok(Value::List(values))
}

/// Writes the items of a list as a JSON array at the end of `out`; the
/// fields an item's selection asks for, and their writers, are worked out
/// once per run of items of one type, not once per item.
async fn write_list<'a, T: ContainerType + Direct + 'static>(
    ctx: &ContextSelectionSet<'a>,
    items: &'a [T],
    out: &mut Vec<u8>,
    request: &RequestData,
) -> ServerResult<()> {
    let start = out.len();
    // On the stack, and no writers until the first item: thousands of lists.
    let mut fields: SmallVec<[&Positioned<Field>; 8]> = SmallVec::new();
    let mut writers: Option<Arc<Writers<T>>> = None;
    let mut fields_of: Option<Cow<'static, str>> = None;
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        let ctx_index = ctx.with_index(index);
        let type_name = item.introspection_type_name();
        if fields_of.as_deref() != Some(&*type_name) {
            fields.clear();
            collect(ctx, item, &ctx.item.node, request.placeholder.as_ref(), &mut fields)
                .map_err(|e| ctx_index.set_error_path(e))?;
            writers = Some(self::writers(ctx, &fields, *type_name == *T::type_name(), request));
            fields_of = Some(type_name);
        }
        if index > 0 {
            out.push(b',');
        }
        let item_writers = writers.as_deref().map(Vec::as_slice).unwrap_or_default();
        write_fields(&ctx_index, item, &fields, item_writers, out, request)
            .await
            .map_err(|e| ctx_index.set_error_path(e))?;
        if index == 0 {
            // Items of a page are alike: room for the rest at the first's
            // size, instead of doubling the buffer (and copying it) as it
            // fills; at most 1 MiB more, should the first be unlike the rest.
            let first = out.len() - start;
            out.reserve(Ord::min(first * (items.len() - 1), 1 << 20) + 1);
        }
    }
    out.push(b']');
    Ok(())
}

async fn resolve_fields<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    fields: &[&'a Positioned<Field>],
) -> ServerResult<Value> {
    let mut values = IndexMap::with_capacity(fields.len());
    for &field in fields {
        if let Some(value) = field_value(ctx, root, field).await {
            insert(&mut values, field.node.response_key().node.clone(), value);
        }
    }
    // An object that selects no field is `{}`; one whose every field
    // failed is null, as async-graphql gathers it.
    Ok(if values.is_empty() && !fields.is_empty() { Value::Null } else { Value::Object(values) })
}

/// One field's value; `None` when it failed. As async-graphql does, the
/// error is reported and the key left out, until the answer is mended
/// ([`crate::graphql::nulls`]).
async fn field_value<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    field: &'a Positioned<Field>,
) -> Option<Value> {
    if field.node.name.node == "__typename" {
        return Some(Value::String(root.introspection_type_name().into_owned()));
    }
    match root.resolve_field(&ctx.with_field(field)).await {
        Ok(value) => Some(value.unwrap_or_default()),
        Err(error) => {
            ctx.add_error(error);
            None
        }
    }
}

/// [`resolve_fields`], writing the object as JSON text at the end of `out`
/// (`{}` when it selects no field, `null` when every field failed, as the
/// map would be). A field
/// with a writer is written by it; should the writer fail, the field is
/// resolved instead, for the same value or error. A resolved field's value
/// is handed `out` to write itself in ([`lent_field_value`]).
async fn write_fields<'a, T: ContainerType>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    fields: &[&'a Positioned<Field>],
    writers: &[Option<(Vec<u8>, Writer<T>)>],
    out: &mut Vec<u8>,
    request: &RequestData,
) -> ServerResult<()> {
    let start = out.len();
    let mut written = 0;
    for (i, &field) in fields.iter().enumerate() {
        let unwritten = out.len();
        let not_json = |e| ServerError::new(format!("a value could not be written as JSON: {e}"), Some(field.pos));
        out.push(if written == 0 { b'{' } else { b',' });
        if let Some((key, writer)) = writers.get(i).and_then(Option::as_ref) {
            out.extend_from_slice(key);
            if writer(root, out) {
                written += 1;
                continue;
            }
            out.truncate(unwritten + 1);
        }
        render::write_key(out, &field.node.response_key().node).map_err(not_json)?;
        match lent_field_value(ctx, root, field, out, request).await? {
            None => out.truncate(unwritten),
            Some(value) if render::is_written_in_place(&value) => written += 1,
            Some(mut value) => {
                if let Some(placeholder) = &request.placeholder {
                    placeholder.remove(&mut value);
                }
                render::write_value(out, &value).map_err(not_json)?;
                written += 1;
            }
        }
    }
    if fields.is_empty() {
        out.extend_from_slice(b"{}");
    } else if written == 0 {
        out.truncate(start);
        out.extend_from_slice(b"null");
    } else {
        out.push(b'}');
    }
    Ok(())
}

/// The fields a selection set asks of `root`, fragments (whose type
/// condition `root` meets) spread in place, in document order; not the
/// `placeholder`, which is there for async-graphql alone.
fn collect<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    set: &'a SelectionSet,
    placeholder: Option<&Placeholder>,
    fields: &mut impl Extend<&'a Positioned<Field>>,
) -> ServerResult<()> {
    for selection in &set.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                if !placeholder.is_some_and(|p| p.is(&field.node.response_key().node)) {
                    fields.extend([field]);
                }
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let fragment = ctx
                    .query_env
                    .fragments
                    .get(name)
                    .ok_or_else(|| ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos)))?;
                (Some(fragment.node.type_condition.node.on.node.as_str()), &fragment.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => (
                fragment.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()),
                &fragment.node.selection_set.node,
            ),
        };
        let applies = match condition {
            None => true,
            Some(condition) => {
                let own = root.introspection_type_name();
                own == condition
                    || T::type_name() == condition
                    || ctx.schema_env.registry.implements.get(&*own).is_some_and(|set| set.contains(condition))
            }
        };
        if applies {
            collect(ctx, root, inner, placeholder, fields)?;
        }
    }
    Ok(())
}

/// Adds a field's value, merging objects (and lists of objects) asked for
/// twice under one key, as async-graphql does.
fn insert(target: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    use async_graphql::indexmap::map::Entry;
    match (target.entry(key), value) {
        (Entry::Vacant(slot), value) => {
            slot.insert(value);
        }
        (Entry::Occupied(mut slot), Value::Object(more)) => {
            if let Value::Object(existing) = slot.get_mut() {
                for (key, value) in more {
                    insert(existing, key, value);
                }
            }
        }
        (Entry::Occupied(mut slot), Value::List(more)) => {
            if let Value::List(existing) = slot.get_mut() {
                for (item, value) in existing.iter_mut().zip(more) {
                    if let (Value::Object(item), Value::Object(more)) = (item, value) {
                        for (key, value) in more {
                            insert(item, key, value);
                        }
                    }
                }
            }
        }
        (Entry::Occupied(_), _) => {}
    }
}
