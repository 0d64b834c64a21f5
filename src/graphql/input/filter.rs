//! Filters: every field narrows the list, all fields together are ANDed.
//! A filter on a related record (`Agreement.partner`, `Funding.project`)
//! is a subquery, so any filter still compiles to one statement.

use async_graphql::{ID, InputObject};
use chrono::Datelike;
use entity::enums::{AgreementKind, AgreementStatus, FundingKind, FundingStatus, PartnerKind, ProjectStatus, Sector};
use sea_orm::ActiveEnum;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SelectStatement, SimpleExpr, Value};

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

fn col(table: &str, column: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
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

fn date_range(cond: Condition, column: Expr, range: &Option<DateRange>) -> Condition {
    let Some(range) = range else { return cond };
    let mut cond = cond;
    if let Some(from) = range.from {
        cond = cond.add(column.clone().gte(Value::from(from.0)));
    }
    if let Some(to) = range.to {
        cond = cond.add(column.lte(Value::from(to.0)));
    }
    cond
}

/// `SELECT <column> FROM <table> WHERE <cond>`.
fn select(table: &str, column: &str, cond: Condition) -> SelectStatement {
    Query::select().column((Alias::new(table), Alias::new(column))).from(Alias::new(table)).cond_where(cond).take()
}

/// `SELECT link.<key> FROM link JOIN target ON … WHERE target.<column> IN values`.
fn linked_by(
    link: &str,
    key: &str,
    target_fk: &str,
    target: &str,
    column: &str,
    values: Vec<SimpleExpr>,
) -> SelectStatement {
    Query::select()
        .column((Alias::new(link), Alias::new(key)))
        .from(Alias::new(link))
        .inner_join(Alias::new(target), col(link, target_fk).equals((Alias::new(target), Alias::new("id"))))
        .and_where(col(target, column).is_in(values))
        .take()
}

impl PartnerFilter {
    pub fn condition(&self) -> ApiResult<Condition> {
        let t = "partner";
        let mut c = Condition::all();
        if let Some(kinds) = &self.kind_in {
            c = c.add(col(t, "kind").is_in(enums(kinds)));
        }
        if let Some(sectors) = &self.sector_in {
            c = c.add(col(t, "sector").is_in(enums(sectors)));
        }
        if let Some(parents) = &self.parent_id_in {
            c = c.add(col(t, "parent_id").is_in(ids("parentIdIn", "Partner", parents)?));
        }
        match self.has_parent {
            Some(true) => c = c.add(col(t, "parent_id").is_not_null()),
            Some(false) => c = c.add(col(t, "parent_id").is_null()),
            None => {}
        }
        if let Some(countries) = &self.country_in {
            c = c.add(col(t, "country_code").is_in(upper(countries)));
        }
        if let Some(areas) = &self.crime_area_in {
            let values = areas.iter().map(|a| SimpleExpr::from(a.clone())).collect();
            c = c.add(col(t, "id").in_subquery(linked_by(
                "partner_crime_area",
                "partner_id",
                "crime_area_id",
                "crime_area",
                "slug",
                values,
            )));
        }
        Ok(c)
    }
}

impl AgreementFilter {
    pub fn condition(&self) -> ApiResult<Condition> {
        let t = "agreement";
        let mut c = Condition::all();
        if let Some(kinds) = &self.kind_in {
            c = c.add(col(t, "kind").is_in(enums(kinds)));
        }
        if let Some(statuses) = &self.status_in {
            c = c.add(col(t, "status").is_in(enums(statuses)));
        }
        if let Some(partners) = &self.partner_id_in {
            c = c.add(col(t, "partner_id").is_in(ids("partnerIdIn", "Partner", partners)?));
        }
        if let Some(partner) = &self.partner {
            c = c.add(col(t, "partner_id").in_subquery(select("partner", "id", partner.condition()?)));
        }
        c = date_range(c, col(t, "signed_on"), &self.signed_on);
        c = date_range(c, col(t, "effective_from"), &self.effective_from);
        c = date_range(c, col(t, "expires_on"), &self.expires_on);
        if let Some(day) = self.in_force_on {
            let day = day.0;
            let start = Expr::cust("COALESCE(\"agreement\".\"effective_from\", \"agreement\".\"signed_on\")");
            c = c
                .add(col(t, "status").eq(AgreementStatus::InForce.to_value()))
                .add(Condition::any().add(start.clone().is_null()).add(start.lte(Value::from(day))))
                .add(Condition::any().add(col(t, "signed_year").is_null()).add(col(t, "signed_year").lte(day.year())))
                .add(
                    Condition::any()
                        .add(col(t, "expires_on").is_null())
                        .add(col(t, "expires_on").gte(Value::from(day))),
                );
        }
        Ok(c)
    }
}

impl ProjectFilter {
    pub fn condition(&self) -> ApiResult<Condition> {
        let t = "project";
        let mut c = Condition::all();
        if let Some(statuses) = &self.status_in {
            c = c.add(col(t, "status").is_in(enums(statuses)));
        }
        if let Some(agreements) = &self.agreement_id_in {
            c = c.add(col(t, "agreement_id").is_in(ids("agreementIdIn", "Agreement", agreements)?));
        }
        if let Some(agreement) = &self.agreement {
            c = c.add(col(t, "agreement_id").in_subquery(select("agreement", "id", agreement.condition()?)));
        }
        if let Some(partners) = &self.partner_id_in {
            let partners = ids("partnerIdIn", "Partner", partners)?;
            let by_partner = Condition::all().add(col("agreement", "partner_id").is_in(partners));
            c = c.add(col(t, "agreement_id").in_subquery(select("agreement", "id", by_partner)));
        }
        if let Some(countries) = &self.country_in {
            let by_country = Condition::all().add(col("project_country", "country_code").is_in(upper(countries)));
            c = c.add(col(t, "id").in_subquery(select("project_country", "project_id", by_country)));
        }
        if let Some(areas) = &self.crime_area_in {
            let values = areas.iter().map(|a| SimpleExpr::from(a.clone())).collect();
            c = c.add(col(t, "id").in_subquery(linked_by(
                "project_crime_area",
                "project_id",
                "crime_area_id",
                "crime_area",
                "slug",
                values,
            )));
        }
        if let Some(goals) = &self.policing_goal_in {
            let values = goals.iter().map(|g| SimpleExpr::from(*g)).collect();
            c = c.add(col(t, "id").in_subquery(linked_by(
                "project_policing_goal",
                "project_id",
                "policing_goal_id",
                "policing_goal",
                "number",
                values,
            )));
        }
        if let Some(funders) = &self.funder_id_in {
            let by_funder =
                Condition::all().add(col("funding", "funder_id").is_in(ids("funderIdIn", "Partner", funders)?));
            c = c.add(col(t, "id").in_subquery(select("funding", "project_id", by_funder)));
        }
        c = date_range(c, col(t, "starts_on"), &self.starts_on);
        c = date_range(c, col(t, "ends_on"), &self.ends_on);
        Ok(c)
    }
}

impl FundingFilter {
    pub fn condition(&self) -> ApiResult<Condition> {
        let t = "funding";
        let mut c = Condition::all();
        if let Some(kinds) = &self.kind_in {
            c = c.add(col(t, "kind").is_in(enums(kinds)));
        }
        if let Some(statuses) = &self.status_in {
            c = c.add(col(t, "status").is_in(enums(statuses)));
        }
        if let Some(funders) = &self.funder_id_in {
            c = c.add(col(t, "funder_id").is_in(ids("funderIdIn", "Partner", funders)?));
        }
        if let Some(funder) = &self.funder {
            c = c.add(col(t, "funder_id").in_subquery(select("partner", "id", funder.condition()?)));
        }
        if let Some(projects) = &self.project_id_in {
            c = c.add(col(t, "project_id").is_in(ids("projectIdIn", "Project", projects)?));
        }
        if let Some(project) = &self.project {
            c = c.add(col(t, "project_id").in_subquery(select("project", "id", project.condition()?)));
        }
        if let Some(currencies) = &self.currency_in {
            c = c.add(col(t, "currency").is_in(upper(currencies)));
        }
        match self.amount_disclosed {
            Some(true) => c = c.add(col(t, "amount_minor").is_not_null()),
            Some(false) => c = c.add(col(t, "amount_minor").is_null()),
            None => {}
        }
        c = date_range(c, col(t, "committed_on"), &self.committed_on);
        Ok(c)
    }
}
