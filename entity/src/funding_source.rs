//! `funding_source`: a funding relies on a source page.

crate::source_link!("funding_source", funding, funding_id, FundingId);
