//! `partner_source`: a partner relies on a source page.

crate::source_link!("partner_source", partner, partner_id, PartnerId);
