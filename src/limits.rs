//! What a document may cost, checked before it can cost anything.
//!
//! Two stages, both before async-graphql sees the document:
//!
//! 1. [`prescan`], on the raw text, before parsing: its size, its number of
//!    tokens and how deeply its brackets nest. async-graphql's parser
//!    recurses once per nesting level and overflows the stack (aborting the
//!    process) on a few kilobytes of `[[[[…`, and no body-size limit can
//!    stop that (two bytes a level), so nesting is counted here first.
//! 2. [`analyze`], on the parsed document: the selections it expands to
//!    (each fragment counted once and memoised, so a chain of fragments each
//!    spreading the next twice is measured in linear time, not run in
//!    exponential time), its depth, aliases, directives, introspection
//!    depth, and its cost: every connection multiplies by its `first` or
//!    `last` (20 when neither is given), in the spirit of GitHub's node
//!    limit, and every other list that takes `first` by its `first` (its
//!    default when not given). A `first`/`last` outside its field's range
//!    (1–100 for a connection) is refused here too, so a nested one fails
//!    before the levels above it have run any SQL.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Name, Positioned};
use async_graphql_value::Value;

use crate::graphql::query::report;
use crate::graphql::window::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The lists that take `first` without being connections, by field name
/// (a root field shows on each object the root is merged from), each with
/// the most rows it returns. The schema gives a list's default, not its
/// maximum; a list taking `first` that is missing here, or an entry that
/// names no such list, stops the gate from being built.
const LISTS_TAKING_FIRST: &[(&str, i32)] = &[("fundingTotals", report::MAX_ROWS)];

/// The limits, each with a safe default and a flag to change it.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes of one document.
    pub max_document_bytes: usize,
    /// Tokens of one document.
    pub max_tokens: usize,
    /// Brackets (`{`, `[`, `(`) open at once in a document.
    pub max_nesting: usize,
    /// Selections the document expands to, fragments spread out.
    pub max_selections: u64,
    /// Fields nested in fields (introspection apart).
    pub max_depth: usize,
    /// Fields nested under `__schema` or `__type`.
    pub max_introspection_depth: usize,
    /// Nodes the document may ask for: every connection multiplies by its
    /// page size, every other list taking `first` by its `first`.
    pub max_cost: u64,
    /// Aliases, fragments spread out.
    pub max_aliases: u64,
    /// Directives, fragments spread out.
    pub max_directives: u64,
    /// Operations in one batched request.
    pub max_batch: usize,
    /// How deeply a variable's value may nest (objects and lists).
    pub max_variable_nesting: usize,
    /// Bytes of one HTTP request body.
    pub max_body_bytes: usize,
    /// Time one operation may take.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 64 * 1024,
            max_tokens: 15_000,
            max_nesting: 64,
            max_selections: 10_000,
            max_depth: 12,
            max_introspection_depth: 16,
            max_cost: 50_000,
            max_aliases: 200,
            max_directives: 50,
            max_batch: 10,
            max_variable_nesting: 32,
            max_body_bytes: 1024 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A document refused before execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A limit was exceeded: `LIMIT_EXCEEDED`, with the limit's name.
    Limit { limit: &'static str, max: u64, actual: u64 },
    /// A `first`/`last` outside 1–`max`: `BAD_USER_INPUT`.
    PageSize { argument: &'static str, value: i64, max: i64 },
    /// Fragments that spread each other: `GRAPHQL_VALIDATION_FAILED`.
    FragmentCycle(String),
    /// A fragment nothing spreads: `GRAPHQL_VALIDATION_FAILED`.
    UnusedFragment(String),
    /// The operation to run cannot be told: `GRAPHQL_VALIDATION_FAILED`.
    NoOperation(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Limit { .. } => "LIMIT_EXCEEDED",
            Refusal::PageSize { .. } => "BAD_USER_INPUT",
            Refusal::FragmentCycle(_) | Refusal::UnusedFragment(_) | Refusal::NoOperation(_) => {
                "GRAPHQL_VALIDATION_FAILED"
            }
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Limit { limit, max, actual } => {
                format!("the document exceeds the {limit} limit: {actual} where at most {max} is allowed")
            }
            Refusal::PageSize { argument, value, max } => {
                format!("`{argument}` must be between 1 and {max}, got {value}")
            }
            Refusal::FragmentCycle(name) => format!("fragment `{name}` spreads itself"),
            Refusal::UnusedFragment(name) => format!("fragment `{name}` is never used"),
            Refusal::NoOperation(why) => why.clone(),
        }
    }

    /// The error as a GraphQL error, with its code and details in `extensions`.
    pub fn to_server_error(&self) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new(self.message(), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code());
        match self {
            Refusal::Limit { limit, max, actual } => {
                extensions.set("limit", *limit);
                extensions.set("max", *max);
                extensions.set("actual", *actual);
            }
            Refusal::PageSize { argument, .. } => extensions.set("field", *argument),
            Refusal::FragmentCycle(_) | Refusal::UnusedFragment(_) | Refusal::NoOperation(_) => {}
        }
        error.extensions = Some(extensions);
        error
    }
}

