//! Funding totals: exact, per currency, undisclosed amounts counted apart.

use chrono::{NaiveDate, Utc};
use entity::enums::{FundingKind, FundingStatus};
use entity::{funding, partner, project};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use partnership_registry::seed::synthetic::{self, Shape};

use crate::helpers::{TestApp, statements};
use crate::on_both_databases;

async fn id_of_project(app: &TestApp, code: &str) -> i64 {
    project::Entity::find()
        .filter(project::Column::Code.eq(code))
        .one(&app.db)
        .await
        .ok()
        .flatten()
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("{code}"))
}

async fn id_of_partner(app: &TestApp, slug: &str) -> i64 {
    partner::Entity::find()
        .filter(partner::Column::Slug.eq(slug))
        .one(&app.db)
        .await
        .ok()
        .flatten()
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("{slug}"))
}

/// Adds a funding of `minor` units (None: undisclosed) straight into the database.
async fn fund(app: &TestApp, project: &str, funder: &str, minor: Option<i64>, currency: &str, committed: Option<&str>) {
    let now = Utc::now();
    funding::ActiveModel {
        project_id: Set(id_of_project(app, project).await),
        funder_id: Set(id_of_partner(app, funder).await),
        kind: Set(FundingKind::Grant),
        status: Set(FundingStatus::Committed),
        amount_minor: Set(minor),
        currency: Set(Some(currency.to_owned())),
        committed_on: Set(committed.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("the funding is written");
}

fn amounts(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (m["currency"].as_str().unwrap_or_default().to_owned(), m["amount"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

on_both_databases! {
    async fn totals_are_exact_per_currency_and_count_the_undisclosed(app) {
        fund(&app, "SHARAKA", "european-union", Some(100_000_050), "EUR", Some("2019-03-01")).await;
        fund(&app, "SHARAKA", "european-union", Some(250), "EUR", Some("2020-01-15")).await;
        fund(&app, "SHARAKA", "g8", Some(1_000), "USD", None).await;
        fund(&app, "SHARAKA", "g8", Some(500), "JPY", Some("2020-07-01")).await;
        let data = app
            .data(r#"{ project(code: "SHARAKA") { totalFunding { amount currency minorUnits } undisclosedFundingCount } }"#, json!({}))
            .await;
        assert_eq!(
            amounts(&data["project"]["totalFunding"]),
            [("EUR".into(), "1000003.00".into()), ("JPY".into(), "500".into()), ("USD".into(), "10.00".into())]
        );
        assert_eq!(data["project"]["undisclosedFundingCount"], 1, "the EU's undisclosed grant from the sources");
        let eu = app.data(r#"{ partner(slug: "european-union") { totalFunding { amount currency } undisclosedFundingCount } }"#, json!({})).await;
        assert_eq!(amounts(&eu["partner"]["totalFunding"]), [("EUR".into(), "1000003.00".into())]);
        assert_eq!(eu["partner"]["undisclosedFundingCount"], 6);
    }

    async fn a_project_with_nothing_disclosed_has_an_empty_total(app) {
        let data = app.data(r#"{ project(code: "WAPIS") { totalFunding { amount } undisclosedFundingCount } partner(slug: "cemac") { totalFunding { amount } undisclosedFundingCount } }"#, json!({})).await;
        assert_eq!(data["project"]["totalFunding"], json!([]));
        assert_eq!(data["project"]["undisclosedFundingCount"], 1);
        assert_eq!(data["partner"]["totalFunding"], json!([]), "CEMAC funds nothing");
        assert_eq!(data["partner"]["undisclosedFundingCount"], 0);
    }

    async fn sums_beyond_64_bits_stay_exact(app) {
        fund(&app, "WAPIS", "european-union", Some(9_000_000_000_000_000_000), "EUR", None).await;
        fund(&app, "WAPIS", "european-union", Some(9_000_000_000_000_000_001), "EUR", None).await;
        let data = app.data(r#"{ project(code: "WAPIS") { totalFunding { amount minorUnits } } }"#, json!({})).await;
        assert_eq!(data["project"]["totalFunding"][0]["amount"], "180000000000000000.01");
        assert_eq!(data["project"]["totalFunding"][0]["minorUnits"], "18000000000000000001");
    }

    async fn totals_of_a_whole_level_cost_one_statement(app) {
        let body = app.graphql("{ projects(first: 100) { nodes { totalFunding { amount } undisclosedFundingCount } } partners(first: 100) { nodes { totalFunding { amount } } } }", json!({})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // projects, their totals, partners, their totals.
        assert_eq!(statements(&body), 4);
    }

    async fn reports_group_by_funder_currency_year_project_and_crime_area(app) {
        fund(&app, "SHARAKA", "european-union", Some(100_000_050), "EUR", Some("2019-03-01")).await;
        fund(&app, "ICSE", "g8", Some(1_000), "USD", Some("2019-12-31")).await;
        fund(&app, "ICSE", "g8", Some(2_000), "USD", Some("2021-06-30")).await;
        let q = r#"query($by: FundingGroupBy!, $f: FundingFilter) { fundingTotals(groupBy: $by, filter: $f) {
            funder { slug } project { code } crimeArea { slug } year currency total { amount } disclosedCount undisclosedCount } }"#;
        let rows = |v: Value| v["fundingTotals"].as_array().cloned().unwrap_or_default();

        let by_currency = rows(app.data(q, json!({ "by": "CURRENCY" })).await);
        let summary: Vec<(Value, Value, Value, Value)> =
            by_currency.iter().map(|r| (r["currency"].clone(), r["total"]["amount"].clone(), r["disclosedCount"].clone(), r["undisclosedCount"].clone())).collect();
        // The sources' six fundings disclose neither an amount nor a currency.
        assert_eq!(summary, [
            (json!("EUR"), json!("1000000.50"), json!(1), json!(0)),
            (json!("USD"), json!("30.00"), json!(2), json!(0)),
            (Value::Null, Value::Null, json!(0), json!(6)),
        ]);

        let by_year = rows(app.data(q, json!({ "by": "YEAR", "f": { "amountDisclosed": true } })).await);
        let years: Vec<(Value, Value, Value)> = by_year.iter().map(|r| (r["year"].clone(), r["currency"].clone(), r["total"]["amount"].clone())).collect();
        assert_eq!(years, [
            (json!(2019), json!("EUR"), json!("1000000.50")),
            (json!(2019), json!("USD"), json!("10.00")),
            (json!(2021), json!("USD"), json!("20.00")),
        ]);

        let by_funder = rows(app.data(q, json!({ "by": "FUNDER", "f": { "currencyIn": ["USD"] } })).await);
        assert_eq!(by_funder.len(), 1);
        assert_eq!(by_funder[0]["funder"]["slug"], "g8");
        assert_eq!(by_funder[0]["total"]["amount"], "30.00");

        let by_area = rows(app.data(q, json!({ "by": "CRIME_AREA", "f": { "amountDisclosed": true } })).await);
        let areas: Vec<(String, String)> = by_area.iter()
            .map(|r| (r["crimeArea"]["slug"].as_str().unwrap_or_default().to_owned(), r["total"]["amount"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert!(areas.contains(&("terrorism".into(), "1000000.50".into())), "{areas:?}");
        assert!(areas.contains(&("child-sexual-exploitation".into(), "30.00".into())), "{areas:?}");

        let by_project = rows(app.data(q, json!({ "by": "PROJECT", "f": { "project": { "crimeAreaIn": ["terrorism"] }, "amountDisclosed": true } })).await);
        assert_eq!(by_project.len(), 1);
        assert_eq!(by_project[0]["project"]["code"], "SHARAKA");
    }

    async fn an_empty_report_is_an_empty_list(app) {
        let data = app.data(r#"{ fundingTotals(groupBy: FUNDER, filter: { currencyIn: ["CHF"] }) { currency } }"#, json!({})).await;
        assert_eq!(data["fundingTotals"], json!([]));
        let body = app.graphql("{ fundingTotals(groupBy: FUNDER, first: 5000) { currency } }", json!({})).await;
        assert_eq!(crate::helpers::error_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["message"], "`first` must be between 1 and 1000, got 5000", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
    }

    async fn synthetic_fundings_come_from_a_fixed_pool_of_donors(app) {
        // 60 partners, 12,000 fundings: 7 donors among them fund every one;
        // a pool larger than the partners is every partner.
        for (seed, donors, expected) in [(7, 7, 7), (8, 100, 60)] {
            synthetic::load(&app.db, Shape { donors, ..Shape::with_partners(60) }, seed, |_| {})
                .await
                .expect("synthetic data loads");
            let data = app
                .data(r#"{ fundingTotals(groupBy: FUNDER, first: 1000, filter: { currencyIn: ["EUR"] }) { funder { slug } } }"#, json!({}))
                .await;
            let prefix = format!("s{seed}-");
            let funders: std::collections::BTreeSet<&str> = data["fundingTotals"]
                .as_array()
                .expect("a list of totals")
                .iter()
                .filter_map(|row| row["funder"]["slug"].as_str())
                .filter(|slug| slug.starts_with(&prefix))
                .collect();
            assert_eq!(funders.len(), expected, "seed {seed}, {donors} donors: {funders:?}");
        }
    }
}
