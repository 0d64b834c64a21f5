//! `createAgreement`, `updateAgreement`, `deleteAgreement`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{Datelike, NaiveDate};
use entity::enums::{AgreementKind, AgreementStatus};
use entity::{agreement, funding, project};

use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::validate::{self, MAX_NAME, MAX_TEXT};
use super::{
    Deletion, Write, before, delete_project_links, delete_where, ensure_unique, existing, global_ids, not_found, patch,
    required, rows_to_delete, snapshot, unique_violation,
};
use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, RecordKind};
use crate::graphql::guard::RoleGuard;
use crate::graphql::id;
use crate::graphql::node::NodeType;
use crate::graphql::object::Agreement;
use crate::graphql::scalar::Date;

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

#[derive(Default)]
pub struct AgreementMutation;

/// An agreement's writable columns, checked.
struct Fields {
    reference: String,
    title_en: String,
    title_fr: String,
    kind: AgreementKind,
    status: AgreementStatus,
    signed_year: Option<i32>,
    signed_on: Option<NaiveDate>,
    effective_from: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    summary_en: Option<String>,
    summary_fr: Option<String>,
    source_url: Option<String>,
}

impl Fields {
    fn checked(self) -> ApiResult<Self> {
        validate::in_order(&[
            ("input.signedOn", self.signed_on),
            ("input.effectiveFrom", self.effective_from),
            ("input.expiresOn", self.expires_on),
        ])?;
        // A day of signature implies its year; a year alone stands for a day the sources do not give.
        let signed_year = match (self.signed_year, self.signed_on) {
            (Some(year), Some(day)) if year != day.year() => {
                return Err(ApiError::bad_input(
                    "input.signedYear",
                    format!("`input.signedYear` ({year}) is not the year of `input.signedOn` ({day})"),
                ));
            }
            (_, Some(day)) => Some(day.year()),
            (year, None) => validate::year("input.signedYear", year, 1900..=2200)?,
        };
        Ok(Fields {
            reference: validate::key("input.reference", &self.reference)?,
            title_en: validate::required("input.titleEn", &self.title_en, MAX_NAME)?,
            title_fr: validate::required("input.titleFr", &self.title_fr, MAX_NAME)?,
            signed_year,
            summary_en: validate::optional("input.summaryEn", self.summary_en.as_deref(), MAX_TEXT)?,
            summary_fr: validate::optional("input.summaryFr", self.summary_fr.as_deref(), MAX_TEXT)?,
            source_url: validate::url("input.sourceUrl", self.source_url.as_deref())?,
            ..self
        })
    }

    fn set(self, row: &mut agreement::ActiveModel, partner_id: i64) {
        row.partner_id = Set(partner_id);
        row.reference = Set(self.reference);
        row.title_en = Set(self.title_en);
        row.title_fr = Set(self.title_fr);
        row.kind = Set(self.kind);
        row.status = Set(self.status);
        row.signed_year = Set(self.signed_year);
        row.signed_on = Set(self.signed_on);
        row.effective_from = Set(self.effective_from);
        row.expires_on = Set(self.expires_on);
        row.summary_en = Set(self.summary_en);
        row.summary_fr = Set(self.summary_fr);
        row.source_url = Set(self.source_url);
    }
}

