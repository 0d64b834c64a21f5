//! Scalars: calendar dates, instants and exact decimal amounts.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// A calendar date, ISO 8601 `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date, ISO 8601 `YYYY-MM-DD` (e.g. `2016-11-21`).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("`{s}` is not a date of the form YYYY-MM-DD"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An instant, RFC 3339 in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTimeUtc(pub DateTime<Utc>);

/// An instant in time, RFC 3339 in UTC (e.g. `2026-11-22T14:05:00Z`).
#[Scalar(name = "DateTime")]
impl ScalarType for DateTimeUtc {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => DateTime::parse_from_rfc3339(s)
                .map(|d| DateTimeUtc(d.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom(format!("`{s}` is not an RFC 3339 instant"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// An exact decimal number written as a string (`"1250000.00"`): money is never a float.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

/// An exact decimal number as a string, e.g. `"1250000.00"`; never a float.
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if is_decimal(s) => Ok(Decimal(s.clone())),
            Value::String(s) => {
                Err(InputValueError::custom(format!("`{s}` is not a decimal number such as \"1250.00\"")))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty() && !frac.is_empty() && whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// Writes `minor` units of a currency with `exponent` decimals exactly.
pub fn format_minor(minor: i128, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u128.pow(exponent);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

#[cfg(test)]
mod tests {
    use super::format_minor;

    #[test]
    fn minor_units_are_written_exactly() {
        assert_eq!(format_minor(125_000_000, 2), "1250000.00");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(-5, 2), "-0.05");
        assert_eq!(format_minor(1234, 0), "1234");
        assert_eq!(format_minor(1, 3), "0.001");
        assert_eq!(format_minor(i64::MIN.into(), 2), "-92233720368547758.08");
        assert_eq!(format_minor(i128::from(i64::MAX) * 4, 2), "368934881474191032.28");
    }
}
