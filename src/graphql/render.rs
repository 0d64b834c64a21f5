//! Objects written as JSON where they are resolved.
//!
//! async-graphql gathers a whole result as a tree of values (every object
//! an `IndexMap` with its own index table and entry vector) and only then
//! is it serialised. For Q1 that tree is some 35,000 maps and 9 MB, built,
//! walked and freed for a 1 MB answer. The objects of lists and of
//! [`crate::graphql::inline::Inline`] fields are instead written straight
//! to JSON text as their fields resolve ([`crate::graphql::inline`]), and
//! the text travels up the tree in place of the object, as a
//! [`Value::Binary`] that [`write_value`] copies through as it stands. The
//! schema has no binary scalar, so a `Binary` in a result is always such
//! text.
//!
//! The tree has one other job: when a selection asks for one response key
//! twice (`{ a: partner { name } a: partner { slug } }`, or a field both
//! directly and through a fragment), the two values are merged into one
//! object. Written text cannot be merged, so a request whose document
//! repeats a key anywhere keeps the tree ([`writes_text`]).
//!
//! An object being written lends its text to the value of the field it is
//! resolving ([`Loans`]): a list or an object in place writes itself at the
//! end of it and answers [`written_in_place`], instead of writing text of
//! its own for the object to copy. Without loans, each funding of Q1 was
//! copied once for every level above it, into memory never touched before.
//!
//! A result holding written text is serialised with [`response_json`] (the
//! HTTP and WebSocket transports do); async-graphql's own `Serialize` would
//! write it as an array of bytes.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use async_graphql::parser::types::{FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value};

/// A document's fragments, by name.
pub type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Pre-written JSON text, standing in for the object (or list) it renders.
pub fn text(json: Vec<u8>) -> Value {
    Value::Binary(json.into())
}

/// What a value written in place in lent text ([`Loans`]) answers: empty
/// text, which no written value is (the shortest JSON text is one byte).
pub fn written_in_place() -> Value {
    Value::Binary(Default::default())
}

/// Whether `value` says it was written in place ([`written_in_place`]).
pub fn is_written_in_place(value: &Value) -> bool {
    matches!(value, Value::Binary(json) if json.is_empty())
}

/// The text of the objects of one request being written, each lent to the
/// value of the field its object is resolving, under a key that lender and
/// borrower both know ([`crate::graphql::inline`]: the address of the
/// lending object's place in the response, alive and its own for as long
/// as the loan lasts).
#[derive(Default)]
pub struct Loans(Mutex<Vec<(usize, Vec<u8>)>>);

impl Loans {
    /// Lends `text` under `key`.
    pub fn lend(&self, key: usize, text: Vec<u8>) {
        if let Ok(mut loans) = self.0.lock() {
            loans.push((key, text));
        }
    }

    /// The text lent under `key`, if any, taken out (to be lent again or
    /// taken back by its lender).
    pub fn take(&self, key: usize) -> Option<Vec<u8>> {
        let mut loans = self.0.lock().ok()?;
        let at = loans.iter().position(|(lent, _)| *lent == key)?;
        Some(loans.swap_remove(at).1)
    }
}

/// The bytes a JSON string cannot hold as they are: control characters,
/// `"` and `\\` (serde_json escapes these and only these).
const ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Writes `text` as a JSON string, as serde_json writes it. Most text
/// (names, codes, amounts) needs no escape, and is copied in one go once
/// checked: serde_json's general writer costs some 900 instructions for a
/// 20-byte name.
pub fn write_str(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    if text.bytes().any(|b| ESCAPED[usize::from(b)]) {
        return serde_json::to_writer(out, text);
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Writes `value` as JSON; written text ([`text`]) goes through as it is.
pub fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    write_value_with(out, value, &mut |out, json| out.extend_from_slice(json))
}

/// [`write_value`], each written text handed to `text` to put at the end of `out`.
fn write_value_with(
    out: &mut Vec<u8>,
    value: &Value,
    text: &mut impl FnMut(&mut Vec<u8>, &bytes::Bytes),
) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => serde_json::to_writer(&mut *out, number)?,
        Value::String(text) => write_str(out, text)?,
        Value::Enum(name) => write_str(out, name)?,
        Value::Binary(json) => {
            debug_assert!(!json.is_empty(), "a value written in place reached a value of its parent");
            text(out, json)
        }
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value_with(out, item, text)?;
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                write_value_with(out, value, text)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Writes `"key":value`.
pub fn write_entry(out: &mut Vec<u8>, key: &str, value: &Value) -> serde_json::Result<()> {
    serde_json::to_writer(&mut *out, key)?;
    out.push(b':');
    write_value(out, value)
}

/// The bytes a GraphQL name is made of: ASCII letters, digits and `_`
/// (one table lookup a byte: a Q1 writes some 56,000 keys).
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

/// `"key":` as [`write_key`] writes it, to be written again and again.
pub fn rendered_key(key: &str) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(key.len() + 3);
    write_key(&mut out, key)?;
    Ok(out)
}

