//! `createProject`, `updateProject`, `deleteProject`, with the project's
//! crime areas, Global Policing Goals and beneficiary countries.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::NaiveDate;
use entity::enums::ProjectStatus;
use entity::{funding, policing_goal, project, project_country, project_crime_area, project_policing_goal};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::validate::{self, MAX_NAME, MAX_TEXT};
use super::{
    Deletion, Write, before, crime_area_ids, delete_project_links, delete_where, ensure_unique, existing, global_ids,
    not_found, patch, replace_links, required, rows_to_delete, rows_where, snapshot, unique_violation,
};
use crate::auth::Role;
use crate::db::CountingTxn;
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, RecordKind};
use crate::graphql::guard::RoleGuard;
use crate::graphql::id;
use crate::graphql::node::NodeType;
use crate::graphql::object::Project;
use crate::graphql::scalar::Date;

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

#[derive(Default)]
pub struct ProjectMutation;

/// A project's writable columns, checked.
struct Fields {
    code: String,
    name_en: String,
    name_fr: String,
    description_en: Option<String>,
    description_fr: Option<String>,
    status: ProjectStatus,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    source_url: Option<String>,
}

impl Fields {
    fn checked(self) -> ApiResult<Self> {
        validate::in_order(&[("input.startsOn", self.starts_on), ("input.endsOn", self.ends_on)])?;
        Ok(Fields {
            code: validate::key("input.code", &self.code)?,
            name_en: validate::required("input.nameEn", &self.name_en, MAX_NAME)?,
            name_fr: validate::required("input.nameFr", &self.name_fr, MAX_NAME)?,
            description_en: validate::optional("input.descriptionEn", self.description_en.as_deref(), MAX_TEXT)?,
            description_fr: validate::optional("input.descriptionFr", self.description_fr.as_deref(), MAX_TEXT)?,
            source_url: validate::url("input.sourceUrl", self.source_url.as_deref())?,
            ..self
        })
    }

    fn set(self, row: &mut project::ActiveModel, agreement_id: i64) {
        row.agreement_id = Set(agreement_id);
        row.code = Set(self.code);
        row.name_en = Set(self.name_en);
        row.name_fr = Set(self.name_fr);
        row.description_en = Set(self.description_en);
        row.description_fr = Set(self.description_fr);
        row.status = Set(self.status);
        row.starts_on = Set(self.starts_on);
        row.ends_on = Set(self.ends_on);
        row.source_url = Set(self.source_url);
    }
}

/// Countries, checked and without repeats.
fn countries(codes: &[String]) -> ApiResult<Vec<String>> {
    let mut checked = codes.iter().map(|c| validate::country("input.countries", c)).collect::<ApiResult<Vec<_>>>()?;
    checked.sort();
    checked.dedup();
    Ok(checked)
}

