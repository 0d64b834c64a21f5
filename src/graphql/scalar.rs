//! Scalars: calendar dates, instants and exact decimal amounts.

use std::cell::RefCell;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use iso_currency::Currency;

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

/// The number of decimals of an ISO 4217 currency (`None` for codes
/// without one, such as gold, and for unknown codes).
///
/// `Currency::from_code` compares the code with every currency's in turn;
/// each thread remembers the answers (at most one per ISO currency), so an
/// amount written costs one small hash lookup.
pub fn currency_exponent(code: &str) -> Option<u16> {
    thread_local! {
        static KNOWN: RefCell<foldhash::HashMap<[u8; 3], Option<u16>>> = RefCell::default();
    }
    let key: [u8; 3] = code.as_bytes().try_into().ok()?;
    if let Some(known) = KNOWN.with_borrow(|known| known.get(&key).copied()) {
        return known;
    }
    let currency = Currency::from_code(code)?;
    KNOWN.with_borrow_mut(|known| known.insert(key, currency.exponent()));
    currency.exponent()
}

/// Writes `minor` units of a currency with `exponent` decimals exactly.
pub fn format_minor(minor: i128, exponent: u32) -> String {
    // Amounts fit in 64 bits (sums of many may not): their digits are
    // written by hand, which avoids 128-bit division and the formatter.
    match u64::try_from(minor.unsigned_abs()) {
        Ok(abs) if exponent <= 18 => format_small(minor < 0, abs, exponent as usize),
        _ => {
            let sign = if minor < 0 { "-" } else { "" };
            let abs = minor.unsigned_abs();
            let scale = 10u128.pow(exponent);
            match exponent {
                0 => format!("{sign}{abs}"),
                _ => format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize),
            }
        }
    }
}

fn format_small(negative: bool, mut abs: u64, exponent: usize) -> String {
    // 20 digits, a point and 18 leading zeros at most, and a sign.
    let mut text = [0u8; 40];
    let mut at = text.len();
    let mut digits = 0;
    while abs > 0 || digits <= exponent {
        if digits == exponent && digits > 0 {
            at -= 1;
            text[at] = b'.';
        }
        at -= 1;
        text[at] = b'0' + (abs % 10) as u8;
        abs /= 10;
        digits += 1;
    }
    if negative {
        at -= 1;
        text[at] = b'-';
    }
    // ASCII only: checked and copied in one pass, not pushed char by char.
    String::from_utf8_lossy(&text[at..]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{currency_exponent, format_minor};

    #[test]
    fn minor_units_are_written_exactly() {
        assert_eq!(format_minor(125_000_000, 2), "1250000.00");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(-5, 2), "-0.05");
        assert_eq!(format_minor(1234, 0), "1234");
        assert_eq!(format_minor(1, 3), "0.001");
        assert_eq!(format_minor(i64::MIN.into(), 2), "-92233720368547758.08");
        assert_eq!(format_minor(i128::from(i64::MAX) * 4, 2), "368934881474191032.28");
        assert_eq!(format_minor(0, 0), "0");
        assert_eq!(format_minor(0, 2), "0.00");
        assert_eq!(format_minor(-7, 0), "-7");
        assert_eq!(format_minor(1_000, 3), "1.000");
        assert_eq!(format_minor(u64::MAX.into(), 2), "184467440737095516.15");
        assert_eq!(format_minor(-i128::from(u64::MAX), 4), "-1844674407370955.1615");
        assert_eq!(format_minor(i128::from(u64::MAX) + 1, 0), "18446744073709551616");
    }

    #[test]
    fn currency_decimals_come_from_iso_4217() {
        assert_eq!(currency_exponent("EUR"), Some(2));
        assert_eq!(currency_exponent("JPY"), Some(0));
        assert_eq!(currency_exponent("BHD"), Some(3));
        assert_eq!(currency_exponent("XAU"), None);
        assert_eq!(currency_exponent("ZZZ"), None);
    }
}
