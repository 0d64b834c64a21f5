//! Opaque global ids: `base64url("Partner:42")`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ApiResult};

/// The global id of row `id` of GraphQL type `type_name`.
pub fn encode(type_name: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

/// Splits a global id into its type name and row id.
pub fn decode(field: &str, global_id: &str) -> ApiResult<(String, i64)> {
    let invalid = || ApiError::bad_input(field, format!("`{}` is not a valid id", truncate(global_id)));
    let bytes = URL_SAFE_NO_PAD.decode(global_id.trim_end_matches('=')).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, id) = text.split_once(':').ok_or_else(invalid)?;
    let id = id.parse::<i64>().map_err(|_| invalid())?;
    if type_name.is_empty() || id <= 0 {
        return Err(invalid());
    }
    Ok((type_name.to_owned(), id))
}

/// Decodes a global id that must be of `expected` type.
pub fn decode_as(field: &str, expected: &str, global_id: &str) -> ApiResult<i64> {
    let (type_name, id) = decode(field, global_id)?;
    if type_name != expected {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` must be the id of a {expected}, not of a {type_name}"),
        ));
    }
    Ok(id)
}

/// Echoing a megabyte of garbage back in an error helps nobody.
fn truncate(s: &str) -> String {
    if s.chars().count() > 64 { format!("{}…", s.chars().take(64).collect::<String>()) } else { s.to_owned() }
}

#[cfg(test)]
mod fuzz {
    //! Whatever a client passes as an id or a cursor, decoding answers with a
    //! value or a `BAD_USER_INPUT`, never a panic.

    use proptest::prelude::*;

    use super::*;
    use crate::graphql::sort::Sort;
    use entity::{agreement, partner};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn any_id_decodes_or_is_bad_input(text in ".{0,200}") {
            if let Err(e) = decode("id", &text) {
                prop_assert_eq!(e.code(), "BAD_USER_INPUT");
            }
        }

        #[test]
        fn any_encoded_text_decodes_or_is_bad_input(inner in ".{0,100}") {
            let id = URL_SAFE_NO_PAD.encode(inner.as_bytes());
            if let Ok((type_name, row)) = decode("id", &id) {
                prop_assert!(!type_name.is_empty() && row > 0);
            }
        }

        #[test]
        fn any_cursor_decodes_or_is_bad_input(text in ".{0,200}", inner in ".{0,120}") {
            let partners = [Sort::<partner::Entity>::BY_ID, Sort::by(partner::Column::NameEnKey, false)];
            let agreements = [Sort::<agreement::Entity>::by(agreement::Column::SignedOn, true)];
            for cursor in [text.clone(), URL_SAFE_NO_PAD.encode(inner.as_bytes())] {
                let decoded = partners.iter().map(|sort| sort.decode("after", &cursor).map(|_| ()))
                    .chain(agreements.iter().map(|sort| sort.decode("after", &cursor).map(|_| ())));
                for result in decoded {
                    if let Err(e) = result {
                        prop_assert_eq!(e.code(), "BAD_USER_INPUT");
                    }
                }
            }
        }

        #[test]
        fn ids_round_trip(row in 1i64..i64::MAX) {
            prop_assert_eq!(decode("id", &encode("Partner", row)).ok(), Some(("Partner".to_owned(), row)));
        }
    }
}