fn over(limit: &'static str, max: u64, actual: u64) -> Result<(), Refusal> {
    if actual > max { Err(Refusal::Limit { limit, max, actual }) } else { Ok(()) }
}

/// Checks the raw text: size, tokens, nesting. Linear, allocation-free, and
/// it never recurses, whatever the input.
pub fn prescan(document: &str, limits: &Limits) -> Result<(), Refusal> {
    over("documentBytes", limits.max_document_bytes as u64, document.len() as u64)?;
    let bytes = document.as_bytes();
    let (mut i, mut tokens, mut depth) = (0usize, 0u64, 0u64);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                over("nesting", limits.max_nesting as u64, depth)?;
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            // A name, as GraphQL spells them: no dots, so `a...F` is three tokens.
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            b if b.is_ascii_digit() || b == b'-' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b'e' | b'E' | b'+' | b'-'))
                {
                    if bytes[i] == b'.' && bytes[i..].starts_with(b"...") {
                        break;
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        over("tokens", limits.max_tokens as u64, tokens)?;
    }
    Ok(())
}

/// How deeply a JSON value nests, without recursing.
pub fn json_nesting(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match value {
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            serde_json::Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// What a field returns, as far as limits care.
#[derive(Clone, Debug)]
struct FieldShape {
    /// The named type at the bottom of lists and non-nulls.
    type_name: String,
    /// How many times its selection runs.
    rows: Rows,
}

/// How many objects a field returns, for the cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rows {
    /// A Relay connection: its `first` or `last`, within 1–`MAX_PAGE_SIZE`.
    Connection,
    /// A list that takes `first`: that many, or the argument's default;
    /// at most `max`.
    First { default: u64, max: i64 },
    /// One object, or one per id of an `ids` list.
    One,
}

impl Rows {
    /// The arguments that size the field's page, and the most each may ask for.
    fn page_size_arguments(self) -> (&'static [&'static str], i64) {
        match self {
            Rows::Connection => (&["first", "last"], MAX_PAGE_SIZE as i64),
            Rows::First { max, .. } => (&["first"], max),
            Rows::One => (&[], 0),
        }
    }
}

/// The schema's object and interface fields, as far as limits care.
#[derive(Clone, Debug)]
pub struct TypeTable {
    fields: HashMap<String, HashMap<String, FieldShape>>,
}

