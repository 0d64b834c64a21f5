//! The GraphQL schema: types, resolvers and the batching they share. It
//! knows nothing of HTTP; the transport attaches [`context::RequestData`].

pub mod batch;
pub mod context;
pub mod id;
pub mod input;
pub mod lang;
pub mod node;
pub mod object;
pub mod pagination;
pub mod query;
pub mod scalar;
pub mod sort;
pub mod sql;
pub mod totals;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};

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