#[Object]
impl AgreementMutation {
    /// Records a new agreement with a partner. Needs the EDITOR role.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn create_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new agreement.")] input: CreateAgreementInput,
    ) -> ApiResult<Agreement> {
        let fields = Fields {
            reference: input.reference,
            title_en: input.title_en,
            title_fr: input.title_fr,
            kind: input.kind,
            status: input.status,
            signed_year: input.signed_year,
            signed_on: input.signed_on.map(|d| d.0),
            effective_from: input.effective_from.map(|d| d.0),
            expires_on: input.expires_on.map(|d| d.0),
            summary_en: input.summary_en,
            summary_fr: input.summary_fr,
            source_url: input.source_url,
        }
        .checked()?;
        let mut write = Write::begin(ctx).await?;
        let txn = &write.txn;
        let partner_id = existing(txn, RecordKind::Partner, "input.partnerId", &input.partner_id).await?;
        ensure_unique::<agreement::Entity>(
            txn,
            agreement::Column::Reference,
            &fields.reference,
            None,
            "input.reference",
        )
        .await?;
        let reference = fields.reference.clone();
        let mut row = agreement::ActiveModel {
            version: Set(1),
            created_at: Set(write.now),
            updated_at: Set(write.now),
            ..Default::default()
        };
        fields.set(&mut row, partner_id);
        let row = row.insert(txn).await.map_err(unique_violation::<agreement::Entity>(
            agreement::Column::Reference,
            &reference,
            "input.reference",
        ))?;
        let after = Some(snapshot(&row)?);
        write.record(RecordKind::Agreement, row.id, ChangeAction::Create, None, after);
        write.commit().await?;
        Ok(Agreement::one(row))
    }

    /// Changes an agreement. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn update_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateAgreementInput,
    ) -> ApiResult<Agreement> {
        let id = id::decode_as("input.id", Agreement::TYPE_NAME, &input.id)?;
        let mut write = Write::begin(ctx).await?;
        let version = write.claim(RecordKind::Agreement, id, input.expected_version).await?;
        let txn = &write.txn;
        let current =
            agreement::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| not_found(RecordKind::Agreement))?;
        let signed_on = patch(current.signed_on, input.signed_on.map_value(|d| d.0));
        let fields = Fields {
            reference: required("input.reference", current.reference.clone(), input.reference)?,
            title_en: required("input.titleEn", current.title_en.clone(), input.title_en)?,
            title_fr: required("input.titleFr", current.title_fr.clone(), input.title_fr)?,
            kind: required("input.kind", current.kind, input.kind)?,
            status: required("input.status", current.status, input.status)?,
            // A new day of signature brings its own year unless a year is given too.
            signed_year: match (&input.signed_year, input.signed_on.is_undefined()) {
                (MaybeUndefined::Undefined, false) => signed_on.map(|d| d.year()),
                _ => patch(current.signed_year, input.signed_year),
            },
            signed_on,
            effective_from: patch(current.effective_from, input.effective_from.map_value(|d| d.0)),
            expires_on: patch(current.expires_on, input.expires_on.map_value(|d| d.0)),
            summary_en: patch(current.summary_en.clone(), input.summary_en),
            summary_fr: patch(current.summary_fr.clone(), input.summary_fr),
            source_url: patch(current.source_url.clone(), input.source_url),
        }
        .checked()?;
        let partner_id = match input.partner_id {
            MaybeUndefined::Undefined => current.partner_id,
            MaybeUndefined::Null => {
                return Err(ApiError::bad_input("input.partnerId", "`input.partnerId` may not be null"));
            }
            MaybeUndefined::Value(partner) => existing(txn, RecordKind::Partner, "input.partnerId", &partner).await?,
        };
        ensure_unique::<agreement::Entity>(
            txn,
            agreement::Column::Reference,
            &fields.reference,
            Some(id),
            "input.reference",
        )
        .await?;
        let before = before::<agreement::Entity>(snapshot(&current)?, input.expected_version);
        let reference = fields.reference.clone();
        let mut row: agreement::ActiveModel = current.into();
        fields.set(&mut row, partner_id);
        row.version = Set(version);
        row.updated_at = Set(write.now);
        let row = row.update(txn).await.map_err(unique_violation::<agreement::Entity>(
            agreement::Column::Reference,
            &reference,
            "input.reference",
        ))?;
        let after = snapshot(&row)?;
        write.record(RecordKind::Agreement, id, ChangeAction::Update, Some(before), Some(after));
        write.commit().await?;
        Ok(Agreement::one(row))
    }

    /// Deletes an agreement. Refused with `CONFLICT` while projects run
    /// under it, unless `cascade` is true: then they go too, with their
    /// fundings. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn delete_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agreement to delete (global id).")] id: ID,
        #[graphql(desc = "The `version` you read.")] expected_version: i32,
        #[graphql(desc = "Also delete its projects and their fundings.", default_with = "Some(false)")] cascade: Option<
            bool,
        >,
    ) -> ApiResult<Deletion> {
        let cascade = cascade.unwrap_or(false);
        let row_id = id::decode_as("id", Agreement::TYPE_NAME, &id)?;
        let mut write = Write::begin(ctx).await?;
        write.claim(RecordKind::Agreement, row_id, expected_version).await?;
        write.lock_for_delete(RecordKind::Agreement, row_id).await?;
        let txn = &write.txn;
        let current =
            agreement::Entity::find_by_id(row_id).one(txn).await?.ok_or_else(|| not_found(RecordKind::Agreement))?;
        let projects = rows_to_delete::<project::Entity>(txn, project::Column::AgreementId, &[row_id]).await?;
        if !cascade && !projects.is_empty() {
            return Err(ApiError::conflict(
                "id",
                format!(
                    "{} project(s) run under this agreement; delete or move them first, or pass `cascade: true`",
                    projects.len()
                ),
            ));
        }
        let project_ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
        let fundings = rows_to_delete::<funding::Entity>(txn, funding::Column::ProjectId, &project_ids).await?;
        let funding_ids: Vec<i64> = fundings.iter().map(|f| f.id).collect();
        delete_project_links(txn, &project_ids).await?;
        delete_where::<funding::Entity>(txn, funding::Column::Id, &funding_ids).await?;
        delete_where::<project::Entity>(txn, project::Column::Id, &project_ids).await?;
        delete_where::<agreement::Entity>(txn, agreement::Column::Id, &[row_id]).await?;

        let before = Some(before::<agreement::Entity>(snapshot(&current)?, expected_version));
        write.record(RecordKind::Agreement, row_id, ChangeAction::Delete, before, None);
        for p in &projects {
            let before = Some(snapshot(p)?);
            write.record(RecordKind::Project, p.id, ChangeAction::Delete, before, None);
        }
        for f in &fundings {
            let before = Some(snapshot(f)?);
            write.record(RecordKind::Funding, f.id, ChangeAction::Delete, before, None);
        }
        write.commit().await?;
        let mut deleted = vec![id.clone()];
        deleted.extend(global_ids(RecordKind::Project, &project_ids));
        deleted.extend(global_ids(RecordKind::Funding, &funding_ids));
        Ok(Deletion { id, database_id: row_id, deleted })
    }
}