/// A schema whose shape the limits cannot measure.
#[derive(Debug, thiserror::Error)]
pub enum SchemaShapeError {
    #[error("field `{parent}.{field}` returns `{type_name}`, which the schema does not define")]
    UnknownType { parent: String, field: String, type_name: String },
    #[error("`{0}` is named as a connection but has no `nodes` and `edges` to multiply by a page size")]
    NotAConnection(String),
    #[error("the list `{parent}.{field}` takes `first` with no integer default to count its rows by")]
    FirstWithoutDefault { parent: String, field: String },
    #[error("the list `{parent}.{field}` takes `first` but has no maximum in `LISTS_TAKING_FIRST`")]
    FirstWithoutMaximum { parent: String, field: String },
    #[error("`LISTS_TAKING_FIRST` names `{0}`, which is no list taking `first`")]
    NotAListTakingFirst(&'static str),
}

impl TypeTable {
    /// Reads the fields of every object and interface type of the schema's
    /// registry. A field whose type is missing, or a `…Connection` type that
    /// is not a page of results, is an error: the cost limit would silently
    /// miscount it.
    pub fn from_registry(registry: &Registry) -> Result<Self, SchemaShapeError> {
        let mut fields = HashMap::new();
        for (type_name, meta) in &registry.types {
            let Some(defined) =
                meta.fields().filter(|_| matches!(meta, MetaType::Object { .. } | MetaType::Interface { .. }))
            else {
                continue;
            };
            let mut shapes = HashMap::new();
            for field in defined.values() {
                let named = named_type(&field.ty);
                let Some(target) = registry.types.get(named) else {
                    return Err(SchemaShapeError::UnknownType {
                        parent: type_name.clone(),
                        field: field.name.clone(),
                        type_name: named.to_owned(),
                    });
                };
                let rows = if named.ends_with("Connection") {
                    if !(target.field_by_name("nodes").is_some() && target.field_by_name("edges").is_some()) {
                        return Err(SchemaShapeError::NotAConnection(named.to_owned()));
                    }
                    Rows::Connection
                } else if let Some(first) = field.args.get("first").filter(|_| field.ty.starts_with('[')) {
                    let default = first.default_value.as_deref().and_then(|d| d.parse().ok()).ok_or_else(|| {
                        SchemaShapeError::FirstWithoutDefault { parent: type_name.clone(), field: field.name.clone() }
                    })?;
                    let max = LISTS_TAKING_FIRST
                        .iter()
                        .find(|(name, _)| name == &field.name)
                        .map(|&(_, max)| i64::from(max))
                        .ok_or_else(|| SchemaShapeError::FirstWithoutMaximum {
                            parent: type_name.clone(),
                            field: field.name.clone(),
                        })?;
                    Rows::First { default, max }
                } else {
                    Rows::One
                };
                shapes.insert(field.name.clone(), FieldShape { type_name: named.to_owned(), rows });
            }
            fields.insert(type_name.clone(), shapes);
        }
        for &(field, _) in LISTS_TAKING_FIRST {
            let listed = fields.values().filter_map(|shapes| shapes.get(field));
            if !listed.into_iter().any(|shape| matches!(shape.rows, Rows::First { .. })) {
                return Err(SchemaShapeError::NotAListTakingFirst(field));
            }
        }
        Ok(TypeTable { fields })
    }

    fn field(&self, parent: &str, name: &str) -> Option<&FieldShape> {
        self.fields.get(parent).and_then(|f| f.get(name))
    }
}

/// The named type at the bottom of a field type's lists and non-nulls (`[Partner!]!` → `Partner`).
fn named_type(ty: &str) -> &str {
    ty.trim_matches(|c| matches!(c, '[' | ']' | '!'))
}

/// What [`analyze`] measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    /// Selections, fragments spread out.
    pub selections: u64,
    /// Deepest field nesting outside introspection.
    pub depth: u64,
    /// Deepest nesting under an introspection field.
    pub introspection_depth: u64,
    /// Nodes asked for (connections multiply by their page size, other lists taking `first` by their `first`).
    pub cost: u64,
    pub aliases: u64,
    pub directives: u64,
}

impl Measure {
    fn add(&mut self, other: &Measure, depth_offset: u64) {
        self.selections = self.selections.saturating_add(other.selections);
        self.depth = self.depth.max(other.depth.saturating_add(depth_offset));
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.cost = self.cost.saturating_add(other.cost);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
    }

    /// Scaled by the number of times the selection set runs.
    fn times(mut self, factor: u64) -> Self {
        self.cost = self.cost.saturating_mul(factor);
        self
    }
}

/// The analysis of the operation a request runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Analysis {
    pub operation: OperationType,
    pub measure: Measure,
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    types: &'a TypeTable,
    variables: &'a serde_json::Map<String, serde_json::Value>,
    /// Fragments measured so far; `None` while one is being measured.
    fragments: HashMap<Name, Option<Measure>>,
}

