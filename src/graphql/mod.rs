//! The GraphQL schema: types, resolvers and the batching they share. It
//! knows nothing of HTTP; the transport attaches [`context::RequestData`].

pub mod batch;
pub mod context;
pub mod guard;
pub mod history;
pub mod id;
pub mod inline;
pub mod input;
pub mod lang;
pub mod list;
pub mod mutation;
pub mod node;
pub mod object;
pub mod pagination;
pub mod query;
pub mod render;
pub mod scalar;
pub mod sort;
pub mod sql;
pub mod subscription;
pub mod totals;

use std::sync::Arc;

use async_graphql::{Schema, Value};
use sea_orm::DatabaseConnection;

use crate::auth::Caller;
use crate::db::CountingDb;
use crate::events::EventBus;
use crate::graphql::context::RequestData;
use crate::graphql::lang::Lang;
use crate::graphql::mutation::MutationRoot;
use crate::graphql::query::QueryRoot;
use crate::graphql::subscription::SubscriptionRoot;
use crate::metrics::Metrics;

/// The registry's schema type.
pub type RegistrySchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema. Introspection stays on: analysts explore it in GraphiQL.
pub fn build_schema() -> RegistrySchema {
    Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot).finish()
}

/// Every type of the schema, as async-graphql registers them: what the
/// cost limit measures documents against.
pub fn type_registry() -> async_graphql::registry::Registry {
    use async_graphql::{OutputType, SubscriptionType};
    let mut registry = async_graphql::registry::Registry::default();
    QueryRoot::create_type_info(&mut registry);
    MutationRoot::create_type_info(&mut registry);
    SubscriptionRoot::create_type_info(&mut registry);
    registry
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}

/// What a request runs against: the database, where changes are announced,
/// and where what it cost is reported.
#[derive(Clone)]
pub struct Registry {
    pub db: DatabaseConnection,
    pub events: EventBus,
    pub metrics: Option<Arc<Metrics>>,
}

/// Who asks, and in which language.
#[derive(Clone, Debug)]
pub struct Asker {
    pub caller: Caller,
    pub lang: Lang,
}

impl Registry {
    /// The per-request data of one operation, on its own counting connection.
    pub fn request_data(&self, asker: Asker) -> (RequestData, CountingDb) {
        let mut db = CountingDb::new(self.db.clone());
        if let Some(metrics) = &self.metrics {
            db = db.with_metrics(metrics.clone());
        }
        (
            RequestData {
                db: db.clone(),
                lang: asker.lang,
                caller: asker.caller,
                events: self.events.clone(),
                fields: Default::default(),
                writes_text: Default::default(),
            },
            db,
        )
    }
}

/// Runs one request on its own counting connection, in the asker's
/// language unless the query says otherwise; the statements it cost go in
/// `extensions.sqlStatements`.
pub async fn execute(
    schema: &RegistrySchema,
    registry: &Registry,
    asker: Asker,
    request: async_graphql::Request,
) -> async_graphql::Response {
    let (data, db) = registry.request_data(asker);
    let mut response = schema.execute(request.data(data)).await;
    add_missing_codes(&mut response);
    response.extensions.insert("sqlStatements".to_owned(), Value::from(db.statements()));
    response
}

/// async-graphql's own errors carry no code: those raised before execution
/// (the document does not parse or does not validate) and argument or
/// variable values it could not coerce while executing (those have a path).
/// Every error a client sees has one.
pub fn add_missing_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
            continue;
        }
        let code = if !error.path.is_empty() {
            "BAD_USER_INPUT"
        } else if error.message.starts_with(" --> ") {
            // The parser's errors are the only ones that open with a source position.
            "GRAPHQL_PARSE_FAILED"
        } else {
            "GRAPHQL_VALIDATION_FAILED"
        };
        error.extensions.get_or_insert_with(Default::default).set("code", code);
    }
}

/// An error's `extensions.code`, when it is a string.
pub fn error_code(error: &async_graphql::ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code),
        _ => None,
    }
}

/// The code of the first error, if any.
pub fn first_code(errors: &[async_graphql::ServerError]) -> Option<&str> {
    errors.first().and_then(error_code)
}

/// Whether async-graphql refused the operation before running it: it did not
/// parse or validate.
pub fn never_ran(response: &async_graphql::Response) -> bool {
    matches!(response.data, Value::Null)
        && !response.errors.is_empty()
        && response
            .errors
            .iter()
            .all(|e| matches!(error_code(e), Some("GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED")))
}

/// Internal errors reach the client as a generic message with the request
/// id, which finds the details in the log.
pub fn mask_internal(response: &mut async_graphql::Response, request_id: &str) {
    for error in &mut response.errors {
        if error_code(error) == Some("INTERNAL") {
            error.message = "internal error".into();
            error.extensions.get_or_insert_with(Default::default).set("requestId", request_id);
        }
    }
}
