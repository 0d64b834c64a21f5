//! Every ordering of every top-level list, in both directions and in each
//! language, walked page by page with cursors, forwards (`first`/`after`)
//! and backwards (`last`/`before`), gives the sequence the database gives
//! for that `ORDER BY` over the whole table — nulls last, ties by id.
//!
//! The lists, their `orderBy` inputs and each `…OrderField` value are read
//! by introspection, so a new value is walked as it lands; the column a
//! value orders by is the server's own mapping (`ListOrder`), and the
//! expected sequence is a plain `ORDER BY … NULLS LAST` the test writes
//! itself. Each input type the schema has must be known here, or the test
//! fails.

use std::collections::BTreeMap;

use async_graphql::InputType;
use entity::{agreement, funding, partner, project};
use futures_util::future::BoxFuture;
use partnership_registry::graphql::input::{AgreementOrder, FundingOrder, ListOrder, PartnerOrder, ProjectOrder};
use partnership_registry::graphql::lang::Lang;
use partnership_registry::seed::synthetic::{self, Shape};
use sea_orm::sea_query::{NullOrdering, Order};
use sea_orm::{DatabaseConnection, EntityTrait, Iterable, PrimaryKeyToColumn, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

/// Rows per page: small, and prime, so pages cut across runs of ties.
const PAGE: u32 = 7;

/// The ids of the whole table in an ordering, as the database orders them.
type Expected = for<'a> fn(&'a DatabaseConnection, Value, Lang) -> BoxFuture<'a, Vec<i64>>;

/// The id sequence of `E`'s whole table ordered as the `orderBy` value
/// `order` asks, by a plain `ORDER BY column NULLS LAST, id`.
fn expected<O, E>(db: &DatabaseConnection, order: Value, lang: Lang) -> BoxFuture<'_, Vec<i64>>
where
    O: ListOrder<E> + InputType,
    E: EntityTrait,
{
    Box::pin(async move {
        let value = async_graphql::Value::from_json(order.clone()).expect("the order is a GraphQL value");
        let order = O::parse(Some(value)).unwrap_or_else(|e| {
            panic!("{order} is an {}: {}", O::type_name(), e.into_server_error(Default::default()).message)
        });
        let sort = O::sort(Some(order), lang);
        let direction = if sort.descending { Order::Desc } else { Order::Asc };
        let id = E::PrimaryKey::iter().next().expect("a primary key").into_column();
        let mut select = E::find().select_only().column(id);
        if let Some(column) = sort.column {
            select = select.order_by_with_nulls(column, direction.clone(), NullOrdering::Last);
        }
        select.order_by(id, direction).into_tuple::<i64>().all(db).await.expect("the table is read")
    })
}

/// Every ordering input the server has, by its GraphQL name.
fn orderings() -> BTreeMap<String, Expected> {
    fn entry<O: ListOrder<E> + InputType, E: EntityTrait>() -> (String, Expected) {
        (O::type_name().into_owned(), expected::<O, E>)
    }
    BTreeMap::from([
        entry::<PartnerOrder, partner::Entity>(),
        entry::<AgreementOrder, agreement::Entity>(),
        entry::<ProjectOrder, project::Entity>(),
        entry::<FundingOrder, funding::Entity>(),
    ])
}

/// The global ids' row ids, in order.
fn row_ids(nodes: &[Value]) -> Vec<i64> {
    nodes.iter().map(|n| n["databaseId"].as_i64().expect("a databaseId")).collect()
}

/// Walks a whole list page by page, forwards or backwards, in `order`.
async fn walk(app: &TestApp, list: &str, input: &str, order: &Value, backwards: bool) -> Vec<i64> {
    let query = format!(
        "query($first: Int, $after: String, $last: Int, $before: String, $order: {input}) {{
           {list}(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {{
             nodes {{ databaseId }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
    );
    let (mut ids, mut cursor) = (Vec::new(), Value::Null);
    loop {
        let variables = if backwards {
            json!({ "last": PAGE, "before": cursor, "order": order })
        } else {
            json!({ "first": PAGE, "after": cursor, "order": order })
        };
        let data = app.data(&query, variables).await;
        let page = &data[list];
        let nodes = row_ids(page["nodes"].as_array().map(Vec::as_slice).unwrap_or_default());
        let info = &page["pageInfo"];
        if backwards {
            ids.splice(0..0, nodes);
            if info["hasPreviousPage"] != true {
                return ids;
            }
            cursor = info["startCursor"].clone();
        } else {
            ids.extend(nodes);
            if info["hasNextPage"] != true {
                return ids;
            }
            cursor = info["endCursor"].clone();
        }
    }
}

const INTROSPECTION: &str =
    "{ __schema { queryType { fields { name args { name type { name kind ofType { name } } } } }
    types { name inputFields { name type { name kind ofType { name } } } enumValues { name } } } }";

/// The named type of an introspected type reference.
fn named(ty: &Value) -> String {
    ty["name"].as_str().or_else(|| ty["ofType"]["name"].as_str()).unwrap_or_default().to_owned()
}

async fn every_ordering_walks_as_the_database_orders(app: &TestApp) {
    // Ties and undisclosed values beside the real dataset's few rows.
    let shape = Shape {
        agreements_per_partner: 5,
        projects_per_agreement: 4,
        fundings_per_project: 3,
        ..Shape::with_partners(4)
    };
    synthetic::load(&app.db, shape, 7, |_| {}).await.expect("synthetic data");
    let schema = app.data(INTROSPECTION, json!({})).await;
    let types: BTreeMap<String, &Value> = schema["__schema"]["types"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t))
        .collect();
    let known = orderings();
    let mut walked = 0;
    for list in schema["__schema"]["queryType"]["fields"].as_array().into_iter().flatten() {
        let Some(order_by) = list["args"].as_array().into_iter().flatten().find(|a| a["name"] == "orderBy") else {
            continue;
        };
        let input = named(&order_by["type"]);
        let expected = known.get(&input).unwrap_or_else(|| panic!("the test does not know the ordering {input}"));
        let fields = types[&input]["inputFields"].as_array().cloned().unwrap_or_default();
        let field_enum = fields.iter().find(|f| f["name"] == "field").map(|f| named(&f["type"])).expect("a field");
        let values: Vec<String> = types[&field_enum]["enumValues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str().map(str::to_owned))
            .collect();
        let langs: Vec<Option<&str>> =
            if fields.iter().any(|f| f["name"] == "lang") { vec![None, Some("EN"), Some("FR")] } else { vec![None] };
        let list = list["name"].as_str().unwrap_or_default();
        for value in &values {
            for direction in ["ASC", "DESC"] {
                for lang in &langs {
                    let mut order = json!({ "field": value, "direction": direction });
                    if let Some(lang) = lang {
                        order["lang"] = json!(lang);
                    }
                    let sequence = expected(&app.db, order.clone(), Lang::En).await;
                    assert!(sequence.len() > PAGE as usize * 2, "{list}: several pages to walk");
                    assert_eq!(walk(app, list, &input, &order, false).await, sequence, "{list} {order} forwards");
                    assert_eq!(walk(app, list, &input, &order, true).await, sequence, "{list} {order} backwards");
                    walked += 1;
                }
            }
        }
    }
    assert!(walked >= known.len(), "every known ordering was walked ({walked} walks)");
}

on_both_databases! {
    async fn every_ordering_of_every_list_walks_forwards_and_backwards_as_the_database_orders(app) {
        every_ordering_walks_as_the_database_orders(&app).await;
    }
}
