//! Synthetic data of any size, deterministic for a given seed: the shape of
//! the real registry (partners → agreements → projects → fundings) at scale.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::enums::{AgreementKind, AgreementStatus, FundingKind, FundingStatus, PartnerKind, ProjectStatus, Sector};
use entity::{
    agreement, crime_area, funding, partner, policing_goal, project, project_country, project_crime_area,
    project_policing_goal,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbErr, EntityTrait, Iterable, PaginatorTrait, QuerySelect, Set, TransactionSession,
    TransactionTrait,
};

use super::dataset::Counts;

/// What synthetic partners and projects work on, in English and French.
const TOPICS: [(&str, &str); 6] = [
    ("border security", "la sécurité des frontières"),
    ("counter-terrorism", "la lutte contre le terrorisme"),
    ("cybercrime", "la cybercriminalité"),
    ("drug trafficking", "le trafic de stupéfiants"),
    ("environmental crime", "la criminalité environnementale"),
    ("trafficking in human beings", "la traite des êtres humains"),
];

/// Countries synthetic partners sit in and projects benefit (ISO 3166-1 alpha-2).
const COUNTRIES: [&str; 12] = ["FR", "NE", "ML", "IQ", "CO", "BR", "KE", "ID", "UA", "PH", "SN", "TD"];

/// Every value of an enum but `UNKNOWN`: synthetic records know where
/// they stand, and the sets stay as they were before `UNKNOWN` existed.
fn known<E: Iterable + ActiveEnum<Value = String>>() -> Vec<E> {
    E::iter().filter(|value| value.to_value() != "UNKNOWN").collect()
}

/// The ids of the crime areas and Global Policing Goals, written from the
/// real dataset first if the registry has none yet.
async fn reference_ids(txn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(Vec<i64>, Vec<i64>), DbErr> {
    if crime_area::Entity::find().count(txn).await? == 0 {
        let data = super::dataset::parse()?;
        let sources = super::dataset::insert_sources(txn, &data, now).await?;
        super::dataset::insert_crime_areas(txn, &data, &sources, now).await?;
        super::dataset::insert_policing_goals(txn, &data, &sources, now).await?;
    }
    let areas = crime_area::Entity::find().select_only().column(crime_area::Column::Id).into_tuple().all(txn).await?;
    let goals =
        policing_goal::Entity::find().select_only().column(policing_goal::Column::Id).into_tuple().all(txn).await?;
    if areas.is_empty() || goals.is_empty() {
        return Err(DbErr::Custom("the registry has no crime areas or policing goals to link projects to".into()));
    }
    Ok((areas, goals))
}

/// Rows per INSERT: under both backends' bind-parameter limits for every table.
const BATCH: usize = 1_000;

/// How much to generate.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub partners: usize,
    pub agreements_per_partner: usize,
    pub projects_per_agreement: usize,
    pub fundings_per_project: usize,
    /// How many partners fund projects. Donors are few and their number
    /// does not grow with the registry's (one funder in the real dataset;
    /// in the world, states and a few institutions), so fundings draw
    /// their funder from this many partners, spread evenly over them, or
    /// from every partner when there are fewer.
    pub donors: usize,
}

impl Shape {
    /// Donors in the default shape.
    pub const DONORS: usize = 100;

    /// The default shape: 10 agreements a partner, 5 projects an agreement,
    /// 4 fundings a project, funded by `DONORS` of the partners.
    pub fn with_partners(partners: usize) -> Self {
        Shape {
            partners,
            agreements_per_partner: 10,
            projects_per_agreement: 5,
            fundings_per_project: 4,
            donors: Self::DONORS,
        }
    }

