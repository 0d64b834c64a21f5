//! What the mutations take. In an update, a field left out stays as it is;
//! `null` clears an optional field; a list given replaces the whole list.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::enums::{AgreementKind, AgreementStatus, FundingKind, FundingStatus, PartnerKind, ProjectStatus, Sector};

use crate::graphql::scalar::{Date, Decimal};

/// A new partner.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// Stable key: lower-case letters and digits in words joined by hyphens (`un-police-division`). Unique.
    pub slug: String,
    /// The name in English.
    pub name_en: String,
    /// The name in French.
    pub name_fr: String,
    /// The acronym in English (`UNODC`).
    pub acronym_en: Option<String>,
    /// The acronym in French (`ONUDC`).
    pub acronym_fr: Option<String>,
    /// What sort of organisation it is.
    pub kind: PartnerKind,
    /// Public or private sector.
    pub sector: Sector,
    /// The partner this one is part of (global id).
    pub parent_id: Option<ID>,
    /// ISO 3166-1 alpha-2 code of the headquarters' country.
    pub country_code: Option<String>,
    /// The official website (absolute http(s) URL).
    pub website: Option<String>,
    /// A description in English.
    pub description_en: Option<String>,
    /// A description in French.
    pub description_fr: Option<String>,
    /// The public page the facts come from (absolute http(s) URL).
    pub source_url: Option<String>,
    /// The crime areas the partner works on, by slug (`terrorism`).
    pub crime_areas: Option<Vec<String>>,
}

/// Changes to a partner.
#[derive(InputObject)]
pub struct UpdatePartnerInput {
    /// The partner to change (global id).
    pub id: ID,
    /// The `version` you read; the update fails with `STALE_VERSION` if it has changed since.
    pub expected_version: i32,
    /// New slug.
    pub slug: MaybeUndefined<String>,
    /// New English name.
    pub name_en: MaybeUndefined<String>,
    /// New French name.
    pub name_fr: MaybeUndefined<String>,
    /// New English acronym; null clears it.
    pub acronym_en: MaybeUndefined<String>,
    /// New French acronym; null clears it.
    pub acronym_fr: MaybeUndefined<String>,
    /// New kind.
    pub kind: MaybeUndefined<PartnerKind>,
    /// New sector.
    pub sector: MaybeUndefined<Sector>,
    /// New parent partner (global id); null makes it a top-level partner.
    pub parent_id: MaybeUndefined<ID>,
    /// New country code; null clears it.
    pub country_code: MaybeUndefined<String>,
    /// New website; null clears it.
    pub website: MaybeUndefined<String>,
    /// New English description; null clears it.
    pub description_en: MaybeUndefined<String>,
    /// New French description; null clears it.
    pub description_fr: MaybeUndefined<String>,
    /// New source page; null clears it.
    pub source_url: MaybeUndefined<String>,
    /// Replaces the crime areas (slugs).
    pub crime_areas: Option<Vec<String>>,
}

/// A new agreement with a partner.
#[derive(InputObject)]
pub struct CreateAgreementInput {
    /// The partner the agreement is with (global id).
    pub partner_id: ID,
    /// Stable key: upper-case letters, digits, `-`, `_`, `.` (`UN-1996-COOPERATION`). Unique.
    pub reference: String,
    /// The title in English.
    pub title_en: String,
    /// The title in French.
    pub title_fr: String,
    /// What sort of agreement it is.
    pub kind: AgreementKind,
    /// Where it stands.
    pub status: AgreementStatus,
    /// The year of signature, when the day is not known (must match `signedOn` if both are given).
    pub signed_year: Option<i32>,
    /// The day of signature.
    pub signed_on: Option<Date>,
    /// The first day it applies (not before `signedOn`).
    pub effective_from: Option<Date>,
    /// The last day it applies (not before `effectiveFrom` or `signedOn`).
    pub expires_on: Option<Date>,
    /// A summary in English.
    pub summary_en: Option<String>,
    /// A summary in French.
    pub summary_fr: Option<String>,
    /// The public page the facts come from.
    pub source_url: Option<String>,
}

/// Changes to an agreement.
#[derive(InputObject)]
pub struct UpdateAgreementInput {
    /// The agreement to change (global id).
    pub id: ID,
    /// The `version` you read; the update fails with `STALE_VERSION` if it has changed since.
    pub expected_version: i32,
    /// Move it to another partner (global id).
    pub partner_id: MaybeUndefined<ID>,
    /// New reference.
    pub reference: MaybeUndefined<String>,
    /// New English title.
    pub title_en: MaybeUndefined<String>,
    /// New French title.
    pub title_fr: MaybeUndefined<String>,
    /// New kind.
    pub kind: MaybeUndefined<AgreementKind>,
    /// New status.
    pub status: MaybeUndefined<AgreementStatus>,
    /// New year of signature; null clears it.
    pub signed_year: MaybeUndefined<i32>,
    /// New day of signature; null clears it.
    pub signed_on: MaybeUndefined<Date>,
    /// New first day; null clears it.
    pub effective_from: MaybeUndefined<Date>,
    /// New last day; null clears it.
    pub expires_on: MaybeUndefined<Date>,
    /// New English summary; null clears it.
    pub summary_en: MaybeUndefined<String>,
    /// New French summary; null clears it.
    pub summary_fr: MaybeUndefined<String>,
    /// New source page; null clears it.
    pub source_url: MaybeUndefined<String>,
}

