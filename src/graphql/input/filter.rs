//! Filters: every field narrows the list, all fields together are ANDed.
//! A filter on a related record (`Agreement.partner`, `Funding.project`)
//! is a subquery, so any filter still compiles to one statement.

use async_graphql::{ID, InputObject};
use chrono::Datelike;
use entity::enums::{AgreementKind, AgreementStatus, FundingKind, FundingStatus, PartnerKind, ProjectStatus, Sector};
use entity::{
    agreement, crime_area, funding, partner, partner_crime_area, policing_goal, project, project_country,
    project_crime_area, project_policing_goal,
};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, JoinType, Query, SelectStatement};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, RelationTrait};

use super::ListFilter;
use crate::error::ApiResult;
use crate::graphql::id;
use crate::graphql::scalar::Date;

/// An inclusive range of days; either end may be left open.
#[derive(InputObject, Clone, Debug)]
pub struct DateRange {
    /// The first day included.
    pub from: Option<Date>,
    /// The last day included.
    pub to: Option<Date>,
}

/// Which partners to return.
#[derive(InputObject, Clone, Debug, Default)]
pub struct PartnerFilter {
    /// Partners of any of these kinds.
    pub kind_in: Option<Vec<PartnerKind>>,
    /// Partners of any of these sectors.
    pub sector_in: Option<Vec<Sector>>,
    /// Partners that are part of any of these partners (global ids).
    pub parent_id_in: Option<Vec<ID>>,
    /// `true`: only partners that are part of another; `false`: only top-level ones.
    pub has_parent: Option<bool>,
    /// Partners headquartered in any of these countries (ISO 3166-1 alpha-2).
    pub country_in: Option<Vec<String>>,
    /// Partners working on any of these crime areas (slugs, e.g. `terrorism`).
    pub crime_area_in: Option<Vec<String>>,
}

/// Which agreements to return.
#[derive(InputObject, Clone, Debug, Default)]
pub struct AgreementFilter {
    /// Agreements of any of these kinds.
    pub kind_in: Option<Vec<AgreementKind>>,
    /// Agreements in any of these statuses.
    pub status_in: Option<Vec<AgreementStatus>>,
    /// Agreements with any of these partners (global ids).
    pub partner_id_in: Option<Vec<ID>>,
    /// Agreements whose partner matches this filter.
    pub partner: Option<Box<PartnerFilter>>,
    /// Signed within this range.
    pub signed_on: Option<DateRange>,
    /// Effective from a day within this range.
    pub effective_from: Option<DateRange>,
    /// Expiring within this range.
    pub expires_on: Option<DateRange>,
    /// In force on this day: status `IN_FORCE`, begun by then (its effective
    /// date, else its signature, when known) and not expired.
    pub in_force_on: Option<Date>,
}

/// Which projects to return.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ProjectFilter {
    /// Projects in any of these statuses.
    pub status_in: Option<Vec<ProjectStatus>>,
    /// Projects under any of these agreements (global ids).
    pub agreement_id_in: Option<Vec<ID>>,
    /// Projects whose agreement matches this filter.
    pub agreement: Option<Box<AgreementFilter>>,
    /// Projects with any of these partners (global ids), through their agreement.
    pub partner_id_in: Option<Vec<ID>>,
    /// Projects benefiting any of these countries (ISO 3166-1 alpha-2).
    pub country_in: Option<Vec<String>>,
    /// Projects addressing any of these crime areas (slugs).
    pub crime_area_in: Option<Vec<String>>,
    /// Projects serving any of these Global Policing Goals (1–7).
    pub policing_goal_in: Option<Vec<i32>>,
    /// Projects funded by any of these partners (global ids).
    pub funder_id_in: Option<Vec<ID>>,
    /// Starting within this range.
    pub starts_on: Option<DateRange>,
    /// Ending within this range.
    pub ends_on: Option<DateRange>,
}

/// Which fundings to return.
#[derive(InputObject, Clone, Debug, Default)]
pub struct FundingFilter {
    /// Fundings of any of these kinds.
    pub kind_in: Option<Vec<FundingKind>>,
    /// Fundings in any of these statuses.
    pub status_in: Option<Vec<FundingStatus>>,
    /// Fundings provided by any of these partners (global ids).
    pub funder_id_in: Option<Vec<ID>>,
    /// Fundings whose funder matches this filter.
    pub funder: Option<Box<PartnerFilter>>,
    /// Fundings of any of these projects (global ids).
    pub project_id_in: Option<Vec<ID>>,
    /// Fundings whose project matches this filter.
    pub project: Option<Box<ProjectFilter>>,
    /// Fundings in any of these currencies (ISO 4217).
    pub currency_in: Option<Vec<String>>,
    /// `true`: only fundings whose amount is disclosed; `false`: only undisclosed ones.
    pub amount_disclosed: Option<bool>,
    /// Committed within this range.
    pub committed_on: Option<DateRange>,
}

