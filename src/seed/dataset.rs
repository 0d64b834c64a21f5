//! The real dataset: INTERPOL's partners, agreements, projects and fundings
//! as the public sources state them, compiled into the binary.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{AgreementKind, AgreementStatus, FundingKind, FundingStatus, PartnerKind, ProjectStatus, Sector};
use entity::{
    agreement, crime_area, funding, partner, partner_crime_area, policing_goal, project, project_country,
    project_crime_area, project_policing_goal,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set, TransactionSession, TransactionTrait};
use serde::Deserialize;

/// The dataset file, as shipped.
pub const REGISTRY_JSON: &str = include_str!("../../data/registry.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub sources: Vec<Source>,
    pub crime_areas: Vec<CrimeArea>,
    pub policing_goals: Vec<PolicingGoal>,
    pub partners: Vec<Partner>,
    pub agreements: Vec<Agreement>,
    pub projects: Vec<Project>,
    pub fundings: Vec<Funding>,
}

#[derive(Debug, Deserialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrimeArea {
    pub slug: String,
    pub name_en: String,
    pub name_fr: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicingGoal {
    pub number: i32,
    pub name_en: String,
    pub name_fr: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    pub slug: String,
    pub name_en: String,
    pub name_fr: String,
    pub acronym_en: Option<String>,
    pub acronym_fr: Option<String>,
    pub kind: PartnerKind,
    pub sector: Sector,
    pub parent: Option<String>,
    pub country_code: Option<String>,
    pub website: Option<String>,
    pub description_en: Option<String>,
    pub description_fr: Option<String>,
    #[serde(default)]
    pub crime_areas: Vec<String>,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub reference: String,
    pub partner: String,
    pub title_en: String,
    pub title_fr: String,
    pub kind: AgreementKind,
    pub status: AgreementStatus,
    pub signed_year: Option<i32>,
    pub signed_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub summary_en: Option<String>,
    pub summary_fr: Option<String>,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub code: String,
    pub agreement: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: Option<String>,
    pub description_fr: Option<String>,
    pub status: ProjectStatus,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub crime_areas: Vec<String>,
    #[serde(default)]
    pub policing_goals: Vec<i32>,
    #[serde(default)]
    pub countries: Vec<String>,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Funding {
    pub project: String,
    pub funder: String,
    pub kind: FundingKind,
    pub status: FundingStatus,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub programme: Option<String>,
    pub committed_on: Option<NaiveDate>,
    pub source: String,
}

/// How many records of each kind were written.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub crime_areas: usize,
    pub policing_goals: usize,
    pub partners: usize,
    pub agreements: usize,
    pub projects: usize,
    pub fundings: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} partners, {} agreements, {} projects, {} fundings, {} crime areas, {} policing goals",
            self.partners, self.agreements, self.projects, self.fundings, self.crime_areas, self.policing_goals
        )
    }
}

