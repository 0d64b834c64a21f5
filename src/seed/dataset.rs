//! The real dataset: INTERPOL's partners, agreements, projects and fundings
//! as the public sources state them, compiled into the binary.

use std::collections::HashMap;

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use entity::source::SourceLink;
use entity::{
    agreement, agreement_source, crime_area, crime_area_source, funding, funding_source, partner, partner_crime_area,
    partner_source, policing_goal, policing_goal_source, project, project_country, project_crime_area,
    project_policing_goal, project_source, source,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ColumnType, ConnectionTrait, DbErr, EntityName, EntityTrait,
    IdenStatic, Iterable, Set, TransactionSession, TransactionTrait, Value,
};
use serde::Deserialize;

use super::provenance::{self, Facts};

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
#[serde(deny_unknown_fields)]
pub struct Source {
    pub key: String,
    pub title: String,
    /// The page's languages: `fr`, `en` or `fr+en`.
    pub lang: String,
    pub url: Option<String>,
}

/// A record's own columns, every key of it not read otherwise, as the file
/// names them (`nameEn` for `name_en`). They are written as they stand,
/// checked by the database's types: a key that names no column of the
/// table, a value its column cannot hold, or a column that may be null
/// and is not given (give `null`) stops the load.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Columns(serde_json::Map<String, serde_json::Value>);

impl Columns {
    /// Sets each column on `row`; `record` names the record in errors.
    fn set_on<A: ActiveModelTrait>(&self, row: &mut A, record: &str) -> Result<(), DbErr> {
        let table = <A::Entity as Default>::default().table_name();
        for (key, json) in &self.0 {
            let invalid = |why: String| DbErr::Custom(format!("data/registry.json: {table} {record}: `{key}` {why}"));
            let column = <A::Entity as EntityTrait>::Column::from_str(&snake_case(key))
                .map_err(|_| invalid(format!("names no column of {table}")))?;
            let value = value_of(column, json).map_err(|why| invalid(why.to_owned()))?;
            row.try_set(column, value).map_err(|e| invalid(e.to_string()))?;
        }
        for column in <A::Entity as EntityTrait>::Column::iter() {
            if column.def().is_null() && matches!(row.get(column), ActiveValue::NotSet) {
                return Err(DbErr::Custom(format!(
                    "data/registry.json: {table} {record} does not give `{}` (null when unknown)",
                    camel_case(column.as_str())
                )));
            }
        }
        Ok(())
    }
}

/// `nameEn` → `name_en`.
fn snake_case(key: &str) -> String {
    let mut snake = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// `name_en` → `nameEn`.
fn camel_case(column: &str) -> String {
    let mut camel = String::with_capacity(column.len());
    let mut upper = false;
    for c in column.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                camel.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => camel.push(c),
        }
    }
    camel
}

/// The file's JSON value as the column's type.
fn value_of(column: impl ColumnTrait, json: &serde_json::Value) -> Result<Value, &'static str> {
    use serde_json::Value as Json;
    let int = |json: &Json| json.as_i64().ok_or("must be an integer");
    let text = |json: &Json| json.as_str().map(str::to_owned).ok_or("must be a string");
    Ok(match (column.def().get_column_type(), json) {
        (ColumnType::BigInteger, Json::Null) => Value::BigInt(None),
        (ColumnType::BigInteger, json) => Value::BigInt(Some(int(json)?)),
        (ColumnType::Integer, Json::Null) => Value::Int(None),
        (ColumnType::Integer, json) => Value::Int(Some(i32::try_from(int(json)?).map_err(|_| "is out of range")?)),
        (ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_), Json::Null) => Value::String(None),
        (ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_), json) => Value::String(Some(text(json)?)),
        (ColumnType::Date, Json::Null) => Value::ChronoDate(None),
        (ColumnType::Date, json) => Value::ChronoDate(Some(
            NaiveDate::parse_from_str(&text(json)?, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD")?,
        )),
        _ => return Err("has a type the dataset does not write"),
    })
}

#[derive(Debug, Deserialize)]
pub struct CrimeArea {
    pub facts: Facts,
    #[serde(flatten)]
    pub columns: Columns,
}

#[derive(Debug, Deserialize)]
pub struct PolicingGoal {
    pub facts: Facts,
    #[serde(flatten)]
    pub columns: Columns,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    pub slug: String,
    /// The slug of the partner it is part of, listed before it.
    pub parent: Option<String>,
    #[serde(default)]
    pub crime_areas: Vec<String>,
    pub facts: Facts,
    #[serde(flatten)]
    pub columns: Columns,
}