fn ids(field: &str, type_name: &str, ids: &[ID]) -> ApiResult<Vec<i64>> {
    ids.iter().map(|id| id::decode_as(field, type_name, id)).collect()
}

fn enums<T: ActiveEnum<Value = String>>(values: &[T]) -> Vec<String> {
    values.iter().map(ActiveEnum::to_value).collect()
}

fn upper(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.trim().to_ascii_uppercase()).collect()
}

fn date_range(cond: Condition, column: impl ColumnTrait, range: &Option<DateRange>) -> Condition {
    let Some(range) = range else { return cond };
    let mut cond = cond;
    if let Some(from) = range.from {
        cond = cond.add(column.gte(from.0));
    }
    if let Some(to) = range.to {
        cond = cond.add(column.lte(to.0));
    }
    cond
}

/// `SELECT <column> FROM <its table> WHERE <cond>`.
fn select(column: impl ColumnTrait, cond: Condition) -> SelectStatement {
    Query::select().column(column.as_column_ref()).from(column.entity_name()).cond_where(cond).take()
}

/// The `key` of the link rows whose target (through `to_target`) has
/// `column` among `values`: `SELECT link.key FROM link JOIN target … WHERE
/// target.column IN values`.
fn linked_by<L: EntityTrait>(
    key: L::Column,
    to_target: impl RelationTrait,
    column: impl ColumnTrait,
    values: impl IntoIterator<Item = impl Into<sea_orm::Value>>,
) -> SelectStatement {
    L::find()
        .select_only()
        .column(key)
        .join(JoinType::InnerJoin, to_target.def())
        .filter(column.is_in(values))
        .into_query()
}

impl ListFilter<partner::Entity> for PartnerFilter {
    fn condition(&self) -> ApiResult<Condition> {
        use partner::Column;
        let mut c = Condition::all();
        if let Some(kinds) = &self.kind_in {
            c = c.add(Column::Kind.is_in(enums(kinds)));
        }
        if let Some(sectors) = &self.sector_in {
            c = c.add(Column::Sector.is_in(enums(sectors)));
        }
        if let Some(parents) = &self.parent_id_in {
            c = c.add(Column::ParentId.is_in(ids("parentIdIn", "Partner", parents)?));
        }
        match self.has_parent {
            Some(true) => c = c.add(Column::ParentId.is_not_null()),
            Some(false) => c = c.add(Column::ParentId.is_null()),
            None => {}
        }
        if let Some(countries) = &self.country_in {
            c = c.add(Column::CountryCode.is_in(upper(countries)));
        }
        if let Some(areas) = &self.crime_area_in {
            c = c.add(Column::Id.in_subquery(linked_by::<partner_crime_area::Entity>(
                partner_crime_area::Column::PartnerId,
                partner_crime_area::Relation::CrimeArea,
                crime_area::Column::Slug,
                areas.iter().cloned(),
            )));
        }
        Ok(c)
    }
}

impl ListFilter<agreement::Entity> for AgreementFilter {
    fn condition(&self) -> ApiResult<Condition> {
        use agreement::Column;
        let mut c = Condition::all();
        if let Some(kinds) = &self.kind_in {
            c = c.add(Column::Kind.is_in(enums(kinds)));
        }
        if let Some(statuses) = &self.status_in {
            c = c.add(Column::Status.is_in(enums(statuses)));
        }
        if let Some(partners) = &self.partner_id_in {
            c = c.add(Column::PartnerId.is_in(ids("partnerIdIn", "Partner", partners)?));
        }
        if let Some(partner) = &self.partner {
            c = c.add(Column::PartnerId.in_subquery(select(partner::Column::Id, partner.condition()?)));
        }
        c = date_range(c, Column::SignedOn, &self.signed_on);
        c = date_range(c, Column::EffectiveFrom, &self.effective_from);
        c = date_range(c, Column::ExpiresOn, &self.expires_on);
        if let Some(day) = self.in_force_on {
            let day = day.0;
            let start = || {
                Expr::expr(Func::coalesce([
                    Expr::col(Column::EffectiveFrom.as_column_ref()),
                    Expr::col(Column::SignedOn.as_column_ref()),
                ]))
            };
            c = c
                .add(Column::Status.eq(AgreementStatus::InForce.to_value()))
                .add(Condition::any().add(start().is_null()).add(start().lte(day)))
                .add(Condition::any().add(Column::SignedYear.is_null()).add(Column::SignedYear.lte(day.year())))
                .add(Condition::any().add(Column::ExpiresOn.is_null()).add(Column::ExpiresOn.gte(day)));
        }
        Ok(c)
    }
}