/// A new project under an agreement.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// The agreement it runs under (global id).
    pub agreement_id: ID,
    /// Stable key: upper-case letters, digits, `-`, `_`, `.` (`SHARAKA`). Unique.
    pub code: String,
    /// The name in English.
    pub name_en: String,
    /// The name in French.
    pub name_fr: String,
    /// A description in English.
    pub description_en: Option<String>,
    /// A description in French.
    pub description_fr: Option<String>,
    /// Where it stands.
    pub status: ProjectStatus,
    /// The first day.
    pub starts_on: Option<Date>,
    /// The last day (not before `startsOn`).
    pub ends_on: Option<Date>,
    /// The public page the facts come from.
    pub source_url: Option<String>,
    /// The crime areas it addresses (slugs).
    pub crime_areas: Option<Vec<String>>,
    /// The Global Policing Goals it serves (numbers 1–7).
    pub policing_goals: Option<Vec<i32>>,
    /// The countries it benefits (ISO 3166-1 alpha-2).
    pub countries: Option<Vec<String>>,
}

/// Changes to a project.
#[derive(InputObject)]
pub struct UpdateProjectInput {
    /// The project to change (global id).
    pub id: ID,
    /// The `version` you read; the update fails with `STALE_VERSION` if it has changed since.
    pub expected_version: i32,
    /// Move it to another agreement (global id).
    pub agreement_id: MaybeUndefined<ID>,
    /// New code.
    pub code: MaybeUndefined<String>,
    /// New English name.
    pub name_en: MaybeUndefined<String>,
    /// New French name.
    pub name_fr: MaybeUndefined<String>,
    /// New English description; null clears it.
    pub description_en: MaybeUndefined<String>,
    /// New French description; null clears it.
    pub description_fr: MaybeUndefined<String>,
    /// New status.
    pub status: MaybeUndefined<ProjectStatus>,
    /// New first day; null clears it.
    pub starts_on: MaybeUndefined<Date>,
    /// New last day; null clears it.
    pub ends_on: MaybeUndefined<Date>,
    /// New source page; null clears it.
    pub source_url: MaybeUndefined<String>,
    /// Replaces the crime areas (slugs).
    pub crime_areas: Option<Vec<String>>,
    /// Replaces the Global Policing Goals (numbers 1–7).
    pub policing_goals: Option<Vec<i32>>,
    /// Replaces the beneficiary countries (ISO 3166-1 alpha-2).
    pub countries: Option<Vec<String>>,
}

/// A new funding of a project.
#[derive(InputObject)]
pub struct CreateFundingInput {
    /// The project funded (global id).
    pub project_id: ID,
    /// The partner providing it (global id).
    pub funder_id: ID,
    /// What sort of funding it is.
    pub kind: FundingKind,
    /// Where it stands.
    pub status: FundingStatus,
    /// The amount, exact, with at most the currency's decimals (`"1250000.00"`); leave out when not disclosed.
    pub amount: Option<Decimal>,
    /// ISO 4217 code (`EUR`); required with an amount.
    pub currency: Option<String>,
    /// The funder's programme it comes from (`Justice programme`).
    pub programme: Option<String>,
    /// The day it was committed.
    pub committed_on: Option<Date>,
    /// The public page the facts come from.
    pub source_url: Option<String>,
}

/// Changes to a funding.
#[derive(InputObject)]
pub struct UpdateFundingInput {
    /// The funding to change (global id).
    pub id: ID,
    /// The `version` you read; the update fails with `STALE_VERSION` if it has changed since.
    pub expected_version: i32,
    /// Move it to another project (global id).
    pub project_id: MaybeUndefined<ID>,
    /// Another funder (global id).
    pub funder_id: MaybeUndefined<ID>,
    /// New kind.
    pub kind: MaybeUndefined<FundingKind>,
    /// New status.
    pub status: MaybeUndefined<FundingStatus>,
    /// New amount; null makes it undisclosed.
    pub amount: MaybeUndefined<Decimal>,
    /// New currency; null clears it (only when the amount is undisclosed).
    pub currency: MaybeUndefined<String>,
    /// New programme; null clears it.
    pub programme: MaybeUndefined<String>,
    /// New commitment day; null clears it.
    pub committed_on: MaybeUndefined<Date>,
    /// New source page; null clears it.
    pub source_url: MaybeUndefined<String>,
}
