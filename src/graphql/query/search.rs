//! `search`: partners, agreements and projects by name, acronym, title or
//! description, in French or English, ignoring case and accents.
//!
//! Every searchable row keeps a normalised copy of its text (`search_text`)
//! and of its names (`search_names`, `|`-fenced), written by the entity on
//! save. A query is normalised the same way; each of its words must occur in
//! the text, and hits rank: exact name or acronym, then a name starting with
//! the query, then a name containing it, then the rest.

use async_graphql::{Context, Enum, Object, SimpleObject, Union};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DbBackend, EntityName, IdenStatic, Statement};
use serde_json::json;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::RowId;
use crate::graphql::context::db;
use crate::graphql::node::{NodeType, Wanted};
use crate::graphql::object::{Agreement, Partner, Project};
use crate::graphql::sql;
use crate::graphql::window::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Longest query accepted, in characters.
const MAX_QUERY: usize = 200;
/// Most words a query may have.
const MAX_WORDS: usize = 10;

/// What `search` can find.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SearchKind {
    /// Partners: names, acronyms, slugs, descriptions.
    Partner,
    /// Agreements: titles, references, summaries.
    Agreement,
    /// Projects: names, codes, descriptions.
    Project,
}

impl SearchKind {
    const ALL: [SearchKind; 3] = [SearchKind::Partner, SearchKind::Agreement, SearchKind::Project];

    /// The table searched, its id, its names key and its text key, as the entity names them.
    fn names(self) -> [&'static str; 4] {
        macro_rules! names {
            ($module:ident) => {{
                use entity::$module::{Column, Entity};
                [Entity.table_name(), Column::Id.as_str(), Column::SearchNames.as_str(), Column::SearchText.as_str()]
            }};
        }
        match self {
            SearchKind::Partner => names!(partner),
            SearchKind::Agreement => names!(agreement),
            SearchKind::Project => names!(project),
        }
    }

    fn order(self) -> i64 {
        match self {
            SearchKind::Partner => 1,
            SearchKind::Agreement => 2,
            SearchKind::Project => 3,
        }
    }
}

/// A record found by `search`.
#[derive(Union, Clone)]
pub enum SearchResult {
    Partner(Partner),
    Agreement(Agreement),
    Project(Project),
}

/// One hit with its cursor and rank.
#[derive(SimpleObject)]
pub struct SearchEdge {
    /// Pass this to `after` to continue after this hit.
    cursor: String,
    /// 0: the query is a name or acronym of the record; 1: a name starts with
    /// it; 2: a name contains it; 3: found in the rest of the text.
    rank: i32,
    /// The record found.
    node: SearchResult,
}

/// Where a page of hits stands.
#[derive(SimpleObject)]
pub struct SearchPageInfo {
    /// More hits follow this page.
    has_next_page: bool,
    /// The cursor of the last hit of this page, if any.
    end_cursor: Option<String>,
}

/// A page of search hits, best first.
pub struct SearchConnection {
    edges: Vec<SearchEdge>,
    has_next: bool,
    end_cursor: Option<String>,
    count: CountQuery,
}

/// A page of search hits, best first.
#[Object]
impl SearchConnection {
    /// The hits with their cursors and ranks.
    async fn edges(&self) -> &[SearchEdge] {
        &self.edges
    }

    /// The hits, without cursors.
    async fn nodes(&self) -> Vec<SearchResult> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }

    /// Where this page stands.
    async fn page_info(&self) -> SearchPageInfo {
        SearchPageInfo { has_next_page: self.has_next, end_cursor: self.end_cursor.clone() }
    }

    /// How many records match in all.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        self.count.run(db(ctx)?).await
    }
}

/// SQL text with its bound values, numbered for the backend.
struct SqlText {
    backend: DbBackend,
    sql: String,
    values: Vec<Value>,
}

impl SqlText {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.sql, self.values)
    }
}

