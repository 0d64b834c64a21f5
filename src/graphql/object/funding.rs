//! `Funding`: what a partner puts into a project, and `Money`.

use std::borrow::Cow;

use entity::enums::{FundingKind, FundingStatus};
use entity::links::{FundingFunder, FundingProject, FundingSources};

use super::{Change, Partner, Project, Source};
use crate::graphql::declare::object;
use crate::graphql::inline::Inline;
use crate::graphql::scalar::{Date, DateTimeUtc, Decimal, iso_currency};

/// An exact amount of money in one currency. Sums are held in 128 bits, so
/// a total of many 64-bit amounts never overflows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Money {
    minor: i128,
    currency: Cow<'static, str>,
    /// Decimals: the currency's, or 2 for a code ISO 4217 does not give any.
    exponent: u32,
}

impl Money {
    /// `minor` units of the currency `code`. An ISO 4217 code (every stored
    /// one, as writes check) is held as the crate's own constant: an amount
    /// is made for every funding of a page, and copies no text.
    pub fn new(minor: i128, code: &str) -> Self {
        let iso = iso_currency(code);
        let currency = match iso {
            Some(iso) => Cow::Borrowed(iso.code()),
            None => Cow::Owned(code.to_owned()),
        };
        let exponent = iso.and_then(|iso| iso.exponent()).unwrap_or(2);
        Money { minor, currency, exponent: u32::from(exponent) }
    }
}

object! {
    /// An exact amount of money in one currency.
    value Money(money) {
        /// The amount as an exact decimal string with the currency's usual decimals (`"1250000.00"`).
        fn amount() -> Decimal {
            Decimal::minor(money.minor, money.exponent)
        }

        /// The amount in the currency's minor unit (cents for EUR), as a string so no client rounds it.
        fn minor_units() -> String {
            money.minor.to_string()
        }

        /// ISO 4217 currency code, e.g. `EUR`.
        fn currency() -> &str {
            &money.currency
        }
    }
}

object! {
    /// Money, goods or services a partner (the funder) puts into a project.
    /// Amounts the sources do not disclose are null, never guessed.
    node Funding(funding, "funding") {
        /// The form the funding takes.
        fn kind() reads(kind) -> FundingKind { kind }

        /// How far the funding has progressed.
        fn status() reads(status) -> FundingStatus { status }

        /// The amount; null when it is not disclosed.
        fn amount() reads(amount_minor, currency) -> Option<Inline<Money>> {
            amount_minor.zip(currency).map(|(minor, currency)| Inline(Money::new(minor.into(), currency)))
        }

        /// ISO 4217 currency of the funding, when known (even if the amount is not).
        fn currency() reads(currency) -> Option<&str> { currency }

        /// The funder's programme the money comes from (e.g. the EU's Justice programme).
        fn programme() reads(programme) -> Option<&str> { programme }

        /// The day the funding was committed, when known.
        fn committed_on() reads(committed_on) -> Option<Date> { committed_on.map(Date) }

        /// The first of `sources` with a public address; for a record written through the API, the page its writer gave.
        #[graphql(deprecation = "Use `sources`: a record may rely on several pages.")]
        fn source_url() reads(source_url) -> Option<&str> { source_url }

        /// The public pages this record's facts come from; empty for a record written through the API, whose facts are its writer's.
        fn sources() -> List<Source> = linked(FundingSources);

        /// The fields whose value in `lang` no cited page states: reference knowledge (an official website, the name in the other language…). Every other field with a value is stated by one of `sources`, as the dataset recorded it; `history` shows what changed since.
        fn reference_fields(lang) reads(reference_fields) -> Vec<&str> { super::reference_fields(reference_fields, lang) }

        /// The funded project.
        fn project() -> Inline<Project> = to_one(FundingProject);

        /// The partner that provides the funding.
        fn funder() -> Inline<Partner> = to_one(FundingFunder);

        /// The changes made to this funding, oldest first (use `last` for the most recent).
        fn history() -> Connection<Change> = history;

        /// Incremented by every change; pass it back as `expectedVersion` when updating.
        fn version() reads(version) -> i32 { version }

        /// When the record was created.
        fn created_at() reads(created_at) -> DateTimeUtc { DateTimeUtc(created_at) }

        /// When the record last changed.
        fn updated_at() reads(updated_at) -> DateTimeUtc { DateTimeUtc(updated_at) }
    }
}
