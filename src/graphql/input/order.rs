//! Orderings of the lists. Every ordering ends with the id, so rows that
//! tie on the chosen field keep a stable order and cursors stay valid.

use async_graphql::{Enum, InputObject};

use crate::graphql::lang::Lang;
use crate::graphql::sort::{Sort, SortKind};

/// Ascending or descending.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum OrderDirection {
    /// Smallest first (A→Z, oldest first); empty values last.
    #[default]
    Asc,
    /// Largest first (Z→A, newest first); empty values last.
    Desc,
}

impl OrderDirection {
    fn descending(self) -> bool {
        self == OrderDirection::Desc
    }
}

/// Text is sorted on its normalised form (accents and case folded), the same on every database.
fn name(lang: Lang, en: &'static str, fr: &'static str, descending: bool) -> Sort {
    Sort::new(lang.pick(en, fr), SortKind::Text, false, descending)
}

/// What partners can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PartnerOrderField {
    /// The order they were recorded in.
    Recorded,
    /// Their name, in the order's `lang`.
    Name,
}

/// How to order partners.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct PartnerOrder {
    /// The field to order by.
    pub field: PartnerOrderField,
    /// The direction; ascending by default.
    #[graphql(default)]
    pub direction: OrderDirection,
    /// For names: which language's names; the request's `Accept-Language` by default.
    pub lang: Option<Lang>,
}

impl PartnerOrder {
    pub fn sort(order: Option<Self>, lang: Lang) -> Sort {
        match order {
            None => Sort::BY_ID,
            Some(o) => match o.field {
                PartnerOrderField::Recorded => Sort::by_id(o.direction.descending()),
                PartnerOrderField::Name => {
                    name(o.lang.unwrap_or(lang), "name_en_key", "name_fr_key", o.direction.descending())
                }
            },
        }
    }
}

/// What agreements can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AgreementOrderField {
    /// The order they were recorded in.
    Recorded,
    /// Their title, in the order's `lang`.
    Title,
    /// The day they were signed (unknown days last).
    SignedOn,
    /// The day they took effect (unknown days last).
    EffectiveFrom,
    /// The day they expire (open-ended ones last).
    ExpiresOn,
}

/// How to order agreements.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct AgreementOrder {
    /// The field to order by.
    pub field: AgreementOrderField,
    /// The direction; ascending by default.
    #[graphql(default)]
    pub direction: OrderDirection,
    /// For titles: which language's titles; the request's `Accept-Language` by default.
    pub lang: Option<Lang>,
}

impl AgreementOrder {
    pub fn sort(order: Option<Self>, lang: Lang) -> Sort {
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            AgreementOrderField::Recorded => Sort::by_id(desc),
            AgreementOrderField::Title => name(o.lang.unwrap_or(lang), "title_en_key", "title_fr_key", desc),
            AgreementOrderField::SignedOn => Sort::new("signed_on", SortKind::Date, true, desc),
            AgreementOrderField::EffectiveFrom => Sort::new("effective_from", SortKind::Date, true, desc),
            AgreementOrderField::ExpiresOn => Sort::new("expires_on", SortKind::Date, true, desc),
        }
    }
}

/// What projects can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProjectOrderField {
    /// The order they were recorded in.
    Recorded,
    /// Their name, in the order's `lang`.
    Name,
    /// The day they start (unknown days last).
    StartsOn,
    /// The day they end (unknown days last).
    EndsOn,
}

/// How to order projects.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct ProjectOrder {
    /// The field to order by.
    pub field: ProjectOrderField,
    /// The direction; ascending by default.
    #[graphql(default)]
    pub direction: OrderDirection,
    /// For names: which language's names; the request's `Accept-Language` by default.
    pub lang: Option<Lang>,
}

impl ProjectOrder {
    pub fn sort(order: Option<Self>, lang: Lang) -> Sort {
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            ProjectOrderField::Recorded => Sort::by_id(desc),
            ProjectOrderField::Name => name(o.lang.unwrap_or(lang), "name_en_key", "name_fr_key", desc),
            ProjectOrderField::StartsOn => Sort::new("starts_on", SortKind::Date, true, desc),
            ProjectOrderField::EndsOn => Sort::new("ends_on", SortKind::Date, true, desc),
        }
    }
}

/// What fundings can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FundingOrderField {
    /// The order they were recorded in.
    Recorded,
    /// The amount in minor units, whatever the currency (undisclosed amounts last);
    /// filter on `currencyIn` to compare like with like.
    Amount,
    /// The day they were committed (unknown days last).
    CommittedOn,
}

/// How to order fundings.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct FundingOrder {
    /// The field to order by.
    pub field: FundingOrderField,
    /// The direction; ascending by default.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl FundingOrder {
    pub fn sort(order: Option<Self>) -> Sort {
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            FundingOrderField::Recorded => Sort::by_id(desc),
            FundingOrderField::Amount => Sort::new("amount_minor", SortKind::Int, true, desc),
            FundingOrderField::CommittedOn => Sort::new("committed_on", SortKind::Date, true, desc),
        }
    }
}
