//! Scalars: calendar dates, instants and exact decimal amounts.

use std::borrow::Cow;
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
#[derive(Clone, Debug)]
pub struct Decimal(Digits);

#[derive(Clone, Debug)]
enum Digits {
    /// The text a client gave, checked to be a decimal number.
    Text(String),
    /// `minor` units with `exponent` decimals (a stored amount), written
    /// out only when answered: no text is made for an amount written as JSON.
    Minor { minor: i128, exponent: u32 },
}

impl Decimal {
    /// `minor` units of a currency with `exponent` decimals.
    pub fn minor(minor: i128, exponent: u32) -> Self {
        Decimal(Digits::Minor { minor, exponent })
    }

    /// The number as text (`"1250000.00"`).
    pub fn to_text(&self) -> Cow<'_, str> {
        match &self.0 {
            Digits::Text(text) => Cow::Borrowed(text),
            Digits::Minor { minor, exponent } => Cow::Owned(format_minor(*minor, *exponent)),
        }
    }

    /// The number as text, taken out.
    pub fn into_text(self) -> String {
        match self.0 {
            Digits::Text(text) => text,
            Digits::Minor { minor, exponent } => format_minor(minor, exponent),
        }
    }

    /// Writes the number as a JSON string at the end of `out`, as its
    /// GraphQL value is written. Its text is digits, a point and a sign,
    /// none of which JSON escapes.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        match &self.0 {
            Digits::Text(text) => out.extend_from_slice(text.as_bytes()),
            Digits::Minor { minor, exponent } => write_minor(out, *minor, *exponent),
        }
        out.push(b'"');
    }
}

/// An exact decimal number as a string, e.g. `"1250000.00"`; never a float.
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if is_decimal(s) => Ok(Decimal(Digits::Text(s.clone()))),
            Value::String(s) => {
                Err(InputValueError::custom(format!("`{s}` is not a decimal number such as \"1250.00\"")))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_text().into_owned())
    }
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty() && !frac.is_empty() && whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// The number of decimals of an ISO 4217 currency (`None` for codes
/// without one, such as gold, and for unknown codes).
pub fn currency_exponent(code: &str) -> Option<u16> {
    iso_currency(code)?.exponent()
}

/// The ISO 4217 currency of a code, if it is one.
///
/// `Currency::from_code` compares the code with every currency's in turn;
/// each thread remembers the answers (at most one per three-letter code),
/// so an amount written costs one small hash lookup.
pub fn iso_currency(code: &str) -> Option<Currency> {
    thread_local! {
        static KNOWN: RefCell<foldhash::HashMap<[u8; 3], Option<Currency>>> = RefCell::default();
    }
    let key: [u8; 3] = code.as_bytes().try_into().ok()?;
    if let Some(known) = KNOWN.with_borrow(|known| known.get(&key).copied()) {
        return known;
    }
    let currency = Currency::from_code(code);
    KNOWN.with_borrow_mut(|known| known.insert(key, currency));
    currency
}

/// Text that digits are written to: a `String`, or JSON being written.
trait DigitSink {
    fn push_str(&mut self, text: &str);
}

impl DigitSink for String {
    fn push_str(&mut self, text: &str) {
        String::push_str(self, text);
    }
}

impl DigitSink for Vec<u8> {
    fn push_str(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
}

/// Writes `minor` units of a currency with `exponent` decimals exactly.
pub fn format_minor(minor: i128, exponent: u32) -> String {
    let mut text = String::with_capacity(24);
    write_minor(&mut text, minor, exponent);
    text
}

/// [`format_minor`], at the end of `out`.
fn write_minor(out: &mut impl DigitSink, minor: i128, exponent: u32) {
    if minor < 0 {
        out.push_str("-");
    }
    let abs = minor.unsigned_abs();
    let mut digits = itoa::Buffer::new();
    // Amounts fit in 64 bits (sums of many may not), and most in 32 when
    // split: 64-bit division, not 128-bit, for them.
    let (whole, fraction) = match u64::try_from(abs) {
        Ok(abs) if exponent <= 18 => {
            let scale = 10u64.pow(exponent);
            (u128::from(abs / scale), u128::from(abs % scale))
        }
        _ => {
            let scale = 10u128.pow(exponent);
            (abs / scale, abs % scale)
        }
    };
    out.push_str(digits.format(whole));
    if exponent > 0 {
        out.push_str(".");
        let fraction = digits.format(fraction);
        for _ in fraction.len()..exponent as usize {
            out.push_str("0");
        }
        out.push_str(fraction);
    }
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
