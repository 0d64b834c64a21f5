//! Countries, by ISO 3166-1 alpha-2 code, named in English and French.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_graphql::{Context, Object};
use serde::Deserialize;

use crate::graphql::context::lang;
use crate::graphql::direct::resolved_json;
use crate::graphql::lang::Lang;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountryNames {
    code: String,
    name_en: String,
    name_fr: String,
}

static COUNTRIES: LazyLock<HashMap<String, CountryNames>> = LazyLock::new(|| {
    // The file is part of the binary and checked by a test, so it always parses.
    serde_json::from_str::<Vec<CountryNames>>(include_str!("../../../data/countries.json"))
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect()
});

/// Whether `code` is an ISO 3166-1 alpha-2 code (upper case).
pub fn is_country_code(code: &str) -> bool {
    COUNTRIES.contains_key(code)
}

/// A country, by its ISO 3166-1 alpha-2 code.
pub struct Country(pub String);

// Few answers hold many countries: a country is resolved, not written.
resolved_json!(Country);

/// A country, identified by its ISO 3166-1 alpha-2 code and named in English and French.
#[Object(serial)]
impl Country {
    /// ISO 3166-1 alpha-2 code, e.g. `FR`.
    async fn code(&self) -> &str {
        &self.0
    }

    /// The country's short name in the asked language (the request's `Accept-Language` by default).
    async fn name(&self, ctx: &Context<'_>, #[graphql(desc = "Language of the name.")] lang: Option<Lang>) -> &str {
        match COUNTRIES.get(&self.0) {
            Some(c) => self::lang(ctx, lang).pick(&c.name_en, &c.name_fr),
            None => &self.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::COUNTRIES;

    #[test]
    fn every_iso_3166_country_is_named_in_both_languages() {
        assert_eq!(COUNTRIES.len(), 249);
        assert_eq!(COUNTRIES["DE"].name_fr, "Allemagne");
        assert!(COUNTRIES.values().all(|c| c.code.len() == 2 && !c.name_en.is_empty() && !c.name_fr.is_empty()));
    }
}
