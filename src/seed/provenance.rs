//! Where each fact of the dataset comes from.
//!
//! Every record of `data/registry.json` carries `facts`: for each of its
//! keys that holds a value (the key that names the record aside), either
//! the passages of the source pages that state it, or `"reference"` when
//! no page does and the value is reference knowledge, which only the keys
//! of [`TABLES`] may be. The loader refuses a file that breaks these rules
//! ([`problems`]); `data/SOURCES.md` is printed from the same facts
//! ([`sources_markdown`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

/// A table of the dataset file, as provenance sees it.
#[derive(Debug)]
pub struct Table {
    /// Its key in the file.
    pub key: &'static str,
    /// The key that names a record (ours, not a fact), if it has one.
    pub identifier: Option<&'static str>,
    /// The keys whose value may be reference knowledge.
    pub reference: &'static [&'static str],
}

/// Every table of the file but `sources`, and what may be reference in each
/// (data/FORMAT.md lists the same; a test holds the two to each other).
pub const TABLES: [Table; 6] = [
    Table { key: "crimeAreas", identifier: Some("slug"), reference: &["nameEn", "nameFr"] },
    Table { key: "policingGoals", identifier: Some("number"), reference: &["nameEn", "nameFr"] },
    Table {
        key: "partners",
        identifier: Some("slug"),
        reference: &[
            "nameEn",
            "nameFr",
            "acronymEn",
            "acronymFr",
            "kind",
            "sector",
            "parent",
            "countryCode",
            "website",
        ],
    },
    Table { key: "agreements", identifier: Some("reference"), reference: &[] },
    Table { key: "projects", identifier: Some("code"), reference: &["nameEn", "nameFr"] },
    Table { key: "fundings", identifier: None, reference: &["currency"] },
];

/// A record's facts: the provenance of each of its keys that holds a value.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Facts(BTreeMap<String, Provenance>);

/// Where one fact comes from.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Provenance {
    /// No cited page states it: reference knowledge (`"reference"`).
    Reference(ReferenceMark),
    /// The passages that state it.
    Stated(Citations),
}

/// The string `"reference"`.
#[derive(Debug, Deserialize)]
pub enum ReferenceMark {
    #[serde(rename = "reference")]
    Reference,
}

/// One passage, or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Citations {
    One(Citation),
    Many(Vec<Citation>),
}

impl Citations {
    fn all(&self) -> &[Citation] {
        match self {
            Citations::One(c) => std::slice::from_ref(c),
            Citations::Many(cs) => cs,
        }
    }
}

/// A passage of a source page that states a fact.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// The page's key among the file's `sources`.
    pub source: String,
    /// The words of the page that state the fact.
    pub passage: String,
}

impl Facts {
    /// The keys of the pages these facts cite, each once, in the order of
    /// `order` (the file's list of sources).
    pub fn sources<'a>(&self, order: &'a [String]) -> Vec<&'a str> {
        let cited = |key: &str| {
            self.0.values().any(|p| matches!(p, Provenance::Stated(c) if c.all().iter().any(|c| c.source == key)))
        };
        order.iter().map(String::as_str).filter(|key| cited(key)).collect()
    }

    /// The keys marked reference, space-separated: what a record's
    /// `reference_fields` column holds.
    pub fn reference_fields(&self) -> String {
        let keys: Vec<&str> =
            self.0.iter().filter(|(_, p)| matches!(p, Provenance::Reference(_))).map(|(key, _)| key.as_str()).collect();
        keys.join(" ")
    }
}

/// Whether a value counts as given: not null, not an empty list.
fn holds(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Array(items) => !items.is_empty(),
        _ => true,
    }
}

/// How a record is named in messages and in SOURCES.md.
fn record_name(table: &Table, index: usize, record: &Json) -> String {
    match table.identifier.map(|key| &record[key]) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => match (record["project"].as_str(), record["funder"].as_str()) {
            (Some(project), Some(funder)) => format!("#{} ({funder} → {project})", index + 1),
            _ => format!("#{}", index + 1),
        },
    }
}

