//! The GraphQL object types. Each node type wraps one row of a sibling
//! group and declares its fields once ([`object!`]): opaque ids, text in
//! the asked language, relations batched through the group.
//!
//! Objects resolve their fields one after the other (`#[Object(serial)]`),
//! as lists resolve their items (see [`crate::graphql::list`]): a field
//! waits only on its group's shared load, so running an object's fields
//! concurrently buys nothing but a task per field, which is 5–6 % of Q1.
//!
//! [`object!`]: crate::graphql::declare::object

mod agreement;
mod change;
mod country;
mod crime_area;
mod funding;
mod partner;
mod policing_goal;
mod project;
mod source;

pub use agreement::Agreement;
pub use change::Change;
pub use country::{Country, is_country_code};
pub use crime_area::CrimeArea;
pub use funding::{Funding, Money};
pub use partner::Partner;
pub use policing_goal::PolicingGoal;
pub use project::Project;
pub use source::{Source, reference_fields};

use async_graphql::Interface;

/// An object with a globally unique, opaque id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID", desc = "The object's opaque global id."))]
pub enum Node {
    Partner(Partner),
    Agreement(Agreement),
    Project(Project),
    Funding(Funding),
    CrimeArea(CrimeArea),
    PolicingGoal(PolicingGoal),
    Source(Source),
    Change(Change),
}