/// Writes the dataset's crime areas; returns their ids by slug.
pub async fn insert_crime_areas<'a>(
    txn: &impl ConnectionTrait,
    data: &'a Dataset,
    now: DateTime<Utc>,
) -> Result<HashMap<&'a str, i64>, DbErr> {
    let mut ids = HashMap::new();
    for c in &data.crime_areas {
        let row = crime_area::ActiveModel {
            slug: Set(c.slug.clone()),
            name_en: Set(c.name_en.clone()),
            name_fr: Set(c.name_fr.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        ids.insert(c.slug.as_str(), row.id);
    }
    Ok(ids)
}

/// Writes the seven Global Policing Goals; returns their ids by number.
pub async fn insert_policing_goals(
    txn: &impl ConnectionTrait,
    data: &Dataset,
    now: DateTime<Utc>,
) -> Result<HashMap<i32, i64>, DbErr> {
    let mut ids = HashMap::new();
    for g in &data.policing_goals {
        let row = policing_goal::ActiveModel {
            number: Set(g.number),
            name_en: Set(g.name_en.clone()),
            name_fr: Set(g.name_fr.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        ids.insert(g.number, row.id);
    }
    Ok(ids)
}

/// Parses the shipped dataset.
pub fn parse() -> Result<Dataset, DbErr> {
    serde_json::from_str(REGISTRY_JSON).map_err(|e| DbErr::Custom(format!("data/registry.json is invalid: {e}")))
}

/// Writes the whole dataset in one transaction: all of it or nothing.
pub async fn load<C: TransactionTrait>(db: &C) -> Result<Counts, DbErr> {
    let data = parse()?;
    let txn = db.begin().await?;
    let now = Utc::now();
    let missing = |what: &str, key: &str| DbErr::Custom(format!("data/registry.json: unknown {what} `{key}`"));
    let source_urls: HashMap<&str, Option<String>> =
        data.sources.iter().map(|s| (s.key.as_str(), s.url.clone())).collect();
    let url = |key: &str| -> Result<Option<String>, DbErr> {
        source_urls.get(key).cloned().ok_or_else(|| missing("source", key))
    };

    for source in data.crime_areas.iter().map(|c| &c.source).chain(data.policing_goals.iter().map(|g| &g.source)) {
        url(source)?;
    }
    let crime_areas = insert_crime_areas(&txn, &data, now).await?;
    let goals = insert_policing_goals(&txn, &data, now).await?;

    let mut partners: HashMap<&str, i64> = HashMap::new();
    for p in &data.partners {
        let parent_id = match &p.parent {
            Some(slug) => Some(*partners.get(slug.as_str()).ok_or_else(|| missing("parent partner", slug))?),
            None => None,
        };
        let row = partner::ActiveModel {
            slug: Set(p.slug.clone()),
            name_en: Set(p.name_en.clone()),
            name_fr: Set(p.name_fr.clone()),
            acronym_en: Set(p.acronym_en.clone()),
            acronym_fr: Set(p.acronym_fr.clone()),
            kind: Set(p.kind),
            sector: Set(p.sector),
            parent_id: Set(parent_id),
            country_code: Set(p.country_code.clone()),
            website: Set(p.website.clone()),
            description_en: Set(p.description_en.clone()),
            description_fr: Set(p.description_fr.clone()),
            source_url: Set(url(&p.source)?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        partners.insert(p.slug.as_str(), row.id);
        for slug in &p.crime_areas {
            let crime_area_id = *crime_areas.get(slug.as_str()).ok_or_else(|| missing("crime area", slug))?;
            partner_crime_area::Entity::insert(partner_crime_area::ActiveModel {
                partner_id: Set(row.id),
                crime_area_id: Set(crime_area_id),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }

    let mut agreements = HashMap::new();
    for a in &data.agreements {
        let partner_id = *partners.get(a.partner.as_str()).ok_or_else(|| missing("partner", &a.partner))?;
        let row = agreement::ActiveModel {
            partner_id: Set(partner_id),
            reference: Set(a.reference.clone()),
            title_en: Set(a.title_en.clone()),
            title_fr: Set(a.title_fr.clone()),
            kind: Set(a.kind),
            status: Set(a.status),
            signed_year: Set(a.signed_year),
            signed_on: Set(a.signed_on),
            effective_from: Set(a.effective_from),
            expires_on: Set(a.expires_on),
            summary_en: Set(a.summary_en.clone()),
            summary_fr: Set(a.summary_fr.clone()),
            source_url: Set(url(&a.source)?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        agreements.insert(a.reference.as_str(), row.id);
    }

    let mut projects = HashMap::new();
    for p in &data.projects {
        let agreement_id = *agreements.get(p.agreement.as_str()).ok_or_else(|| missing("agreement", &p.agreement))?;
        let row = project::ActiveModel {
            agreement_id: Set(agreement_id),
            code: Set(p.code.clone()),
            name_en: Set(p.name_en.clone()),
            name_fr: Set(p.name_fr.clone()),
            description_en: Set(p.description_en.clone()),
            description_fr: Set(p.description_fr.clone()),
            status: Set(p.status),
            starts_on: Set(p.starts_on),
            ends_on: Set(p.ends_on),
            source_url: Set(url(&p.source)?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        projects.insert(p.code.as_str(), row.id);
        for slug in &p.crime_areas {
            let crime_area_id = *crime_areas.get(slug.as_str()).ok_or_else(|| missing("crime area", slug))?;
            project_crime_area::Entity::insert(project_crime_area::ActiveModel {
                project_id: Set(row.id),
                crime_area_id: Set(crime_area_id),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        for number in &p.policing_goals {
            let goal_id = *goals.get(number).ok_or_else(|| missing("policing goal", &number.to_string()))?;
            project_policing_goal::Entity::insert(project_policing_goal::ActiveModel {
                project_id: Set(row.id),
                policing_goal_id: Set(goal_id),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        for code in &p.countries {
            project_country::Entity::insert(project_country::ActiveModel {
                project_id: Set(row.id),
                country_code: Set(code.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }

    for f in &data.fundings {
        funding::ActiveModel {
            project_id: Set(*projects.get(f.project.as_str()).ok_or_else(|| missing("project", &f.project))?),
            funder_id: Set(*partners.get(f.funder.as_str()).ok_or_else(|| missing("funder", &f.funder))?),
            kind: Set(f.kind),
            status: Set(f.status),
            amount_minor: Set(f.amount_minor),
            currency: Set(f.currency.clone()),
            programme: Set(f.programme.clone()),
            committed_on: Set(f.committed_on),
            source_url: Set(url(&f.source)?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }

    txn.commit().await?;
    Ok(Counts {
        crime_areas: data.crime_areas.len(),
        policing_goals: data.policing_goals.len(),
        partners: data.partners.len(),
        agreements: data.agreements.len(),
        projects: data.projects.len(),
        fundings: data.fundings.len(),
    })
}
