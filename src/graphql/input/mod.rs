//! Inputs of the lists: filters and orderings. What a mutation takes is
//! declared beside it, in `mutation/`.

pub mod filter;
pub mod order;

pub use filter::{AgreementFilter, DateRange, FundingFilter, PartnerFilter, ProjectFilter};
pub use order::{AgreementOrder, FundingOrder, OrderDirection, PartnerOrder, ProjectOrder};

use sea_orm::EntityTrait;
use sea_orm::sea_query::Condition;

use crate::error::ApiResult;
use crate::graphql::lang::Lang;
use crate::graphql::sort::Sort;

/// A list's `filter` argument, over the rows of `E`.
pub trait ListFilter<E: EntityTrait>: Send + Sync {
    /// The condition the list's rows must meet.
    fn condition(&self) -> ApiResult<Condition>;
}

/// A list's `orderBy` argument, over the rows of `E`.
pub trait ListOrder<E: EntityTrait>: Sized + Send + Sync {
    /// The ordering asked for (in `lang` when it orders text and names no
    /// language); the order the rows were recorded in when none is.
    fn sort(order: Option<Self>, lang: Lang) -> Sort<E>;
}

/// The filter and ordering of a list that takes neither.
pub enum Unfiltered {}

impl<E: EntityTrait> ListFilter<E> for Unfiltered {
    fn condition(&self) -> ApiResult<Condition> {
        match *self {}
    }
}

impl<E: EntityTrait> ListOrder<E> for Unfiltered {
    fn sort(_: Option<Self>, _: Lang) -> Sort<E> {
        Sort::BY_ID
    }
}
