//! `search`: partners, agreements and projects by name, acronym, title or
//! description, in French or English, ignoring case and accents.
//!
//! Every searchable row keeps a normalised copy of its text (`search_text`)
//! and of its names (`search_names`, `|`-fenced), written by the entity on
//! save. A query is normalised the same way; each of its words must occur in
//! the text, and hits rank: exact name or acronym, then a name starting with
//! the query, then a name containing it, then the rest. Both keys are
//! indexed for substring matching (trigram indexes on PostgreSQL, FTS5
//! trigram tables on SQLite: migration `m20261204_000007_index_search`).

use async_graphql::{Context, Enum, Object, SimpleObject, Union};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::search::Searchable;
use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DbBackend, IdenStatic, Statement};
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

    /// Where this kind's hits are read, as the entity names it.
    fn source(self, backend: DbBackend) -> Source {
        fn of<E: Searchable>(backend: DbBackend) -> Source {
            Source {
                table: E::default().table_name(),
                id: E::ID.as_str(),
                names: E::NAMES.as_str(),
                text: E::TEXT.as_str(),
                // On PostgreSQL the trigram indexes are on the table's own keys.
                indexes: (backend != DbBackend::Postgres).then_some(E::SQLITE_INDEXES),
            }
        }
        match self {
            SearchKind::Partner => of::<entity::partner::Entity>(backend),
            SearchKind::Agreement => of::<entity::agreement::Entity>(backend),
            SearchKind::Project => of::<entity::project::Entity>(backend),
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

/// The table one kind of hit is read from, its id and its keys, and on
/// SQLite the FTS5 tables indexing each key.
struct Source {
    table: &'static str,
    id: &'static str,
    names: &'static str,
    text: &'static str,
    indexes: Option<(&'static str, &'static str)>,
}

/// What a branch reads from, in id order, and how it names its columns.
struct Reading {
    from: String,
    id: String,
    names: String,
    text: String,
}

impl Source {
    /// Reads the table in id order, filtering it, on PostgreSQL (the
    /// planner picks a trigram index or the primary key); on SQLite, reads
    /// the FTS5 index of `key` in rowid order, joined to the table for the
    /// conditions it does not serve.
    fn reading(&self, key: Key) -> Reading {
        let (table, id) = (self.table, self.id);
        let column = |name: &str| format!(r#"t."{name}""#);
        match self.indexes {
            None => Reading {
                from: format!(r#""{table}" AS t"#),
                id: column(id),
                names: column(self.names),
                text: column(self.text),
            },
            Some((names_index, text_index)) => {
                let index = match key {
                    Key::Names => names_index,
                    Key::Text => text_index,
                };
                let indexed = |name: &str| format!(r#"i."{name}""#);
                Reading {
                    from: format!(r#""{index}" AS i JOIN "{table}" AS t ON t."{id}" = i.rowid"#),
                    id: "i.rowid".to_owned(),
                    names: if key == Key::Names { indexed(self.names) } else { column(self.names) },
                    text: if key == Key::Text { indexed(self.text) } else { column(self.text) },
                }
            }
        }
    }
}

/// The key whose index drives a branch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Names,
    Text,
}

/// A `LIKE` pattern written into the statement as a literal. Bound as a
/// parameter, a pattern is unknown when PostgreSQL plans a prepared
/// statement once for every execution (as it does after five runs), and
/// that generic plan walks whole tables for ranks no row holds; written in,
/// each statement is planned for its own words. Only what normalising a
/// query can produce (ASCII letters, digits, single spaces) and the
/// pattern's own `%` and `|` may be written so: anything else is refused.
struct Pattern(String);

impl Pattern {
    fn new(pattern: String) -> ApiResult<Pattern> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ' ' | '%' | '|');
        if pattern.chars().all(allowed) {
            Ok(Pattern(pattern))
        } else {
            Err(ApiError::Internal(format!("a search pattern holds a character it may not: {pattern:?}")))
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}'", self.0)
    }
}

/// A name holds the phrase (ranks 0–2), and which rank that makes: 0 when
/// a name is the phrase, 1 when one starts with it, 2 otherwise.
fn named(names: &str, phrase: &str) -> ApiResult<(String, String)> {
    let [exact, prefix, inside] =
        [format!("%|{phrase}|%"), format!("%|{phrase}%"), format!("%{phrase}%")].map(Pattern::new);
    let (exact, prefix, inside) = (exact?, prefix?, inside?);
    Ok((
        format!("{names} LIKE {inside}"),
        format!("CASE WHEN {names} LIKE {exact} THEN 0 WHEN {names} LIKE {prefix} THEN 1 ELSE {NAMED} END"),
    ))
}

/// Every word occurs in the text.
fn words_condition(text: &str, words: &[String]) -> ApiResult<Vec<String>> {
    words.iter().map(|w| Ok(format!("{text} LIKE {}", Pattern::new(format!("%{w}%"))?))).collect()
}

/// The last rank of hits found among the names; rank 3 is the rest.
const NAMED: i64 = 2;

/// One page of hits, best first, as `(kind, id, rank)` rows; `None` when
/// the cursor is past every hit. Each kind is read twice: the records a
/// name of which holds the phrase (ranks 0–2; few, as a rule), and the
/// rest in id order, stopped after `limit` rows. So a page costs about the
/// same however many rows hold the words: the indexes find the rows, or the
/// primary key is walked until `limit` of them turn up, whichever the
/// database judges cheaper. Written by hand: the ranked branches read more
/// plainly as SQL than built up through sea-query; the table and column
/// names are the entities'.
fn page(
    backend: DbBackend,
    kinds: &[SearchKind],
    phrase: &str,
    words: &[String],
    after: Option<(i64, i64, i64)>,
    limit: u64,
) -> ApiResult<Option<SqlText>> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let mut q = SqlText { backend, sql: String::new(), values: Vec::new() };
    let mut branches = Vec::new();
    for kind in kinds {
        let k = kind.order();
        // Rows of this kind come after the cursor when (rank, kind, id) does.
        let (r, cursor_kind, i) = after.unwrap_or((-1, 0, 0));
        let kind_after = k.cmp(&cursor_kind);

        // Ranks 0–2: found through the names' index, ranked, then ordered.
        if r <= NAMED {
            let Reading { from, id, names, text } = kind.source(backend).reading(Key::Names);
            let (holds, rank) = named(&names, phrase)?;
            let mut conditions = vec![holds];
            conditions.extend(words_condition(&text, words)?);
            let past = match (after, kind_after) {
                (None, _) => String::new(),
                (Some(_), Greater) => format!(" WHERE rank >= {}", q.bind(r)),
                (Some(_), Equal) => {
                    let (r1, r2, i1) = (q.bind(r), q.bind(r), q.bind(i));
                    format!(" WHERE rank > {r1} OR (rank = {r2} AND id > {i1})")
                }
                (Some(_), Less) => format!(" WHERE rank > {}", q.bind(r)),
            };
            branches.push(format!(
                "SELECT * FROM (SELECT * FROM (SELECT CAST({k} AS BIGINT) AS kind, {id} AS id, CAST({rank} AS BIGINT) AS rank FROM {from} WHERE {}) AS named_{n}{past} ORDER BY rank, id LIMIT {limit}) AS tier_{n}",
                conditions.join(" AND "),
                n = branches.len(),
            ));
        }

        // Rank 3: the rest, found through the text's index, in id order.
        let id_after = match (after, kind_after) {
            (Some(_), Less) if r == NAMED + 1 => continue,
            (Some(_), Equal) if r == NAMED + 1 => Some(i),
            _ => None,
        };
        let Reading { from, id, names, text } = kind.source(backend).reading(Key::Text);
        let (holds, _) = named(&names, phrase)?;
        let mut conditions = vec![format!("NOT {holds}")];
        conditions.extend(words_condition(&text, words)?);
        if let Some(i) = id_after {
            conditions.push(format!("{id} > {}", q.bind(i)));
        }
        branches.push(format!(
            "SELECT * FROM (SELECT CAST({k} AS BIGINT) AS kind, {id} AS id, CAST({} AS BIGINT) AS rank FROM {from} WHERE {} ORDER BY {id} LIMIT {limit}) AS tier_{}",
            NAMED + 1,
            conditions.join(" AND "),
            branches.len(),
        ));
    }
    if branches.is_empty() {
        return Ok(None);
    }
    q.sql = format!("{} ORDER BY rank, kind, id LIMIT {limit}", branches.join(" UNION ALL "));
    Ok(Some(q))
}

/// `totalCount`, run only when asked for.
struct CountQuery {
    backend: DbBackend,
    kinds: Vec<SearchKind>,
    words: Vec<String>,
}

impl CountQuery {
    /// Counts every row holding the words: unlike a page, this reads them all.
    async fn run(&self, db: &CountingDb) -> ApiResult<i64> {
        let mut q = SqlText { backend: self.backend, sql: String::new(), values: Vec::new() };
        let mut parts = Vec::new();
        for kind in &self.kinds {
            let Reading { from, id, text, .. } = kind.source(self.backend).reading(Key::Text);
            let conditions = words_condition(&text, &self.words)?;
            parts.push(format!("SELECT {id} FROM {from} WHERE {}", conditions.join(" AND ")));
        }
        q.sql = format!("SELECT COUNT(*) AS n FROM ({}) AS hits", parts.join(" UNION ALL "));
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

        let rows = match page(backend, &kinds, &phrase, &words, after, size + 1)? {
            Some(q) => db.query_all_raw(q.statement()).await?,
            None => Vec::new(),
        };
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
        Ok(SearchConnection { edges, has_next, end_cursor, count: CountQuery { backend, kinds, words } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_pattern_refuses_what_normalising_cannot_produce() {
        assert_eq!(Pattern::new("%|un police|%".into()).map(|p| p.to_string()).ok(), Some("'%|un police|%'".into()));
        for bad in ["%o'brien%", "%a\\b%", "%UN%", "%é%", "%a_b%"] {
            assert!(Pattern::new(bad.into()).is_err(), "{bad:?}");
        }
    }

    proptest! {
        // Whatever a client types, the patterns made of it can be written in.
        #[test]
        fn every_normalised_query_makes_patterns_that_may_be_written_in(query in "\\PC{0,40}") {
            let phrase = entity::search::normalize(&query);
            let words: Vec<String> = phrase.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
            prop_assume!(!words.is_empty());
            prop_assert!(named("names", &phrase).is_ok());
            prop_assert!(words_condition("text", &words).is_ok());
        }
    }
}
