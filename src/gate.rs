//! What every operation passes before it runs, over HTTP and WebSocket
//! alike: its document is settled (persisted queries), scanned, parsed once
//! (or taken from the documents parsed lately), measured against the limits,
//! and its required variables checked. Only then does async-graphql see it
//! (with the parsed document handed over, so it is not parsed twice).

use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError, Variables};
use serde_json::{Map, Value};

use crate::limits::{self, Analysis, Limits, Refusal, SchemaShapeError, TypeTable};
use crate::persisted::Persisted;

/// The parameters of one GraphQL request, as a transport read them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    /// Absent only when a persisted query's hash stands for it.
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
    pub extensions: Map<String, Value>,
}

/// The checks and what they need.
pub struct Gate {
    pub limits: Limits,
    pub types: TypeTable,
    pub persisted: Persisted,
    parsed: ParsedDocuments,
}

/// Documents parsed lately, by their text. Parsing a two-field query costs
/// the server more than a quarter of its work for the whole request (see
/// BENCHMARKS.md), and clients send the same few documents again and
/// again; a parsed document depends on nothing but its text.
struct ParsedDocuments(Mutex<lru::LruCache<String, ExecutableDocument>>);

impl ParsedDocuments {
    /// How many documents are kept.
    const CAPACITY: usize = 256;
    /// Longer documents are parsed every time, so the texts kept come to
    /// at most a mebibyte.
    const MAX_LEN: usize = 4 * 1024;

    fn new() -> Self {
        let capacity = NonZeroUsize::new(Self::CAPACITY).unwrap_or(NonZeroUsize::MIN);
        ParsedDocuments(Mutex::new(lru::LruCache::new(capacity)))
    }

    /// `query` parsed, from the cache when it is there.
    fn parse(&self, query: &str) -> Result<ExecutableDocument, Refused> {
        let cacheable = query.len() <= Self::MAX_LEN;
        if cacheable && let Some(document) = self.0.lock().ok().and_then(|mut cache| cache.get(query).cloned()) {
            return Ok(document);
        }
        let document = async_graphql::parser::parse_query(query).map_err(|e| {
            let mut error = ServerError::from(e);
            error.extensions.get_or_insert_with(Default::default).set("code", "GRAPHQL_PARSE_FAILED");
            Refused { errors: vec![error] }
        })?;
        // A poisoned lock only means the document is not kept.
        if cacheable && let Ok(mut cache) = self.0.lock() {
            cache.put(query.to_owned(), document.clone());
        }
        Ok(document)
    }
}

/// An operation let through: the request for async-graphql and its measure.
pub struct Admitted {
    request: async_graphql::Request,
    /// The hash an automatic persisted query registers its document by,
    /// kept only once the operation is run: a request its client's budget
    /// cannot pay for stores nothing.
    register: Option<String>,
    pub analysis: Analysis,
    /// What the operation is: query, mutation or subscription.
    pub operation_type: OperationType,
    /// The operation's name, as the request or the document gives it.
    pub operation_name: Option<String>,
}

/// An operation refused before it ran: a GraphQL request error.
#[derive(Debug)]
pub struct Refused {
    pub errors: Vec<ServerError>,
}

impl Refused {
    fn one(code: &str, message: impl Into<String>) -> Self {
        Refused { errors: vec![coded(code, message)] }
    }

    /// The code of the first error.
    pub fn code(&self) -> &str {
        crate::graphql::first_code(&self.errors).unwrap_or("BAD_REQUEST")
    }
}

/// A GraphQL error with a code.
pub fn coded(code: &str, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Refused { errors: vec![refusal.to_server_error()] }
    }
}

impl Gate {
    /// The gate for the registry's schema; an error when the schema's shape
    /// cannot be measured (see [`TypeTable::from_registry`]).
    pub fn new(limits: Limits, persisted: Persisted) -> Result<Self, SchemaShapeError> {
        let types = TypeTable::from_registry(&crate::graphql::type_registry())?;
        Ok(Gate { limits, types, persisted, parsed: ParsedDocuments::new() })
    }

