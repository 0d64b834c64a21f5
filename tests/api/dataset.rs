//! Facts of the real dataset, read back through the API.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;

async fn partner(app: &TestApp, slug: &str, query: &str) -> serde_json::Value {
    let data = app
        .data(&format!("query($slug: String!) {{ partner(slug: $slug) {{ {query} }} }}"), json!({ "slug": slug }))
        .await;
    data["partner"].clone()
}

on_both_databases! {
    async fn unodc_is_part_of_the_united_nations(app) {
        let unodc = partner(&app, "unodc", "acronym(lang: EN) acronymFr: acronym(lang: FR) kind parent { slug name(lang: EN) }").await;
        assert_eq!(unodc["acronym"], "UNODC");
        assert_eq!(unodc["acronymFr"], "ONUDC");
        assert_eq!(unodc["kind"], "UN_ENTITY");
        assert_eq!(unodc["parent"]["slug"], "united-nations");
        assert_eq!(unodc["parent"]["name"], "United Nations");
    }

    async fn the_police_division_is_part_of_the_department_of_peace_operations(app) {
        let dpo = partner(&app, "dpo", "acronym(lang: EN) parent { slug } children { nodes { slug } }").await;
        assert_eq!(dpo["parent"]["slug"], "united-nations");
        let children: Vec<&str> = dpo["children"]["nodes"].as_array().into_iter().flatten().filter_map(|c| c["slug"].as_str()).collect();
        assert!(children.iter().any(|s| s.contains("police-division")), "DPO's children: {children:?}");
    }

    async fn the_eu_funds_sharaka(app) {
        let data = app
            .data(r#"{ project(code: "SHARAKA") { funders { slug } fundings { nodes { kind status amount { amount } currency funder { slug } } } } }"#, json!({}))
            .await;
        let funders: Vec<&str> = data["project"]["funders"].as_array().into_iter().flatten().filter_map(|f| f["slug"].as_str()).collect();
        assert_eq!(funders, ["european-union"]);
        let funding = &data["project"]["fundings"]["nodes"][0];
        assert_eq!(funding["funder"]["slug"], "european-union");
        assert!(funding["amount"].is_null() && funding["currency"].is_null(), "the sources disclose no amount: {funding}");
        assert_eq!((&funding["kind"], &funding["status"]), (&json!("UNKNOWN"), &json!("UNKNOWN")), "the page says only that the EU contributes");
    }

    async fn the_1996_cooperation_agreement_is_with_the_united_nations(app) {
        let data = app
            .data(r#"{ agreement(reference: "UN-1996-COOPERATION") { kind status signedYear signedOn partner { slug } } }"#, json!({}))
            .await;
        let agreement = &data["agreement"];
        assert_eq!(agreement["kind"], "COOPERATION_AGREEMENT");
        assert_eq!(agreement["signedYear"], 1996);
        assert!(agreement["signedOn"].is_null(), "the sources give the year only");
        assert_eq!(agreement["partner"]["slug"], "united-nations");
    }

    async fn the_2016_resolution_has_its_day(app) {
        let data = app.data(r#"{ agreement(reference: "UN-2016-GA-RESOLUTION") { kind signedOn partner { slug } } }"#, json!({})).await;
        assert_eq!(data["agreement"]["kind"], "RESOLUTION");
        assert_eq!(data["agreement"]["signedOn"], "2016-11-21");
        assert_eq!(data["agreement"]["partner"]["slug"], "united-nations");
    }

    async fn the_justice_programme_funded_the_e_mla_feasibility_study_not_e_mla(app) {
        let data = app
            .data(r#"{ study: project(code: "E-MLA-FEASIBILITY-STUDY") { fundings { nodes { programme status funder { slug } } } }
                       project(code: "E-MLA") { status fundings { totalCount } } }"#, json!({}))
            .await;
        let funding = &data["study"]["fundings"]["nodes"][0];
        assert_eq!(funding["funder"]["slug"], "european-union");
        assert!(funding["programme"].as_str().is_some_and(|p| p.contains("Justice")), "{funding}");
        assert_eq!(data["project"]["fundings"]["totalCount"], 0, "funding for e-MLA itself is still sought");
    }

    async fn the_g8_supported_icse_which_is_not_a_recorded_funding(app) {
        let data = app
            .data("{ partner(slug: \"g8\") { kind fundingsProvided { totalCount } agreements { nodes { reference status } } } }", json!({}))
            .await;
        assert_eq!(data["partner"]["kind"], "INTERGOVERNMENTAL_FORUM");
        assert_eq!(data["partner"]["fundingsProvided"]["totalCount"], 0, "the page says supported, not funded");
        assert_eq!(data["partner"]["agreements"]["nodes"], json!([{ "reference": "G8-ICSE-SUPPORT", "status": "UNKNOWN" }]));
    }

    async fn french_names_come_back_for_lang_fr(app) {
        let unodc = partner(&app, "unodc", "en: name(lang: EN) fr: name(lang: FR)").await;
        assert_eq!(unodc["en"], "United Nations Office on Drugs and Crime");
        assert_eq!(unodc["fr"], "Office des Nations Unies contre la drogue et le crime");
    }

    async fn accept_language_french_picks_french_by_default(app) {
        let query = r#"{ partner(slug: "unodc") { name acronym } project(code: "SHARAKA") { countries { code } } agreement(reference: "UN-1996-COOPERATION") { title } }"#;
        let french = app.graphql_with(query, json!({}), &[("accept-language", "fr-FR,fr;q=0.9,en;q=0.5")]).await;
        assert_eq!(french["data"]["partner"]["name"], "Office des Nations Unies contre la drogue et le crime");
        assert_eq!(french["data"]["partner"]["acronym"], "ONUDC");
        let english = app.graphql_with(query, json!({}), &[("accept-language", "en-GB")]).await;
        assert_eq!(english["data"]["partner"]["acronym"], "UNODC");
        let none = app.graphql(query, json!({})).await;
        assert_eq!(none["data"]["partner"]["acronym"], "UNODC", "English when the header is absent");
        assert_ne!(french["data"]["agreement"]["title"], english["data"]["agreement"]["title"]);
    }

    async fn the_seven_global_policing_goals_are_recorded(app) {
        let data = app.data("{ policingGoals { number name(lang: EN) fr: name(lang: FR) } }", json!({})).await;
        let goals = data["policingGoals"].as_array().cloned().unwrap_or_default();
        assert_eq!(goals.iter().map(|g| g["number"].as_i64().unwrap_or(0)).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(goals[0]["name"], "Counter the threat of terrorism");
        assert!(goals.iter().all(|g| g["fr"].as_str().is_some_and(|s| !s.is_empty())));
    }

    async fn no_amount_is_invented(app) {
        let data = app.data("{ fundings(first: 100) { totalCount nodes { amount { amount } } } }", json!({})).await;
        assert!(data["fundings"]["totalCount"].as_i64() >= Some(6));
        assert!(data["fundings"]["nodes"].as_array().into_iter().flatten().all(|f| f["amount"].is_null()));
    }

    async fn every_partner_has_names_in_both_languages(app) {
        let data = app.data("{ partners(first: 100) { totalCount nodes { slug en: name(lang: EN) fr: name(lang: FR) } } }", json!({})).await;
        let partners = data["partners"]["nodes"].as_array().cloned().unwrap_or_default();
        assert!(partners.len() >= 24, "the sources name at least 24 partners, got {}", partners.len());
        for p in &partners {
            assert!(p["en"].as_str().is_some_and(|s| !s.trim().is_empty()), "{p}");
            assert!(p["fr"].as_str().is_some_and(|s| !s.trim().is_empty()), "{p}");
        }
    }
}
