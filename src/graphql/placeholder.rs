//! An object whose selection selects nothing answers `{}`, not `null`.
//!
//! The fields of an object can all be left out: `@skip` or `@include` on
//! each of them, or fragments that apply only to other types (`search {
//! nodes { ... on Partner { slug } } }`: an agreement among the hits
//! selects nothing). The GraphQL specification answers such an object
//! with an empty map. async-graphql 7.2 answers `null` for any object
//! with no field to show (`do_resolve_container`), which says "there is
//! none" of an object that exists, and breaks a non-null type's promise
//! (`[SearchResult!]!` came back `[{…}, null]`).
//!
//! Before an operation runs, each selection set that could select nothing
//! for some type of object it may meet (its variables applied, as
//! CollectFields applies them) is given one more field: `__typename` under
//! a response key the document uses nowhere, the placeholder. Such an
//! object then always has a field, async-graphql gathers it as a map, and
//! the placeholder is taken out of the answer before it leaves
//! ([`Placeholder::remove`]), leaving `{}`. Introspection's objects
//! (`__Schema`, `__Type`, …), whose types the walk does not know, get it
//! wherever their selection does not surely select a field. An object that is really null
//! stays null: the placeholder is a field of the object, not a value in
//! its place. The fast path leaves the placeholder out of what it writes
//! as text and writes an object with no field as `{}`
//! ([`crate::graphql::inline`], [`crate::graphql::direct`]).

use std::collections::HashSet;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Pos, Positioned, Value, Variables};

use crate::graphql::composites::Composites;
use crate::graphql::order::{includes_when, skipped};

/// The response key added to the selection sets that could select nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder(Name);

impl Placeholder {
    /// Adds the placeholder where `request`'s operation could select
    /// nothing, and says which key it is under; `None` when no selection
    /// set needs it (or the document does not parse, or names no
    /// operation to run: the execution reports that). A subscription's
    /// root is left alone: it selects its one field.
    pub fn insert(request: &mut async_graphql::Request, composites: &Composites) -> Option<Placeholder> {
        let operation_name = request.operation_name.take();
        let variables = std::mem::take(&mut request.variables);
        let found = request.parsed_query().ok().and_then(|document| {
            if !conditional(document) {
                return None;
            }
            let (_, operation) = crate::limits::operation(document, operation_name.as_deref())?;
            let mut walk =
                Walk { document, composites, variables: &variables, empty: HashSet::new(), spread: Vec::new() };
            let root = &operation.node.selection_set;
            match operation.node.ty {
                OperationType::Query => walk.set(root, composites.query()),
                OperationType::Mutation => walk.set(root, composites.mutation()?),
                OperationType::Subscription => walk.fields(&root.node, Some(composites.subscription()?)),
            }
            (!walk.empty.is_empty()).then(|| (walk.empty, unused_key(document)))
        });
        request.operation_name = operation_name;
        request.variables = variables;
        let (empty, key) = found?;
        let mut document = request.parsed_query().ok()?.clone();
        let field = |pos: Pos| {
            let field = Field {
                alias: Some(Positioned::new(key.clone(), pos)),
                name: Positioned::new(Name::new("__typename"), pos),
                arguments: Vec::new(),
                directives: Vec::new(),
                // Line 0 is no line of the document: never one of `empty`.
                selection_set: Positioned::new(SelectionSet::default(), Pos::default()),
            };
            Positioned::new(Selection::Field(Positioned::new(field, pos)), pos)
        };
        let mut sets: Vec<&mut Positioned<SelectionSet>> = match &mut document.operations {
            DocumentOperations::Single(operation) => vec![&mut operation.node.selection_set],
            DocumentOperations::Multiple(operations) => {
                operations.values_mut().map(|operation| &mut operation.node.selection_set).collect()
            }
        };
        sets.extend(document.fragments.values_mut().map(|fragment| &mut fragment.node.selection_set));
        while let Some(set) = sets.pop() {
            if empty.contains(&set.pos) {
                set.node.items.push(field(set.pos));
            }
            for selection in &mut set.node.items {
                match &mut selection.node {
                    Selection::Field(field) => sets.push(&mut field.node.selection_set),
                    Selection::InlineFragment(fragment) => sets.push(&mut fragment.node.selection_set),
                    Selection::FragmentSpread(_) => {}
                }
            }
        }
        request.set_parsed_query(document);
        Some(Placeholder(key))
    }

    /// Whether `key` is the placeholder's.
    pub fn is(&self, key: &str) -> bool {
        self.0 == key
    }

    /// Takes the placeholder out of every object of `value`. Written text
    /// never holds it: the fast path leaves it out.
    pub fn remove(&self, value: &mut Value) {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) => {
                    map.shift_remove(&self.0);
                    stack.extend(map.values_mut());
                }
                Value::List(items) => stack.extend(items.iter_mut()),
                _ => {}
            }
        }
    }
}

/// Whether any selection of the document is conditional: under `@skip`
/// or `@include`, or in a fragment (which may be on another type). A
/// selection set of unconditional fields always selects one.
fn conditional(document: &ExecutableDocument) -> bool {
    !document.fragments.is_empty()
        || selections(document).any(|selection| match selection {
            Selection::Field(field) => field.node.directives.iter().any(|d| includes_when(&d.node).is_some()),
            Selection::InlineFragment(_) | Selection::FragmentSpread(_) => true,
        })
}