/// Every way the file breaks the provenance rules, one message each; empty
/// when it keeps them all.
pub fn problems(file: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(top) = file.as_object() else {
        return vec!["the file is not a JSON object".to_owned()];
    };
    let sources: Vec<&str> =
        file["sources"].as_array().into_iter().flatten().filter_map(|s| s["key"].as_str()).collect();
    for key in top.keys().filter(|k| *k != "sources") {
        if !TABLES.iter().any(|t| t.key == key) {
            problems.push(format!("`{key}`: a table provenance does not know (add it to seed::provenance::TABLES)"));
        }
    }
    for table in &TABLES {
        for (index, record) in file[table.key].as_array().into_iter().flatten().enumerate() {
            let name = record_name(table, index, record);
            let mut problem = |message: String| problems.push(format!("{} {name}: {message}", table.key));
            let Some(keys) = record.as_object() else {
                problem("is not an object".to_owned());
                continue;
            };
            let facts: Facts = match serde_json::from_value(record.get("facts").cloned().unwrap_or(Json::Null)) {
                Ok(facts) => facts,
                Err(e) => {
                    problem(format!(
                        "`facts` must map keys to \"reference\" or to {{ source, passage }} citations: {e}"
                    ));
                    continue;
                }
            };
            for (key, value) in keys {
                if key == "facts" || Some(key.as_str()) == table.identifier {
                    continue;
                }
                match (holds(value), facts.0.contains_key(key)) {
                    (true, false) => problem(format!("`{key}` has a value but no provenance in `facts`")),
                    (false, true) => problem(format!("`{key}` has no value but has provenance in `facts`")),
                    _ => {}
                }
            }
            for (key, provenance) in &facts.0 {
                if Some(key.as_str()) == table.identifier {
                    problem(format!("`{key}` names the record; it is not a fact"));
                } else if !keys.contains_key(key) {
                    problem(format!("`facts` names `{key}`, which the record does not have"));
                }
                match provenance {
                    Provenance::Reference(_) if !table.reference.contains(&key.as_str()) => problem(format!(
                        "`{key}` is marked reference; data/FORMAT.md allows that in {} only for: {}",
                        table.key,
                        if table.reference.is_empty() { "no key".to_owned() } else { table.reference.join(", ") }
                    )),
                    Provenance::Reference(_) => {}
                    Provenance::Stated(citations) => {
                        if citations.all().is_empty() {
                            problem(format!("`{key}` cites no passage"));
                        }
                        for citation in citations.all() {
                            if !sources.contains(&citation.source.as_str()) {
                                problem(format!("`{key}` cites an unknown source `{}`", citation.source));
                            }
                            if citation.passage.trim().is_empty() {
                                problem(format!("`{key}` cites an empty passage of `{}`", citation.source));
                            }
                        }
                    }
                }
            }
        }
    }
    problems
}

/// A JSON value as one table cell.
fn cell(value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    text.replace('|', "\\|").replace('\n', " ")
}

