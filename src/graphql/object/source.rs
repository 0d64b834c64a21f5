//! `Source`: a public page the dataset's facts come from, and which of a
//! record's fields no cited page states.

use crate::graphql::declare::object;
use crate::graphql::lang::Lang;

object! {
    /// A public page the registry's facts come from. Every record lists the
    /// pages it relies on (`sources`); a fact none of them states is named
    /// in the record's `referenceFields`.
    node Source(source, "source") {
        /// Stable key, e.g. `united-nations-entities`.
        fn key() reads(key) -> &str { key }

        /// The page's title, in the page's language.
        fn title() reads(title) -> &str { title }

        /// The languages the page is written in.
        fn languages() reads(languages) -> Vec<Lang> {
            languages.split('+').filter_map(|code| match code {
                "en" => Some(Lang::En),
                "fr" => Some(Lang::Fr),
                _ => None,
            }).collect()
        }

        /// The page's public address, when it is known for sure.
        fn url() reads(url) -> Option<&str> { url }
    }
}

/// The API fields of a record whose value in `lang` is reference knowledge,
/// from the dataset keys stored in `reference_fields`: `nameFr` is `name`
/// in French (and nothing in English), `countryCode` is `country`, and
/// every other key is its field's name.
pub fn reference_fields(keys: &str, lang: Lang) -> Vec<&str> {
    keys.split_whitespace()
        .filter_map(|key| {
            let in_lang = |suffix: &str, of: Lang| key.strip_suffix(suffix).map(|field| (field, of));
            match in_lang("En", Lang::En).or_else(|| in_lang("Fr", Lang::Fr)) {
                Some((field, of)) => (of == lang).then_some(field),
                None if key == "countryCode" => Some("country"),
                None => Some(key),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::reference_fields;
    use crate::graphql::lang::Lang;

    #[test]
    fn a_key_in_one_language_is_a_field_in_that_language_only() {
        let keys = "nameEn acronymFr countryCode website";
        assert_eq!(reference_fields(keys, Lang::En), ["name", "country", "website"]);
        assert_eq!(reference_fields(keys, Lang::Fr), ["acronym", "country", "website"]);
        assert!(reference_fields("", Lang::En).is_empty());
    }
}