/// A response key the document uses nowhere.
fn unused_key(document: &ExecutableDocument) -> Name {
    let used: HashSet<&str> = selections(document)
        .filter_map(|selection| match selection {
            Selection::Field(field) => Some(field.node.response_key().node.as_str()),
            _ => None,
        })
        .collect();
    let key = (0..).map(|n| format!("__placeholder{n}")).find(|key| !used.contains(key.as_str()));
    Name::new(key.unwrap_or_default())
}

/// Every selection of the document, in its operations and its fragments,
/// at every depth (a fragment's selections where it is defined, not where
/// it is spread).
fn selections(document: &ExecutableDocument) -> impl Iterator<Item = &Selection> {
    let mut sets: Vec<&SelectionSet> = document.operations.iter().map(|(_, op)| &op.node.selection_set.node).collect();
    sets.extend(document.fragments.values().map(|fragment| &fragment.node.selection_set.node));
    let mut current = [].iter();
    std::iter::from_fn(move || {
        loop {
            if let Some(selection) = current.next() {
                let selection: &Positioned<Selection> = selection;
                match &selection.node {
                    Selection::Field(field) => sets.push(&field.node.selection_set.node),
                    Selection::InlineFragment(fragment) => sets.push(&fragment.node.selection_set.node),
                    Selection::FragmentSpread(_) => {}
                }
                return Some(&selection.node);
            }
            current = sets.pop()?.items.iter();
        }
    })
}

/// The selection sets of one operation that could select nothing.
struct Walk<'a> {
    document: &'a ExecutableDocument,
    composites: &'a Composites,
    variables: &'a Variables,
    /// Where those sets start in the document (each its own `{`).
    empty: HashSet<Pos>,
    /// The named fragments being walked, innermost last: a fragment that
    /// spreads itself is refused by validation, and not walked twice here.
    spread: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    /// A selection set on objects of type `ty` (or of the types it stands for).
    fn set(&mut self, set: &'a Positioned<SelectionSet>, ty: &'a str) {
        let composites = self.composites;
        let possible = composites.possible(ty);
        if possible.iter().any(|object| !self.selects(&set.node, object)) {
            self.empty.insert(set.pos);
        }
        self.fields(&set.node, Some(ty));
    }

    /// Walks on into the selection sets of `set`'s fields, `parent` being
    /// the type they are fields of (`None`: a type the walk does not know).
    fn fields(&mut self, set: &'a SelectionSet, parent: Option<&'a str>) {
        let composites = self.composites;
        for selection in &set.items {
            if skipped(selection.node.directives(), self.variables) {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => {
                    let set = &field.node.selection_set;
                    if set.node.items.is_empty() {
                        continue;
                    }
                    // A field with a selection set whose type the schema's
                    // registry does not hold is introspection's (`__schema`,
                    // `__type`): async-graphql adds its types only to the
                    // schema it builds.
                    match parent.and_then(|parent| composites.composite(parent, &field.node.name.node)) {
                        Some(ty) => self.set(set, ty),
                        None => self.unknown(set),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment.node.type_condition.as_ref().map(|c| c.node.on.node.as_str());
                    self.fields(&fragment.node.selection_set.node, parent.map(|parent| on.unwrap_or(parent)));
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let Some(fragment) = self.document.fragments.get(name) else { continue };
                    if self.spread.contains(&name) {
                        continue;
                    }
                    self.spread.push(name);
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    self.fields(&fragment.node.selection_set.node, parent.map(|_| on));
                    self.spread.pop();
                }
            }
        }
    }

    /// A selection set on objects of a type the walk does not know: it
    /// could select nothing unless it surely selects a field, and so could
    /// the sets under it.
    fn unknown(&mut self, set: &'a Positioned<SelectionSet>) {
        if !self.surely_selects(&set.node) {
            self.empty.insert(set.pos);
        }
        self.fields(&set.node, None);
    }

    /// Whether `set` selects a field whatever the type of the object: a
    /// field not skipped, or one in a fragment with no type condition.
    fn surely_selects(&self, set: &SelectionSet) -> bool {
        set.items.iter().any(|selection| {
            !skipped(selection.node.directives(), self.variables)
                && match &selection.node {
                    Selection::Field(_) => true,
                    Selection::InlineFragment(fragment) => {
                        fragment.node.type_condition.is_none() && self.surely_selects(&fragment.node.selection_set.node)
                    }
                    Selection::FragmentSpread(_) => false,
                }
        })
    }

    /// Whether `set` selects a field of an object of type `object`.
    fn selects(&mut self, set: &'a SelectionSet, object: &str) -> bool {
        set.items.iter().any(|selection| {
            if skipped(selection.node.directives(), self.variables) {
                return false;
            }
            match &selection.node {
                Selection::Field(_) => true,
                Selection::InlineFragment(fragment) => {
                    fragment
                        .node
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| self.composites.applies(&c.node.on.node, object))
                        && self.selects(&fragment.node.selection_set.node, object)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let Some(fragment) = self.document.fragments.get(name) else { return false };
                    if self.spread.contains(&name)
                        || !self.composites.applies(&fragment.node.type_condition.node.on.node, object)
                    {
                        return false;
                    }
                    self.spread.push(name);
                    let selects = self.selects(&fragment.node.selection_set.node, object);
                    self.spread.pop();
                    selects
                }
            }
        })
    }
}
