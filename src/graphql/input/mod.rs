//! Inputs: filters and orderings of the lists.

pub mod filter;
pub mod order;

pub use filter::{AgreementFilter, DateRange, FundingFilter, PartnerFilter, ProjectFilter};
pub use order::{AgreementOrder, FundingOrder, OrderDirection, PartnerOrder, ProjectOrder};
