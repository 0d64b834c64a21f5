//! Every relation, walked in both directions.

use serde_json::{Value, json};

use crate::on_both_databases;

fn slugs(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|n| n["slug"].as_str().map(str::to_owned)).collect()
}

on_both_databases! {
    async fn a_partner_and_its_children_point_at_each_other(app) {
        let data = app.data(r#"{ partner(slug: "united-nations") { slug children(first: 100) { totalCount nodes { slug parent { slug } } } } }"#, json!({})).await;
        let children = &data["partner"]["children"];
        assert!(children["totalCount"].as_i64() >= Some(10), "{children}");
        assert!(slugs(&children["nodes"]).contains(&"unodc".to_owned()));
        for child in children["nodes"].as_array().into_iter().flatten() {
            assert_eq!(child["parent"]["slug"], "united-nations");
        }
    }

    async fn a_partner_and_its_agreements_point_at_each_other(app) {
        let data = app.data(r#"{ partner(slug: "united-nations") { agreements { totalCount nodes { reference partner { slug } } } } }"#, json!({})).await;
        let agreements = &data["partner"]["agreements"];
        let references: Vec<&str> = agreements["nodes"].as_array().into_iter().flatten().filter_map(|a| a["reference"].as_str()).collect();
        assert!(references.contains(&"UN-1996-COOPERATION"), "{references:?}");
        assert_eq!(agreements["totalCount"].as_i64(), Some(references.len() as i64));
        for a in agreements["nodes"].as_array().into_iter().flatten() {
            assert_eq!(a["partner"]["slug"], "united-nations");
        }
    }

    async fn an_agreement_and_its_projects_point_at_each_other(app) {
        let data = app.data(r#"{ project(code: "SHARAKA") { agreement { reference projects(first: 100) { nodes { code agreement { reference } } } } partner { slug } } }"#, json!({})).await;
        let agreement = &data["project"]["agreement"];
        let codes: Vec<&str> = agreement["projects"]["nodes"].as_array().into_iter().flatten().filter_map(|p| p["code"].as_str()).collect();
        assert!(codes.contains(&"SHARAKA"), "{codes:?}");
        for p in agreement["projects"]["nodes"].as_array().into_iter().flatten() {
            assert_eq!(p["agreement"]["reference"], agreement["reference"]);
        }
        assert_eq!(data["project"]["partner"]["slug"], "european-union");
    }

    async fn a_project_and_its_fundings_point_at_each_other(app) {
        let data = app.data(r#"{ project(code: "SHARAKA") { code fundings { totalCount nodes { project { code } funder { slug } } } } }"#, json!({})).await;
        let fundings = &data["project"]["fundings"];
        assert!(fundings["totalCount"].as_i64() >= Some(1));
        for f in fundings["nodes"].as_array().into_iter().flatten() {
            assert_eq!(f["project"]["code"], "SHARAKA");
        }
    }

    async fn a_funder_and_the_fundings_it_provides_point_at_each_other(app) {
        let data = app.data(r#"{ partner(slug: "european-union") { fundingsProvided(first: 100) { totalCount nodes { funder { slug } project { code funders { slug } } } } } }"#, json!({})).await;
        let provided = &data["partner"]["fundingsProvided"];
        assert!(provided["totalCount"].as_i64() >= Some(5), "the EU funds at least five projects: {provided}");
        for f in provided["nodes"].as_array().into_iter().flatten() {
            assert_eq!(f["funder"]["slug"], "european-union");
            assert!(slugs(&f["project"]["funders"]).contains(&"european-union".to_owned()));
        }
    }

    async fn crime_areas_link_partners_and_projects_both_ways(app) {
        let data = app.data(r#"{ partner(slug: "unodc") { crimeAreas { slug partners(first: 100) { nodes { slug } } } } }"#, json!({})).await;
        let areas = data["partner"]["crimeAreas"].as_array().cloned().unwrap_or_default();
        assert!(!areas.is_empty(), "UNODC works on several crime areas");
        for area in &areas {
            assert!(slugs(&area["partners"]["nodes"]).contains(&"unodc".to_owned()), "{area}");
        }
        let data = app.data(r#"{ project(code: "SHARAKA") { crimeAreas { slug projects(first: 100) { nodes { code } } } } }"#, json!({})).await;
        let areas = data["project"]["crimeAreas"].as_array().cloned().unwrap_or_default();
        assert!(areas.iter().any(|a| a["slug"] == "terrorism"), "{areas:?}");
        for area in &areas {
            let codes: Vec<&str> = area["projects"]["nodes"].as_array().into_iter().flatten().filter_map(|p| p["code"].as_str()).collect();
            assert!(codes.contains(&"SHARAKA"), "{area}");
        }
    }

    async fn policing_goals_link_projects_both_ways(app) {
        // The sources link no project to a goal: the test links one of its own to two.
        let editor = app.token(partnership_registry::auth::Role::Editor).await;
        let agreement = app.data(r#"{ agreement(reference: "EU-PROJECT-FUNDING") { id } }"#, json!({})).await["agreement"]["id"].clone();
        let input = json!({ "agreementId": agreement, "code": "TEST-GOALS", "nameEn": "Test", "nameFr": "Test", "status": "ACTIVE", "policingGoals": [1, 7] });
        app.data_as(&editor, crate::mutations::CREATE_PROJECT, json!({ "input": input })).await;
        let data = app.data(r#"{ project(code: "TEST-GOALS") { policingGoals { number projects(first: 100) { nodes { code } } } } }"#, json!({})).await;
        let goals = data["project"]["policingGoals"].as_array().cloned().unwrap_or_default();
        assert_eq!(goals.iter().map(|g| g["number"].clone()).collect::<Vec<_>>(), [json!(1), json!(7)]);
        for goal in &goals {
            let codes: Vec<&str> = goal["projects"]["nodes"].as_array().into_iter().flatten().filter_map(|p| p["code"].as_str()).collect();
            assert_eq!(codes, ["TEST-GOALS"]);
        }
    }

    async fn projects_name_their_beneficiary_countries_in_both_languages(app) {
        // The sources name one beneficiary country (Iraq): the test's own project has several.
        let editor = app.token(partnership_registry::auth::Role::Editor).await;
        let agreement = app.data(r#"{ agreement(reference: "G5-SAHEL-POLICE-SUPPORT") { id } }"#, json!({})).await["agreement"]["id"].clone();
        let input = json!({ "agreementId": agreement, "code": "TEST-SAHEL", "nameEn": "Test", "nameFr": "Test", "status": "ACTIVE", "countries": ["TD", "BF", "NE", "ML", "MR"] });
        app.data_as(&editor, crate::mutations::CREATE_PROJECT, json!({ "input": input })).await;
        let data = app.data(r#"{ project(code: "TEST-SAHEL") { countries { code en: name(lang: EN) fr: name(lang: FR) } } }"#, json!({})).await;
        let countries = data["project"]["countries"].as_array().cloned().unwrap_or_default();
        let codes: Vec<&str> = countries.iter().filter_map(|c| c["code"].as_str()).collect();
        assert_eq!(codes, ["BF", "ML", "MR", "NE", "TD"]);
        assert_eq!(countries[4]["en"], "Chad");
        assert_eq!(countries[4]["fr"], "Tchad");
    }

    async fn partners_have_a_headquarters_country(app) {
        let data = app.data(r#"{ partner(slug: "unodc") { country { code name(lang: FR) } } }"#, json!({})).await;
        assert_eq!(data["partner"]["country"]["code"], "AT");
        assert_eq!(data["partner"]["country"]["name"], "Autriche");
    }
}
