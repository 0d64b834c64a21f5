//! Filters on the lists, top level and nested.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, statements};
use crate::on_both_databases;

fn field(nodes: &Value, name: &str) -> Vec<String> {
    let mut v: Vec<String> =
        nodes.as_array().into_iter().flatten().filter_map(|n| n[name].as_str().map(str::to_owned)).collect();
    v.sort();
    v
}

async fn partners(app: &TestApp, filter: Value) -> Vec<String> {
    let data = app
        .data(
            "query($f: PartnerFilter) { partners(first: 100, filter: $f) { totalCount nodes { slug } } }",
            json!({ "f": filter }),
        )
        .await;
    let slugs = field(&data["partners"]["nodes"], "slug");
    assert_eq!(
        data["partners"]["totalCount"].as_u64(),
        Some(slugs.len() as u64),
        "totalCount counts the filtered list"
    );
    slugs
}

async fn agreements(app: &TestApp, filter: Value) -> Vec<String> {
    let data = app
        .data(
            "query($f: AgreementFilter) { agreements(first: 100, filter: $f) { totalCount nodes { reference } } }",
            json!({ "f": filter }),
        )
        .await;
    let refs = field(&data["agreements"]["nodes"], "reference");
    assert_eq!(data["agreements"]["totalCount"].as_u64(), Some(refs.len() as u64));
    refs
}

async fn projects(app: &TestApp, filter: Value) -> Vec<String> {
    let data = app
        .data(
            "query($f: ProjectFilter) { projects(first: 100, filter: $f) { totalCount nodes { code } } }",
            json!({ "f": filter }),
        )
        .await;
    let codes = field(&data["projects"]["nodes"], "code");
    assert_eq!(data["projects"]["totalCount"].as_u64(), Some(codes.len() as u64));
    codes
}