/// Writes `"key":`, the key as it stands when it is a plain name (as every
/// key a parsed document gives is), escaped otherwise.
pub fn write_key(out: &mut Vec<u8>, key: &str) -> serde_json::Result<()> {
    if key.bytes().all(|b| NAME_BYTE[usize::from(b)]) {
        out.reserve(key.len() + 3);
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    } else {
        serde_json::to_writer(&mut *out, key)?;
        out.push(b':');
    }
    Ok(())
}

/// A response as async-graphql serialises one (`data`, then `extensions`
/// and `errors` when there are any), with written text in place.
pub fn response_json(response: &async_graphql::Response) -> serde_json::Result<Vec<u8>> {
    // Sized for the written text up front: growing a megabyte answer by
    // doubling copies it again at every step, into memory never touched before.
    let mut out = Vec::with_capacity(4096 + text_len(&response.data));
    out.extend_from_slice(b"{\"data\":");
    write_value(&mut out, &response.data)?;
    let out = finish_response(response, out)?;
    // Written text is JSON by construction; debug builds (the tests) check
    // every answer parses.
    debug_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&out).is_ok(), "an answer is not JSON");
    Ok(out)
}

/// From this size on, written text goes into an answer's pieces as it
/// stands ([`response_pieces`]).
const PASSED_THROUGH: usize = 16 << 10;

/// [`response_json`] in pieces, in order: written text of
/// [`PASSED_THROUGH`] bytes or more is a piece of its own, passed on as it
/// stands rather than copied into a megabyte of memory touched afresh.
pub fn response_pieces(response: &async_graphql::Response) -> serde_json::Result<Vec<bytes::Bytes>> {
    let mut pieces = Vec::new();
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"data\":");
    write_value_with(&mut out, &response.data, &mut |out, json| {
        if json.len() < PASSED_THROUGH {
            out.extend_from_slice(json);
            return;
        }
        if !out.is_empty() {
            pieces.push(bytes::Bytes::from(std::mem::replace(out, Vec::with_capacity(4096))));
        }
        pieces.push(json.clone());
    })?;
    pieces.push(finish_response(response, out)?.into());
    // Written text is JSON by construction; debug builds (the tests) check
    // every answer parses.
    debug_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&pieces.concat()).is_ok(), "an answer is not JSON");
    Ok(pieces)
}

/// The rest of a response after its `data`: `extensions` and `errors`.
fn finish_response(response: &async_graphql::Response, mut out: Vec<u8>) -> serde_json::Result<Vec<u8>> {
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":{");
        for (i, (key, value)) in response.extensions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_entry(&mut out, key, value)?;
        }
        out.push(b'}');
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &response.errors)?;
    }
    out.push(b'}');
    Ok(out)
}

/// How many bytes of written text `value` holds.
fn text_len(value: &Value) -> usize {
    match value {
        Value::Binary(json) => json.len(),
        Value::List(items) => items.iter().map(text_len).sum(),
        Value::Object(fields) => fields.values().map(text_len).sum(),
        _ => 0,
    }
}

/// Whether this request's objects may be written as text: no selection set
/// of the document, fragments spread in, names one response key twice.
/// Worked out once per request.
pub fn writes_text(memo: &OnceLock<bool>, fragments: &Fragments, operation: &SelectionSet) -> bool {
    *memo.get_or_init(|| keys_unique(fragments, operation))
}

fn keys_unique(fragments: &Fragments, set: &SelectionSet) -> bool {
    let mut keys = HashSet::new();
    let mut nested = Vec::new();
    flatten(fragments, set, &mut keys, &mut nested, 0)
        && nested.into_iter().all(|inner: &SelectionSet| keys_unique(fragments, inner))
}

