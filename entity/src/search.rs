//! Normalised keys for sorting and searching, the same on SQLite and
//! PostgreSQL: ASCII, lower case, punctuation folded to single spaces, so
//! "Sécurité", "securite" and "SECURITE" all become `securite`.

use sea_orm::EntityTrait;

/// A table `search` looks in: its two keys, and where they are indexed.
pub trait Searchable: EntityTrait {
    /// The primary key.
    const ID: Self::Column;
    /// Names and acronyms, `|`-fenced ([`names_key`]).
    const NAMES: Self::Column;
    /// All searchable text ([`text_key`]).
    const TEXT: Self::Column;
    /// On SQLite, the FTS5 tables (trigram tokenizer) indexing [`Self::NAMES`]
    /// and [`Self::TEXT`], each with one column named as the key and the
    /// primary key as rowid; on PostgreSQL the keys carry trigram indexes.
    const SQLITE_INDEXES: (&'static str, &'static str);
}

macro_rules! searchable {
    ($($module:ident => $names:literal, $text:literal);*) => {$(
        impl Searchable for crate::$module::Entity {
            const ID: crate::$module::Column = crate::$module::Column::Id;
            const NAMES: crate::$module::Column = crate::$module::Column::SearchNames;
            const TEXT: crate::$module::Column = crate::$module::Column::SearchText;
            const SQLITE_INDEXES: (&'static str, &'static str) = ($names, $text);
        }
    )*};
}

searchable!(
    partner => "partner_search_names", "partner_search_text";
    agreement => "agreement_search_names", "agreement_search_text";
    project => "project_search_names", "project_search_text"
);

/// The normalised form of `text`.
pub fn normalize(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Names and acronyms, each normalised and fenced by `|`, so an exact name
/// is found with `LIKE '%|unodc|%'` and a prefix with `LIKE '%|unod%'`.
pub fn names_key<'a>(names: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut out = String::from("|");
    for name in names.into_iter().flatten() {
        let name = normalize(name);
        if !name.is_empty() {
            out.push_str(&name);
            out.push('|');
        }
    }
    out
}

/// All searchable text, normalised, `|`-separated.
pub fn text_key<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    names_key(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_punctuation_fold_away() {
        assert_eq!(normalize("Sécurité"), "securite");
        assert_eq!(normalize("SECURITE"), "securite");
        assert_eq!(
            normalize("  Office des Nations Unies — contre la drogue "),
            "office des nations unies contre la drogue"
        );
        assert_eq!(normalize("I-24/7"), "i 24 7");
        assert_eq!(normalize("Œuvre d'État"), "oeuvre d etat");
    }

    #[test]
    fn names_are_fenced() {
        assert_eq!(names_key([Some("UNODC"), None, Some("ONUDC"), Some("")]), "|unodc|onudc|");
        assert_eq!(names_key([None]), "|");
    }
}