on_both_databases! {
    async fn partners_filter_by_kind_sector_country_and_crime_area(app) {
        let un_entities = partners(&app, json!({ "kindIn": ["UN_ENTITY"] })).await;
        assert_eq!(un_entities.len(), 17);
        assert!(un_entities.contains(&"unodc".to_owned()) && !un_entities.contains(&"united-nations".to_owned()));
        assert_eq!(partners(&app, json!({ "sectorIn": ["PRIVATE"] })).await, ["private-sector-partners"]);
        assert_eq!(partners(&app, json!({ "countryIn": ["at", "KE"] })).await, ["unep", "unodc"], "codes are case-insensitive");
        assert_eq!(partners(&app, json!({ "crimeAreaIn": ["child-sexual-exploitation"] })).await, ["g8"]);
        assert_eq!(
            partners(&app, json!({ "kindIn": ["UN_ENTITY"], "crimeAreaIn": ["terrorism"] })).await,
            ["cted", "uncct", "unoct", "unodc"],
            "fields are ANDed"
        );
        assert!(partners(&app, json!({ "kindIn": [] })).await.is_empty(), "an empty list matches nothing");
    }

    async fn partners_filter_by_parent(app) {
        let un = app.partner_id("united-nations").await;
        let children = partners(&app, json!({ "parentIdIn": [un] })).await;
        assert_eq!(children.len(), 13);
        assert!(!children.contains(&"un-police-division".to_owned()), "the Police Division is DPO's");
        let top = partners(&app, json!({ "hasParent": false })).await;
        assert!(top.contains(&"united-nations".to_owned()) && top.contains(&"european-union".to_owned()) && !top.contains(&"unodc".to_owned()));
        let all = partners(&app, json!({})).await;
        let with_parent = partners(&app, json!({ "hasParent": true })).await;
        assert_eq!(top.len() + with_parent.len(), all.len());
    }

    async fn agreements_with_un_entities_in_force_today(app) {
        let data = app
            .data(
                r#"{ agreements(first: 100, filter: { partner: { kindIn: [UN_ENTITY] }, inForceOn: "2026-11-22" }) {
                     nodes { reference status partner { kind } } } }"#,
                json!({}),
            )
            .await;
        let nodes = data["agreements"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            field(&data["agreements"]["nodes"], "reference"),
            [
                "CTED-COOPERATION", "DPPA-COOPERATION", "ICAO-COOPERATION", "OIOS-COOPERATION", "UN-1540-COMMITTEE-COOPERATION",
                "UN-DSS-COOPERATION", "UN-POLICE-DIVISION-COOPERATION", "UNEP-COOPERATION", "UNESCO-COOPERATION",
                "UNICRI-COOPERATION", "UNOCT-COUNTER-TERRORISM-COOPERATION", "UNODA-COOPERATION", "UNODC-COOPERATION"
            ]
        );
        assert!(nodes.iter().all(|a| a["status"] == "IN_FORCE" && a["partner"]["kind"] == "UN_ENTITY"));
    }

    async fn in_force_on_respects_signature_dates_and_years(app) {
        // The sources say of no dated agreement that it is in force today: the test's own are.
        let editor = app.token(partnership_registry::auth::Role::Editor).await;
        let un = app.partner_id("united-nations").await;
        for (reference, year, day) in [("TEST-1996", Some(1996), None), ("TEST-2016-11-21", Some(2016), Some("2016-11-21"))] {
            let input = json!({
                "partnerId": un, "reference": reference, "titleEn": "Test", "titleFr": "Test",
                "kind": "COOPERATION_AGREEMENT", "status": "IN_FORCE", "signedYear": year, "signedOn": day
            });
            app.data_as(&editor, crate::mutations::CREATE_AGREEMENT, json!({ "input": input })).await;
        }
        let in_2016 = agreements(&app, json!({ "inForceOn": "2016-06-01" })).await;
        assert!(in_2016.contains(&"TEST-1996".to_owned()));
        assert!(!in_2016.contains(&"TEST-2016-11-21".to_owned()), "signed in November 2016");
        assert!(agreements(&app, json!({ "inForceOn": "2016-11-21" })).await.contains(&"TEST-2016-11-21".to_owned()));
        let in_1995 = agreements(&app, json!({ "inForceOn": "1995-06-01" })).await;
        assert!(!in_1995.contains(&"TEST-1996".to_owned()), "signed in 1996");
        assert!(!in_2016.contains(&"UN-1996-COOPERATION".to_owned()), "whether it is still in force, the sources do not say");
    }

    async fn agreements_filter_by_date_ranges_kind_and_partner(app) {
        assert_eq!(agreements(&app, json!({ "signedOn": { "from": "2016-01-01", "to": "2016-12-31" } })).await, ["UN-2016-GA-RESOLUTION"]);
        assert_eq!(agreements(&app, json!({ "signedOn": { "to": "2016-11-20" } })).await, Vec::<String>::new());
        assert_eq!(agreements(&app, json!({ "kindIn": ["LIAISON_OFFICE"] })).await, ["EU-2009-LIAISON-OFFICE", "UN-2004-LIAISON-OFFICE"]);
        let eu = app.partner_id("european-union").await;
        assert_eq!(agreements(&app, json!({ "partnerIdIn": [eu], "kindIn": ["DATA_EXCHANGE_AGREEMENT"] })).await, ["EU-BATTLEFIELD-INFORMATION"]);
    }

    async fn projects_filter_by_country_crime_area_goal_funder_and_agreement(app) {
        // The sources link no project to a Global Policing Goal: one of the test's own is.
        let editor = app.token(partnership_registry::auth::Role::Editor).await;
        let icse = app.data(r#"{ agreement(reference: "G8-ICSE-SUPPORT") { id } }"#, json!({})).await["agreement"]["id"].clone();
        let input = json!({ "agreementId": icse, "code": "TEST-GOAL-2", "nameEn": "Test", "nameFr": "Test", "status": "ACTIVE", "policingGoals": [2] });
        app.data_as(&editor, crate::mutations::CREATE_PROJECT, json!({ "input": input })).await;
        assert_eq!(projects(&app, json!({ "countryIn": ["iq"] })).await, ["IRAQ-BATTLEFIELD-EVIDENCE"]);
        assert_eq!(projects(&app, json!({ "crimeAreaIn": ["counterfeit-medical-products"] })).await, ["IMPACT"]);
        assert_eq!(projects(&app, json!({ "policingGoalIn": [2] })).await, ["TEST-GOAL-2"]);
        let eu = app.partner_id("european-union").await;
        let mut funded = projects(&app, json!({ "funderIdIn": [eu] })).await;
        funded.sort();
        assert_eq!(funded, ["CIS-I247-EXTENSION", "E-MLA-FEASIBILITY-STUDY", "IRAQ-BATTLEFIELD-EVIDENCE", "LATAM-FUGITIVES-MECHANISM", "SHARAKA", "WAPIS"]);
        assert_eq!(projects(&app, json!({ "statusIn": ["PLANNED"] })).await, ["E-MLA"]);
        assert_eq!(
            projects(&app, json!({ "agreement": { "partner": { "kindIn": ["INTERGOVERNMENTAL_FORUM"] } } })).await,
            ["ICSE", "TEST-GOAL-2"],
            "a filter two relations away"
        );
        assert_eq!(projects(&app, json!({ "partnerIdIn": [eu], "crimeAreaIn": ["terrorism"] })).await, ["IRAQ-BATTLEFIELD-EVIDENCE", "SHARAKA"]);
    }

    async fn fundings_filter_by_funder_currency_disclosure_and_project(app) {
        let q = "query($f: FundingFilter) { fundings(first: 100, filter: $f) { totalCount nodes { project { code } } } }";
        let count = |v: &Value| v["fundings"]["totalCount"].as_i64().unwrap_or(-1);
        assert_eq!(count(&app.data(q, json!({ "f": { "currencyIn": ["eur"] } })).await), 0, "the sources disclose no amount, so no currency");
        assert_eq!(count(&app.data(q, json!({ "f": { "amountDisclosed": false } })).await), 6);
        assert_eq!(count(&app.data(q, json!({ "f": { "amountDisclosed": true } })).await), 0);
        // A disclosed amount of the test's own, from a funder of another kind.
        let editor = app.token(partnership_registry::auth::Role::Editor).await;
        let icse = app.data(r#"{ project(code: "ICSE") { id } }"#, json!({})).await["project"]["id"].as_str().map(str::to_owned).unwrap_or_default();
        crate::mutations::create_funding(&app, &editor, &icse, &app.partner_id("g8").await, "1000.00").await;
        assert_eq!(count(&app.data(q, json!({ "f": { "currencyIn": ["eur"] } })).await), 1);
        assert_eq!(count(&app.data(q, json!({ "f": { "amountDisclosed": true } })).await), 1);
        let g8 = app.data(q, json!({ "f": { "funder": { "kindIn": ["INTERGOVERNMENTAL_FORUM"] } } })).await;
        assert_eq!(count(&g8), 1);
        assert_eq!(g8["fundings"]["nodes"][0]["project"]["code"], "ICSE");
        let west_africa = app.data(q, json!({ "f": { "project": { "crimeAreaIn": ["terrorism"], "countryIn": ["IQ"] } } })).await;
        assert_eq!(count(&west_africa), 1);
        assert_eq!(west_africa["fundings"]["nodes"][0]["project"]["code"], "IRAQ-BATTLEFIELD-EVIDENCE");
    }

    async fn nested_filters_still_cost_one_statement_per_level(app) {
        let body = app
            .graphql(
                r#"{ partners(first: 50, filter: { hasParent: false }) { nodes { slug
                     agreements(first: 10, filter: { statusIn: [IN_FORCE], kindIn: [UNKNOWN, COOPERATION_AGREEMENT] }) { totalCount nodes { reference
                       projects(first: 10, filter: { statusIn: [ACTIVE] }, orderBy: { field: NAME }) { nodes { code
                         fundings(first: 5, filter: { amountDisclosed: false }) { nodes { funder { slug } } } } } } } } } }"#,
                json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // partners, agreements, agreement counts, projects, fundings, funders.
        assert_eq!(statements(&body), 6);
        let eu = body["data"]["partners"]["nodes"].as_array().into_iter().flatten().find(|p| p["slug"] == "european-union").cloned().unwrap_or_default();
        assert_eq!(field(&eu["agreements"]["nodes"], "reference"), ["EU-PROJECT-FUNDING"]);
        let mut codes = field(&eu["agreements"]["nodes"][0]["projects"]["nodes"], "code");
        codes.sort();
        assert_eq!(codes, ["LATAM-FUGITIVES-MECHANISM", "SHARAKA", "WAPIS"], "CIS-I247-EXTENSION's status is unknown, not active");
    }

    async fn a_nested_filter_narrows_each_parents_list(app) {
        let data = app
            .data(
                r#"{ partner(slug: "european-union") { fundingsProvided(filter: { project: { crimeAreaIn: ["terrorism"] } }) {
                     totalCount nodes { project { code } } } } }"#,
                json!({}),
            )
            .await;
        let provided = &data["partner"]["fundingsProvided"];
        assert_eq!(provided["totalCount"], 2);
        let codes: Vec<&str> = provided["nodes"].as_array().into_iter().flatten().filter_map(|f| f["project"]["code"].as_str()).collect();
        assert_eq!(codes, ["SHARAKA", "IRAQ-BATTLEFIELD-EVIDENCE"]);
    }

    async fn bad_filter_values_are_clear_errors(app) {
        let body = app.graphql(r#"{ partners(filter: { parentIdIn: ["nope"] }) { totalCount } }"#, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let agreement = app.data(r#"{ agreements(first: 1) { nodes { id } } }"#, json!({})).await;
        let wrong_type = agreement["agreements"]["nodes"][0]["id"].clone();
        let body = app.graphql("query($id: ID!) { partners(filter: { parentIdIn: [$id] }) { totalCount } }", json!({ "id": wrong_type })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "parentIdIn");
        let body = app.graphql(r#"{ agreements(filter: { signedOn: { from: "2016-13-01" } }) { totalCount } }"#, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(statements(&body), 0);
    }
}
