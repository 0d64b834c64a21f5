//! `fundingTotals`: funding summed for reports, per group and currency.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, Object};
use entity::{funding, project_crime_area};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend};

use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::{Group, RowId, distinct};
use crate::graphql::context::db;
use crate::graphql::input::{FundingFilter, ListFilter};
use crate::graphql::node::{NodeType, Wanted};
use crate::graphql::object::{CrimeArea, Money, Partner, Project};
use crate::graphql::sql;
use crate::graphql::totals;

/// The most rows one report returns.
pub(crate) const MAX_ROWS: i32 = 1_000;

/// What to total funding by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FundingGroupBy {
    /// One row per funder and currency.
    Funder,
    /// One row per funded project and currency.
    Project,
    /// One row per currency.
    Currency,
    /// One row per year of commitment and currency (`year` null: commitment date unknown).
    Year,
    /// One row per crime area of the funded projects and currency; a funding
    /// counts once in each crime area of its project.
    CrimeArea,
}

/// One row of a funding report: a group (a funder, a project, a year…) in one currency.
pub struct FundingTotal {
    group_by: FundingGroupBy,
    key: Option<i64>,
    currency: Option<String>,
    sum: Option<i128>,
    disclosed: i64,
    undisclosed: i64,
    partners: Option<Arc<Related<Partner>>>,
    projects: Option<Arc<Related<Project>>>,
    crime_areas: Option<Arc<Related<CrimeArea>>>,
}

/// The records named by a report's keys, fetched in one statement.
struct Related<N: NodeType> {
    group: Arc<Group<N::Model>>,
    index: HashMap<i64, usize>,
}

impl<N: NodeType> Related<N> {
    async fn load(db: &crate::db::CountingDb, keys: &[i64]) -> ApiResult<Arc<Self>> {
        let group = sql::fetch_by_ids::<N::Entity>(db, &distinct(keys.iter().copied()), Wanted::ALL).await?;
        let index = group.rows().iter().enumerate().map(|(i, r)| (r.row_id(), i)).collect();
        Ok(Arc::new(Related { group, index }))
    }

    fn get(&self, key: Option<i64>) -> Option<N> {
        key.and_then(|k| self.index.get(&k)).map(|&i| N::new(self.group.clone(), i))
    }
}

/// One row of a funding report: a group in one currency.
#[Object]
impl FundingTotal {
    /// The funder (when grouped by `FUNDER`).
    async fn funder(&self) -> Option<Partner> {
        self.partners.as_ref().and_then(|r| r.get(self.key))
    }

    /// The funded project (when grouped by `PROJECT`).
    async fn project(&self) -> Option<Project> {
        self.projects.as_ref().and_then(|r| r.get(self.key))
    }

    /// The crime area (when grouped by `CRIME_AREA`).
    async fn crime_area(&self) -> Option<CrimeArea> {
        self.crime_areas.as_ref().and_then(|r| r.get(self.key))
    }

    /// The year of commitment (when grouped by `YEAR`); null when the commitment date is unknown.
    async fn year(&self) -> Option<i64> {
        self.key.filter(|_| self.group_by == FundingGroupBy::Year)
    }

    /// ISO 4217 currency of this row; null for fundings whose currency is not known.
    async fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// The exact sum of the disclosed amounts; null when none is disclosed.
    async fn total(&self) -> Option<Money> {
        Some(Money::new(self.sum?, self.currency.as_deref()?))
    }

    /// How many fundings with a disclosed amount the sum covers.
    async fn disclosed_count(&self) -> i64 {
        self.disclosed
    }

