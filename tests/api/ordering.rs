//! Orderings, and pagination across rows that tie on the ordered field.

use partnership_registry::seed::synthetic::{self, Shape};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::on_both_databases;

/// Walks a whole ordered list page by page (forwards, or backwards with
/// `last`/`before`) and returns its rows.
async fn walk(app: &TestApp, list: &str, order: Value, fields: &str, page: i64, backwards: bool) -> Vec<Value> {
    let query = format!(
        "query($first: Int, $after: String, $last: Int, $before: String, $order: {}Order) {{
           {list}(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {{
             totalCount nodes {{ {fields} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}",
        match list {
            "partners" => "Partner",
            "agreements" => "Agreement",
            "projects" => "Project",
            _ => "Funding",
        }
    );
    let mut rows: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total = None;
    loop {
        let vars = if backwards {
            json!({ "last": page, "before": cursor, "order": order })
        } else {
            json!({ "first": page, "after": cursor, "order": order })
        };
        let data = app.data(&query, vars).await;
        let list = &data[list];
        total = total.or(list["totalCount"].as_u64());
        let nodes = list["nodes"].as_array().cloned().unwrap_or_default();
        let info = &list["pageInfo"];
        if backwards {
            rows.splice(0..0, nodes);
            if info["hasPreviousPage"] != true {
                break;
            }
            cursor = info["startCursor"].as_str().map(str::to_owned);
        } else {
            rows.extend(nodes);
            if info["hasNextPage"] != true {
                break;
            }
            cursor = info["endCursor"].as_str().map(str::to_owned);
        }
    }
    assert_eq!(Some(rows.len() as u64), total, "the walk visits every row once");
    rows
}

fn strings(rows: &[Value], key: &str) -> Vec<String> {
    rows.iter().map(|r| r[key].as_str().unwrap_or_default().to_owned()).collect()
}

fn assert_unique(rows: &[Value]) {
    let mut ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "no row twice");
}

on_both_databases! {
    async fn partners_order_by_name_in_either_language(app) {
        let en = walk(&app, "partners", json!({ "field": "NAME", "lang": "EN" }), "id en: name(lang: EN)", 5, false).await;
        let keys: Vec<String> = strings(&en, "en").iter().map(|n| entity::search::normalize(n)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "accent- and case-insensitive A→Z");
        let fr = walk(&app, "partners", json!({ "field": "NAME", "lang": "FR", "direction": "DESC" }), "id fr: name(lang: FR)", 5, false).await;
        let keys: Vec<String> = strings(&fr, "fr").iter().map(|n| entity::search::normalize(n)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(keys, sorted, "Z→A in French");
        assert_ne!(strings(&en, "id"), strings(&fr, "id").into_iter().rev().collect::<Vec<_>>(), "French order differs from English");
    }

    async fn the_order_follows_the_request_language_by_default(app) {
        let q = "{ partners(first: 3, orderBy: { field: NAME }) { nodes { slug } } }";
        let fr = app.graphql_with(q, json!({}), &[("accept-language", "fr")]).await;
        let en = app.graphql(q, json!({})).await;
        assert_ne!(fr["data"], en["data"]);
    }

    async fn dates_sort_with_unknown_days_last_both_ways(app) {
        let asc = walk(&app, "agreements", json!({ "field": "SIGNED_ON" }), "id reference signedOn", 2, false).await;
        assert_eq!(asc[0]["reference"], "UN-2016-GA-RESOLUTION");
        assert!(asc[1..].iter().all(|a| a["signedOn"].is_null()));
        assert_unique(&asc);
        let desc = walk(&app, "agreements", json!({ "field": "SIGNED_ON", "direction": "DESC" }), "id reference signedOn", 2, false).await;
        assert_eq!(desc[0]["reference"], "UN-2016-GA-RESOLUTION", "unknown days stay last when descending");
        let back = walk(&app, "agreements", json!({ "field": "SIGNED_ON" }), "id reference signedOn", 3, true).await;
        assert_eq!(strings(&back, "id"), strings(&asc, "id"), "backwards gives the same order");
    }

    async fn pages_stay_exact_across_ties(app) {
        // 10 partners → 100 agreements, 500 projects, 2,000 fundings with many equal dates and
        // a block of undisclosed amounts.
        synthetic::load(&app.db, Shape::with_partners(10), 3, |_| {}).await.expect("synthetic data");
        for (list, order, fields, page) in [
            ("projects", json!({ "field": "STARTS_ON" }), "id startsOn", 37),
            ("projects", json!({ "field": "NAME", "direction": "DESC" }), "id name", 41),
            ("fundings", json!({ "field": "AMOUNT", "direction": "DESC" }), "id amount { minorUnits }", 100),
            ("agreements", json!({ "field": "EXPIRES_ON" }), "id expiresOn", 9),
        ] {
            let forwards = walk(&app, list, order.clone(), fields, page, false).await;
            assert_unique(&forwards);
            let backwards = walk(&app, list, order.clone(), fields, page, true).await;
            assert_eq!(strings(&forwards, "id"), strings(&backwards, "id"), "{list} {order}");
        }
        let fundings = walk(&app, "fundings", json!({ "field": "AMOUNT" }), "id amount { minorUnits }", 100, false).await;
        let amounts: Vec<Option<i64>> =
            fundings.iter().map(|f| f["amount"]["minorUnits"].as_str().and_then(|m| m.parse().ok())).collect();
        let disclosed: Vec<i64> = amounts.iter().flatten().copied().collect();
        assert!(disclosed.windows(2).all(|w| w[0] <= w[1]), "ascending amounts");
        let first_null = amounts.iter().position(Option::is_none).unwrap_or(amounts.len());
        assert!(amounts[first_null..].iter().all(Option::is_none), "undisclosed amounts last");
        assert!(first_null < amounts.len(), "the synthetic set has undisclosed amounts");
    }

    async fn nested_lists_take_an_order_too(app) {
        let data = app
            .data(r#"{ partner(slug: "united-nations") { children(first: 100, orderBy: { field: NAME, direction: DESC }) { nodes { name } } } }"#, json!({}))
            .await;
        let names: Vec<String> = data["partner"]["children"]["nodes"].as_array().into_iter().flatten()
            .map(|n| entity::search::normalize(n["name"].as_str().unwrap_or_default())).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 13);
    }

    async fn a_cursor_only_continues_its_own_ordering(app) {
        let data = app.data("{ partners(first: 2, orderBy: { field: NAME }) { pageInfo { endCursor } } }", json!({})).await;
        let cursor = data["partners"]["pageInfo"]["endCursor"].clone();
        let body = app.graphql("query($c: String) { partners(first: 2, after: $c) { totalCount } }", json!({ "c": cursor })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("ordering"), "{body:#}");
        let body = app
            .graphql("query($c: String) { partners(first: 2, after: $c, orderBy: { field: NAME, direction: DESC }) { totalCount } }", json!({ "c": cursor }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }
}
