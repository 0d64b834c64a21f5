//! Funding totals: exact sums per currency of the disclosed amounts, with a
//! count of the undisclosed ones. The database sums; the result travels as
//! text and is read into 128 bits, so no float ever touches money.

use std::collections::HashMap;

use entity::funding;
use sea_orm::sea_query::{Alias, Expr, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryResult};

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{RowId, Siblings};
use crate::graphql::object::Money;
use crate::graphql::sql::column_in;

/// The disclosed sums (one per currency) and the undisclosed count of one key.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub sums: Vec<(String, i128)>,
    pub undisclosed: i64,
}

impl Totals {
    pub fn money(&self) -> Vec<Money> {
        self.sums.iter().map(|(currency, minor)| Money::new(*minor, currency)).collect()
    }
}

/// Columns every totals statement selects, grouped by currency.
pub fn aggregate(select: &mut SelectStatement) {
    use funding::Column;
    let amount = Column::AmountMinor.as_column_ref();
    let column = |(table, column): (sea_orm::sea_query::DynIden, sea_orm::sea_query::DynIden)| {
        format!(r#""{}"."{}""#, table.inner(), column.inner())
    };
    let amount = column(amount);
    select
        .expr_as(Expr::col(Column::Currency.as_column_ref()), Alias::new("__currency"))
        // Summed as quotient and remainder by 10^9: neither sum can overflow
        // 64 bits (SQLite errors where PostgreSQL would widen), and the two
        // recombine exactly in 128 bits.
        .expr_as(Expr::cust(format!("CAST(SUM({amount} / 1000000000) AS TEXT)")), Alias::new("__sum_hi"))
        .expr_as(Expr::cust(format!("CAST(SUM({amount} % 1000000000) AS TEXT)")), Alias::new("__sum_lo"))
        .expr_as(Expr::cust(format!("COUNT({amount})")), Alias::new("__disclosed"))
        .expr_as(Expr::cust(format!("COUNT(*) - COUNT({amount})")), Alias::new("__undisclosed"))
        .add_group_by([Expr::col(Column::Currency.as_column_ref())]);
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

/// Totals of the fundings whose `column` (the funder or the project) is one of `keys`, per key.
pub async fn by_key(db: &CountingDb, column: funding::Column, keys: &[i64]) -> ApiResult<HashMap<i64, Totals>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let key = Expr::col(column.as_column_ref());
    let mut select = Query::select();
    select.expr_as(key.clone(), Alias::new("__key")).from(funding::Entity);
    aggregate(&mut select);
    select
        .and_where(column_in(db.get_database_backend(), column, keys))
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

/// The totals of one row, loaded once for every row of its group: of the
/// fundings it provides (`column` the funder) or receives (the project).
pub async fn of<M: RowId>(rows: &Siblings<'_, M>, column: funding::Column) -> ApiResult<Totals> {
    let key = sea_orm::IdenStatic::as_str(&column).into();
    let totals = rows.load((key, 0), |db, ids| async move { by_key(db, column, &ids).await }).await?;
    Ok(totals.get(&rows.id()).cloned().unwrap_or_default())
}
