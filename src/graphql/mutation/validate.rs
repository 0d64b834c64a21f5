//! Input rules shared by every mutation. Each check names the input field
//! it rejects (`input.nameEn`) so a form can put the message next to it.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use iso_currency::Currency;

use crate::error::{ApiError, ApiResult};
use crate::graphql::object::is_country_code;

/// Longest name or title.
pub const MAX_NAME: usize = 300;
/// Longest description or summary.
pub const MAX_TEXT: usize = 10_000;
/// Longest slug, reference or code.
pub const MAX_KEY: usize = 64;
/// Longest URL.
pub const MAX_URL: usize = 2_048;

fn too_long(field: &str, max: usize) -> ApiError {
    ApiError::bad_input(field, format!("`{field}` is longer than {max} characters"))
}

/// Required text: trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, format!("`{field}` is required and may not be blank")));
    }
    if value.chars().count() > max {
        return Err(too_long(field, max));
    }
    Ok(value.to_owned())
}

/// Optional text: trimmed; blank counts as absent.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => Err(too_long(field, max)),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// A slug: lower-case ASCII letters and digits in words joined by single hyphens (`un-police-division`).
pub fn slug(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= MAX_KEY
        && value.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !ok {
        return Err(ApiError::bad_input(
            field,
            format!(
                "`{field}` must be lower-case letters and digits in words joined by single hyphens, at most {MAX_KEY} characters (e.g. `un-police-division`)"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// A reference or code: upper-case ASCII letters, digits, `-`, `_` and `.`,
/// starting with a letter or digit (`UN-1996-COOPERATION`).
pub fn key(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    let ok = value.len() <= MAX_KEY
        && value.bytes().next().is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        return Err(ApiError::bad_input(
            field,
            format!(
                "`{field}` must be upper-case letters, digits, `-`, `_` or `.`, starting with a letter or digit, at most {MAX_KEY} characters (e.g. `UN-1996-COOPERATION`)"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// An ISO 3166-1 alpha-2 country code (`FR`); lower case is accepted.
pub fn country(field: &str, value: &str) -> ApiResult<String> {
    let code = value.trim().to_ascii_uppercase();
    if !is_country_code(&code) {
        return Err(ApiError::bad_input(
            field,
            format!("`{}` is not an ISO 3166-1 alpha-2 country code (e.g. `FR`)", truncate(value)),
        ));
    }
    Ok(code)
}

/// An ISO 4217 currency code (`EUR`); lower case is accepted.
pub fn currency(field: &str, value: &str) -> ApiResult<Currency> {
    let code = value.trim().to_ascii_uppercase();
    Currency::from_code(&code).ok_or_else(|| {
        ApiError::bad_input(field, format!("`{}` is not an ISO 4217 currency code (e.g. `EUR`)", truncate(value)))
    })
}

/// An absolute `http` or `https` URL.
pub fn url(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(value) = optional(field, value, MAX_URL)? else { return Ok(None) };
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.chars().any(char::is_whitespace) => {
            Ok(Some(value))
        }
        _ => Err(ApiError::bad_input(field, format!("`{field}` must be an absolute http(s) URL"))),
    }
}

/// An optional year within `range`.
pub fn year(field: &str, value: Option<i32>, range: RangeInclusive<i32>) -> ApiResult<Option<i32>> {
    match value {
        Some(year) if !range.contains(&year) => Err(ApiError::bad_input(
            field,
            format!("`{field}` must be between {} and {}, got {year}", range.start(), range.end()),
        )),
        year => Ok(year),
    }
}

/// Dates that must not go backwards: each given date is on or after every
/// given date before it in the list.
pub fn in_order(dates: &[(&str, Option<NaiveDate>)]) -> ApiResult<()> {
    for (i, (later_field, later)) in dates.iter().enumerate() {
        let Some(later) = later else { continue };
        for (earlier_field, earlier) in &dates[..i] {
            if let Some(earlier) = earlier
                && earlier > later
            {
                return Err(ApiError::bad_input(
                    later_field,
                    format!("`{later_field}` ({later}) is before `{earlier_field}` ({earlier})"),
                ));
            }
        }
    }
    Ok(())
}

/// A non-negative decimal amount in `currency`, as minor units: no more
/// decimals than the currency has (2 for EUR, 0 for JPY), and within 64 bits.
pub fn amount(field: &str, value: &str, currency: Currency) -> ApiResult<i64> {
    let exponent = u32::from(currency.exponent().unwrap_or(0));
    let bad = |why: &str| ApiError::bad_input(field, format!("`{field}` {why}"));
    let value = value.trim();
    if value.starts_with('-') {
        return Err(bad("may not be negative"));
    }
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("must be a decimal number such as \"1250.00\""));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() as u32 > exponent {
        return Err(bad(&format!("has more decimals than {} allows ({exponent})", currency.code())));
    }
    let digits = format!("{whole}{frac:0<width$}", width = exponent as usize);
    digits.parse::<i64>().map_err(|_| bad("is too large"))
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 16 { format!("{}…", s.chars().take(16).collect::<String>()) } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn slugs_are_lower_case_words() {
        assert!(slug("s", "un-police-division").is_ok());
        assert!(slug("s", "g8").is_ok());
        for bad in ["", "UNODC", "un--dpo", "-un", "un-", "un dpo", "sécurité"] {
            assert!(slug("s", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_are_upper_case() {
        assert!(key("k", "UN-1996-COOPERATION").is_ok());
        assert!(key("k", "S1-PRJ-00000001").is_ok());
        assert!(key("k", "-X").is_err());
        assert!(key("k", "abc").is_err());
        assert!(key("k", "").is_err());
    }

    #[test]
    fn amounts_are_exact_minor_units() {
        let eur = Currency::EUR;
        assert_eq!(amount("a", "1250.5", eur).ok(), Some(125_050));
        assert_eq!(amount("a", "1250.50", eur).ok(), Some(125_050));
        assert_eq!(amount("a", "0", eur).ok(), Some(0));
        assert_eq!(amount("a", "7", Currency::JPY).ok(), Some(7));
        assert!(amount("a", "7.5", Currency::JPY).is_err());
        assert!(amount("a", "1.234", eur).is_err());
        assert!(amount("a", "-1", eur).is_err());
        assert!(amount("a", "1e3", eur).is_err());
        assert!(amount("a", "99999999999999999999", eur).is_err());
    }

    #[test]
    fn dates_must_not_go_backwards() {
        assert!(in_order(&[("a", date("2020-01-01")), ("b", None), ("c", date("2021-01-01"))]).is_ok());
        let err = in_order(&[("a", date("2020-01-01")), ("b", None), ("c", date("2019-01-01"))]);
        assert!(matches!(err, Err(ApiError::BadUserInput { field: Some(f), .. }) if f == "c"));
    }

    #[test]
    fn countries_and_currencies_are_iso_codes() {
        assert_eq!(country("c", "fr").ok().as_deref(), Some("FR"));
        assert!(country("c", "XX").is_err());
        assert!(currency("c", "eur").is_ok());
        assert!(currency("c", "EURO").is_err());
    }

    #[test]
    fn urls_are_absolute_http() {
        assert!(url("u", Some("https://www.interpol.int/")).is_ok());
        assert_eq!(url("u", Some("  ")).ok(), Some(None));
        assert!(url("u", Some("ftp://x")).is_err());
        assert!(url("u", Some("https://")).is_err());
        assert!(url("u", Some("javascript:alert(1)")).is_err());
    }
}
