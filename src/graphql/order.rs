//! A query's root fields answered in the order its document names them.
//!
//! async-graphql resolves a query's root fields side by side and keys its
//! answer by the order in which they finish, so the same document could
//! answer `{"a":…,"b":…}` once and `{"b":…,"a":…}` the next time. The
//! GraphQL specification orders a result map as its selection set
//! (CollectFields: each response key at its first field not skipped, named
//! and inline fragments read in place), and clients that compare answers as
//! text rely on it. Nested objects keep that order already: their fields
//! are resolved, or written, one after another.

use std::collections::HashMap;

use async_graphql::parser::types::{Directive, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value, Variables};

/// Each root response key of a query with its place in the document.
pub struct RootOrder(HashMap<Name, usize>);

impl RootOrder {
    /// The order of `request`'s root keys, when it runs a query with more
    /// than one (a mutation's fields run, and are keyed, one by one).
    /// `None` also when the document does not parse or names no operation
    /// to run: the execution reports that.
    pub fn of(request: &mut async_graphql::Request) -> Option<Self> {
        // Lent out while the document is borrowed, rather than copied.
        let operation_name = request.operation_name.take();
        let variables = std::mem::take(&mut request.variables);
        let order = request.parsed_query().ok().and_then(|document| {
            let (_, operation) = crate::limits::operation(document, operation_name.as_deref())?;
            if operation.node.ty != OperationType::Query {
                return None;
            }
            let mut order = HashMap::new();
            collect(document, &operation.node.selection_set.node, &variables, &mut order, &mut Vec::new());
            (order.len() > 1).then_some(RootOrder(order))
        });
        request.operation_name = operation_name;
        request.variables = variables;
        order
    }

    /// Puts the root keys of `data` in the document's order.
    pub fn apply(&self, data: &mut Value) {
        if let Value::Object(map) = data {
            map.sort_by_cached_key(|key, _| self.0.get(key).copied().unwrap_or(usize::MAX));
        }
    }
}

/// Numbers the response keys of `set` as CollectFields meets them.
fn collect<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    variables: &Variables,
    order: &mut HashMap<Name, usize>,
    spread: &mut Vec<&'a Name>,
) {
    for selection in &set.items {
        if skipped(selection.node.directives(), variables) {
            continue;
        }
        match &selection.node {
            Selection::Field(field) => {
                let next = order.len();
                order.entry(field.node.response_key().node.clone()).or_insert(next);
            }
            Selection::FragmentSpread(fragment) => {
                // A fragment adds nothing the second time (the spec's visitedFragments).
                let name = &fragment.node.fragment_name.node;
                if spread.contains(&name) {
                    continue;
                }
                spread.push(name);
                if let Some(definition) = document.fragments.get(name) {
                    collect(document, &definition.node.selection_set.node, variables, order, spread);
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(document, &fragment.node.selection_set.node, variables, order, spread);
            }
        }
    }
}

/// Whether `@skip(if: true)` or `@include(if: false)` leaves a selection
/// out, its condition given literally or by a variable.
pub(super) fn skipped(directives: &[Positioned<Directive>], variables: &Variables) -> bool {
    directives.iter().any(|directive| {
        let Some(include) = includes_when(&directive.node) else {
            return false;
        };
        let condition = directive.node.get_argument("if").map(|value| match &value.node {
            async_graphql_value::Value::Variable(name) => variables.get(name) == Some(&Value::Boolean(true)),
            value => value == &async_graphql_value::Value::Boolean(true),
        });
        condition.is_some_and(|condition| condition != include)
    })
}

/// For `@include`, `true`, and for `@skip`, `false`: the value of its
/// `if` that keeps the selection; `None` for any other directive.
pub(super) fn includes_when(directive: &Directive) -> Option<bool> {
    match directive.name.node.as_str() {
        "skip" => Some(false),
        "include" => Some(true),
        _ => None,
    }
}
