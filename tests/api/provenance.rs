//! Every record of the dataset tells, through the API, where its facts come
//! from: its `sources` are the pages its `facts` cite in data/registry.json,
//! and each key marked reference shows in `referenceFields` as a field that
//! answers that key's value in that key's language. Nothing here names a
//! record or a field: the file and the schema are read as they stand.

use std::collections::BTreeSet;

use partnership_registry::graphql::lang::Lang;
use partnership_registry::graphql::object::reference_fields;
use partnership_registry::seed::dataset::REGISTRY_JSON;
use partnership_registry::seed::provenance::{TABLES, Table};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

/// The API's object type for a table of the file, its list query, and the
/// field that answers the file's identifier.
fn api_of(table: &Table) -> (&'static str, &'static str, &'static str) {
    match table.key {
        "crimeAreas" => ("CrimeArea", "crimeAreas(first: 100) { nodes { NODE } }", "slug"),
        "policingGoals" => ("PolicingGoal", "policingGoals { NODE }", "number"),
        "partners" => ("Partner", "partners(first: 100) { nodes { NODE } }", "slug"),
        "agreements" => ("Agreement", "agreements(first: 100) { nodes { NODE } }", "reference"),
        "projects" => ("Project", "projects(first: 100) { nodes { NODE } }", "code"),
        "fundings" => ("Funding", "fundings(first: 100) { nodes { NODE } }", "databaseId"),
        other => panic!("a table this test does not know: {other}; add its API type here"),
    }
}

fn file() -> Value {
    serde_json::from_str(REGISTRY_JSON).expect("data/registry.json is JSON")
}

/// The source keys a record's facts cite, in the order of the file's sources.
fn cited(file: &Value, record: &Value) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for provenance in record["facts"].as_object().into_iter().flatten().map(|(_, p)| p) {
        let citations = if provenance.is_array() {
            provenance.as_array().cloned().unwrap_or_default()
        } else {
            vec![provenance.clone()]
        };
        keys.extend(citations.iter().filter_map(|c| c["source"].as_str().map(str::to_owned)));
    }
    file["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["key"].as_str())
        .filter(|k| keys.contains(*k))
        .map(str::to_owned)
        .collect()
}

/// The keys a record marks reference.
fn reference_keys(record: &Value) -> Vec<String> {
    record["facts"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, p)| *p == "reference")
        .map(|(k, _)| k.clone())
        .collect()
}

/// The records of a table as the API lists them, in the file's order.
async fn listed(app: &TestApp, table: &Table) -> Vec<Value> {
    let (_, list, identifier) = api_of(table);
    let node = format!("id {identifier} sources {{ key }} en: referenceFields(lang: EN) fr: referenceFields(lang: FR)");
    let data = app.data(&format!("{{ {} }}", list.replace("NODE", &node)), json!({})).await;
    let root = data.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
    let mut rows = root["nodes"].as_array().or(root.as_array()).cloned().unwrap_or_default();
    if identifier == "databaseId" {
        rows.sort_by_key(|r| r["databaseId"].as_i64());
    }
    rows
}