/// `data/SOURCES.md`: every record and every fact, with the passage that
/// states it or its reference mark.
pub fn sources_markdown(file: &Json) -> String {
    let mut md = String::new();
    let mut line = |text: String| {
        md.push_str(&text);
        md.push('\n');
    };
    line("# Where each fact comes from".to_owned());
    line(String::new());
    line(
        "Every fact of `data/registry.json`, record by record, with the passage of the source page that states it, \
         or *reference* where no cited page does (reference knowledge: see FORMAT.md for the keys that may be). \
         Printed from the file's `facts` by `cargo run -- export-sources > data/SOURCES.md`; a test fails when the two disagree."
            .to_owned(),
    );
    line(String::new());
    line("## Sources".to_owned());
    line(String::new());
    line("| key | title | languages | address |".to_owned());
    line("|---|---|---|---|".to_owned());
    for source in file["sources"].as_array().into_iter().flatten() {
        line(format!(
            "| `{}` | {} | {} | {} |",
            cell(&source["key"]),
            cell(&source["title"]),
            cell(&source["lang"]),
            source["url"].as_str().map(|u| format!("<{u}>")).unwrap_or_else(|| "not known for sure".to_owned())
        ));
    }
    for table in &TABLES {
        line(String::new());
        line(format!("## {}", table.key));
        for (index, record) in file[table.key].as_array().into_iter().flatten().enumerate() {
            line(String::new());
            line(format!("### {}", record_name(table, index, record)));
            line(String::new());
            line("| fact | value | source | passage |".to_owned());
            line("|---|---|---|---|".to_owned());
            let facts: Facts = serde_json::from_value(record["facts"].clone()).unwrap_or_default();
            for (key, provenance) in &facts.0 {
                let value = cell(&record[key]);
                match provenance {
                    Provenance::Reference(_) => line(format!("| `{key}` | {value} | *reference* | |")),
                    Provenance::Stated(citations) => {
                        for (i, c) in citations.all().iter().enumerate() {
                            let value = if i == 0 { value.as_str() } else { "〃" };
                            let passage = cell(&Json::String(c.passage.clone()));
                            line(format!("| `{key}` | {value} | `{}` | « {passage} » |", c.source));
                        }
                    }
                }
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::{TABLES, problems, sources_markdown};
    use serde_json::{Value, json};

    fn shipped() -> Value {
        serde_json::from_str(crate::seed::dataset::REGISTRY_JSON).expect("data/registry.json is JSON")
    }

    #[test]
    fn the_shipped_dataset_keeps_the_provenance_rules() {
        assert_eq!(problems(&shipped()), Vec::<String>::new());
    }

    /// The file's first partner with one change made to it.
    fn with_first_partner(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<String> {
        let mut file = shipped();
        let partner = file["partners"][0].as_object_mut().expect("a partner");
        change(partner);
        problems(&file)
    }

    #[test]
    fn an_unknown_source_key_is_refused() {
        let found = with_first_partner(|p| {
            p["facts"]["nameFr"] = json!({ "source": "no-such-page", "passage": "…" });
            p["nameFr"] = json!("Nom");
        });
        assert!(found.iter().any(|p| p.contains("cites an unknown source `no-such-page`")), "{found:?}");
    }

    #[test]
    fn a_reference_mark_outside_the_allowed_keys_is_refused() {
        let found = with_first_partner(|p| {
            p["descriptionEn"] = json!("Something.");
            p["facts"]["descriptionEn"] = json!("reference");
        });
        assert!(found.iter().any(|p| p.contains("`descriptionEn` is marked reference")), "{found:?}");
    }

    #[test]
    fn a_fact_without_provenance_and_provenance_without_a_fact_are_refused() {
        let found = with_first_partner(|p| {
            p["website"] = json!("https://example.org");
            if let Some(facts) = p["facts"].as_object_mut() {
                facts.remove("website");
            }
        });
        assert!(found.iter().any(|p| p.contains("`website` has a value but no provenance")), "{found:?}");
        let found = with_first_partner(|p| {
            p["website"] = Value::Null;
            p["facts"]["website"] = json!("reference");
        });
        assert!(found.iter().any(|p| p.contains("`website` has no value but has provenance")), "{found:?}");
        let found = with_first_partner(|p| p["facts"]["noSuchKey"] = json!("reference"));
        assert!(found.iter().any(|p| p.contains("names `noSuchKey`")), "{found:?}");
    }

    #[test]
    fn a_table_provenance_does_not_know_is_refused() {
        let mut file = shipped();
        file["treaties"] = json!([]);
        assert!(problems(&file).iter().any(|p| p.contains("`treaties`")));
    }

    /// FORMAT.md's table of the keys that may be reference knowledge is `TABLES`.
    #[test]
    fn format_md_lists_the_keys_that_may_be_reference() {
        let format = include_str!("../../data/FORMAT.md");
        let listed: Vec<(String, Vec<String>)> = format
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("| table | keys that may be reference"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                let keys = cells.get(1).copied().unwrap_or_default();
                let keys = keys
                    .split(',')
                    .map(|k| k.trim().trim_matches('`').to_owned())
                    .filter(|k| !k.is_empty() && k != "none");
                (cells[0].trim_matches('`').to_owned(), keys.collect())
            })
            .collect();
        let expected: Vec<(String, Vec<String>)> =
            TABLES.iter().map(|t| (t.key.to_owned(), t.reference.iter().map(|k| (*k).to_owned()).collect())).collect();
        assert_eq!(listed, expected, "data/FORMAT.md and seed::provenance::TABLES disagree");
    }

    #[test]
    fn sources_md_is_printed_from_the_dataset() {
        let committed = include_str!("../../data/SOURCES.md");
        assert!(
            committed == sources_markdown(&shipped()),
            "data/SOURCES.md is out of date; regenerate it with:\n\n    cargo run -- export-sources > data/SOURCES.md\n"
        );
    }
}