impl ListFilter<project::Entity> for ProjectFilter {
    fn condition(&self) -> ApiResult<Condition> {
        use project::Column;
        let mut c = Condition::all();
        if let Some(statuses) = &self.status_in {
            c = c.add(Column::Status.is_in(enums(statuses)));
        }
        if let Some(agreements) = &self.agreement_id_in {
            c = c.add(Column::AgreementId.is_in(ids("agreementIdIn", "Agreement", agreements)?));
        }
        if let Some(agreement) = &self.agreement {
            c = c.add(Column::AgreementId.in_subquery(select(agreement::Column::Id, agreement.condition()?)));
        }
        if let Some(partners) = &self.partner_id_in {
            let partners = ids("partnerIdIn", "Partner", partners)?;
            let by_partner = Condition::all().add(agreement::Column::PartnerId.is_in(partners));
            c = c.add(Column::AgreementId.in_subquery(select(agreement::Column::Id, by_partner)));
        }
        if let Some(countries) = &self.country_in {
            let by_country = Condition::all().add(project_country::Column::CountryCode.is_in(upper(countries)));
            c = c.add(Column::Id.in_subquery(select(project_country::Column::ProjectId, by_country)));
        }
        if let Some(areas) = &self.crime_area_in {
            c = c.add(Column::Id.in_subquery(linked_by::<project_crime_area::Entity>(
                project_crime_area::Column::ProjectId,
                project_crime_area::Relation::CrimeArea,
                crime_area::Column::Slug,
                areas.iter().cloned(),
            )));
        }
        if let Some(goals) = &self.policing_goal_in {
            c = c.add(Column::Id.in_subquery(linked_by::<project_policing_goal::Entity>(
                project_policing_goal::Column::ProjectId,
                project_policing_goal::Relation::PolicingGoal,
                policing_goal::Column::Number,
                goals.iter().copied(),
            )));
        }
        if let Some(funders) = &self.funder_id_in {
            let by_funder =
                Condition::all().add(funding::Column::FunderId.is_in(ids("funderIdIn", "Partner", funders)?));
            c = c.add(Column::Id.in_subquery(select(funding::Column::ProjectId, by_funder)));
        }
        c = date_range(c, Column::StartsOn, &self.starts_on);
        c = date_range(c, Column::EndsOn, &self.ends_on);
        Ok(c)
    }
}

impl ListFilter<funding::Entity> for FundingFilter {
    fn condition(&self) -> ApiResult<Condition> {
        use funding::Column;
        let mut c = Condition::all();
        if let Some(kinds) = &self.kind_in {
            c = c.add(Column::Kind.is_in(enums(kinds)));
        }
        if let Some(statuses) = &self.status_in {
            c = c.add(Column::Status.is_in(enums(statuses)));
        }
        if let Some(funders) = &self.funder_id_in {
            c = c.add(Column::FunderId.is_in(ids("funderIdIn", "Partner", funders)?));
        }
        if let Some(funder) = &self.funder {
            c = c.add(Column::FunderId.in_subquery(select(partner::Column::Id, funder.condition()?)));
        }
        if let Some(projects) = &self.project_id_in {
            c = c.add(Column::ProjectId.is_in(ids("projectIdIn", "Project", projects)?));
        }
        if let Some(project) = &self.project {
            c = c.add(Column::ProjectId.in_subquery(select(project::Column::Id, project.condition()?)));
        }
        if let Some(currencies) = &self.currency_in {
            c = c.add(Column::Currency.is_in(upper(currencies)));
        }
        match self.amount_disclosed {
            Some(true) => c = c.add(Column::AmountMinor.is_not_null()),
            Some(false) => c = c.add(Column::AmountMinor.is_null()),
            None => {}
        }
        c = date_range(c, Column::CommittedOn, &self.committed_on);
        Ok(c)
    }
}