/// Adds the response keys of `set` (fragments spread in, whatever their type
/// condition: a repeat under two conditions is counted, to be safe) and
/// gathers the fields' own selection sets. False at the first repeat.
fn flatten<'a>(
    fragments: &'a Fragments,
    set: &'a SelectionSet,
    keys: &mut HashSet<&'a Name>,
    nested: &mut Vec<&'a SelectionSet>,
    depth: usize,
) -> bool {
    // Validation refuses fragment cycles; the bound keeps a stray one finite.
    if depth > 64 {
        return false;
    }
    for selection in &set.items {
        let inner = match &selection.node {
            Selection::Field(field) => {
                if !keys.insert(&field.node.response_key().node) {
                    return false;
                }
                nested.push(&field.node.selection_set.node);
                continue;
            }
            Selection::FragmentSpread(spread) => match fragments.get(&spread.node.fragment_name.node) {
                Some(fragment) => &fragment.node.selection_set.node,
                None => return false,
            },
            Selection::InlineFragment(fragment) => &fragment.node.selection_set.node,
        };
        if !flatten(fragments, inner, keys, nested, depth + 1) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::DocumentOperations;

    fn unique(query: &str) -> bool {
        let document = parse_query(query).expect("the test's query parses");
        let operation = match &document.operations {
            DocumentOperations::Single(operation) => operation.clone(),
            DocumentOperations::Multiple(operations) => operations.values().next().expect("an operation").clone(),
        };
        keys_unique(&document.fragments, &operation.node.selection_set.node)
    }

    #[test]
    fn a_key_named_twice_anywhere_keeps_the_tree() {
        assert!(unique("{ partners { nodes { id name } } a: partners { nodes { id } } }"));
        assert!(!unique("{ partners { nodes { id } } partners { nodes { name } } }"));
        assert!(!unique("{ partners { nodes { id id } } }"));
        assert!(!unique("{ partners { nodes { id ...F } } } fragment F on Partner { id }"));
        assert!(!unique("{ search(query: \"x\") { nodes { ... on Partner { name } ... on Project { name } } } }"));
        assert!(!unique("{ a: partner(slug: \"x\") { id } a: partner(slug: \"y\") { id } }"));
        assert!(unique("{ partners { nodes { ...F } } } fragment F on Partner { id agreements { nodes { id } } }"));
    }

    #[test]
    fn written_text_goes_through_as_it_stands() {
        let mut fields = async_graphql::indexmap::IndexMap::new();
        fields.insert(Name::new("nodes"), text(br#"[{"a":"\u00e9"}]"#.to_vec()));
        fields.insert(Name::new("total"), Value::from(3));
        fields.insert(Name::new("name"), Value::from("quote \" and é"));
        fields.insert(Name::new("kind"), Value::Enum(Name::new("UN_ENTITY")));
        fields.insert(Name::new("none"), Value::Null);
        fields.insert(Name::new("list"), Value::List(vec![Value::Boolean(true), Value::Boolean(false)]));
        let response = async_graphql::Response::new(Value::Object(fields));
        let json = String::from_utf8(response_json(&response).expect("writes")).expect("utf-8");
        assert_eq!(
            json,
            r#"{"data":{"nodes":[{"a":"\u00e9"}],"total":3,"name":"quote \" and é","kind":"UN_ENTITY","none":null,"list":[true,false]}}"#
        );
    }

    #[test]
    fn a_response_without_text_is_written_as_async_graphql_writes_it() {
        let mut fields = async_graphql::indexmap::IndexMap::new();
        fields.insert(Name::new("n"), Value::from(1.5));
        fields.insert(Name::new("s"), Value::from("tab\tand\nnewline"));
        let mut response = async_graphql::Response::new(Value::Object(fields));
        response.extensions.insert("sqlStatements".into(), Value::from(5));
        response.errors.push(async_graphql::ServerError::new("boom", None));
        let ours = response_json(&response).expect("writes");
        let theirs = serde_json::to_vec(&response).expect("serialises");
        assert_eq!(String::from_utf8(ours).expect("utf-8"), String::from_utf8(theirs).expect("utf-8"));
    }

    /// Text is written as serde_json writes it, whether it needs escapes or not.
    #[test]
    fn text_is_written_as_serde_json_writes_it() {
        let mut samples: Vec<String> = (0..=127u8).map(|b| format!("a{}b", char::from(b))).collect();
        samples.extend(["", "Synthetic partner 12", "Sécurité", "日本", "\u{2028}\u{7f}", "\"\\"].map(String::from));
        for text in samples {
            let mut ours = Vec::new();
            write_str(&mut ours, &text).expect("written");
            assert_eq!(ours, serde_json::to_vec(&text).expect("serialised"), "{text:?}");
        }
    }

    /// A key of the grammar is written as it stands; any other (no parsed
    /// document gives one, but a field can be built by hand) is escaped.
    #[test]
    fn field_keys_are_escaped_unless_plain_names() {
        let written = |alias: &str| {
            let mut out = Vec::new();
            write_key(&mut out, alias).expect("written");
            write_value(&mut out, &Value::from(1)).expect("written");
            String::from_utf8(out).expect("UTF-8")
        };
        assert_eq!(written("name_2"), r#""name_2":1"#);
        assert_eq!(written("a\"b"), r#""a\"b":1"#);
        assert_eq!(written("é\n"), r#""é\n":1"#);
    }
}
