//! A field that fails answers `null`, and a `null` where the schema
//! promises a value climbs to the nearest place that may hold one.
//!
//! The GraphQL specification handles an execution error at the field that
//! raised it: the field's value is `null` and the error is listed; when the
//! field's type is non-null, its parent (the object, or the list holding
//! the item) is `null` in its turn, and so on up to a nullable position, or
//! to `data` itself. async-graphql 7.2 instead lists the error and leaves
//! the field's key out of its object (`do_resolve_container`), so an answer
//! could lack a key its query selected and keep objects that a non-null
//! promise should have taken away; the fast path, which must answer as
//! async-graphql does, did the same.
//!
//! The answer is mended once execution is over, from the errors' paths:
//! for each, the document says which field each step of the path is and
//! the schema whether it may be null ([`nullable_steps`]); the failed
//! field is set to `null` and the `null` climbs as far as the types say
//! ([`mend`]). Objects written as text on the way are read back first:
//! this happens to answers with errors alone.
//!
//! One position is held to be nullable against its type: a mutation's
//! root field (each returns a non-null type). Its `null` climbing to
//! `data` would hide the writes that the mutation's earlier fields made.

use async_graphql::parser::types::{ExecutableDocument, Field, OperationType, Selection, SelectionSet};
use async_graphql::{PathSegment, ServerError, Value};

use crate::graphql::composites::{Composites, named};

/// What the mending needs of the request, kept before it runs: its
/// document as text (parsed again only when an answer has errors).
#[derive(Clone, Debug)]
pub struct Source {
    query: String,
    operation_name: Option<String>,
}

impl Source {
    pub fn of(request: &async_graphql::Request) -> Self {
        Source { query: request.query.clone(), operation_name: request.operation_name.clone() }
    }
}

/// Sets each failed field of `data` to `null` and climbs with it as the
/// schema's non-null types require. Errors without a path (the operation
/// did not run) and paths the document cannot explain are left as they
/// are.
pub fn mend(data: &mut Value, errors: &[ServerError], source: &Source, composites: &Composites) {
    if errors.iter().all(|error| error.path.is_empty()) {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(&source.query) else { return };
    for error in errors.iter().filter(|error| !error.path.is_empty()) {
        let Some(nullable) = nullable_steps(&document, source.operation_name.as_deref(), &error.path, composites)
        else {
            continue;
        };
        if climb(data, &error.path, &nullable) {
            *data = Value::Null;
        }
    }
}

/// Whether each position along `path` (the one each step leads to) may be
/// null, by the types of the fields the document selects there.
fn nullable_steps(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    path: &[PathSegment],
    composites: &Composites,
) -> Option<Vec<bool>> {
    let (_, operation) = crate::limits::operation(document, operation_name)?;
    let root = match operation.node.ty {
        OperationType::Query => composites.query(),
        OperationType::Mutation => composites.mutation()?,
        OperationType::Subscription => composites.subscription()?,
    };
    // The selection sets at the current position, each with the type its
    // fields belong to; and the rest of the current field's type, down
    // through its lists.
    let mut sets: Vec<(&SelectionSet, &str)> = vec![(&operation.node.selection_set.node, root)];
    let mut ty = root;
    let mut nullable = Vec::with_capacity(path.len());
    for segment in path {
        match segment {
            PathSegment::Field(key) => {
                let mut fields = Vec::new();
                for &(set, parent) in &sets {
                    with_key(document, set, parent, key, &mut fields, 0);
                }
                let (_, field_type) = fields.iter().find_map(|&(field, parent): &(&Field, &str)| {
                    Some((field, composites.field_type(parent, &field.name.node)?))
                })?;
                // Fields that share a response key agree on their type
                // (validation), whichever fragment each comes from.
                nullable.push(!field_type.ends_with('!'));
                ty = field_type;
                let object = named(field_type);
                sets = fields.iter().map(|&(field, _)| (&field.selection_set.node, object)).collect();
            }
            PathSegment::Index(_) => {
                let list = ty.strip_suffix('!').unwrap_or(ty);
                let item = list.strip_prefix('[')?.strip_suffix(']')?;
                nullable.push(!item.ends_with('!'));
                ty = item;
            }
        }
    }
    // A mutation's root field holds the null of its own failure or of its
    // answer's: `data: null` would hide the writes the fields before it
    // made, and an answer never says less than what happened.
    if operation.node.ty == OperationType::Mutation
        && let Some(root_field) = nullable.first_mut()
    {
        *root_field = true;
    }
    Some(nullable)
}

/// The fields of `set` (fragments spread in, whatever type they are on)
/// whose response key is `key`, each with the type it is a field of.
fn with_key<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    parent: &'a str,
    key: &str,
    fields: &mut Vec<(&'a Field, &'a str)>,
    depth: usize,
) {
    // Fragments cannot spread themselves (validation); a bound all the same.
    if depth > 64 {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) if field.node.response_key().node == key => fields.push((&field.node, parent)),
            Selection::Field(_) => {}
            Selection::InlineFragment(fragment) => {
                let on = fragment.node.type_condition.as_ref().map_or(parent, |c| c.node.on.node.as_str());
                with_key(document, &fragment.node.selection_set.node, on, key, fields, depth + 1);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    with_key(document, &fragment.node.selection_set.node, on, key, fields, depth + 1);
                }
            }
        }
    }
}

/// Follows `path` down from `value`, sets the failed field at its end to
/// `null` (or finds a `null` on the way, where an earlier error's `null`
/// stopped, or every field of an object failed), and says whether `value`
/// must become `null` too: the position below it may not hold one.
/// `nullable[0]` is the position the first step leads to.
fn climb(value: &mut Value, path: &[PathSegment], nullable: &[bool]) -> bool {
    let (Some((segment, rest)), Some((&child_nullable, below))) = (path.split_first(), nullable.split_first()) else {
        return false;
    };
    read_back(value);
    let child_is_null = match (segment, value) {
        (PathSegment::Field(key), Value::Object(map)) => match map.get_mut(key.as_str()) {
            Some(child) => null_below(child, rest, below),
            None if rest.is_empty() => {
                map.insert(async_graphql::Name::new(key), Value::Null);
                true
            }
            // An object without the key the path goes on through: nothing to mend.
            None => false,
        },
        (PathSegment::Index(index), Value::List(items)) => match items.get_mut(*index) {
            Some(child) => null_below(child, rest, below),
            None => false,
        },
        _ => false,
    };
    child_is_null && !child_nullable
}

/// Whether the position `child` stands at ends up `null`, after mending
/// what is below it.
fn null_below(child: &mut Value, rest: &[PathSegment], below: &[bool]) -> bool {
    if rest.is_empty() {
        *child = Value::Null;
        return true;
    }
    if matches!(child, Value::Null) {
        return true;
    }
    if climb(child, rest, below) {
        *child = Value::Null;
        return true;
    }
    false
}

/// An object or list written as JSON text, read back as values to be mended.
fn read_back(value: &mut Value) {
    if let Value::Binary(text) = value
        && let Ok(json) = serde_json::from_slice::<serde_json::Value>(text)
        && let Ok(read) = Value::from_json(json)
    {
        *value = read;
    }
}
