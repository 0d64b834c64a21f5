//! The Relay `Node` interface and what every node type shares.

use std::sync::Arc;

use async_graphql::Interface;
use async_graphql::resolver_utils::ContainerType;
use sea_orm::EntityTrait;

use crate::graphql::batch::{Group, RowId};
use crate::graphql::object::{Agreement, Change, CrimeArea, Funding, Partner, PolicingGoal, Project};
use crate::graphql::sort::Sortable;
use crate::graphql::sql::Columns;

/// A GraphQL object backed by one row of a sibling [`Group`].
pub trait NodeType: ContainerType + Sized + Send + Sync + 'static {
    type Entity: EntityTrait<Model = Self::Model>;
    type Model: RowId + Sortable + Columns + Send + Sync + 'static;
    /// The GraphQL type name, also the prefix of the global id.
    const TYPE_NAME: &'static str;

    fn new(group: Arc<Group<Self::Model>>, index: usize) -> Self;

    /// The columns field `field` reads among those a statement may leave
    /// out (text, nullable and timestamp columns; see `sql::Wanted`). `None`, the
    /// default, for a field not listed: the statement then reads every
    /// column, so a field missing here costs speed, never correctness.
    fn reads(_field: &str) -> Option<&'static [&'static str]> {
        None
    }

    /// One row on its own, as an object.
    fn one(row: Self::Model) -> Self {
        Self::new(Group::new(vec![row]), 0)
    }

    /// Every row of a group as objects.
    fn all(group: &Arc<Group<Self::Model>>) -> Vec<Self> {
        (0..group.rows().len()).map(|i| Self::new(group.clone(), i)).collect()
    }
}

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
    Change(Change),
}
