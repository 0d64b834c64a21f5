//! [`List`]: a GraphQL list whose items are resolved one after the other.
//!
//! async-graphql resolves the items of a `Vec` concurrently, so every item's
//! pending futures (about a kilobyte per field) are alive at once: for ten
//! thousand fundings, tens of megabytes per request, and a wake-up storm each
//! time a batch lands. Our batching does not need that concurrency: the first
//! item to ask for a relation loads it for all its siblings (see
//! [`crate::graphql::batch`]), so the later items find their share already
//! there. In order, the statement count is the same, the memory is that of one
//! item at a time, and no waker fan-out is needed. Off the fast path (see
//! [`crate::graphql::Executor`]) the list is async-graphql's own.

use std::borrow::Cow;
use std::pin::Pin;

use async_graphql::parser::types::Field;
use async_graphql::resolver_utils::{ContainerType, resolve_list};
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value, registry};

use crate::graphql::direct::Direct;
use crate::graphql::inline::{self, Resolution};

/// A list of objects resolved item by item, each in place
/// ([`crate::graphql::inline`]); in the schema, the same `[T!]!` as a `Vec<T>`.
pub struct List<T>(pub Vec<T>);

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        List(items)
    }
}

impl<T: ContainerType + Direct + 'static> OutputType for List<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match inline::resolution(ctx) {
            Resolution::Standard => resolve_list(ctx, field, &self.0, Some(self.0.len())).await,
            // Boxed, its type erased: through a list an object type may
            // reach itself again (a partner's agreements' partner), and a
            // future holding its own type has no size.
            Resolution::InPlace { text, request } => {
                let list: Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + '_>> =
                    Box::pin(inline::list(ctx, &self.0, text, request));
                list.await
            }
        }
    }
}
