//! The rules every write obeys: validation naming the field, unique keys,
//! optimistic concurrency, and all-or-nothing transactions.

use futures_util::future::join_all;
use partnership_registry::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::mutations::{
    CREATE_AGREEMENT, CREATE_FUNDING, CREATE_PARTNER, CREATE_PROJECT, UPDATE_PARTNER, create_agreement, create_partner,
    create_project, history_len, partner_input,
};
use crate::on_both_databases;

/// How many partners, agreements, projects and fundings there are.
async fn counts(app: &TestApp) -> Value {
    app.data(
        "{ partners { totalCount } agreements { totalCount } projects { totalCount } fundings { totalCount } }",
        json!({}),
    )
    .await
}

/// Sends a write that must be refused as bad input on `field`, and checks
/// nothing at all was written.
async fn refused(app: &TestApp, token: &str, query: &str, variables: Value, field: &str) {
    let (before, history) = (counts(app).await, history_len(app).await);
    let body = app.graphql_as(token, query, variables.clone()).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{variables}: {body:#}");
    assert_eq!(body["errors"][0]["extensions"]["field"], field, "{variables}: {body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(counts(app).await, before, "nothing was written for {variables}");
    assert_eq!(history_len(app).await, history, "no history for {variables}");
}

fn with(mut input: Value, field: &str, value: Value) -> Value {
    input[field] = value;
    json!({ "input": input })
}

on_both_databases! {
    async fn partner_inputs_are_validated_field_by_field(app) {
        let editor = app.token(Role::Editor).await;
        let base = partner_input("valid-slug");
        let cases = [
            ("nameEn", json!("   "), "input.nameEn"),
            ("nameFr", json!(""), "input.nameFr"),
            ("nameEn", json!("x".repeat(301)), "input.nameEn"),
            ("slug", json!("Not A Slug"), "input.slug"),
            ("slug", json!("double--hyphen"), "input.slug"),
            ("countryCode", json!("XX"), "input.countryCode"),
            ("website", json!("not a url"), "input.website"),
            ("sourceUrl", json!("javascript:alert(1)"), "input.sourceUrl"),
            ("parentId", json!("bm9wZQ"), "input.parentId"),
            ("crimeAreas", json!(["terrorism", "no-such-area"]), "input.crimeAreas"),
        ];
        for (field, value, reported) in cases {
            refused(&app, &editor, CREATE_PARTNER, with(base.clone(), field, value), reported).await;
        }
        // A parent id of the right type that names nothing.
        let gone = create_partner(&app, &editor, "to-be-gone").await;
        app.data_as(&editor, crate::mutations::DELETE_PARTNER, json!({ "id": gone, "v": 1 })).await;
        refused(&app, &editor, CREATE_PARTNER, with(base.clone(), "parentId", json!(gone)), "input.parentId").await;
    }

    async fn a_partner_cannot_be_placed_under_itself_or_its_descendants(app) {
        let editor = app.token(Role::Editor).await;
        let un = app.partner_id("united-nations").await;
        let police_division = app.partner_id("un-police-division").await;
        for parent in [&un, &police_division] {
            let update = json!({ "input": { "id": un, "expectedVersion": 1, "parentId": parent } });
            refused(&app, &editor, UPDATE_PARTNER, update, "input.parentId").await;
        }
        let version = app.data(r#"{ partner(slug: "united-nations") { version parent { id } } }"#, json!({})).await;
        assert_eq!(version["partner"], json!({ "version": 1, "parent": null }), "the refused updates left no trace");
    }

    async fn agreement_project_and_funding_inputs_are_validated(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "rules-partner").await;
        let agreement = create_agreement(&app, &editor, &partner, "RULES-1").await;
        let project = create_project(&app, &editor, &agreement, "RULES-P").await;

        let a = json!({
            "partnerId": partner, "reference": "RULES-2", "titleEn": "T", "titleFr": "T",
            "kind": "RESOLUTION", "status": "IN_FORCE"
        });
        refused(&app, &editor, CREATE_AGREEMENT, with(a.clone(), "reference", json!("lower-case")), "input.reference").await;
        refused(&app, &editor, CREATE_AGREEMENT, with(a.clone(), "titleFr", json!(" ")), "input.titleFr").await;
        let mut dates = a.clone();
        dates["signedOn"] = json!("2020-05-01");
        dates["effectiveFrom"] = json!("2020-04-01");
        refused(&app, &editor, CREATE_AGREEMENT, json!({ "input": dates.clone() }), "input.effectiveFrom").await;
        dates["effectiveFrom"] = json!("2020-06-01");
        dates["expiresOn"] = json!("2020-05-15");
        refused(&app, &editor, CREATE_AGREEMENT, json!({ "input": dates }), "input.expiresOn").await;
        let mut year = a.clone();
        year["signedOn"] = json!("2020-05-01");
        year["signedYear"] = json!(2019);
        refused(&app, &editor, CREATE_AGREEMENT, json!({ "input": year }), "input.signedYear").await;
        refused(&app, &editor, CREATE_AGREEMENT, with(a.clone(), "partnerId", json!(project)), "input.partnerId").await;

        let p = json!({
            "agreementId": agreement, "code": "RULES-P2", "nameEn": "P", "nameFr": "P", "status": "PLANNED"
        });
        let mut ends = p.clone();
        ends["startsOn"] = json!("2021-01-02");
        ends["endsOn"] = json!("2021-01-01");
        refused(&app, &editor, CREATE_PROJECT, json!({ "input": ends }), "input.endsOn").await;
        refused(&app, &editor, CREATE_PROJECT, with(p.clone(), "policingGoals", json!([9])), "input.policingGoals").await;
        refused(&app, &editor, CREATE_PROJECT, with(p.clone(), "countries", json!(["FR", "ZZ"])), "input.countries").await;
        refused(&app, &editor, CREATE_PROJECT, with(p.clone(), "crimeAreas", json!(["nope"])), "input.crimeAreas").await;

        let f = json!({ "projectId": project, "funderId": partner, "kind": "GRANT", "status": "COMMITTED" });
        let money = |amount: &str, currency: &str| {
            let mut input = f.clone();
            input["amount"] = json!(amount);
            input["currency"] = json!(currency);
            json!({ "input": input })
        };
        refused(&app, &editor, CREATE_FUNDING, money("-1.00", "EUR"), "input.amount").await;
        refused(&app, &editor, CREATE_FUNDING, money("1.001", "EUR"), "input.amount").await;
        refused(&app, &editor, CREATE_FUNDING, money("1.5", "JPY"), "input.amount").await;
        refused(&app, &editor, CREATE_FUNDING, money("99999999999999999999", "EUR"), "input.amount").await;
        refused(&app, &editor, CREATE_FUNDING, money("10", "EURO"), "input.currency").await;
        refused(&app, &editor, CREATE_FUNDING, with(f.clone(), "amount", json!("10.00")), "input.currency").await;
        refused(&app, &editor, CREATE_FUNDING, with(f.clone(), "funderId", json!(agreement)), "input.funderId").await;
    }

    async fn taken_keys_are_conflicts_naming_the_field(app) {
        let editor = app.token(Role::Editor).await;
        let (before, history) = (counts(&app).await, history_len(&app).await);
        let body = app.graphql_as(&editor, CREATE_PARTNER, json!({ "input": partner_input("unodc") })).await;
        assert_eq!(error_code(&body), "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.slug");
        let partner = create_partner(&app, &editor, "key-owner").await;
        let agreement = json!({ "input": {
            "partnerId": partner, "reference": "UN-1996-COOPERATION", "titleEn": "T", "titleFr": "T",
            "kind": "RESOLUTION", "status": "IN_FORCE"
        } });
        let body = app.graphql_as(&editor, CREATE_AGREEMENT, agreement).await;
        assert_eq!(error_code(&body), "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.reference");
        let rename = json!({ "input": { "id": partner, "expectedVersion": 1, "slug": "europol" } });
        let body = app.graphql_as(&editor, UPDATE_PARTNER, rename).await;
        assert_eq!(error_code(&body), "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.slug");
        let after = counts(&app).await;
        assert_eq!(after["partners"]["totalCount"], before["partners"]["totalCount"].as_i64().unwrap_or(0) + 1);
        assert_eq!(history_len(&app).await, history + 1, "only the partner that was created is in the history");
    }

    async fn a_stale_version_is_rejected_and_nothing_changes(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "versioned").await;
        let first = json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": "First" } });
        app.data_as(&editor, UPDATE_PARTNER, first).await;
        let history = history_len(&app).await;
        let stale = json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": "Stale" } });
        let body = app.graphql_as(&editor, UPDATE_PARTNER, stale).await;
        assert_eq!(error_code(&body), "STALE_VERSION");
        assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
        assert_eq!(body["errors"][0]["extensions"]["conflict"], true);
        let read = app.data(r#"{ partner(slug: "versioned") { name(lang: EN) version } }"#, json!({})).await;
        assert_eq!(read["partner"], json!({ "name": "First", "version": 2 }));
        assert_eq!(history_len(&app).await, history);
        let body = app.graphql_as(&editor, crate::mutations::DELETE_PARTNER, json!({ "id": partner, "v": 1 })).await;
        assert_eq!(error_code(&body), "STALE_VERSION");
    }

    async fn a_write_failing_half_way_leaves_no_row_and_no_history(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "half-way").await;
        let agreement = create_agreement(&app, &editor, &partner, "HALF-1").await;
        let project = create_project(&app, &editor, &agreement, "HALF-P").await;
        let history = history_len(&app).await;
        // The version is claimed (an UPDATE) before the missing crime area is found.
        let update = r#"mutation($input: UpdateProjectInput!) { updateProject(input: $input) { version } }"#;
        let input = json!({ "input": {
            "id": project, "expectedVersion": 1, "nameEn": "Changed", "crimeAreas": ["terrorism", "missing-area"]
        } });
        let body = app.graphql_as(&editor, update, input).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let read = app.data(r#"{ project(code: "HALF-P") { name(lang: EN) version crimeAreas { slug } } }"#, json!({})).await;
        assert_eq!(read["project"], json!({ "name": "Test project", "version": 1, "crimeAreas": [] }));
        assert_eq!(history_len(&app).await, history);
        // A new project whose links fail is not created at all.
        let input = json!({ "input": {
            "agreementId": agreement, "code": "HALF-NEW", "nameEn": "N", "nameFr": "N", "status": "PLANNED",
            "crimeAreas": ["missing-area"]
        } });
        let body = app.graphql_as(&editor, CREATE_PROJECT, input).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let read = app.data(r#"{ project(code: "HALF-NEW") { id } }"#, json!({})).await;
        assert_eq!(read["project"], Value::Null);
        assert_eq!(history_len(&app).await, history);
    }

    async fn of_two_concurrent_updates_with_one_version_exactly_one_wins(app) {
        let editor = app.token(Role::Editor).await;
        for round in 0..3 {
            let slug = format!("contested-{round}");
            let partner = create_partner(&app, &editor, &slug).await;
            let attempts = (0..2).map(|i| {
                let update = json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": format!("Writer {i}") } });
                app.graphql_as(&editor, UPDATE_PARTNER, update)
            });
            let results = join_all(attempts).await;
            let winners: Vec<&Value> = results.iter().filter(|b| b.get("errors").is_none()).collect();
            let losers: Vec<&Value> = results.iter().filter(|b| b.get("errors").is_some()).collect();
            assert_eq!(winners.len(), 1, "{results:#?}");
            assert_eq!(losers.len(), 1, "{results:#?}");
            assert_eq!(error_code(losers[0]), "STALE_VERSION");
            let read = app.data("query($s: String!) { partner(slug: $s) { name(lang: EN) version history { totalCount } } }", json!({ "s": slug })).await;
            assert_eq!(read["partner"]["version"], 2);
            assert_eq!(read["partner"]["name"], winners[0]["data"]["updatePartner"]["name"]);
            assert_eq!(read["partner"]["history"]["totalCount"], 2, "create and one update");
        }
    }
}
