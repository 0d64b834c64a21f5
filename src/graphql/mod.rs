//! The GraphQL schema: types, resolvers and the batching they share. It
//! knows nothing of HTTP; the transport attaches [`context::RequestData`].

pub mod batch;
pub mod context;
pub mod id;
pub mod input;
pub mod lang;
pub mod list;
pub mod node;
pub mod object;
pub mod pagination;
pub mod query;
pub mod scalar;
pub mod sort;
pub mod sql;
pub mod totals;

use async_graphql::{EmptyMutation, EmptySubscription, Schema, Value};
use sea_orm::DatabaseConnection;

use crate::db::CountingDb;
use crate::graphql::context::RequestData;
use crate::graphql::lang::Lang;

use crate::graphql::query::QueryRoot;

/// The registry's schema type.
pub type RegistrySchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// Builds the schema. Introspection stays on: analysts explore it in GraphiQL.
pub fn build_schema() -> RegistrySchema {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription).finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}

/// Runs one request on its own counting connection, in `lang` unless the
/// query says otherwise; the statements it cost go in `extensions.sqlStatements`.
pub async fn execute(
    schema: &RegistrySchema,
    db: &DatabaseConnection,
    lang: Lang,
    request: async_graphql::Request,
) -> async_graphql::Response {
    let db = CountingDb::new(db.clone());
    let request = request.data(RequestData { db: db.clone(), lang });
    let mut response = schema.execute(request).await;
    add_missing_codes(&mut response);
    response.extensions.insert("sqlStatements".to_owned(), Value::from(db.statements()));
    response
}

/// async-graphql's own errors carry no code: those raised before execution
/// (the document does not parse or does not validate) and argument values it
/// could not coerce. Every error a client sees has one.
fn add_missing_codes(response: &mut async_graphql::Response) {
    let executed = !matches!(response.data, Value::Null);
    for error in &mut response.errors {
        let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if executed {
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
