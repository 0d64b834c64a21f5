//! Inputs: filters and orderings of the lists, and what mutations take.

pub mod filter;
pub mod order;
pub mod write;

pub use filter::{AgreementFilter, DateRange, FundingFilter, PartnerFilter, ProjectFilter};
pub use order::{AgreementOrder, FundingOrder, OrderDirection, PartnerOrder, ProjectOrder};