    /// How many fundings of this group have no disclosed amount.
    async fn undisclosed_count(&self) -> i64 {
        self.undisclosed
    }
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Funding totalled by funder, project, currency, year or crime area,
    /// one row per group and currency, over the fundings matching `filter`.
    /// Sums are exact and never mix currencies; undisclosed amounts are
    /// counted, not guessed. Rows come ordered by group, then currency.
    async fn funding_totals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to total by.")] group_by: FundingGroupBy,
        #[graphql(desc = "Only the fundings matching this filter.")] filter: Option<FundingFilter>,
        #[graphql(desc = "The most rows to return (1–1000).", default = 100)] first: i32,
    ) -> ApiResult<Vec<FundingTotal>> {
        if !(1..=MAX_ROWS).contains(&first) {
            return Err(ApiError::bad_input("first", format!("`first` must be between 1 and {MAX_ROWS}, got {first}")));
        }
        let condition = filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all);
        let db = db(ctx)?;
        let backend = db.get_database_backend();
        let key = match group_by {
            FundingGroupBy::Funder => Some(Expr::col(funding::Column::FunderId.as_column_ref())),
            FundingGroupBy::Project => Some(Expr::col(funding::Column::ProjectId.as_column_ref())),
            FundingGroupBy::CrimeArea => Some(Expr::col(project_crime_area::Column::CrimeAreaId.as_column_ref())),
            FundingGroupBy::Year => {
                // The year of a date: no function both databases share.
                let (table, column) = funding::Column::CommittedOn.as_column_ref();
                let day = format!(r#""{}"."{}""#, table.inner(), column.inner());
                Some(Expr::cust(match backend {
                    DbBackend::Postgres => format!("CAST(EXTRACT(YEAR FROM {day}) AS BIGINT)"),
                    _ => format!("CAST(strftime('%Y', {day}) AS INTEGER)"),
                }))
            }
            FundingGroupBy::Currency => None,
        };
        let mut select = Query::select();
        select.from(funding::Entity).cond_where(condition);
        if group_by == FundingGroupBy::CrimeArea {
            select.inner_join(
                project_crime_area::Entity,
                Expr::col(project_crime_area::Column::ProjectId.as_column_ref())
                    .equals(funding::Column::ProjectId.as_column_ref()),
            );
        }
        if let Some(key) = &key {
            select.expr_as(key.clone(), Alias::new("__key")).add_group_by([key.clone()]);
            // Unknown years last, on both databases.
            select.order_by_expr(null_last(key.clone()), Order::Asc).order_by_expr(key.clone(), Order::Asc);
        }
        totals::aggregate(&mut select);
        let currency = Expr::col(funding::Column::Currency.as_column_ref());
        select
            .order_by_expr(null_last(currency.clone()), Order::Asc)
            .order_by_expr(currency, Order::Asc)
            .limit(first as u64);

        let mut rows = Vec::new();
        for row in db.query_all(&select).await? {
            let (currency, sum, disclosed, undisclosed) = totals::read(&row)?;
            let key = if key.is_some() { row.try_get::<Option<i64>>("", "__key")? } else { None };
            rows.push(FundingTotal {
                group_by,
                key,
                currency,
                sum,
                disclosed,
                undisclosed,
                partners: None,
                projects: None,
                crime_areas: None,
            });
        }
        let keys: Vec<i64> = rows.iter().filter_map(|r| r.key).collect();
        match group_by {
            FundingGroupBy::Funder => {
                let related = Related::<Partner>::load(db, &keys).await?;
                rows.iter_mut().for_each(|r| r.partners = Some(related.clone()));
            }
            FundingGroupBy::Project => {
                let related = Related::<Project>::load(db, &keys).await?;
                rows.iter_mut().for_each(|r| r.projects = Some(related.clone()));
            }
            FundingGroupBy::CrimeArea => {
                let related = Related::<CrimeArea>::load(db, &keys).await?;
                rows.iter_mut().for_each(|r| r.crime_areas = Some(related.clone()));
            }
            FundingGroupBy::Year | FundingGroupBy::Currency => {}
        }
        Ok(rows)
    }
}

/// 1 for a null, 0 otherwise: ordered ascending, nulls come last on both databases.
fn null_last(expr: Expr) -> Expr {
    Expr::case(expr.is_null(), 1).finally(0).into()
}