#[derive(Debug, Deserialize)]
pub struct Agreement {
    pub reference: String,
    /// The partner's slug.
    pub partner: String,
    pub facts: Facts,
    #[serde(flatten)]
    pub columns: Columns,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub code: String,
    /// The agreement's reference.
    pub agreement: String,
    #[serde(default)]
    pub crime_areas: Vec<String>,
    #[serde(default)]
    pub policing_goals: Vec<i32>,
    #[serde(default)]
    pub countries: Vec<String>,
    pub facts: Facts,
    #[serde(flatten)]
    pub columns: Columns,
}

#[derive(Debug, Deserialize)]
pub struct Funding {
    /// The project's code.
    pub project: String,
    /// The funder's slug.
    pub funder: String,
    pub facts: Facts,
    #[serde(flatten)]
    pub columns: Columns,
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

/// The source pages as written: each key's row id and address.
pub struct Sources {
    order: Vec<String>,
    rows: HashMap<String, (i64, Option<String>)>,
}

impl Sources {
    /// The ids of the pages `facts` cite, and the first of their addresses
    /// (what the deprecated `sourceUrl` answers).
    fn cited(&self, facts: &Facts) -> (Vec<i64>, Option<String>) {
        let keys = facts.sources(&self.order);
        let rows: Vec<&(i64, Option<String>)> = keys.iter().filter_map(|key| self.rows.get(*key)).collect();
        (rows.iter().map(|(id, _)| *id).collect(), rows.iter().find_map(|(_, url)| url.clone()))
    }
}

/// Writes the dataset's source pages.
pub async fn insert_sources(txn: &impl ConnectionTrait, data: &Dataset, now: DateTime<Utc>) -> Result<Sources, DbErr> {
    let mut rows = HashMap::new();
    for s in &data.sources {
        let row = source::ActiveModel {
            key: Set(s.key.clone()),
            title: Set(s.title.clone()),
            languages: Set(s.lang.clone()),
            url: Set(s.url.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        rows.insert(s.key.clone(), (row.id, s.url.clone()));
    }
    Ok(Sources { order: data.sources.iter().map(|s| s.key.clone()).collect(), rows })
}

/// Writes the links of one record to the pages it cites.
async fn insert_links<L: SourceLink + Send>(
    txn: &impl ConnectionTrait,
    record_id: i64,
    source_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if source_ids.is_empty() {
        return Ok(());
    }
    let links = source_ids.iter().map(|&source_id| L::link(record_id, source_id, now));
    <L::Entity as EntityTrait>::insert_many(links).exec_without_returning(txn).await?;
    Ok(())
}

/// Writes the dataset's crime areas; returns their ids by slug.
pub async fn insert_crime_areas(
    txn: &impl ConnectionTrait,
    data: &Dataset,
    sources: &Sources,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    let mut ids = HashMap::new();
    for (i, c) in data.crime_areas.iter().enumerate() {
        let mut row = crime_area::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() };
        c.columns.set_on(&mut row, &format!("#{}", i + 1))?;
        row.reference_fields = Set(c.facts.reference_fields());
        let row = row.insert(txn).await?;
        let (source_ids, _) = sources.cited(&c.facts);
        insert_links::<crime_area_source::ActiveModel>(txn, row.id, &source_ids, now).await?;
        ids.insert(row.slug.clone(), row.id);
    }
    Ok(ids)
}

/// Writes the seven Global Policing Goals; returns their ids by number.
pub async fn insert_policing_goals(
    txn: &impl ConnectionTrait,
    data: &Dataset,
    sources: &Sources,
    now: DateTime<Utc>,
) -> Result<HashMap<i32, i64>, DbErr> {
    let mut ids = HashMap::new();
    for (i, g) in data.policing_goals.iter().enumerate() {
        let mut row = policing_goal::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() };
        g.columns.set_on(&mut row, &format!("#{}", i + 1))?;
        row.reference_fields = Set(g.facts.reference_fields());
        let row = row.insert(txn).await?;
        let (source_ids, _) = sources.cited(&g.facts);
        insert_links::<policing_goal_source::ActiveModel>(txn, row.id, &source_ids, now).await?;
        ids.insert(row.number, row.id);
    }
    Ok(ids)
}

/// Parses the shipped dataset, refusing it unless every fact has its
/// provenance (see [`provenance::problems`]).
pub fn parse() -> Result<Dataset, DbErr> {
    let invalid = |e: serde_json::Error| DbErr::Custom(format!("data/registry.json is invalid: {e}"));
    let file: serde_json::Value = serde_json::from_str(REGISTRY_JSON).map_err(invalid)?;
    let problems = provenance::problems(&file);
    if !problems.is_empty() {
        return Err(DbErr::Custom(format!("data/registry.json breaks its provenance rules:\n{}", problems.join("\n"))));
    }
    serde_json::from_value(file).map_err(invalid)
}

/// Writes the whole dataset in one transaction: all of it or nothing.
pub async fn load<C: TransactionTrait>(db: &C) -> Result<Counts, DbErr> {
    let data = parse()?;
    let txn = db.begin().await?;
    let now = Utc::now();
    let missing = |what: &str, key: &str| DbErr::Custom(format!("data/registry.json: unknown {what} `{key}`"));

    let sources = insert_sources(&txn, &data, now).await?;
    let crime_areas = insert_crime_areas(&txn, &data, &sources, now).await?;
    let goals = insert_policing_goals(&txn, &data, &sources, now).await?;

    let mut partners: HashMap<&str, i64> = HashMap::new();
    for p in &data.partners {
        let parent_id = match &p.parent {
            Some(slug) => Some(*partners.get(slug.as_str()).ok_or_else(|| missing("parent partner", slug))?),
            None => None,
        };
        let (source_ids, source_url) = sources.cited(&p.facts);
        let mut row = partner::ActiveModel {
            slug: Set(p.slug.clone()),
            parent_id: Set(parent_id),
            source_url: Set(source_url),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        p.columns.set_on(&mut row, &p.slug)?;
        row.reference_fields = Set(p.facts.reference_fields());
        let row = row.insert(&txn).await?;
        partners.insert(p.slug.as_str(), row.id);
        insert_links::<partner_source::ActiveModel>(&txn, row.id, &source_ids, now).await?;
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
        let (source_ids, source_url) = sources.cited(&a.facts);
        let mut row = agreement::ActiveModel {
            partner_id: Set(partner_id),
            reference: Set(a.reference.clone()),
            source_url: Set(source_url),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        a.columns.set_on(&mut row, &a.reference)?;
        row.reference_fields = Set(a.facts.reference_fields());
        let row = row.insert(&txn).await?;
        agreements.insert(a.reference.as_str(), row.id);
        insert_links::<agreement_source::ActiveModel>(&txn, row.id, &source_ids, now).await?;
    }

    let mut projects = HashMap::new();
    for p in &data.projects {
        let agreement_id = *agreements.get(p.agreement.as_str()).ok_or_else(|| missing("agreement", &p.agreement))?;
        let (source_ids, source_url) = sources.cited(&p.facts);
        let mut row = project::ActiveModel {
            agreement_id: Set(agreement_id),
            code: Set(p.code.clone()),
            source_url: Set(source_url),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        p.columns.set_on(&mut row, &p.code)?;
        row.reference_fields = Set(p.facts.reference_fields());
        let row = row.insert(&txn).await?;
        projects.insert(p.code.as_str(), row.id);
        insert_links::<project_source::ActiveModel>(&txn, row.id, &source_ids, now).await?;
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

    for (i, f) in data.fundings.iter().enumerate() {
        let (source_ids, source_url) = sources.cited(&f.facts);
        let mut row = funding::ActiveModel {
            project_id: Set(*projects.get(f.project.as_str()).ok_or_else(|| missing("project", &f.project))?),
            funder_id: Set(*partners.get(f.funder.as_str()).ok_or_else(|| missing("funder", &f.funder))?),
            source_url: Set(source_url),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        f.columns.set_on(&mut row, &format!("#{} of {}", i + 1, f.project))?;
        row.reference_fields = Set(f.facts.reference_fields());
        let row = row.insert(&txn).await?;
        insert_links::<funding_source::ActiveModel>(&txn, row.id, &source_ids, now).await?;
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

#[cfg(test)]
mod tests {
    use super::{Columns, camel_case, snake_case};
    use entity::partner;
    use serde_json::json;

    #[test]
    fn file_keys_and_columns_name_each_other() {
        for (key, column) in [("nameEn", "name_en"), ("amountMinor", "amount_minor"), ("slug", "slug")] {
            assert_eq!(snake_case(key), column);
            assert_eq!(camel_case(column), key);
        }
    }

    /// What a record's keys say reaches the table, or the load stops with the key named.
    #[test]
    fn a_record_must_name_columns_hold_their_types_and_give_every_nullable_one() {
        let error = |record: serde_json::Value| {
            let columns: Columns = serde_json::from_value(record).expect("an object");
            let mut row = partner::ActiveModel::default();
            columns.set_on(&mut row, "test").err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(error(json!({ "noSuchColumn": 1 })).contains("`noSuchColumn` names no column of partner"));
        assert!(error(json!({ "nameEn": 42 })).contains("`nameEn` must be a string"));
        assert!(error(json!({ "kind": "NOT_A_KIND" })).contains("`kind`"));
        assert!(error(json!({ "nameEn": "A" })).contains("does not give `acronymEn`"));
    }
}