impl Walker<'_> {
    /// An integer argument, given literally or through a variable.
    fn int_argument(&self, arguments: &[(Positioned<Name>, Positioned<Value>)], name: &str) -> Option<i64> {
        let (_, value) = arguments.iter().find(|(n, _)| n.node == name)?;
        match &value.node {
            // Beyond 64 bits is out of range too; a non-integer is the validator's to report.
            Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|_| i64::MAX)),
            Value::Variable(v) => {
                self.variables.get(v.as_str()).and_then(|v| v.as_i64().or_else(|| v.as_u64().map(|_| i64::MAX)))
            }
            _ => None,
        }
    }

    fn list_argument_len(&self, arguments: &[(Positioned<Name>, Positioned<Value>)], name: &str) -> Option<u64> {
        let (_, value) = arguments.iter().find(|(n, _)| n.node == name)?;
        match &value.node {
            Value::List(items) => Some(items.len() as u64),
            Value::Variable(v) => self.variables.get(v.as_str()).and_then(|v| v.as_array()).map(|a| a.len() as u64),
            _ => None,
        }
    }

    /// The measure of a selection set of `parent`, run once.
    fn selection_set(&mut self, parent: &str, set: &SelectionSet, introspection: bool) -> Result<Measure, Refusal> {
        let mut measure = Measure::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    // `__schema` and `__type` are measured on their own scale; `__typename` is a plain leaf.
                    let inside = introspection || name == "__schema" || name == "__type";
                    let shape = self.types.field(parent, name).cloned();
                    let rows = shape.as_ref().map_or(Rows::One, |s| s.rows);
                    let (arguments, max) = rows.page_size_arguments();
                    for &argument in arguments {
                        if let Some(value) = self.int_argument(&field.arguments, argument)
                            && !(1..=max).contains(&value)
                        {
                            return Err(Refusal::PageSize { argument, value, max });
                        }
                    }
                    let mut own = Measure {
                        selections: 1,
                        aliases: u64::from(field.alias.is_some()),
                        directives: field.directives.len() as u64,
                        ..Measure::default()
                    };
                    let factor = match rows {
                        Rows::Connection => self
                            .int_argument(&field.arguments, "first")
                            .or_else(|| self.int_argument(&field.arguments, "last"))
                            .map_or(DEFAULT_PAGE_SIZE, |n| n.clamp(0, MAX_PAGE_SIZE as i64) as u64),
                        Rows::First { default, .. } => {
                            self.int_argument(&field.arguments, "first").map_or(default, |n| n.max(0) as u64)
                        }
                        Rows::One => self.list_argument_len(&field.arguments, "ids").unwrap_or(1),
                    };
                    if factor != 1 || rows != Rows::One {
                        own.cost = factor;
                    }
                    let children = if field.selection_set.node.items.is_empty() {
                        Measure::default()
                    } else {
                        let child_type = shape.map(|s| s.type_name).unwrap_or_default();
                        self.selection_set(&child_type, &field.selection_set.node, inside)?.times(factor)
                    };
                    own.add(&children, 0);
                    if inside {
                        own.depth = 0;
                        own.introspection_depth = children.introspection_depth + 1;
                    } else {
                        own.depth = children.depth + 1;
                    }
                    measure.add(&own, 0);
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment.type_condition.as_ref().map_or(parent, |t| t.node.on.node.as_str());
                    let inner = self.selection_set(on, &fragment.selection_set.node, introspection)?;
                    measure.directives = measure.directives.saturating_add(fragment.directives.len() as u64);
                    measure.add(&inner, 0);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    measure.directives = measure.directives.saturating_add(spread.node.directives.len() as u64);
                    let inner = self.fragment(name, introspection)?;
                    measure.add(&inner, 0);
                }
            }
        }
        Ok(measure)
    }

    fn fragment(&mut self, name: &Name, introspection: bool) -> Result<Measure, Refusal> {
        match self.fragments.get(name) {
            Some(Some(measure)) => return Ok(*measure),
            Some(None) => return Err(Refusal::FragmentCycle(name.to_string())),
            None => {}
        }
        // An unknown fragment is the validator's to report.
        let Some(definition) = self.document.fragments.get(name) else { return Ok(Measure::default()) };
        self.fragments.insert(name.clone(), None);
        let on = definition.node.type_condition.node.on.node.to_string();
        let mut measure = self.selection_set(&on, &definition.node.selection_set.node, introspection)?;
        measure.directives = measure.directives.saturating_add(definition.node.directives.len() as u64);
        self.fragments.insert(name.clone(), Some(measure));
        Ok(measure)
    }
}

/// The operation `operation_name` picks, if it can be told (else the
/// validator reports it).
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'a Name>, &'a Positioned<OperationDefinition>)> {
    let mut operations = document.operations.iter();
    match operation_name {
        Some(wanted) => operations.find(|(name, _)| name.map(|n| n.as_str()) == Some(wanted)),
        None => {
            let first = operations.next()?;
            operations.next().is_none().then_some(first)
        }
    }
}

