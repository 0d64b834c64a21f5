//! `Project`: work run under an agreement.

use std::collections::HashMap;

use entity::enums::ProjectStatus;
use entity::links::{
    ProjectAgreement, ProjectCrimeAreas, ProjectFunders, ProjectFundings, ProjectPartner, ProjectPolicingGoals,
    ProjectSources,
};
use entity::{funding, project_country};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{Agreement, Change, Country, CrimeArea, Funding, Money, Partner, PolicingGoal, Source};
use crate::error::ApiError;
use crate::graphql::declare::object;
use crate::graphql::inline::Inline;
use crate::graphql::input::{FundingFilter, FundingOrder};
use crate::graphql::scalar::{Date, DateTimeUtc};
use crate::graphql::sql::column_in;
use crate::graphql::totals;

object! {
    /// A project run under an agreement with a partner, and funded by one or
    /// more partners (SHARAKA, WAPIS, e-MLA…).
    node Project(project, "project") {
        /// Stable code, e.g. `SHARAKA`.
        fn code() reads(code) -> &str { code }

        /// The project's name.
        fn name(lang) picks(name_en, name_fr) -> &str;

        /// What the project does.
        fn description(lang) picks(description_en, description_fr) -> Option<&str>;

        /// Where the project stands.
        fn status() reads(status) -> ProjectStatus { status }

        /// The day it starts or started, when known.
        fn starts_on() reads(starts_on) -> Option<Date> { starts_on.map(Date) }

        /// The day it ends or ended, when known.
        fn ends_on() reads(ends_on) -> Option<Date> { ends_on.map(Date) }

        /// The first of `sources` with a public address; for a record written through the API, the page its writer gave.
        #[graphql(deprecation = "Use `sources`: a record may rely on several pages.")]
        fn source_url() reads(source_url) -> Option<&str> { source_url }

        /// The public pages this record's facts come from; empty for a record written through the API, whose facts are its writer's.
        fn sources() -> List<Source> = linked(ProjectSources);

        /// The fields whose value in `lang` no cited page states: reference knowledge (an official website, the name in the other language…). Every other field with a value is stated by one of `sources`, as the dataset recorded it; `history` shows what changed since.
        fn reference_fields(lang) reads(reference_fields) -> Vec<&str> { super::reference_fields(reference_fields, lang) }

        /// The agreement the project runs under.
        fn agreement() -> Inline<Agreement> = to_one(ProjectAgreement);

        /// The partner of the project's agreement.
        fn partner() -> Inline<Partner> = to_one(ProjectPartner);

        /// The fundings that pay for the project.
        fn fundings() -> Connection<Funding> = nested(ProjectFundings, FundingFilter, FundingOrder);

        /// The partners that fund the project, each once.
        fn funders() -> List<Partner> = linked_distinct(ProjectFunders);

        /// The crime areas the project addresses.
        fn crime_areas() -> List<CrimeArea> = linked(ProjectCrimeAreas);

        /// The Global Policing Goals the project serves.
        fn policing_goals() -> List<PolicingGoal> = linked(ProjectPolicingGoals);

        /// The countries the project benefits.
        fn countries(rows) -> Vec<Country> {
            let by_project = rows
                .load(("countries".into(), 0), |db, ids| async move {
                    let links = project_country::Entity::find()
                        .filter(column_in(db.get_database_backend(), project_country::Column::ProjectId, &ids))
                        .order_by_asc(project_country::Column::ProjectId)
                        .order_by_asc(project_country::Column::CountryCode)
                        .all(db)
                        .await?;
                    let mut by_project: HashMap<i64, Vec<String>> = HashMap::new();
                    for link in links {
                        by_project.entry(link.project_id).or_default().push(link.country_code);
                    }
                    Ok::<_, ApiError>(by_project)
                })
                .await?;
            Ok(by_project.get(&rows.id()).into_iter().flatten().cloned().map(Country).collect())
        }

        /// What has been put into this project: the sum of the disclosed amounts, one per currency (by currency code).
        fn total_funding(rows) -> Vec<Money> {
            Ok(totals::of(&rows, funding::Column::ProjectId).await?.money())
        }

        /// How many of those fundings have no disclosed amount (and so are not in `totalFunding`).
        fn undisclosed_funding_count(rows) -> i64 {
            Ok(totals::of(&rows, funding::Column::ProjectId).await?.undisclosed)
        }

        /// The changes made to this project, oldest first (use `last` for the most recent).
        fn history() -> Connection<Change> = history;

        /// Incremented by every change; pass it back as `expectedVersion` when updating.
        fn version() reads(version) -> i32 { version }

        /// When the record was created.
        fn created_at() reads(created_at) -> DateTimeUtc { DateTimeUtc(created_at) }

        /// When the record last changed.
        fn updated_at() reads(updated_at) -> DateTimeUtc { DateTimeUtc(updated_at) }
    }
}
