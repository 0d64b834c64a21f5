//! `createPartner`, `updatePartner`, `deletePartner`.

use std::collections::BTreeMap;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::enums::{PartnerKind, Sector};
use entity::{agreement, funding, partner, partner_crime_area, project};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Set, Statement};

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
use crate::graphql::object::Partner;

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

#[derive(Default)]
pub struct PartnerMutation;

/// A partner's writable columns, checked.
struct Fields {
    slug: String,
    name_en: String,
    name_fr: String,
    acronym_en: Option<String>,
    acronym_fr: Option<String>,
    kind: PartnerKind,
    sector: Sector,
    country_code: Option<String>,
    website: Option<String>,
    description_en: Option<String>,
    description_fr: Option<String>,
    source_url: Option<String>,
}

impl Fields {
    fn checked(self) -> ApiResult<Self> {
        Ok(Fields {
            slug: validate::slug("input.slug", &self.slug)?,
            name_en: validate::required("input.nameEn", &self.name_en, MAX_NAME)?,
            name_fr: validate::required("input.nameFr", &self.name_fr, MAX_NAME)?,
            acronym_en: validate::optional("input.acronymEn", self.acronym_en.as_deref(), MAX_NAME)?,
            acronym_fr: validate::optional("input.acronymFr", self.acronym_fr.as_deref(), MAX_NAME)?,
            kind: self.kind,
            sector: self.sector,
            country_code: self
                .country_code
                .as_deref()
                .map(|c| validate::country("input.countryCode", c))
                .transpose()?,
            website: validate::url("input.website", self.website.as_deref())?,
            description_en: validate::optional("input.descriptionEn", self.description_en.as_deref(), MAX_TEXT)?,
            description_fr: validate::optional("input.descriptionFr", self.description_fr.as_deref(), MAX_TEXT)?,
            source_url: validate::url("input.sourceUrl", self.source_url.as_deref())?,
        })
    }

    fn set(self, row: &mut partner::ActiveModel, parent_id: Option<i64>) {
        row.slug = Set(self.slug);
        row.name_en = Set(self.name_en);
        row.name_fr = Set(self.name_fr);
        row.acronym_en = Set(self.acronym_en);
        row.acronym_fr = Set(self.acronym_fr);
        row.kind = Set(self.kind);
        row.sector = Set(self.sector);
        row.parent_id = Set(parent_id);
        row.country_code = Set(self.country_code);
        row.website = Set(self.website);
        row.description_en = Set(self.description_en);
        row.description_fr = Set(self.description_fr);
        row.source_url = Set(self.source_url);
    }
}