/// Measures every operation of the document and checks each against the
/// limits (async-graphql validates them all, whichever one runs), refuses
/// fragments nothing spreads and a document whose operation to run cannot
/// be told; returns the measure of the operation that runs.
pub fn analyze(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &serde_json::Map<String, serde_json::Value>,
    types: &TypeTable,
    limits: &Limits,
) -> Result<Analysis, Refusal> {
    let Some((_, chosen)) = operation(document, operation_name) else {
        return Err(Refusal::NoOperation(match operation_name {
            Some(name) => format!("the document has no operation named `{name}`"),
            None => "the document has several operations: name the one to run in `operationName`".into(),
        }));
    };
    let mut walker = Walker { document, types, variables, fragments: HashMap::new() };
    let mut analysis = None;
    for (_, op) in document.operations.iter() {
        let root = match op.node.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        let mut measure = walker.selection_set(root, &op.node.selection_set.node, false)?;
        measure.directives = measure.directives.saturating_add(op.node.directives.len() as u64);
        measure.cost = measure.cost.saturating_add(1);
        over("selections", limits.max_selections, measure.selections)?;
        over("depth", limits.max_depth as u64, measure.depth)?;
        over("introspectionDepth", limits.max_introspection_depth as u64, measure.introspection_depth)?;
        over("aliases", limits.max_aliases, measure.aliases)?;
        over("directives", limits.max_directives, measure.directives)?;
        over("cost", limits.max_cost, measure.cost)?;
        if std::ptr::eq(op, chosen) {
            analysis = Some(Analysis { operation: op.node.ty, measure });
        }
    }
    // async-graphql validates every fragment; one nothing spreads is only work.
    if let Some(unused) = document.fragments.keys().find(|name| !walker.fragments.contains_key(*name)) {
        return Err(Refusal::UnusedFragment(unused.to_string()));
    }
    analysis.ok_or_else(|| Refusal::NoOperation("the operation to run cannot be told".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn measure(query: &str) -> Result<Analysis, Refusal> {
        let types =
            TypeTable::from_registry(&crate::graphql::type_registry()).expect("the schema's shape is measurable");
        let document = async_graphql::parser::parse_query(query).expect("it parses");
        analyze(&document, None, &serde_json::Map::new(), &types, &limits())
    }

    #[test]
    fn deep_brackets_are_refused_before_parsing() {
        let deep = format!("{{ partners(filter: {}) {{ totalCount }} }}", "[".repeat(5_000));
        assert!(matches!(prescan(&deep, &limits()), Err(Refusal::Limit { limit: "nesting", .. })));
        let many = "{ a }".repeat(6_000);
        assert!(matches!(prescan(&many, &limits()), Err(Refusal::Limit { limit: "tokens", .. })));
        assert!(prescan("{ partners(first: 5) { nodes { name } } } # a { comment [", &limits()).is_ok());
        assert!(prescan(r#"{ search(query: "[[[[{{{{") { totalCount } }"#, &limits()).is_ok());
    }

    #[test]
    fn q1_costs_the_nodes_it_can_return() {
        let q1 = "{ partners(first: 50) { nodes { agreements(first: 10) { nodes { projects(first: 5) { nodes {
            fundings(first: 4) { nodes { amount { amount currency } funder { name } } } } } } } } } }";
        let analysis = measure(q1).expect("within limits");
        assert_eq!(analysis.measure.cost, 1 + 50 + 500 + 2_500 + 10_000);
        assert_eq!(analysis.measure.depth, 10);
    }

    #[test]
    fn every_page_size_argument_documents_the_range_the_gate_holds_it_to() {
        let registry = crate::graphql::type_registry();
        let types = TypeTable::from_registry(&registry).expect("the schema's shape is measurable");
        let mut checked = 0;
        for (type_name, meta) in &registry.types {
            for field in meta.fields().into_iter().flat_map(|fields| fields.values()) {
                let Some(shape) = types.field(type_name, &field.name) else { continue };
                let (arguments, max) = shape.rows.page_size_arguments();
                assert!(
                    shape.rows != Rows::One || !(field.args.contains_key("first") || field.args.contains_key("last")),
                    "{type_name}.{} takes a page size the gate does not check",
                    field.name
                );
                for argument in arguments.iter().filter_map(|&name| field.args.get(name)) {
                    let doc = argument.description.as_deref().unwrap_or_default();
                    assert!(
                        doc.contains(&format!("(1–{max}")),
                        "{type_name}.{}({}:) is held to 1–{max} but documented as {doc:?}",
                        field.name,
                        argument.name
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "only {checked} page-size arguments found");
    }

    #[test]
    fn a_list_taking_first_costs_its_rows_and_checks_its_own_range() {
        // `fundingTotals` takes up to 1,000 rows: the connections' 1–100 is not its range.
        let report = "{ fundingTotals(groupBy: FUNDER, first: 1000) { funder { name } } }";
        assert_eq!(measure(report).map(|a| a.measure.cost), Ok(1 + 1_000));
        let by_default = "{ fundingTotals(groupBy: FUNDER) { funder { agreements(first: 10) { totalCount } } } }";
        assert_eq!(measure(by_default).map(|a| a.measure.cost), Ok(1 + 100 + 100 * 10));
        let wide =
            "{ fundingTotals(groupBy: FUNDER, first: 1000) { funder { agreements(first: 100) { totalCount } } } }";
        assert!(matches!(measure(wide), Err(Refusal::Limit { limit: "cost", .. })));
        // Out of its own range, refused as a page size whatever it selects.
        for (first, refused) in [(0, true), (1, false), (1_000, false), (1_001, true), (60_000, true)] {
            let report = format!(
                "{{ fundingTotals(groupBy: FUNDER, first: {first}) {{ funder {{ agreements {{ totalCount }} }} }} }}"
            );
            let refusal = Refusal::PageSize { argument: "first", value: first, max: 1_000 };
            assert_eq!(measure(&report).err() == Some(refusal), refused, "first: {first}");
        }
    }

    #[test]
    fn a_fragment_chain_is_measured_not_expanded() {
        let mut query = String::from("query { ...F0 }\n");
        for i in 0..40 {
            query.push_str(&format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1));
        }
        query.push_str("fragment F40 on Query { __typename }\n");
        assert!(matches!(measure(&query), Err(Refusal::Limit { limit: "selections", .. })));
    }

    #[test]
    fn fragment_cycles_and_page_sizes_are_refused() {
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(matches!(measure(cycle), Err(Refusal::FragmentCycle(_))));
        let nested = "{ partners { nodes { agreements(first: 1000) { totalCount } } } }";
        assert_eq!(measure(nested), Err(Refusal::PageSize { argument: "first", value: 1000, max: 100 }));
        let expensive = "{ partners(first: 100) { nodes { agreements(first: 100) { nodes { projects(first: 100) { totalCount } } } } } }";
        assert!(matches!(measure(expensive), Err(Refusal::Limit { limit: "cost", .. })));
    }

    #[test]
    fn json_nesting_is_measured_without_recursion() {
        let mut value = serde_json::json!(1);
        for _ in 0..100_000 {
            value = serde_json::Value::Array(vec![value]);
        }
        assert_eq!(json_nesting(&value), 100_000);
        // Dropping so deep a value recurses in serde_json; unwind it by hand.
        while let serde_json::Value::Array(mut items) = value {
            value = items.pop().unwrap_or(serde_json::Value::Null);
        }
    }
}

#[cfg(test)]
mod fuzz {
    //! Whatever text arrives as a document, the scan answers in linear time
    //! without recursing, and what it lets through parses without overflow.

    use proptest::prelude::*;

    use super::*;

    fn document_like() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("...F ".to_owned()),
            Just("fragment F on Query ".to_owned()),
            Just("partners ".to_owned()),
            Just("first: 5 ".to_owned()),
            Just("\"\"\"".to_owned()),
            Just("\"".to_owned()),
            Just("#".to_owned()),
            Just("\n".to_owned()),
            Just("@skip(if: true) ".to_owned()),
            Just("query A ".to_owned()),
            Just("query B ".to_owned()),
            Just("a...F".to_owned()),
            Just("\\".to_owned()),
            Just("\r".to_owned()),
            Just("-1.5e3".to_owned()),
            "[a-z_ ]{0,5}",
        ];
        proptest::collection::vec(atom, 0..400).prop_map(|parts| parts.concat())
    }

    static TYPES: std::sync::LazyLock<TypeTable> = std::sync::LazyLock::new(|| {
        TypeTable::from_registry(&crate::graphql::type_registry()).expect("the schema's shape is measurable")
    });

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        #[test]
        fn any_document_is_scanned_parsed_and_measured_without_panic(text in document_like()) {
            let limits = Limits::default();
            if prescan(&text, &limits).is_ok()
                && let Ok(document) = async_graphql::parser::parse_query(&text)
            {
                let _ = analyze(&document, None, &serde_json::Map::new(), &TYPES, &limits);
            }
        }

        #[test]
        fn any_bytes_are_scanned_without_panic(text in ".{0,2000}") {
            let _ = prescan(&text, &Limits::default());
        }
    }
}