    /// Checks one operation; on success, the request ready to execute.
    pub fn admit(&self, params: Params) -> Result<Admitted, Refused> {
        let Params { query, operation_name, mut variables, extensions } = params;
        let (query, register) =
            self.persisted.document(query, &extensions).map_err(|e| Refused::one(e.code(), e.message()))?;
        limits::prescan(&query, &self.limits)?;
        let nesting = variables.values().map(limits::json_nesting).max().unwrap_or(0);
        if nesting > self.limits.max_variable_nesting {
            return Err(Refusal::Limit {
                limit: "variableNesting",
                max: self.limits.max_variable_nesting as u64,
                actual: nesting as u64,
            }
            .into());
        }
        let document = self.parsed.parse(&query)?;
        with_defaults(&document, operation_name.as_deref(), &mut variables);
        let analysis = limits::analyze(&document, operation_name.as_deref(), &variables, &self.types, &self.limits)?;
        required_variables(&document, operation_name.as_deref(), &variables)?;
        let name =
            limits::operation(&document, operation_name.as_deref()).and_then(|(name, _)| name.map(|n| n.to_string()));
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        request = request.variables(Variables::from_json(Value::Object(variables)));
        request.set_parsed_query(document);
        Ok(Admitted { request, register, operation_type: analysis.operation, analysis, operation_name: name })
    }
}

impl Admitted {
    /// The request to run, its document registered if the client asked.
    pub fn into_request(self, gate: &Gate) -> async_graphql::Request {
        if let Some(hash) = self.register {
            gate.persisted.remember(hash, &self.request.query);
        }
        self.request
    }
}

/// Variables the operation declares required (`Type!` without a default)
/// must be given, and not as null: a coercion failure, refused before
/// execution whether or not the operation uses them.
fn required_variables(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<(), Refused> {
    let Some((_, operation)) = limits::operation(document, operation_name) else { return Ok(()) };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        let required = !definition.var_type.node.nullable && definition.default_value.is_none();
        if required && variables.get(name).is_none_or(Value::is_null) {
            return Err(Refused::one(
                "BAD_USER_INPUT",
                format!("variable `${name}` of required type `{}` was not given a value", definition.var_type.node),
            ));
        }
    }
    Ok(())
}

/// Each variable the request leaves out takes its declared default, as
/// the specification's CoerceVariableValues gives it. async-graphql reads
/// defaults for arguments but not for `@skip(if:)` and `@include(if:)`,
/// which it evaluates with the request's variables alone: without this,
/// `query($all: Boolean = true) { … @include(if: $all) }` left the field out.
fn with_defaults(document: &ExecutableDocument, operation_name: Option<&str>, variables: &mut Map<String, Value>) {
    let Some((_, operation)) = limits::operation(document, operation_name) else { return };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        if let Some(default) = &definition.default_value
            && !variables.contains_key(definition.name.node.as_str())
            && let Ok(default) = default.node.clone().into_json()
        {
            variables.insert(definition.name.node.to_string(), default);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_parsed_again_comes_from_the_cache_unchanged() {
        let parsed = ParsedDocuments::new();
        let query =
            "query One($slug: String!) { partner(slug: $slug) { name ...F } } fragment F on Partner { acronym }";
        let first = parsed.parse(query).expect("parses");
        assert_eq!(parsed.0.lock().map(|cache| cache.len()).ok(), Some(1));
        let second = parsed.parse(query).expect("parses");
        assert_eq!(format!("{first:?}"), format!("{second:?}"));
        assert_eq!(parsed.0.lock().map(|cache| cache.len()).ok(), Some(1));
    }

    #[test]
    fn failures_and_long_documents_are_not_kept() {
        let parsed = ParsedDocuments::new();
        for _ in 0..2 {
            let refused = parsed.parse("{ partner(").expect_err("does not parse");
            assert_eq!(refused.code(), "GRAPHQL_PARSE_FAILED");
        }
        let long = format!("{{ __typename {} }}", "__typename ".repeat(ParsedDocuments::MAX_LEN / 10));
        assert!(long.len() > ParsedDocuments::MAX_LEN);
        parsed.parse(&long).expect("parses");
        assert_eq!(parsed.0.lock().map(|cache| cache.len()).ok(), Some(0));
    }
}
