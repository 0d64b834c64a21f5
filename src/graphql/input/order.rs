//! Orderings of the lists. Each `…OrderField` value names the entity's
//! column it orders by; every ordering ends with the id, so rows that tie
//! on the chosen field keep a stable order and cursors stay valid.

use async_graphql::{Enum, InputObject};
use entity::{agreement, funding, partner, project};

use super::ListOrder;
use crate::graphql::lang::Lang;
use crate::graphql::sort::Sort;

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

/// Text is sorted on its normalised form (accents and case folded), the same on every database.
impl ListOrder<partner::Entity> for PartnerOrder {
    fn sort(order: Option<Self>, lang: Lang) -> Sort<partner::Entity> {
        use partner::Column;
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            PartnerOrderField::Recorded => Sort::by_id(desc),
            PartnerOrderField::Name => {
                Sort::by(o.lang.unwrap_or(lang).pick(Column::NameEnKey, Column::NameFrKey), desc)
            }
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

impl ListOrder<agreement::Entity> for AgreementOrder {
    fn sort(order: Option<Self>, lang: Lang) -> Sort<agreement::Entity> {
        use agreement::Column;
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            AgreementOrderField::Recorded => Sort::by_id(desc),
            AgreementOrderField::Title => {
                Sort::by(o.lang.unwrap_or(lang).pick(Column::TitleEnKey, Column::TitleFrKey), desc)
            }
            AgreementOrderField::SignedOn => Sort::by(Column::SignedOn, desc),
            AgreementOrderField::EffectiveFrom => Sort::by(Column::EffectiveFrom, desc),
            AgreementOrderField::ExpiresOn => Sort::by(Column::ExpiresOn, desc),
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

impl ListOrder<project::Entity> for ProjectOrder {
    fn sort(order: Option<Self>, lang: Lang) -> Sort<project::Entity> {
        use project::Column;
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            ProjectOrderField::Recorded => Sort::by_id(desc),
            ProjectOrderField::Name => {
                Sort::by(o.lang.unwrap_or(lang).pick(Column::NameEnKey, Column::NameFrKey), desc)
            }
            ProjectOrderField::StartsOn => Sort::by(Column::StartsOn, desc),
            ProjectOrderField::EndsOn => Sort::by(Column::EndsOn, desc),
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

impl ListOrder<funding::Entity> for FundingOrder {
    fn sort(order: Option<Self>, _: Lang) -> Sort<funding::Entity> {
        use funding::Column;
        let Some(o) = order else { return Sort::BY_ID };
        let desc = o.direction.descending();
        match o.field {
            FundingOrderField::Recorded => Sort::by_id(desc),
            FundingOrderField::Amount => Sort::by(Column::AmountMinor, desc),
            FundingOrderField::CommittedOn => Sort::by(Column::CommittedOn, desc),
        }
    }
}
