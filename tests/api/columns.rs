//! Statements read only the columns a selection needs (the others come back
//! as stand-ins, never decoded). Every field must therefore answer exactly as `nodes(ids:)`
//! (which reads every column) does, whether it is asked alone or with all
//! the others, on every path that narrows columns: top-level lists, nested
//! connections (`nodes` and `edges`) and to-one relations.

use std::collections::BTreeMap;

use partnership_registry::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::mutations::{CREATE_FUNDING, create_agreement, create_partner, create_project};
use crate::on_both_databases;

const PARTNER: &[&str] = &[
    "databaseId",
    "slug",
    "name",
    "nameFr: name(lang: FR)",
    "acronym",
    "acronymFr: acronym(lang: FR)",
    "description",
    "descriptionFr: description(lang: FR)",
    "kind",
    "sector",
    "country { code }",
    "website",
    "sourceUrl",
    "parent { id }",
    "version",
    "createdAt",
    "updatedAt",
];

const AGREEMENT: &[&str] = &[
    "reference",
    "title",
    "titleFr: title(lang: FR)",
    "summary",
    "summaryFr: summary(lang: FR)",
    "kind",
    "status",
    "signedYear",
    "signedOn",
    "effectiveFrom",
    "expiresOn",
    "sourceUrl",
    "partner { id }",
    "version",
    "createdAt",
    "updatedAt",
];

const PROJECT: &[&str] = &[
    "code",
    "name",
    "nameFr: name(lang: FR)",
    "description",
    "descriptionFr: description(lang: FR)",
    "status",
    "startsOn",
    "endsOn",
    "sourceUrl",
    "agreement { id }",
    "partner { id }",
    "version",
    "createdAt",
    "updatedAt",
];

const FUNDING: &[&str] = &[
    "kind",
    "status",
    "amount { amount minorUnits currency }",
    "currency",
    "programme",
    "committedOn",
    "sourceUrl",
    "project { id }",
    "funder { id }",
    "version",
    "createdAt",
    "updatedAt",
];

/// Each path leads to objects of one type; `{}` is where their fields go.
const PATHS: &[(&str, &str, &[&str])] = &[
    ("partners(first: 100) { nodes { {} } }", "Partner", PARTNER),
    ("partners(first: 100) { nodes { children(first: 100) { edges { node { {} } } } } }", "Partner", PARTNER),
    ("fundings(first: 100) { nodes { funder { {} } } }", "Partner", PARTNER),
    ("agreements(first: 100) { nodes { {} } }", "Agreement", AGREEMENT),
    ("partners(first: 100) { nodes { agreements(first: 100) { nodes { {} } } } }", "Agreement", AGREEMENT),
    ("projects(first: 100) { nodes { agreement { {} } } }", "Agreement", AGREEMENT),
    ("projects(first: 100) { nodes { {} } }", "Project", PROJECT),
    ("agreements(first: 100) { nodes { projects(first: 100) { edges { node { {} } } } } }", "Project", PROJECT),
    ("fundings(first: 100) { nodes { project { {} } } }", "Project", PROJECT),
    ("fundings(first: 100, orderBy: {field: AMOUNT, direction: DESC}) { nodes { {} } }", "Funding", FUNDING),
    ("projects(first: 100) { nodes { fundings(first: 100) { nodes { {} } } } }", "Funding", FUNDING),
    ("partners(first: 100) { nodes { fundingsProvided(first: 100) { nodes { {} } } } }", "Funding", FUNDING),
];

/// Every object marked `target` in a response, by id.
fn targets(value: &Value, found: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("target") {
                found.insert(map["id"].as_str().unwrap_or_default().to_owned(), value.clone());
            }
            map.values().for_each(|v| targets(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| targets(v, found)),
        _ => {}
    }
}

async fn fetch(app: &TestApp, path: &str, fields: &str) -> BTreeMap<String, Value> {
    let query = format!("{{ {} }}", path.replace("{}", &format!("target: __typename id {fields}")));
    let data = app.data(&query, json!({})).await;
    let mut found = BTreeMap::new();
    targets(&data, &mut found);
    found
}

/// The response key a field selection answers under.
fn key(field: &str) -> &str {
    field.split([':', ' ', '(']).next().unwrap_or(field)
}

async fn every_field_reads_as_nodes_does(app: &TestApp) {
    for &(path, type_name, fields) in PATHS {
        let together = fetch(app, path, &fields.join(" ")).await;
        assert!(together.len() >= 2, "{path}: the real dataset has objects here ({})", together.len());
        let ids: Vec<&String> = together.keys().collect();
        let reference = fetch(
            app,
            &format!(
                "nodes(ids: {}) {{ ... on {type_name} {{ {{}} }} }}",
                serde_json::to_string(&ids).unwrap_or_default()
            ),
            &fields.join(" "),
        )
        .await;
        assert_eq!(together, reference, "{path}: all fields together");
        let mut shown = 0;
        for &field in fields {
            let alone = fetch(app, path, field).await;
            assert_eq!(alone.len(), reference.len(), "{path} {field}: same objects");
            for (id, object) in &alone {
                assert_eq!(object[key(field)], reference[id][key(field)], "{path} {field} of {id}");
            }
            shown += usize::from(alone.values().any(|o| !o[key(field)].is_null()));
        }
        // Not a comparison of nulls: most fields hold data on this path.
        assert!(shown * 4 >= fields.len() * 3, "{path}: only {shown} of {} fields hold data", fields.len());
    }
}

/// Most of the real dataset's amounts are undisclosed: add fundings that
/// fill every field, so a column left out by mistake shows.
async fn add_full_fundings(app: &TestApp) {
    let editor = app.token(Role::Editor).await;
    let funder = app.partner_id("european-union").await;
    let partner = create_partner(app, &editor, "columns-test").await;
    let agreement = create_agreement(app, &editor, &partner, "COLUMNS-1").await;
    let project = create_project(app, &editor, &agreement, "COLUMNS-P1").await;
    for (amount, currency) in [("1250000.50", "EUR"), ("90000", "USD")] {
        let input = json!({
            "projectId": project, "funderId": funder, "kind": "GRANT", "status": "PLEDGED", "amount": amount,
            "currency": currency, "programme": "Columns programme", "committedOn": "2026-02-02",
            "sourceUrl": "https://example.org/columns"
        });
        app.data_as(&editor, CREATE_FUNDING, json!({ "input": input })).await;
    }
}

on_both_databases! {
    async fn fields_read_what_nodes_reads_alone_and_together(app) {
        add_full_fundings(&app).await;
        every_field_reads_as_nodes_does(&app).await;
    }
}