/// Fields of each object type: name → (takes `lang`, the named type it returns).
async fn fields_of(app: &TestApp, type_name: &str) -> Vec<(String, bool, String)> {
    let data = app
        .data(
            "query($name: String!) { __type(name: $name) { fields { name args { name }
               type { name ofType { name ofType { name } } } } } }",
            json!({ "name": type_name }),
        )
        .await;
    data["__type"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let takes_lang = f["args"].as_array().into_iter().flatten().any(|a| a["name"] == "lang");
            let mut ty = &f["type"];
            while ty["name"].is_null() && !ty["ofType"].is_null() {
                ty = &ty["ofType"];
            }
            (
                f["name"].as_str().unwrap_or_default().to_owned(),
                takes_lang,
                ty["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

on_both_databases! {
    async fn every_record_lists_the_pages_its_facts_cite(app) {
        let file = file();
        for table in &TABLES {
            let records = file[table.key].as_array().cloned().unwrap_or_default();
            let rows = listed(&app, table).await;
            assert_eq!(rows.len(), records.len(), "{}: the API lists every record of the file", table.key);
            for (record, row) in records.iter().zip(&rows) {
                if let Some(identifier) = table.identifier {
                    assert_eq!(row[api_of(table).2], record[identifier], "{}: the API lists the file's records in its order", table.key);
                }
                let sources: Vec<&str> = row["sources"].as_array().into_iter().flatten().filter_map(|s| s["key"].as_str()).collect();
                assert_eq!(sources, cited(&file, record), "{} {row}", table.key);
                assert!(!sources.is_empty(), "{} {row}: a record of the dataset relies on at least one page", table.key);
            }
        }
    }

    async fn each_reference_mark_names_the_field_that_answers_its_value(app) {
        let file = file();
        let mut checked = 0;
        for table in &TABLES {
            let (type_name, _, _) = api_of(table);
            let fields = fields_of(&app, type_name).await;
            let records = file[table.key].as_array().cloned().unwrap_or_default();
            for (record, row) in records.iter().zip(listed(&app, table).await) {
                let keys = reference_keys(record);
                let mut expected: Vec<(Lang, String)> = Vec::new();
                for key in &keys {
                    for (lang, name) in [(Lang::En, "en"), (Lang::Fr, "fr")] {
                        for field in reference_fields(key, lang) {
                            let (_, takes_lang, returns) = fields.iter().find(|(f, ..)| f == field)
                                .unwrap_or_else(|| panic!("{type_name} has no field `{field}` for the reference key `{key}`"));
                            // The field, asked in that language, answers the file's value.
                            let selection = match returns.as_str() {
                                "Country" => "{ code }",
                                "Partner" => "{ slug }",
                                _ => "",
                            };
                            let args = if *takes_lang { format!("(lang: {})", name.to_uppercase()) } else { String::new() };
                            let query = format!("query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ v: {field}{args} {selection} }} }} }}");
                            let answer = app.data(&query, json!({ "id": row["id"] })).await["node"]["v"].clone();
                            let answer = answer.get("code").or(answer.get("slug")).cloned().unwrap_or(answer);
                            assert_eq!(answer, record[key], "{type_name} {row}: `{field}` in {name} answers the reference key `{key}`");
                            expected.push((lang, field.to_owned()));
                            checked += 1;
                        }
                    }
                }
                for (lang, name) in [(Lang::En, "en"), (Lang::Fr, "fr")] {
                    let mut want: Vec<String> = expected.iter().filter(|(l, _)| *l == lang).map(|(_, f)| f.clone()).collect();
                    let mut got: Vec<String> = row[name].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)).collect();
                    want.sort();
                    got.sort();
                    assert_eq!(got, want, "{type_name} {row}: referenceFields(lang: {name}) for the keys {keys:?}");
                }
            }
        }
        assert!(checked > 0, "the dataset marks some facts reference");
    }

    async fn every_key_that_may_be_reference_is_a_field_of_its_type(app) {
        for table in &TABLES {
            let (type_name, _, _) = api_of(table);
            let fields = fields_of(&app, type_name).await;
            for key in table.reference {
                let named: Vec<&str> = [Lang::En, Lang::Fr].into_iter().flat_map(|lang| reference_fields(key, lang)).collect();
                assert!(!named.is_empty(), "{}.{key} names no field in either language", table.key);
                for field in named {
                    assert!(fields.iter().any(|(f, ..)| f == field), "{}.{key} → `{field}`, which {type_name} does not have", table.key);
                }
            }
        }
    }

    async fn sources_are_listed_and_found_by_key(app) {
        let file = file();
        let data = app.data("{ sources(first: 20) { totalCount nodes { id key title url languages } } }", json!({})).await;
        let listed = data["sources"]["nodes"].as_array().cloned().unwrap_or_default();
        let expected = file["sources"].as_array().cloned().unwrap_or_default();
        assert_eq!(listed.len(), expected.len());
        for (source, page) in listed.iter().zip(&expected) {
            assert_eq!(source["key"], page["key"]);
            assert_eq!(source["title"], page["title"]);
            assert_eq!(source["url"], page["url"]);
            let languages: Vec<String> = page["lang"].as_str().unwrap_or_default().split('+').map(str::to_uppercase).collect();
            assert_eq!(source["languages"], json!(languages));
            let by_key = app.data("query($key: String!) { source(key: $key) { id } }", json!({ "key": page["key"] })).await;
            assert_eq!(by_key["source"]["id"], source["id"]);
        }
        let none = app.data("{ source(key: \"no-such-page\") { id } }", json!({})).await;
        assert!(none["source"].is_null());
    }

    async fn a_record_written_through_the_api_cites_no_page(app) {
        let token = app.token(partnership_registry::auth::Role::Editor).await;
        let id = crate::mutations::create_partner(&app, &token, "new-partner").await;
        let created = app
            .data("query($id: ID!) { node(id: $id) { ... on Partner { sources { key } en: referenceFields(lang: EN) fr: referenceFields(lang: FR) } } }", json!({ "id": id }))
            .await;
        let partner = &created["node"];
        assert_eq!(partner["sources"], json!([]));
        assert_eq!(partner["en"], json!([]));
        assert_eq!(partner["fr"], json!([]));
    }
}
