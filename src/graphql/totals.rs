//! Funding totals: exact sums per currency of the disclosed amounts, with a
//! count of the undisclosed ones. The database sums; the result travels as
//! text and is read into 128 bits, so no float ever touches money.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

use std::sync::Arc;

use async_graphql::Context;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{Group, RowId};
use crate::graphql::context::db;
use crate::graphql::object::Money;
use crate::graphql::sql::key_in;

/// The disclosed sums (one per currency) and the undisclosed count of one key.
#[derive(Debug, Default)]
pub struct Totals {
    pub sums: Vec<(String, i128)>,
    pub undisclosed: i64,
}

impl Totals {
    pub fn money(&self) -> Vec<Money> {
        self.sums.iter().map(|(currency, minor)| Money { minor: *minor, currency: currency.clone() }).collect()
    }
}

/// Columns every totals statement selects, grouped by `currency`.
pub fn aggregate(select: &mut SelectStatement) {
    let f = |c: &str| Expr::col((Alias::new("funding"), Alias::new(c)));
    select
        .expr_as(f("currency"), Alias::new("__currency"))
        // Summed as quotient and remainder by 10^9: neither sum can overflow
        // 64 bits (SQLite errors where PostgreSQL would widen), and the two
        // recombine exactly in 128 bits.
        .expr_as(Expr::cust(r#"CAST(SUM("funding"."amount_minor" / 1000000000) AS TEXT)"#), Alias::new("__sum_hi"))
        .expr_as(Expr::cust(r#"CAST(SUM("funding"."amount_minor" % 1000000000) AS TEXT)"#), Alias::new("__sum_lo"))
        .expr_as(Expr::cust(r#"COUNT("funding"."amount_minor")"#), Alias::new("__disclosed"))
        .expr_as(Expr::cust(r#"COUNT(*) - COUNT("funding"."amount_minor")"#), Alias::new("__undisclosed"))
        .add_group_by([f("currency")]);
}

/// Reads the columns [`aggregate`] selects.
pub fn read(row: &QueryResult) -> ApiResult<(Option<String>, Option<i128>, i64, i64)> {
    let part = |column: &str| -> ApiResult<Option<i128>> {
        row.try_get::<Option<String>>("", column)?
            .map(|s| s.parse::<i128>().map_err(|_| ApiError::Internal(format!("unreadable sum {s}"))))
            .transpose()
    };
    let sum = match (part("__sum_hi")?, part("__sum_lo")?) {
        (Some(hi), Some(lo)) => Some(hi * 1_000_000_000 + lo),
        _ => None,
    };
    Ok((
        row.try_get::<Option<String>>("", "__currency")?,
        sum,
        row.try_get::<i64>("", "__disclosed")?,
        row.try_get::<i64>("", "__undisclosed")?,
    ))
}

/// Totals of the fundings whose `column` (`funder_id` or `project_id`) is one of `keys`, per key.
pub async fn by_key(db: &CountingDb, column: &str, keys: &[i64]) -> ApiResult<HashMap<i64, Totals>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let key = Expr::col((Alias::new("funding"), Alias::new(column)));
    let mut select = Query::select();
    select.expr_as(key.clone(), Alias::new("__key")).from(Alias::new("funding"));
    aggregate(&mut select);
    select
        .and_where(key_in(db.get_database_backend(), "funding", column, keys))
        .add_group_by([key])
        .order_by(Alias::new("__currency"), Order::Asc);
    let mut totals: HashMap<i64, Totals> = HashMap::new();
    for row in db.query_all(&select).await? {
        let (currency, sum, _, undisclosed) = read(&row)?;
        let entry = totals.entry(row.try_get::<i64>("", "__key")?).or_default();
        entry.undisclosed += undisclosed;
        if let (Some(currency), Some(sum)) = (currency, sum) {
            entry.sums.push((currency, sum));
        }
    }
    Ok(totals)
}

/// The totals of every row of a group, loaded once for the whole group:
/// `column` is `funder_id` for partners, `project_id` for projects.
pub async fn of_group<P: RowId>(
    ctx: &Context<'_>,
    group: &Group<P>,
    column: &'static str,
) -> ApiResult<Arc<HashMap<i64, Totals>>> {
    let db = db(ctx)?;
    group.once((format!("totals/{column}").into(), 0), || async { by_key(db, column, &group.ids()).await }).await
}
