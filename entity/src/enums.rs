//! The closed vocabularies of the registry, stored as upper-case text and
//! exposed as GraphQL enums under the same names.

use async_graphql::Enum;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What sort of organisation a partner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartnerKind {
    /// An intergovernmental organisation with a worldwide remit (e.g. the United Nations, the World Customs Organization).
    #[sea_orm(string_value = "INTERNATIONAL_ORGANIZATION")]
    InternationalOrganization,
    /// A body, office, programme or specialised agency of the United Nations system.
    #[sea_orm(string_value = "UN_ENTITY")]
    UnEntity,
    /// An institution of the European Union.
    #[sea_orm(string_value = "EU_INSTITUTION")]
    EuInstitution,
    /// A decentralised agency of the European Union (e.g. Europol).
    #[sea_orm(string_value = "EU_AGENCY")]
    EuAgency,
    /// An organisation of states of one region (e.g. CEMAC).
    #[sea_orm(string_value = "REGIONAL_ORGANIZATION")]
    RegionalOrganization,
    /// An informal forum of governments (e.g. the G8).
    #[sea_orm(string_value = "INTERGOVERNMENTAL_FORUM")]
    IntergovernmentalForum,
    /// A national public body.
    #[sea_orm(string_value = "GOVERNMENT_AGENCY")]
    GovernmentAgency,
    /// A private company.
    #[sea_orm(string_value = "COMPANY")]
    Company,
    /// A non-governmental organisation.
    #[sea_orm(string_value = "NGO")]
    Ngo,
    /// A foundation.
    #[sea_orm(string_value = "FOUNDATION")]
    Foundation,
}

/// Whether a partner belongs to the public or the private sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Sector {
    /// Governments, intergovernmental organisations and their bodies.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Companies, foundations and non-governmental organisations.
    #[sea_orm(string_value = "PRIVATE")]
    Private,
}

/// The legal or institutional form of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgreementKind {
    /// A cooperation agreement between the two organisations.
    #[sea_orm(string_value = "COOPERATION_AGREEMENT")]
    CooperationAgreement,
    /// A memorandum of understanding.
    #[sea_orm(string_value = "MEMORANDUM_OF_UNDERSTANDING")]
    MemorandumOfUnderstanding,
    /// Observer status granted in the partner's governing bodies.
    #[sea_orm(string_value = "OBSERVER_STATUS")]
    ObserverStatus,
    /// A liaison or special representative's office at the partner.
    #[sea_orm(string_value = "LIAISON_OFFICE")]
    LiaisonOffice,
    /// A resolution adopted by the partner's governing body.
    #[sea_orm(string_value = "RESOLUTION")]
    Resolution,
    /// An agreement under which the partner funds projects.
    #[sea_orm(string_value = "FUNDING_AGREEMENT")]
    FundingAgreement,
    /// An agreement to exchange information or data.
    #[sea_orm(string_value = "DATA_EXCHANGE_AGREEMENT")]
    DataExchangeAgreement,
    /// Membership of a body or network run by the partner.
    #[sea_orm(string_value = "MEMBERSHIP")]
    Membership,
    /// The sources describe the cooperation without naming its instrument.
    #[sea_orm(string_value = "UNKNOWN")]
    Unknown,
}

/// Where an agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgreementStatus {
    /// Being negotiated; not yet binding.
    #[sea_orm(string_value = "UNDER_NEGOTIATION")]
    UnderNegotiation,
    /// Signed or adopted and currently applied.
    #[sea_orm(string_value = "IN_FORCE")]
    InForce,
    /// Ended at its expiry date.
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    /// Ended early by either party.
    #[sea_orm(string_value = "TERMINATED")]
    Terminated,
    /// The sources do not say where it stands.
    #[sea_orm(string_value = "UNKNOWN")]
    Unknown,
}

/// Where a project stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectStatus {
    /// Being prepared or considered; not started.
    #[sea_orm(string_value = "PLANNED")]
    Planned,
    /// Running.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Finished.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Interrupted for now.
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
    /// The sources do not say where it stands.
    #[sea_orm(string_value = "UNKNOWN")]
    Unknown,
}

/// The form a funding takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FundingKind {
    /// A grant for the project.
    #[sea_orm(string_value = "GRANT")]
    Grant,
    /// A voluntary contribution to INTERPOL earmarked for the project.
    #[sea_orm(string_value = "VOLUNTARY_CONTRIBUTION")]
    VoluntaryContribution,
    /// Goods, staff or services rather than money.
    #[sea_orm(string_value = "IN_KIND")]
    InKind,
    /// A share of a budget financed jointly with others.
    #[sea_orm(string_value = "CO_FINANCING")]
    CoFinancing,
    /// The sources do not say what form it takes.
    #[sea_orm(string_value = "UNKNOWN")]
    Unknown,
}

/// How far a funding has progressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FundingStatus {
    /// Promised, not yet formally committed.
    #[sea_orm(string_value = "PLEDGED")]
    Pledged,
    /// Formally committed by the funder.
    #[sea_orm(string_value = "COMMITTED")]
    Committed,
    /// Paid out.
    #[sea_orm(string_value = "DISBURSED")]
    Disbursed,
    /// The sources do not say how far it has progressed.
    #[sea_orm(string_value = "UNKNOWN")]
    Unknown,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// May read.
    #[sea_orm(string_value = "VIEWER")]
    Viewer,
    /// May read and write records.
    #[sea_orm(string_value = "EDITOR")]
    Editor,
    /// May also manage tokens.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
}

/// Enums are stored as their text: read as text and compared where they lie
/// in the row, no `String` per cell.
macro_rules! text_cell {
    ($($ty:ident => $stand_in:ident),+) => {$(
        impl crate::row::Cell for $ty {
            const STAND_IN: crate::row::StandIn<Self> = Some(|| $ty::$stand_in);

            fn cell(row: &sea_orm::QueryResult, position: usize, checked: crate::row::Token) -> Result<Self, DbErr> {
                static VARIANTS: std::sync::LazyLock<Vec<(String, $ty)>> =
                    std::sync::LazyLock::new(|| <$ty as sea_orm::Iterable>::iter().map(|v| (v.to_value(), v)).collect());
                crate::row::with_text(row, position, checked, |text| match VARIANTS.iter().find(|(value, _)| value == text) {
                    Some((_, variant)) => Ok(*variant),
                    None => <$ty>::try_from_value(&text.to_owned()),
                })
            }

            // Stored as text.
            fn check(row: &sea_orm::QueryResult, position: usize) -> Result<(), DbErr> {
                crate::row::holds::<String>(row, position)
            }
        }
    )+};
}

// Each with the value a row holds when a statement leaves the column out.
text_cell!(
    PartnerKind => InternationalOrganization,
    Sector => Public,
    AgreementKind => CooperationAgreement,
    AgreementStatus => UnderNegotiation,
    ProjectStatus => Planned,
    FundingKind => Grant,
    FundingStatus => Pledged
);
