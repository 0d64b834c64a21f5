//! `Partner`: an organisation INTERPOL works with.

use entity::enums::{PartnerKind, Sector};
use entity::funding;
use entity::links::{
    PartnerAgreements, PartnerChildren, PartnerCrimeAreas, PartnerFundingsProvided, PartnerParent, PartnerSources,
};

use super::{Agreement, Change, Country, CrimeArea, Funding, Money, Source};
use crate::graphql::declare::object;
use crate::graphql::input::{
    AgreementFilter, AgreementOrder, FundingFilter, FundingOrder, PartnerFilter, PartnerOrder,
};
use crate::graphql::scalar::DateTimeUtc;
use crate::graphql::totals;

object! {
    /// An organisation INTERPOL works with: a UN entity, an EU institution or
    /// agency, a forum such as the G8, a company, a foundation… Partners form a
    /// tree (the United Nations → its Department of Peace Operations → its
    /// Police Division).
    node Partner(partner, "partner") {
        /// Stable, human-readable key, e.g. `unodc`.
        fn slug() reads(slug) -> &str { slug }

        /// The partner's name.
        fn name(lang) picks(name_en, name_fr) -> &str;

        /// The partner's acronym (`UNODC` in English, `ONUDC` in French), if it has one.
        fn acronym(lang) picks(acronym_en, acronym_fr) -> Option<&str>;

        /// A short description of the partner and of the partnership.
        fn description(lang) picks(description_en, description_fr) -> Option<&str>;

        /// What sort of organisation this is.
        fn kind() reads(kind) -> PartnerKind { kind }

        /// Public or private sector.
        fn sector() reads(sector) -> Sector { sector }

        /// The country of the headquarters, when it has one.
        fn country() reads(country_code) -> Option<Country> { country_code.map(|code| Country(code.to_owned())) }

        /// The partner's official website.
        fn website() reads(website) -> Option<&str> { website }

        /// The first of `sources` with a public address; for a record written through the API, the page its writer gave.
        #[graphql(deprecation = "Use `sources`: a record may rely on several pages.")]
        fn source_url() reads(source_url) -> Option<&str> { source_url }

        /// The public pages this record's facts come from; empty for a record written through the API, whose facts are its writer's.
        fn sources() -> List<Source> = linked(PartnerSources);

        /// The fields whose value in `lang` no cited page states: reference knowledge (an official website, the name in the other language…). Every other field with a value is stated by one of `sources`, as the dataset recorded it; `history` shows what changed since.
        fn reference_fields(lang) reads(reference_fields) -> Vec<&str> { super::reference_fields(reference_fields, lang) }

        /// The organisation this partner is part of (UNODC → the United Nations).
        fn parent() -> Option<Partner> = to_one(PartnerParent);

        /// The organisations that are part of this one.
        fn children() -> Connection<Partner> = nested(PartnerChildren, PartnerFilter, PartnerOrder);

        /// The agreements that formalise the partnership.
        fn agreements() -> Connection<Agreement> = nested(PartnerAgreements, AgreementFilter, AgreementOrder);

        /// The fundings this partner provides, to any project.
        fn fundings_provided() -> Connection<Funding> = nested(PartnerFundingsProvided, FundingFilter, FundingOrder);

        /// The crime areas the partner works on with INTERPOL.
        fn crime_areas() -> List<CrimeArea> = linked(PartnerCrimeAreas);

        /// What this partner has put into projects: the sum of the disclosed amounts, one per currency (by currency code).
        fn total_funding(rows) -> Vec<Money> {
            Ok(totals::of(&rows, funding::Column::FunderId).await?.money())
        }

        /// How many of those fundings have no disclosed amount (and so are not in `totalFunding`).
        fn undisclosed_funding_count(rows) -> i64 {
            Ok(totals::of(&rows, funding::Column::FunderId).await?.undisclosed)
        }

        /// The changes made to this partner, oldest first (use `last` for the most recent).
        fn history() -> Connection<Change> = history;

        /// Incremented by every change; pass it back as `expectedVersion` when updating.
        fn version() reads(version) -> i32 { version }

        /// When the record was created.
        fn created_at() reads(created_at) -> DateTimeUtc { DateTimeUtc(created_at) }

        /// When the record last changed.
        fn updated_at() reads(updated_at) -> DateTimeUtc { DateTimeUtc(updated_at) }
    }
}
