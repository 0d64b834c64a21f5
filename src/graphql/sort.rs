//! Orderings and their keyset cursors.
//!
//! A list is always ordered by a total order: the chosen column (nulls last,
//! whatever the direction), then `id`. A cursor records the row's place in
//! that order — the column's value and the id — so the next page starts
//! exactly after it even when many rows share the value. The column is one
//! of the entity's typed columns: its type and nullability come from the
//! entity's own definition, and a row's value is read back through it, so
//! no ordering can be declared without a way to continue it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Order, SimpleExpr, Value};
use sea_orm::{ColumnTrait, ColumnType, EntityTrait, IdenStatic, ModelTrait};
use serde_json::json;

use crate::error::{ApiError, ApiResult};

/// A value of a sort column, as read from a row or a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortValue {
    Null,
    Int(i64),
    Text(String),
    Date(NaiveDate),
}

/// How a list of `E` is ordered.
pub struct Sort<E: EntityTrait> {
    /// `None`: by id alone.
    pub column: Option<E::Column>,
    pub descending: bool,
}

impl<E: EntityTrait> Clone for Sort<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E: EntityTrait> Copy for Sort<E> {}

impl<E: EntityTrait> std::fmt::Debug for Sort<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// What type a sort column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortKind {
    Int,
    Text,
    Date,
}

impl<E: EntityTrait> Sort<E> {
    /// The order rows were recorded in.
    pub const BY_ID: Self = Sort { column: None, descending: false };

    /// By id, in the given direction.
    pub const fn by_id(descending: bool) -> Self {
        Sort { column: None, descending }
    }

    /// By `column` (nulls last), then id.
    pub const fn by(column: E::Column, descending: bool) -> Self {
        Sort { column: Some(column), descending }
    }

    /// Names the ordering in its cursors and memo keys.
    pub fn name(&self) -> String {
        format!("{}:{}", self.column.map_or("id", |c| c.as_str()), if self.descending { "desc" } else { "asc" })
    }

    fn nullable(&self) -> bool {
        self.column.is_some_and(|c| c.def().is_null())
    }

    fn kind(column: E::Column) -> ApiResult<SortKind> {
        match column.def().get_column_type() {
            ColumnType::BigInteger | ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => {
                Ok(SortKind::Int)
            }
            ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Ok(SortKind::Text),
            ColumnType::Date => Ok(SortKind::Date),
            other => Err(ApiError::Internal(format!("column {} ({other:?}) cannot order a list", column.as_str()))),
        }
    }

    fn col(column: impl sea_orm::sea_query::IntoIden) -> SimpleExpr {
        Expr::col((E::default(), column))
    }

    fn id() -> ApiResult<SimpleExpr> {
        Ok(Self::col(primary_key::<E>()?))
    }

    /// `ORDER BY` terms; `reverse` walks the order backwards.
    pub fn order_by(&self, reverse: bool) -> ApiResult<Vec<(SimpleExpr, Order)>> {
        let dir = |descending: bool| if descending != reverse { Order::Desc } else { Order::Asc };
        let mut terms = Vec::new();
        if let Some(column) = self.column {
            if self.nullable() {
                terms.push((null_last(Self::col(column)), dir(false)));
            }
            terms.push((Self::col(column), dir(self.descending)));
        }
        terms.push((Self::id()?, dir(self.descending)));
        Ok(terms)
    }

    /// Rows strictly after (`after = true`) or before the cursor's row.
    pub fn bound(&self, cursor: &Cursor, after: bool) -> ApiResult<Condition> {
        // "Later" in the order: a greater value when ascending, a smaller one when descending.
        let later = after != self.descending;
        let beyond = |e: SimpleExpr, v: Value| if later { e.gt(v) } else { e.lt(v) };
        let id = Self::id()?;
        let Some(column) = self.column else {
            return Ok(Condition::all().add(beyond(id, Value::from(cursor.id))));
        };
        let c = || Self::col(column);
        let same_value_then_id =
            |v: &Value| Condition::all().add(c().eq(v.clone())).add(beyond(id.clone(), Value::from(cursor.id)));
        Ok(match (&cursor.value, self.nullable()) {
            // Inside the trailing block of nulls, only ids decide.
            (SortValue::Null, _) => {
                let in_nulls = Condition::all().add(c().is_null()).add(beyond(id.clone(), Value::from(cursor.id)));
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
        })
    }

    /// The value of the sort column in `row`.
    pub fn value_of(&self, row: &E::Model) -> ApiResult<SortValue> {
        let Some(column) = self.column else { return Ok(SortValue::Null) };
        let unsortable = || ApiError::Internal(format!("column {} cannot order a list", column.as_str()));
        Ok(match row.get(column) {
            Value::BigInt(v) => v.map_or(SortValue::Null, SortValue::Int),
            Value::Int(v) => v.map_or(SortValue::Null, |v| SortValue::Int(v.into())),
            Value::SmallInt(v) => v.map_or(SortValue::Null, |v| SortValue::Int(v.into())),
            Value::String(v) => v.map_or(SortValue::Null, SortValue::Text),
            Value::ChronoDate(v) => v.map_or(SortValue::Null, SortValue::Date),
            _ => return Err(unsortable()),
        })
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
        let Some(column) = self.column else { return Ok(Cursor { value: SortValue::Null, id }) };
        let value = match Self::kind(column)? {
            _ if raw.is_null() && self.nullable() => SortValue::Null,
            SortKind::Int => SortValue::Int(raw.as_i64().ok_or_else(invalid)?),
            SortKind::Text => SortValue::Text(raw.as_str().ok_or_else(invalid)?.to_owned()),
            SortKind::Date => SortValue::Date(
                raw.as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).ok_or_else(invalid)?,
            ),
        };
        Ok(Cursor { value, id })
    }
}

/// The entity's single-column primary key (every listed entity has one).
pub fn primary_key<E: EntityTrait>() -> ApiResult<E::Column> {
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    let mut keys = E::PrimaryKey::iter();
    match (keys.next(), keys.next()) {
        (Some(key), None) => Ok(key.into_column()),
        _ => Err(ApiError::Internal(format!("{} has no single-column primary key", E::default().table_name()))),
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

/// 1 for a null, 0 otherwise: sorted ascending, it puts nulls last on both databases.
fn null_last(expr: SimpleExpr) -> SimpleExpr {
    Expr::case(expr.is_null(), 1).finally(0).into()
}
