//! `agreement_source`: an agreement relies on a source page.

crate::source_link!("agreement_source", agreement, agreement_id, AgreementId);