    /// Rows this shape writes, all tables together (a project's three links included).
    pub fn total_rows(&self) -> usize {
        let agreements = self.partners * self.agreements_per_partner;
        let projects = agreements * self.projects_per_agreement;
        self.partners + agreements + projects * 4 + projects * self.fundings_per_project
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Writes `shape` in one transaction, `BATCH` rows per statement; `progress`
/// is told how many rows each batch wrote. Keys are prefixed with the seed,
/// so two sets with different seeds can live side by side.
pub async fn load<C: TransactionTrait>(
    db: &C,
    shape: Shape,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Result<Counts, DbErr> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let now = Utc::now();
    let epoch = NaiveDate::from_ymd_opt(1990, 1, 1).ok_or_else(|| DbErr::Custom("bad epoch".into()))?;
    let kinds: Vec<PartnerKind> = PartnerKind::iter().collect();
    let txn = db.begin().await?;
    let (areas, goals) = reference_ids(&txn, now).await?;

    let mut partner_ids = Vec::with_capacity(shape.partners);
    for chunk in (0..shape.partners).collect::<Vec<_>>().chunks(BATCH) {
        let rows = chunk.iter().map(|&i| {
            let kind = pick(&mut rng, &kinds);
            let sector = if matches!(kind, PartnerKind::Company | PartnerKind::Ngo | PartnerKind::Foundation) {
                Sector::Private
            } else {
                Sector::Public
            };
            partner::ActiveModel {
                slug: Set(format!("s{seed}-partner-{i}")),
                name_en: Set(format!("Synthetic partner {i}")),
                name_fr: Set(format!("Partenaire synthétique {i}")),
                acronym_en: Set(Some(format!("SP{i}"))),
                acronym_fr: Set(Some(format!("PS{i}"))),
                description_en: Set(Some(format!("Synthetic partner working on {}.", pick(&mut rng, &TOPICS).0))),
                description_fr: Set(Some(format!(
                    "Partenaire synthétique travaillant sur {}.",
                    pick(&mut rng, &TOPICS).1
                ))),
                kind: Set(kind),
                sector: Set(sector),
                country_code: Set(Some(pick(&mut rng, &COUNTRIES).to_owned())),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .with_search_keys()
        });
        let inserted = partner::Entity::insert_many(rows.collect::<Vec<_>>()).exec_with_returning(&txn).await?;
        progress(inserted.len());
        partner_ids.extend(sorted_ids(inserted.into_iter().map(|m| (m.slug, m.id))));
    }

    let mut agreement_ids = Vec::new();
    let agreement_total = shape.partners * shape.agreements_per_partner;
    for chunk in (0..agreement_total).collect::<Vec<_>>().chunks(BATCH) {
        let rows = chunk.iter().map(|&i| {
            let signed = epoch + Duration::days(rng.random_range(0..12_000));
            agreement::ActiveModel {
                partner_id: Set(partner_ids[i / shape.agreements_per_partner]),
                reference: Set(format!("S{seed}-AGR-{i:08}")),
                title_en: Set(format!("Synthetic agreement {i}")),
                title_fr: Set(format!("Accord synthétique {i}")),
                kind: Set(pick(&mut rng, &known::<AgreementKind>())),
                status: Set(pick(&mut rng, &known::<AgreementStatus>())),
                signed_year: Set(Some(chrono::Datelike::year(&signed))),
                signed_on: Set(Some(signed)),
                effective_from: Set(Some(signed + Duration::days(30))),
                expires_on: Set(rng.random_bool(0.5).then(|| signed + Duration::days(3_650))),
                summary_en: Set(None),
                summary_fr: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .with_search_keys()
        });
        let inserted = agreement::Entity::insert_many(rows.collect::<Vec<_>>()).exec_with_returning(&txn).await?;
        progress(inserted.len());
        agreement_ids.extend(sorted_ids(inserted.into_iter().map(|m| (m.reference, m.id))));
    }

    let mut project_ids = Vec::new();
    let project_total = agreement_total * shape.projects_per_agreement;
    for chunk in (0..project_total).collect::<Vec<_>>().chunks(BATCH) {
        let rows = chunk.iter().map(|&i| {
            let starts = epoch + Duration::days(rng.random_range(0..12_000));
            let topic = pick(&mut rng, &TOPICS);
            project::ActiveModel {
                agreement_id: Set(agreement_ids[i / shape.projects_per_agreement]),
                code: Set(format!("S{seed}-PRJ-{i:08}")),
                name_en: Set(format!("Synthetic project {i}")),
                name_fr: Set(format!("Projet synthétique {i}")),
                status: Set(pick(&mut rng, &known::<ProjectStatus>())),
                starts_on: Set(Some(starts)),
                ends_on: Set(Some(starts + Duration::days(rng.random_range(90..2_000)))),
                description_en: Set(Some(format!("Synthetic project on {}.", topic.0))),
                description_fr: Set(Some(format!("Projet synthétique sur {}.", topic.1))),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .with_search_keys()
        });
        let inserted = project::Entity::insert_many(rows.collect::<Vec<_>>()).exec_with_returning(&txn).await?;
        progress(inserted.len());
        project_ids.extend(sorted_ids(inserted.into_iter().map(|m| (m.code, m.id))));
    }

    // Every project addresses a crime area, serves a goal and benefits a
    // country, so filters on those find something at every scale.
    for chunk in project_ids.chunks(BATCH) {
        let links = chunk.iter().map(|&project| project_crime_area::ActiveModel {
            project_id: Set(project),
            crime_area_id: Set(pick(&mut rng, &areas)),
            created_at: Set(now),
            updated_at: Set(now),
        });
        project_crime_area::Entity::insert_many(links.collect::<Vec<_>>()).exec_without_returning(&txn).await?;
        let links = chunk.iter().map(|&project| project_policing_goal::ActiveModel {
            project_id: Set(project),
            policing_goal_id: Set(pick(&mut rng, &goals)),
            created_at: Set(now),
            updated_at: Set(now),
        });
        project_policing_goal::Entity::insert_many(links.collect::<Vec<_>>()).exec_without_returning(&txn).await?;
        let links = chunk.iter().map(|&project| project_country::ActiveModel {
            project_id: Set(project),
            country_code: Set(pick(&mut rng, &COUNTRIES).to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        project_country::Entity::insert_many(links.collect::<Vec<_>>()).exec_without_returning(&txn).await?;
        progress(3 * chunk.len());
    }

    let currencies = ["EUR", "USD", "GBP", "CHF", "JPY"];
    let funding_total = project_total * shape.fundings_per_project;
    let donors = donor_pool(&partner_ids, shape.donors);
    if donors.is_empty() && funding_total > 0 {
        return Err(DbErr::Custom("fundings need at least one partner to fund them".into()));
    }
    for chunk in (0..funding_total).collect::<Vec<_>>().chunks(BATCH) {
        let rows = chunk.iter().map(|&i| {
            // One in ten amounts is undisclosed, as in real registries.
            let disclosed = rng.random_bool(0.9);
            funding::ActiveModel {
                project_id: Set(project_ids[i / shape.fundings_per_project]),
                funder_id: Set(pick(&mut rng, &donors)),
                kind: Set(pick(&mut rng, &known::<FundingKind>())),
                status: Set(pick(&mut rng, &known::<FundingStatus>())),
                amount_minor: Set(disclosed.then(|| rng.random_range(1_000..500_000_000))),
                currency: Set(Some(pick(&mut rng, &currencies).to_owned())),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        let inserted = funding::Entity::insert_many(rows.collect::<Vec<_>>()).exec_without_returning(&txn).await?;
        progress(inserted as usize);
    }

    txn.commit().await?;
    Ok(Counts {
        partners: shape.partners,
        agreements: agreement_total,
        projects: project_total,
        fundings: funding_total,
        // Linked to, not written (unless the registry had none).
        crime_areas: areas.len(),
        policing_goals: goals.len(),
    })
}

/// `donors` of `partners`, evenly spaced, or all of them when there are
/// no more than `donors`.
fn donor_pool(partners: &[i64], donors: usize) -> Vec<i64> {
    if donors == 0 {
        return Vec::new();
    }
    let step = (partners.len() / donors).max(1);
    partners.iter().step_by(step).take(donors).copied().collect()
}

/// Ids in the order of their zero-padded or numbered keys, whatever order
/// `RETURNING` gave them in.
fn sorted_ids(rows: impl Iterator<Item = (String, i64)>) -> Vec<i64> {
    let mut rows: Vec<(String, i64)> = rows.collect();
    rows.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    rows.into_iter().map(|(_, id)| id).collect()
}
