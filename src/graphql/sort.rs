//! Orderings and their keyset cursors.
//!
//! A list is always ordered by a total order: the chosen column (nulls last,
//! whatever the direction), then `id`. A cursor records the row's place in
//! that order — the column's value and the id — so the next page starts
//! exactly after it even when many rows share the value.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, SimpleExpr, Value};
use serde_json::json;

use crate::error::{ApiError, ApiResult};

/// What type a sort column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortKind {
    Int,
    Text,
    Date,
}

/// A value of a sort column, as read from a row or a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortValue {
    Null,
    Int(i64),
    Text(String),
    Date(NaiveDate),
}

impl From<Option<NaiveDate>> for SortValue {
    fn from(d: Option<NaiveDate>) -> Self {
        d.map_or(SortValue::Null, SortValue::Date)
    }
}

impl From<Option<i64>> for SortValue {
    fn from(v: Option<i64>) -> Self {
        v.map_or(SortValue::Null, SortValue::Int)
    }
}

/// A row that can report the value of its sort columns.
pub trait Sortable {
    fn sort_value(&self, column: &str) -> SortValue;
}

/// How a list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sort {
    /// `None`: by id alone.
    pub column: Option<&'static str>,
    pub kind: SortKind,
    pub nullable: bool,
    pub descending: bool,
}

impl Sort {
    /// The order rows were recorded in.
    pub const BY_ID: Sort = Sort { column: None, kind: SortKind::Int, nullable: false, descending: false };

    pub const fn new(column: &'static str, kind: SortKind, nullable: bool, descending: bool) -> Self {
        Sort { column: Some(column), kind, nullable, descending }
    }

    /// By id, in the given direction.
    pub const fn by_id(descending: bool) -> Self {
        Sort { column: None, kind: SortKind::Int, nullable: false, descending }
    }

    fn name(&self) -> String {
        format!("{}:{}", self.column.unwrap_or("id"), if self.descending { "desc" } else { "asc" })
    }

    /// `ORDER BY` terms on `table`; `reverse` walks the order backwards.
    pub fn order_by(&self, table: &str, reverse: bool) -> Vec<(SimpleExpr, Order)> {
        let dir = |descending: bool| if descending != reverse { Order::Desc } else { Order::Asc };
        let mut terms = Vec::new();
        if let Some(column) = self.column {
            if self.nullable {
                terms.push((null_flag(table, column), dir(false)));
            }
            terms.push((col(table, column), dir(self.descending)));
        }
        terms.push((col(table, "id"), dir(self.descending)));
        terms
    }

    /// Rows strictly after (`after = true`) or before the cursor's row.
    pub fn bound(&self, table: &str, cursor: &Cursor, after: bool) -> Condition {
        // "Later" in the order: a greater value when ascending, a smaller one when descending.
        let later = after != self.descending;
        let beyond = |e: SimpleExpr, v: Value| if later { e.gt(v) } else { e.lt(v) };
        let id = || col(table, "id");
        let Some(column) = self.column else {
            return Condition::all().add(beyond(id(), Value::from(cursor.id)));
        };
        let c = || col(table, column);
        let same_value_then_id =
            |v: &Value| Condition::all().add(c().eq(v.clone())).add(beyond(id(), Value::from(cursor.id)));
        match (&cursor.value, self.nullable) {
            // Inside the trailing block of nulls, only ids decide.
            (SortValue::Null, _) => {
                let in_nulls = Condition::all().add(c().is_null()).add(beyond(id(), Value::from(cursor.id)));
                if after { in_nulls } else { Condition::any().add(c().is_not_null()).add(in_nulls) }
            }
            (value, nullable) => {
                let v = value.to_sea();
                let among_values = Condition::any().add(beyond(c(), v.clone())).add(same_value_then_id(&v));
                match (nullable, after) {
                    (true, true) => Condition::any().add(c().is_null()).add(among_values),
                    (true, false) => Condition::all().add(c().is_not_null()).add(among_values),
                    (false, _) => among_values,
                }
            }
        }
    }

    /// The cursor of a row with this value and id.
    pub fn cursor(&self, value: SortValue, id: i64) -> String {
        let value = match (self.column, value) {
            (None, _) | (_, SortValue::Null) => serde_json::Value::Null,
            (_, SortValue::Int(i)) => json!(i),
            (_, SortValue::Text(t)) => json!(t),
            (_, SortValue::Date(d)) => json!(d.format("%Y-%m-%d").to_string()),
        };
        URL_SAFE_NO_PAD.encode(json!({ "s": self.name(), "v": value, "i": id }).to_string())
    }

    /// Reads a cursor made by [`Sort::cursor`] under this same ordering.
    pub fn decode(&self, field: &str, cursor: &str) -> ApiResult<Cursor> {
        let invalid = || {
            ApiError::bad_input(field, format!("`{field}` is not a cursor of this list; use a cursor from its edges"))
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).map_err(|_| invalid())?;
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if parsed["s"].as_str() != Some(self.name().as_str()) {
            return Err(ApiError::bad_input(
                field,
                format!(
                    "`{field}` was made for another ordering of this list; cursors only continue the ordering they came from"
                ),
            ));
        }
        let id = parsed["i"].as_i64().ok_or_else(invalid)?;
        let raw = &parsed["v"];
        let value = match (self.column, self.kind) {
            (None, _) => SortValue::Null,
            _ if raw.is_null() && self.nullable => SortValue::Null,
            (_, SortKind::Int) => SortValue::Int(raw.as_i64().ok_or_else(invalid)?),
            (_, SortKind::Text) => SortValue::Text(raw.as_str().ok_or_else(invalid)?.to_owned()),
            (_, SortKind::Date) => SortValue::Date(
                raw.as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).ok_or_else(invalid)?,
            ),
        };
        Ok(Cursor { value, id })
    }
}

/// A row's place in an ordering.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub value: SortValue,
    pub id: i64,
}

impl SortValue {
    fn to_sea(&self) -> Value {
        match self {
            SortValue::Null => Value::BigInt(None),
            SortValue::Int(i) => Value::from(*i),
            SortValue::Text(t) => Value::from(t.clone()),
            SortValue::Date(d) => Value::from(*d),
        }
    }
}

fn col(table: &str, column: &str) -> SimpleExpr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// 1 for a null, 0 otherwise: sorted ascending, it puts nulls last on both databases.
fn null_flag(table: &str, column: &str) -> SimpleExpr {
    Expr::cust(format!(r#"CASE WHEN "{table}"."{column}" IS NULL THEN 1 ELSE 0 END"#))
}