/// The link rows of a partner's crime areas.
fn crime_area_links(partner: i64, crime_areas: &[i64], now: DateTime<Utc>) -> Vec<partner_crime_area::ActiveModel> {
    crime_areas
        .iter()
        .map(|&crime_area| partner_crime_area::ActiveModel {
            partner_id: Set(partner),
            crime_area_id: Set(crime_area),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect()
}

/// A partner's row with its crime areas, as the history keeps it.
async fn partner_snapshot(txn: &CountingTxn, row: &partner::Model) -> ApiResult<serde_json::Value> {
    let mut json = snapshot(row)?;
    let links = rows_where::<partner_crime_area::Entity>(txn, partner_crime_area::Column::PartnerId, &[row.id]).await?;
    json["crime_area_ids"] = links.iter().map(|l| l.crime_area_id).collect::<Vec<_>>().into();
    Ok(json)
}

/// The partner and every partner under it, however deep, with their depth.
async fn subtree(txn: &CountingTxn, root: i64) -> ApiResult<Vec<(i64, i32)>> {
    use partner::Column;
    let backend = txn.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let (table, id, parent) = (partner::Entity.table_name(), Column::Id.as_str(), Column::ParentId.as_str());
    // Written by hand: a recursive walk with a depth column is clearer as SQL
    // than through sea-query's CTE builder; the names are the entity's. The
    // depth bound stops a walk that a corrupted tree would never end.
    let sql = format!(
        "WITH RECURSIVE tree(id, depth) AS (\
           SELECT \"{id}\", 0 FROM \"{table}\" WHERE \"{id}\" = {placeholder} \
           UNION ALL \
           SELECT \"{table}\".\"{id}\", tree.depth + 1 FROM \"{table}\" JOIN tree ON \"{table}\".\"{parent}\" = tree.id \
           WHERE tree.depth < 100\
         ) SELECT id, depth FROM tree"
    );
    let rows = txn.query_all_raw(Statement::from_sql_and_values(backend, sql, [root.into()])).await?;
    let tree = rows
        .iter()
        .map(|r| Ok((r.try_get::<i64>("", "id")?, r.try_get::<i32>("", "depth")?)))
        .collect::<ApiResult<Vec<_>>>()?;
    if tree.iter().any(|&(_, depth)| depth >= 100) {
        return Err(ApiError::conflict("id", "the tree of partners under this one is more than 100 levels deep"));
    }
    Ok(tree)
}

/// Checks a new parent: it exists and is neither the partner itself nor
/// under it (which would make the tree a loop).
async fn checked_parent(txn: &CountingTxn, partner: Option<i64>, parent: Option<&ID>) -> ApiResult<Option<i64>> {
    let Some(parent) = parent else { return Ok(None) };
    let parent = existing(txn, RecordKind::Partner, "input.parentId", parent).await?;
    if let Some(partner) = partner
        && subtree(txn, partner).await?.iter().any(|&(id, _)| id == parent)
    {
        return Err(ApiError::bad_input(
            "input.parentId",
            "a partner cannot be placed under itself or under a partner that is part of it",
        ));
    }
    Ok(Some(parent))
}

#[Object]
impl PartnerMutation {
    /// Records a new partner. Needs the EDITOR role.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new partner.")] input: CreatePartnerInput,
    ) -> ApiResult<Partner> {
        let fields = Fields {
            slug: input.slug,
            name_en: input.name_en,
            name_fr: input.name_fr,
            acronym_en: input.acronym_en,
            acronym_fr: input.acronym_fr,
            kind: input.kind,
            sector: input.sector,
            country_code: input.country_code,
            website: input.website,
            description_en: input.description_en,
            description_fr: input.description_fr,
            source_url: input.source_url,
        }
        .checked()?;
        let mut write = Write::begin(ctx).await?;
        let txn = &write.txn;
        ensure_unique::<partner::Entity>(txn, partner::Column::Slug, &fields.slug, None, "input.slug").await?;
        let parent_id = checked_parent(txn, None, input.parent_id.as_ref()).await?;
        let crime_areas = crime_area_ids(txn, input.crime_areas.as_deref().unwrap_or_default()).await?;
        let slug = fields.slug.clone();
        let mut row = partner::ActiveModel {
            version: Set(1),
            created_at: Set(write.now),
            updated_at: Set(write.now),
            ..Default::default()
        };
        fields.set(&mut row, parent_id);
        let row = row.insert(txn).await.map_err(unique_violation::<partner::Entity>(
            partner::Column::Slug,
            &slug,
            "input.slug",
        ))?;
        replace_links(
            txn,
            partner_crime_area::Column::PartnerId,
            row.id,
            crime_area_links(row.id, &crime_areas, write.now),
        )
        .await?;
        let after = partner_snapshot(txn, &row).await?;
        write.record(RecordKind::Partner, row.id, ChangeAction::Create, None, Some(after));
        write.commit().await?;
        Ok(Partner::one(row))
    }

    /// Changes a partner. Needs the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn update_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdatePartnerInput,
    ) -> ApiResult<Partner> {
        let id = id::decode_as("input.id", Partner::TYPE_NAME, &input.id)?;
        let mut write = Write::begin(ctx).await?;
        let version = write.claim(RecordKind::Partner, id, input.expected_version).await?;
        let txn = &write.txn;
        let current = partner::Entity::find_by_id(id).one(txn).await?.ok_or_else(|| not_found(RecordKind::Partner))?;
        let before = before::<partner::Entity>(partner_snapshot(txn, &current).await?, input.expected_version);
        let fields = Fields {
            slug: required("input.slug", current.slug.clone(), input.slug)?,
            name_en: required("input.nameEn", current.name_en.clone(), input.name_en)?,
            name_fr: required("input.nameFr", current.name_fr.clone(), input.name_fr)?,
            acronym_en: patch(current.acronym_en.clone(), input.acronym_en),
            acronym_fr: patch(current.acronym_fr.clone(), input.acronym_fr),
            kind: required("input.kind", current.kind, input.kind)?,
            sector: required("input.sector", current.sector, input.sector)?,
            country_code: patch(current.country_code.clone(), input.country_code),
            website: patch(current.website.clone(), input.website),
            description_en: patch(current.description_en.clone(), input.description_en),
            description_fr: patch(current.description_fr.clone(), input.description_fr),
            source_url: patch(current.source_url.clone(), input.source_url),
        }
        .checked()?;
        ensure_unique::<partner::Entity>(txn, partner::Column::Slug, &fields.slug, Some(id), "input.slug").await?;
        let parent_id = match input.parent_id.as_opt_ref() {
            None => current.parent_id,
            Some(parent) => {
                write.lock_partner_tree().await?;
                checked_parent(&write.txn, Some(id), parent).await?
            }
        };
        let txn = &write.txn;
        let slug = fields.slug.clone();
        let mut row: partner::ActiveModel = current.into();
        fields.set(&mut row, parent_id);
        row.version = Set(version);
        row.updated_at = Set(write.now);
        let row = row.update(txn).await.map_err(unique_violation::<partner::Entity>(
            partner::Column::Slug,
            &slug,
            "input.slug",
        ))?;
        if let Some(slugs) = &input.crime_areas {
            let crime_areas = crime_area_ids(txn, slugs).await?;
            replace_links(
                txn,
                partner_crime_area::Column::PartnerId,
                id,
                crime_area_links(id, &crime_areas, write.now),
            )
            .await?;
        }
        let after = partner_snapshot(txn, &row).await?;
        write.record(RecordKind::Partner, id, ChangeAction::Update, Some(before), Some(after));
        write.commit().await?;
        Ok(Partner::one(row))
    }

    /// Deletes a partner. Refused with `CONFLICT` while partners under it,
    /// its agreements or the fundings it provides exist, unless `cascade`
    /// is true: then all of those go too (agreements with their projects,
    /// projects with their fundings), each recorded in the history. Needs
    /// the EDITOR role and the version you read.
    #[graphql(guard = "RoleGuard(Role::Editor)")]
    async fn delete_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to delete (global id).")] id: ID,
        #[graphql(desc = "The `version` you read.")] expected_version: i32,
        #[graphql(desc = "Also delete everything that depends on it.", default_with = "Some(false)")] cascade: Option<
            bool,
        >,
    ) -> ApiResult<Deletion> {
        let cascade = cascade.unwrap_or(false);
        let row_id = id::decode_as("id", Partner::TYPE_NAME, &id)?;
        let mut write = Write::begin(ctx).await?;
        write.claim(RecordKind::Partner, row_id, expected_version).await?;
        write.lock_for_delete(RecordKind::Partner, row_id).await?;
        write.lock_partner_tree().await?;
        let txn = &write.txn;
        let tree = subtree(txn, row_id).await?;
        let partner_ids: Vec<i64> = tree.iter().map(|&(id, _)| id).collect();
        let agreements = rows_to_delete::<agreement::Entity>(txn, agreement::Column::PartnerId, &partner_ids).await?;
        let agreement_ids: Vec<i64> = agreements.iter().map(|a| a.id).collect();
        let projects = rows_to_delete::<project::Entity>(txn, project::Column::AgreementId, &agreement_ids).await?;
        let project_ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
        let mut fundings: BTreeMap<i64, funding::Model> = BTreeMap::new();
        let provided = rows_to_delete::<funding::Entity>(txn, funding::Column::FunderId, &partner_ids).await?;
        if !cascade && (tree.len() > 1 || !agreements.is_empty() || !provided.is_empty()) {
            return Err(ApiError::conflict(
                "id",
                format!(
                    "the partner has {} partner(s) under it, {} agreement(s) and provides {} funding(s); \
                     delete or move those first, or pass `cascade: true`",
                    tree.len() - 1,
                    agreements.len(),
                    provided.len()
                ),
            ));
        }
        for f in provided
            .into_iter()
            .chain(rows_to_delete::<funding::Entity>(txn, funding::Column::ProjectId, &project_ids).await?)
        {
            fundings.insert(f.id, f);
        }
        let funding_ids: Vec<i64> = fundings.keys().copied().collect();
        let partners = rows_to_delete::<partner::Entity>(txn, partner::Column::Id, &partner_ids).await?;

        // Dependents before what they depend on.
        delete_project_links(txn, &project_ids).await?;
        delete_where::<funding::Entity>(txn, funding::Column::Id, &funding_ids).await?;
        delete_where::<project::Entity>(txn, project::Column::Id, &project_ids).await?;
        delete_where::<agreement::Entity>(txn, agreement::Column::Id, &agreement_ids).await?;
        delete_where::<partner_crime_area::Entity>(txn, partner_crime_area::Column::PartnerId, &partner_ids).await?;
        let mut by_depth = tree.clone();
        by_depth.sort_by_key(|&(_, depth)| std::cmp::Reverse(depth));
        for (id, _) in by_depth {
            delete_where::<partner::Entity>(txn, partner::Column::Id, &[id]).await?;
        }

        let mut deleted = Vec::new();
        for p in partners.iter().filter(|p| p.id == row_id).chain(partners.iter().filter(|p| p.id != row_id)) {
            let snapshot = snapshot(p)?;
            let before = if p.id == row_id { before::<partner::Entity>(snapshot, expected_version) } else { snapshot };
            write.record(RecordKind::Partner, p.id, ChangeAction::Delete, Some(before), None);
            deleted.push(ID(id::encode(Partner::TYPE_NAME, p.id)));
        }
        for a in &agreements {
            let before = Some(snapshot(a)?);
            write.record(RecordKind::Agreement, a.id, ChangeAction::Delete, before, None);
        }
        for p in &projects {
            let before = Some(snapshot(p)?);
            write.record(RecordKind::Project, p.id, ChangeAction::Delete, before, None);
        }
        for f in fundings.values() {
            let before = Some(snapshot(f)?);
            write.record(RecordKind::Funding, f.id, ChangeAction::Delete, before, None);
        }
        write.commit().await?;
        deleted.extend(global_ids(RecordKind::Agreement, &agreement_ids));
        deleted.extend(global_ids(RecordKind::Project, &project_ids));
        deleted.extend(global_ids(RecordKind::Funding, &funding_ids));
        Ok(Deletion { id, database_id: row_id, deleted })
    }
}