/// The ids of Global Policing Goals given by number.
async fn goal_ids(txn: &CountingTxn, numbers: &[i32]) -> ApiResult<Vec<i64>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(n) = numbers.iter().find(|n| !(1..=7).contains(*n)) {
        return Err(ApiError::bad_input("input.policingGoals", format!("there is no Global Policing Goal {n} (1–7)")));
    }
    let found =
        policing_goal::Entity::find().filter(policing_goal::Column::Number.is_in(numbers.to_vec())).all(txn).await?;
    let mut ids = Vec::with_capacity(numbers.len());
    for n in numbers {
        let goal = found.iter().find(|g| g.number == *n).ok_or_else(|| {
            ApiError::bad_input("input.policingGoals", format!("Global Policing Goal {n} is not recorded"))
        })?;
        ids.push(goal.id);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The links a project's input may set; `None` leaves that list as it is.
struct Links {
    crime_areas: Option<Vec<i64>>,
    goals: Option<Vec<i64>>,
    countries: Option<Vec<String>>,
}

impl Links {
    async fn checked(
        txn: &CountingTxn,
        crime_areas: Option<&[String]>,
        goals: Option<&[i32]>,
        codes: Option<&[String]>,
    ) -> ApiResult<Self> {
        Ok(Links {
            crime_areas: match crime_areas {
                Some(slugs) => Some(crime_area_ids(txn, slugs).await?),
                None => None,
            },
            goals: match goals {
                Some(numbers) => Some(goal_ids(txn, numbers).await?),
                None => None,
            },
            countries: codes.map(countries).transpose()?,
        })
    }

    async fn write(self, write: &Write, project: i64) -> ApiResult<()> {
        let (txn, now) = (&write.txn, write.now);
        if let Some(ids) = self.crime_areas {
            let rows = ids.into_iter().map(|crime_area_id| project_crime_area::ActiveModel {
                project_id: Set(project),
                crime_area_id: Set(crime_area_id),
                created_at: Set(now),
                updated_at: Set(now),
            });
            replace_links(txn, project_crime_area::Column::ProjectId, project, rows.collect()).await?;
        }
        if let Some(ids) = self.goals {
            let rows = ids.into_iter().map(|policing_goal_id| project_policing_goal::ActiveModel {
                project_id: Set(project),
                policing_goal_id: Set(policing_goal_id),
                created_at: Set(now),
                updated_at: Set(now),
            });
            replace_links(txn, project_policing_goal::Column::ProjectId, project, rows.collect()).await?;
        }
        if let Some(codes) = self.countries {
            let rows = codes.into_iter().map(|country_code| project_country::ActiveModel {
                project_id: Set(project),
                country_code: Set(country_code),
                created_at: Set(now),
                updated_at: Set(now),
            });
            replace_links(txn, project_country::Column::ProjectId, project, rows.collect()).await?;
        }
        Ok(())
    }
}

/// A project's row with its links, as the history keeps it.
async fn project_snapshot(txn: &CountingTxn, row: &project::Model) -> ApiResult<serde_json::Value> {
    let mut json = snapshot(row)?;
    let areas = rows_where::<project_crime_area::Entity>(txn, project_crime_area::Column::ProjectId, &[row.id]).await?;
    let goals =
        rows_where::<project_policing_goal::Entity>(txn, project_policing_goal::Column::ProjectId, &[row.id]).await?;
    let countries = rows_where::<project_country::Entity>(txn, project_country::Column::ProjectId, &[row.id]).await?;
    json["crime_area_ids"] = areas.iter().map(|l| l.crime_area_id).collect::<Vec<_>>().into();
    json["policing_goal_ids"] = goals.iter().map(|l| l.policing_goal_id).collect::<Vec<_>>().into();
    json["countries"] = countries.iter().map(|l| l.country_code.clone()).collect::<Vec<_>>().into();
    Ok(json)
}

#[Object]
impl ProjectMutation {
    /// Records a new project under an agreement, with its crime areas,
    /// goals and countries. Needs the EDITOR role.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new project.")] input: CreateProjectInput,
    ) -> ApiResult<Project> {
        let fields = Fields {
            code: input.code,
            name_en: input.name_en,
            name_fr: input.name_fr,
            description_en: input.description_en,
            description_fr: input.description_fr,
            status: input.status,
            starts_on: input.starts_on.map(|d| d.0),
            ends_on: input.ends_on.map(|d| d.0),
            source_url: input.source_url,
        }
        .checked()?;
        let mut write = Write::begin(ctx).await?;
        let txn = &write.txn;
        let agreement_id = existing(txn, RecordKind::Agreement, "input.agreementId", &input.agreement_id).await?;
        ensure_unique::<project::Entity>(txn, project::Column::Code, &fields.code, None, "input.code").await?;
        let links = Links::checked(
            txn,
            Some(input.crime_areas.as_deref().unwrap_or_default()),
            Some(input.policing_goals.as_deref().unwrap_or_default()),
            Some(input.countries.as_deref().unwrap_or_default()),
        )
        .await?;
        let code = fields.code.clone();
        let mut row = project::ActiveModel {
            version: Set(1),
            created_at: Set(write.now),
            updated_at: Set(write.now),
            ..Default::default()
        };
        fields.set(&mut row, agreement_id);
        let row = row.insert(txn).await.map_err(unique_violation::<project::Entity>(
            project::Column::Code,
            &code,
            "input.code",
        ))?;
        links.write(&write, row.id).await?;
        let after = Some(project_snapshot(&write.txn, &row).await?);
        write.record(RecordKind::Project, row.id, ChangeAction::Create, None, after);
        write.commit().await?;
        Ok(Project::one(row))
    }

    /// Changes a project; lists given replace the project's crime areas,
    /// goals or countries. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateProjectInput,
    ) -> ApiResult<Project> {
        let id = id::decode_as("input.id", Project::TYPE_NAME, &input.id)?;
        let mut write = Write::begin(ctx).await?;
        let version = write.claim(RecordKind::Project, id, input.expected_version).await?;
        let txn = &write.txn;
        let current = project::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| not_found(RecordKind::Project))?;
        let before = before::<project::Entity>(project_snapshot(txn, &current).await?, input.expected_version);
        let fields = Fields {
            code: required("input.code", current.code.clone(), input.code)?,
            name_en: required("input.nameEn", current.name_en.clone(), input.name_en)?,
            name_fr: required("input.nameFr", current.name_fr.clone(), input.name_fr)?,
            description_en: patch(current.description_en.clone(), input.description_en),
            description_fr: patch(current.description_fr.clone(), input.description_fr),
            status: required("input.status", current.status, input.status)?,
            starts_on: patch(current.starts_on, input.starts_on.map_value(|d| d.0)),
            ends_on: patch(current.ends_on, input.ends_on.map_value(|d| d.0)),
            source_url: patch(current.source_url.clone(), input.source_url),
        }
        .checked()?;
        let agreement_id = match input.agreement_id {
            MaybeUndefined::Undefined => current.agreement_id,
            MaybeUndefined::Null => {
                return Err(ApiError::bad_input("input.agreementId", "`input.agreementId` may not be null"));
            }
            MaybeUndefined::Value(agreement) => {
                existing(txn, RecordKind::Agreement, "input.agreementId", &agreement).await?
            }
        };
        ensure_unique::<project::Entity>(txn, project::Column::Code, &fields.code, Some(id), "input.code").await?;
        let links = Links::checked(
            txn,
            input.crime_areas.as_deref(),
            input.policing_goals.as_deref(),
            input.countries.as_deref(),
        )
        .await?;
        let code = fields.code.clone();
        let mut row: project::ActiveModel = current.into();
        fields.set(&mut row, agreement_id);
        row.version = Set(version);
        row.updated_at = Set(write.now);
        let row = row.update(txn).await.map_err(unique_violation::<project::Entity>(
            project::Column::Code,
            &code,
            "input.code",
        ))?;
        links.write(&write, id).await?;
        let after = project_snapshot(&write.txn, &row).await?;
        write.record(RecordKind::Project, id, ChangeAction::Update, Some(before), Some(after));
        write.commit().await?;
        Ok(Project::one(row))
    }

    /// Deletes a project with its crime-area, goal and country links.
    /// Refused with `CONFLICT` while it has fundings, unless `cascade` is
    /// true: then they go too. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn delete_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project to delete (global id).")] id: ID,
        #[graphql(desc = "The `version` you read.")] expected_version: i32,
        #[graphql(desc = "Also delete its fundings.", default_with = "Some(false)")] cascade: Option<bool>,
    ) -> ApiResult<Deletion> {
        let cascade = cascade.unwrap_or(false);
        let row_id = id::decode_as("id", Project::TYPE_NAME, &id)?;
        let mut write = Write::begin(ctx).await?;
        write.claim(RecordKind::Project, row_id, expected_version).await?;
        write.lock_for_delete(RecordKind::Project, row_id).await?;
        let txn = &write.txn;
        let current =
            project::Entity::find_by_id(row_id).one(txn).await?.ok_or_else(|| not_found(RecordKind::Project))?;
        let before = before::<project::Entity>(project_snapshot(txn, &current).await?, expected_version);
        let fundings = rows_to_delete::<funding::Entity>(txn, funding::Column::ProjectId, &[row_id]).await?;
        if !cascade && !fundings.is_empty() {
            return Err(ApiError::conflict(
                "id",
                format!("the project has {} funding(s); delete them first, or pass `cascade: true`", fundings.len()),
            ));
        }
        let funding_ids: Vec<i64> = fundings.iter().map(|f| f.id).collect();
        delete_project_links(txn, &[row_id]).await?;
        delete_where::<funding::Entity>(txn, funding::Column::Id, &funding_ids).await?;
        delete_where::<project::Entity>(txn, project::Column::Id, &[row_id]).await?;
        write.record(RecordKind::Project, row_id, ChangeAction::Delete, Some(before), None);
        for f in &fundings {
            let before = Some(snapshot(f)?);
            write.record(RecordKind::Funding, f.id, ChangeAction::Delete, before, None);
        }
        write.commit().await?;
        let mut deleted = vec![id.clone()];
        deleted.extend(global_ids(RecordKind::Funding, &funding_ids));
        Ok(Deletion { id, database_id: row_id, deleted })
    }
}
