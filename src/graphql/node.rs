//! What every node type shares: the row of a sibling group it wraps, and
//! the columns each of its fields reads.

use std::sync::Arc;

use async_graphql::resolver_utils::ContainerType;
use entity::row::Positional;
use sea_orm::{EntityTrait, ModelTrait};

use crate::graphql::batch::{Group, RowId};
use crate::graphql::direct::Direct;
use crate::graphql::lang::Lang;

/// A GraphQL object backed by one row of a sibling [`Group`]. Implemented
/// by [`object!`](crate::graphql::declare::object), from the type's one
/// declaration of its fields.
pub trait NodeType: ContainerType + Direct + Sized + Send + Sync + 'static {
    type Entity: EntityTrait<Model = Self::Model>;
    type Model: Positional + ModelTrait<Entity = Self::Entity> + RowId + Send + Sync + 'static;
    /// The GraphQL type name, also the prefix of the global id.
    const TYPE_NAME: &'static str;
    /// The names of its connection and edge types (`PartnerConnection`,
    /// `PartnerEdge`): constants, since async-graphql asks for a type's
    /// name each time one of its objects resolves.
    const CONNECTION_NAME: &'static str;
    const EDGE_NAME: &'static str;

    fn new(group: Arc<Group<Self::Model>>, index: usize) -> Self;

    /// The group the object's row belongs to, and where in it.
    fn group(&self) -> &Arc<Group<Self::Model>>;
    fn index(&self) -> usize;

    /// The columns the field called `field` (its GraphQL name) reads, as
    /// its declaration names them; `None` for a field the type does not have.
    fn reads(field: &str) -> Option<Reads>;

    /// One row on its own, as an object.
    fn one(row: Self::Model) -> Self {
        Self::new(Group::new(vec![row]), 0)
    }

    /// Every row of a group as objects.
    fn all(group: &Arc<Group<Self::Model>>) -> Vec<Self> {
        (0..group.rows().len()).map(|i| Self::new(group.clone(), i)).collect()
    }
}

/// What a field's declaration reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// These columns, whatever the field is asked.
    Columns(Wanted),
    /// One of two columns (positions), by the language the field answers
    /// in: a field declared with `picks(x_en, x_fr)`.
    InLang { en: usize, fr: usize },
}

impl Reads {
    /// The columns read for a field answering in `lang`; both of an
    /// `InLang` pair when its language cannot be told.
    pub fn wanted(self, lang: impl FnOnce() -> Option<Lang>) -> Wanted {
        match self {
            Reads::Columns(wanted) => wanted,
            Reads::InLang { en, fr } => match lang() {
                Some(lang) => Wanted::of(&[lang.pick(en, fr)]),
                None => Wanted::of(&[en, fr]),
            },
        }
    }
}

/// Columns some fields read, one bit per position among the model's
/// columns ([`Positional::NAMES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Wanted(u64);

impl Wanted {
    /// No column (those that are always read aside).
    pub const NONE: Wanted = Wanted(0);
    /// Every column: a read that is not narrowed.
    pub const ALL: Wanted = Wanted(u64::MAX);

    /// The columns at these positions.
    pub const fn of(positions: &[usize]) -> Self {
        let mut bits = 0u64;
        let mut i = 0;
        while i < positions.len() {
            bits |= 1 << positions[i];
            i += 1;
        }
        Wanted(bits)
    }

    pub fn with(self, position: usize) -> Self {
        Wanted(self.0 | (1 << position))
    }

    pub fn union(self, other: Wanted) -> Self {
        Wanted(self.0 | other.0)
    }

    /// One bit per position.
    pub fn bits(self) -> u64 {
        self.0
    }
}

/// Whether rows whose statement selected `selected` hold the column at
/// `position` for real: always, for a column no statement leaves out
/// (`leavable` says which may be), which the compiler folds away.
#[inline(always)]
pub fn holds(selected: entity::row::Selected, leavable: u64, position: usize) -> bool {
    leavable & (1 << position) == 0 || selected.has(position)
}

/// A column a field reads that its statement left out: the planner and
/// the declarations disagree. The request fails rather than answer with
/// the stand-in the row holds.
pub fn stand_in(type_name: &str, field: &str, column: &str) -> crate::error::ApiError {
    tracing::error!(type_name, field, column, "a field read a column its statement left out");
    crate::error::ApiError::Internal(format!("{type_name}.{field} read {column}, which its statement left out"))
}