/// The hits of every kind asked for, as `(kind, id, rank)` rows. Written
/// by hand: one `UNION ALL` ranking three tables by `LIKE` patterns reads
/// more plainly as SQL than built up through sea-query; the table and
/// column names are the entities'.
fn hits(backend: DbBackend, kinds: &[SearchKind], phrase: &str, words: &[String]) -> SqlText {
    let mut q = SqlText { backend, sql: String::new(), values: Vec::new() };
    let mut parts = Vec::new();
    for kind in kinds {
        let [t, id, names, text] = kind.names();
        let exact = q.bind(format!("%|{phrase}|%"));
        let prefix = q.bind(format!("%|{phrase}%"));
        let inside = q.bind(format!("%{phrase}%"));
        let mut part = format!(
            r#"SELECT CAST({} AS BIGINT) AS kind, "{t}"."{id}" AS id, CAST(CASE WHEN "{t}"."{names}" LIKE {exact} THEN 0 WHEN "{t}"."{names}" LIKE {prefix} THEN 1 WHEN "{t}"."{names}" LIKE {inside} THEN 2 ELSE 3 END AS BIGINT) AS rank FROM "{t}" WHERE "#,
            kind.order()
        );
        let conditions: Vec<String> =
            words.iter().map(|w| format!(r#""{t}"."{text}" LIKE {}"#, q.bind(format!("%{w}%")))).collect();
        part.push_str(&conditions.join(" AND "));
        parts.push(part);
    }
    q.sql = parts.join(" UNION ALL ");
    q
}

/// `totalCount`, run only when asked for.
struct CountQuery {
    backend: DbBackend,
    kinds: Vec<SearchKind>,
    phrase: String,
    words: Vec<String>,
}

impl CountQuery {
    async fn run(&self, db: &CountingDb) -> ApiResult<i64> {
        let mut q = hits(self.backend, &self.kinds, &self.phrase, &self.words);
        q.sql = format!("SELECT COUNT(*) AS n FROM ({}) hits", q.sql);
        let row = db.query_one_raw(q.statement()).await?;
        Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
    }
}

fn cursor(phrase: &str, kind: i64, rank: i64, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(json!({ "q": phrase, "r": rank, "k": kind, "i": id }).to_string())
}

fn decode_cursor(phrase: &str, cursor: &str) -> ApiResult<(i64, i64, i64)> {
    let invalid =
        || ApiError::bad_input("after", "`after` is not a cursor of this search; use a cursor from its edges");
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).map_err(|_| invalid())?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if v["q"].as_str() != Some(phrase) {
        return Err(ApiError::bad_input("after", "`after` comes from a search for other words"));
    }
    match (v["r"].as_i64(), v["k"].as_i64(), v["i"].as_i64()) {
        (Some(r), Some(k), Some(i)) => Ok((r, k, i)),
        _ => Err(invalid()),
    }
}

/// Fetches the found rows of one type and returns them by id.
async fn found<N: NodeType>(db: &CountingDb, ids: &[i64]) -> ApiResult<std::collections::HashMap<i64, N>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    // Each type's fields come through fragments: every column is read.
    let group = sql::fetch_by_ids::<N::Entity>(db, ids, Wanted::ALL).await?;
    Ok((0..group.rows().len()).map(|i| (group.rows()[i].row_id(), N::new(group.clone(), i))).collect())
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Partners, agreements and projects whose names, acronyms, codes,
    /// titles or descriptions — in French or English — contain every word of
    /// `query`, ignoring case and accents ("securite", "Sécurité" and
    /// "SECURITE" find the same records; "onudc" finds UNODC). Best hits
    /// first: an exact name or acronym, then names starting with the query,
    /// then names containing it, then the rest.
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to look for (at most 200 characters, 10 words).")] query: String,
        #[graphql(desc = "Only these kinds of record; all of them by default.")] kinds: Option<Vec<SearchKind>>,
        #[graphql(desc = "Return the first n hits (1–100; 20 by default).")] first: Option<i32>,
        #[graphql(desc = "Return hits after this cursor.")] after: Option<String>,
    ) -> ApiResult<SearchConnection> {
        if query.chars().count() > MAX_QUERY {
            return Err(ApiError::bad_input("query", format!("`query` is longer than {MAX_QUERY} characters")));
        }
        let phrase = entity::search::normalize(&query);
        let words: Vec<String> = phrase.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
        if words.is_empty() {
            return Err(ApiError::bad_input("query", "`query` needs at least one letter or digit"));
        }
        if words.len() > MAX_WORDS {
            return Err(ApiError::bad_input("query", format!("`query` has more than {MAX_WORDS} words")));
        }
        let size = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => match u64::try_from(n) {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_input(
                        "first",
                        format!("`first` must be between 1 and {MAX_PAGE_SIZE}, got {n}"),
                    ));
                }
            },
        };
        let after = after.map(|c| decode_cursor(&phrase, &c)).transpose()?;
        let mut kinds = kinds.unwrap_or_else(|| SearchKind::ALL.to_vec());
        kinds.sort_by_key(|k| k.order());
        kinds.dedup();
        let db = db(ctx)?;
        let backend = db.get_database_backend();

        let mut q = hits(backend, &kinds, &phrase, &words);
        let mut sql = format!("SELECT kind, id, rank FROM ({}) hits", q.sql);
        if let Some((r, k, i)) = after {
            // Bound in the order the placeholders appear: SQLite's are positional.
            let r1 = q.bind(r);
            let (r2, k1) = (q.bind(r), q.bind(k));
            let (r3, k2, i1) = (q.bind(r), q.bind(k), q.bind(i));
            sql.push_str(&format!(
                " WHERE rank > {r1} OR (rank = {r2} AND kind > {k1}) OR (rank = {r3} AND kind = {k2} AND id > {i1})"
            ));
        }
        sql.push_str(&format!(" ORDER BY rank, kind, id LIMIT {}", size + 1));
        q.sql = sql;
        let rows = db.query_all_raw(q.statement()).await?;
        let mut hits = rows
            .iter()
            .map(|r| Ok((r.try_get::<i64>("", "kind")?, r.try_get::<i64>("", "id")?, r.try_get::<i64>("", "rank")?)))
            .collect::<ApiResult<Vec<_>>>()?;
        let has_next = hits.len() as u64 > size;
        hits.truncate(size as usize);

        let ids_of =
            |kind: SearchKind| -> Vec<i64> { hits.iter().filter(|h| h.0 == kind.order()).map(|h| h.1).collect() };
        let mut partners = found::<Partner>(db, &ids_of(SearchKind::Partner)).await?;
        let mut agreements = found::<Agreement>(db, &ids_of(SearchKind::Agreement)).await?;
        let mut projects = found::<Project>(db, &ids_of(SearchKind::Project)).await?;
        let mut edges = Vec::with_capacity(hits.len());
        for &(kind, id, rank) in &hits {
            // A row deleted between the two statements is simply not a hit any more.
            let node = match kind {
                1 => partners.remove(&id).map(SearchResult::Partner),
                2 => agreements.remove(&id).map(SearchResult::Agreement),
                _ => projects.remove(&id).map(SearchResult::Project),
            };
            if let Some(node) = node {
                edges.push(SearchEdge { cursor: cursor(&phrase, kind, rank, id), rank: rank as i32, node });
            }
        }
        let end_cursor = hits.last().map(|&(kind, id, rank)| cursor(&phrase, kind, rank, id));
        Ok(SearchConnection { edges, has_next, end_cursor, count: CountQuery { backend, kinds, phrase, words } })
    }
}
