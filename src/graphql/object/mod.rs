//! The GraphQL object types. Each wraps one row of a sibling group and
//! exposes its fields on purpose: opaque ids, text in the asked language,
//! relations batched through the group.
//!
//! Objects resolve their fields one after the other (`#[Object(serial)]`),
//! as lists resolve their items (see [`crate::graphql::list`]): a field
//! waits only on its group's shared load, so running an object's fields
//! concurrently buys nothing but a task per field, which is 5–6 % of Q1.

mod agreement;
mod change;
mod country;
mod crime_area;
mod funding;
mod partner;
mod policing_goal;
mod project;

pub use agreement::Agreement;
pub use change::Change;
pub use country::{Country, is_country_code};
pub use crime_area::CrimeArea;
pub use funding::{Funding, Money};
pub use partner::Partner;
pub use policing_goal::PolicingGoal;
pub use project::Project;

/// Declares a node type: the struct holding its group and row index, the
/// `NodeType` and `RowId` glue, and `row()`.
macro_rules! node_type {
    // `reads { field => columns, … }`: what each field reads among the
    // columns a statement may leave out (see `NodeType::reads`).
    ($object:ident, $module:ident, $doc:literal, reads { $($field:pat => $columns:expr),+ $(,)? }) => {
        node_type!(@define $object, $module, $doc,
            fn reads(field: &str) -> Option<&'static [&'static str]> {
                Some(match field {
                    $($field => $columns,)+
                    _ => return None,
                })
            }
        );
    };
    ($object:ident, $module:ident, $doc:literal) => {
        node_type!(@define $object, $module, $doc,);
    };
    (@define $object:ident, $module:ident, $doc:literal, $($reads:item)?) => {
        #[doc = $doc]
        #[derive(Clone)]
        pub struct $object {
            group: std::sync::Arc<crate::graphql::batch::Group<entity::$module::Model>>,
            index: usize,
        }

        impl $object {
            fn row(&self) -> &entity::$module::Model {
                &self.group.rows()[self.index]
            }
        }

        impl crate::graphql::batch::RowId for entity::$module::Model {
            fn row_id(&self) -> i64 {
                self.id
            }
        }

        impl crate::graphql::node::NodeType for $object {
            type Entity = entity::$module::Entity;
            type Model = entity::$module::Model;
            const TYPE_NAME: &'static str = stringify!($object);

            fn new(group: std::sync::Arc<crate::graphql::batch::Group<Self::Model>>, index: usize) -> Self {
                $object { group, index }
            }

            $($reads)?
        }
    };
}
pub(crate) use node_type;
