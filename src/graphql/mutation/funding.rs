//! `createFunding`, `updateFunding`, `deleteFunding`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::NaiveDate;
use entity::enums::{FundingKind, FundingStatus};
use entity::funding;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::validate::{self, MAX_NAME};
use super::{Deletion, Write, before, delete_where, existing, not_found, patch, required, snapshot};
use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, RecordKind};
use crate::graphql::guard::RoleGuard;
use crate::graphql::id;
use crate::graphql::node::NodeType;
use crate::graphql::object::Funding;
use crate::graphql::scalar::{Date, Decimal, currency_exponent, format_minor};

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

#[derive(Default)]
pub struct FundingMutation;

/// A funding's writable columns, checked.
struct Fields {
    kind: FundingKind,
    status: FundingStatus,
    amount_minor: Option<i64>,
    currency: Option<String>,
    programme: Option<String>,
    committed_on: Option<NaiveDate>,
    source_url: Option<String>,
}

impl Fields {
    /// `amount` is the decimal text as given; `currency` the code as given.
    #[allow(clippy::too_many_arguments)]
    fn checked(
        kind: FundingKind,
        status: FundingStatus,
        amount: Option<&str>,
        currency: Option<&str>,
        programme: Option<&str>,
        committed_on: Option<NaiveDate>,
        source_url: Option<&str>,
    ) -> ApiResult<Self> {
        let currency = currency.map(|c| validate::currency("input.currency", c)).transpose()?;
        let amount_minor = match (amount, currency) {
            (Some(amount), Some(currency)) => Some(validate::amount("input.amount", amount, currency)?),
            (Some(_), None) => {
                return Err(ApiError::bad_input("input.currency", "an amount needs its currency (`input.currency`)"));
            }
            (None, _) => None,
        };
        Ok(Fields {
            kind,
            status,
            amount_minor,
            currency: currency.map(|c| c.code().to_owned()),
            programme: validate::optional("input.programme", programme, MAX_NAME)?,
            committed_on,
            source_url: validate::url("input.sourceUrl", source_url)?,
        })
    }

    fn set(self, row: &mut funding::ActiveModel, project_id: i64, funder_id: i64) {
        row.project_id = Set(project_id);
        row.funder_id = Set(funder_id);
        row.kind = Set(self.kind);
        row.status = Set(self.status);
        row.amount_minor = Set(self.amount_minor);
        row.currency = Set(self.currency);
        row.programme = Set(self.programme);
        row.committed_on = Set(self.committed_on);
        row.source_url = Set(self.source_url);
    }
}

/// A stored amount as the decimal text an input would give.
fn decimal_text(minor: i64, currency: &str) -> String {
    let exponent = currency_exponent(currency).unwrap_or(0);
    format_minor(minor.into(), u32::from(exponent))
}

#[Object]
impl FundingMutation {
    /// Records a new funding of a project by a partner. Needs the EDITOR role.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn create_funding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new funding.")] input: CreateFundingInput,
    ) -> ApiResult<Funding> {
        let fields = Fields::checked(
            input.kind,
            input.status,
            input.amount.as_ref().map(|a| a.to_text()).as_deref(),
            input.currency.as_deref(),
            input.programme.as_deref(),
            input.committed_on.map(|d| d.0),
            input.source_url.as_deref(),
        )?;
        let mut write = Write::begin(ctx).await?;
        let txn = &write.txn;
        let project_id = existing(txn, RecordKind::Project, "input.projectId", &input.project_id).await?;
        let funder_id = existing(txn, RecordKind::Partner, "input.funderId", &input.funder_id).await?;
        let mut row = funding::ActiveModel {
            version: Set(1),
            created_at: Set(write.now),
            updated_at: Set(write.now),
            ..Default::default()
        };
        fields.set(&mut row, project_id, funder_id);
        let row = row.insert(txn).await?;
        let after = Some(snapshot(&row)?);
        write.record(RecordKind::Funding, row.id, ChangeAction::Create, None, after);
        write.commit().await?;
        Ok(Funding::one(row))
    }

    /// Changes a funding. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn update_funding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateFundingInput,
    ) -> ApiResult<Funding> {
        let id = id::decode_as("input.id", Funding::TYPE_NAME, &input.id)?;
        let mut write = Write::begin(ctx).await?;
        let version = write.claim(RecordKind::Funding, id, input.expected_version).await?;
        let txn = &write.txn;
        let current = funding::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| not_found(RecordKind::Funding))?;
        let currency = patch(current.currency.clone(), input.currency);
        // An amount left as it is is re-read in the (possibly new) currency, so
        // a change to a currency with fewer decimals cannot silently rescale it.
        let amount = match input.amount {
            MaybeUndefined::Undefined => {
                current.amount_minor.zip(current.currency.as_deref()).map(|(m, c)| decimal_text(m, c))
            }
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(amount) => Some(amount.into_text()),
        };
        let fields = Fields::checked(
            required("input.kind", current.kind, input.kind)?,
            required("input.status", current.status, input.status)?,
            amount.as_deref(),
            currency.as_deref(),
            patch(current.programme.clone(), input.programme).as_deref(),
            patch(current.committed_on, input.committed_on.map_value(|d| d.0)),
            patch(current.source_url.clone(), input.source_url).as_deref(),
        )?;
        let project_id = match input.project_id {
            MaybeUndefined::Undefined => current.project_id,
            MaybeUndefined::Null => {
                return Err(ApiError::bad_input("input.projectId", "`input.projectId` may not be null"));
            }
            MaybeUndefined::Value(project) => existing(txn, RecordKind::Project, "input.projectId", &project).await?,
        };
        let funder_id = match input.funder_id {
            MaybeUndefined::Undefined => current.funder_id,
            MaybeUndefined::Null => {
                return Err(ApiError::bad_input("input.funderId", "`input.funderId` may not be null"));
            }
            MaybeUndefined::Value(funder) => existing(txn, RecordKind::Partner, "input.funderId", &funder).await?,
        };
        let before = before::<funding::Entity>(snapshot(&current)?, input.expected_version);
        let mut row: funding::ActiveModel = current.into();
        fields.set(&mut row, project_id, funder_id);
        row.version = Set(version);
        row.updated_at = Set(write.now);
        let row = row.update(txn).await?;
        let after = snapshot(&row)?;
        write.record(RecordKind::Funding, id, ChangeAction::Update, Some(before), Some(after));
        write.commit().await?;
        Ok(Funding::one(row))
    }

    /// Deletes a funding. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn delete_funding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The funding to delete (global id).")] id: ID,
        #[graphql(desc = "The `version` you read.")] expected_version: i32,
    ) -> ApiResult<Deletion> {
        let row_id = id::decode_as("id", Funding::TYPE_NAME, &id)?;
        let mut write = Write::begin(ctx).await?;
        write.claim(RecordKind::Funding, row_id, expected_version).await?;
        let current =
            funding::Entity::find_by_id(row_id).one(&write.txn).await?.ok_or_else(|| not_found(RecordKind::Funding))?;
        delete_where::<funding::Entity>(&write.txn, funding::Column::Id, &[row_id]).await?;
        let before = Some(before::<funding::Entity>(snapshot(&current)?, expected_version));
        write.record(RecordKind::Funding, row_id, ChangeAction::Delete, before, None);
        write.commit().await?;
        Ok(Deletion { id: id.clone(), database_id: row_id, deleted: vec![id] })
    }
}
