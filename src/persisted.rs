//! Persisted queries.
//!
//! - Automatic persisted queries (Apollo's protocol): a client sends
//!   `extensions.persistedQuery.sha256Hash` alone; if the server knows the
//!   document it runs it, else it answers `PERSISTED_QUERY_NOT_FOUND` and the
//!   client sends hash and document together, which the server checks and
//!   keeps (in a bounded, least-recently-used cache).
//! - Trusted documents (`--trusted-documents FILE`): only the documents in
//!   the file run, by hash or by text; any other is refused with
//!   `PERSISTED_QUERY_NOT_IN_LIST`. The file is a JSON object of
//!   `sha256 hex → document`, or a JSON array of documents.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The SHA-256 of a document, lower-case hex.
pub fn sha256_hex(document: &str) -> String {
    Sha256::digest(document.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Why no document could be settled on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistedError {
    /// The hash is not known (yet): send the document with it.
    NotFound,
    /// The document is not one of the trusted documents.
    NotInList,
    /// The hash given does not match the document given.
    HashMismatch,
    /// `persistedQuery` is not `{ version: 1, sha256Hash: "<hex>" }`.
    Malformed(&'static str),
}

impl PersistedError {
    pub fn code(&self) -> &'static str {
        match self {
            PersistedError::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            PersistedError::NotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            PersistedError::HashMismatch | PersistedError::Malformed(_) => "BAD_REQUEST",
        }
    }

    pub fn message(&self) -> String {
        match self {
            // Apollo's clients look for exactly this message.
            PersistedError::NotFound => "PersistedQueryNotFound".into(),
            PersistedError::NotInList => {
                "this server runs only its trusted documents, and this is not one of them".into()
            }
            PersistedError::HashMismatch => "the persisted query's sha256Hash does not match the query".into(),
            PersistedError::Malformed(why) => format!("`extensions.persistedQuery` {why}"),
        }
    }
}

/// Where documents come from.
pub struct Persisted {
    cache: Mutex<lru::LruCache<String, String>>,
    trusted: Option<HashMap<String, String>>,
}

impl Persisted {
    /// An automatic-persisted-query cache of `capacity` documents.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Persisted { cache: Mutex::new(lru::LruCache::new(capacity)), trusted: None }
    }

    /// Only the documents of `file` will run.
    pub fn trusted_from_file(capacity: usize, file: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let value: Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        let mut trusted = HashMap::new();
        match value {
            Value::Object(map) => {
                for (hash, document) in map {
                    let Value::String(document) = document else {
                        anyhow::bail!("{}: the document for {hash} is not a string", file.display());
                    };
                    anyhow::ensure!(
                        sha256_hex(&document) == hash.to_ascii_lowercase(),
                        "{}: {hash} is not the SHA-256 of its document",
                        file.display()
                    );
                    trusted.insert(hash.to_ascii_lowercase(), document);
                }
            }
            Value::Array(documents) => {
                for document in documents {
                    let Value::String(document) = document else {
                        anyhow::bail!("{}: every entry must be a document string", file.display());
                    };
                    trusted.insert(sha256_hex(&document), document);
                }
            }
            _ => anyhow::bail!("{}: expected an object of hash → document or an array of documents", file.display()),
        }
        Ok(Persisted { trusted: Some(trusted), ..Persisted::new(capacity) })
    }

    /// How many trusted documents there are, in trusted mode.
    pub fn trusted_len(&self) -> Option<usize> {
        self.trusted.as_ref().map(HashMap::len)
    }

    /// Keeps a document registered with its hash; called once the document
    /// has passed the limits and parsed, so nothing oversized or broken is kept.
    pub fn remember(&self, hash: String, document: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.put(hash, document.to_owned());
        }
    }

    /// The document a request runs, from its `query` and its
    /// `extensions.persistedQuery`, and the hash to [`Persisted::remember`]
    /// it by when the client registered it.
    pub fn document(
        &self,
        query: Option<String>,
        extensions: &Map<String, Value>,
    ) -> Result<(String, Option<String>), PersistedError> {
        let hash = match extensions.get("persistedQuery") {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => {
                if p.get("version").and_then(Value::as_i64) != Some(1) {
                    return Err(PersistedError::Malformed("must have version 1"));
                }
                match p.get("sha256Hash").and_then(Value::as_str) {
                    Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                        Some(h.to_ascii_lowercase())
                    }
                    _ => return Err(PersistedError::Malformed("needs a 64-digit hex sha256Hash")),
                }
            }
            Some(_) => return Err(PersistedError::Malformed("must be an object")),
        };
        if let Some(trusted) = &self.trusted {
            let hash = match (&query, hash) {
                (Some(q), None) => sha256_hex(q),
                (Some(q), Some(h)) if sha256_hex(q) != h => return Err(PersistedError::HashMismatch),
                (_, Some(h)) => h,
                (None, None) => return Err(PersistedError::NotInList),
            };
            return trusted.get(&hash).cloned().map(|d| (d, None)).ok_or(PersistedError::NotInList);
        }
        match (query, hash) {
            (Some(query), None) => Ok((query, None)),
            (Some(query), Some(hash)) => {
                if sha256_hex(&query) != hash {
                    return Err(PersistedError::HashMismatch);
                }
                Ok((query, Some(hash)))
            }
            (None, Some(hash)) => {
                let mut cache = self.cache.lock().map_err(|_| PersistedError::NotFound)?;
                cache.get(&hash).cloned().map(|d| (d, None)).ok_or(PersistedError::NotFound)
            }
            (None, None) => Err(PersistedError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apq(hash: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("persistedQuery".into(), serde_json::json!({ "version": 1, "sha256Hash": hash }));
        m
    }

    #[test]
    fn automatic_persisted_queries_register_then_run_by_hash() {
        let store = Persisted::new(2);
        let doc = "{ __typename }";
        let hash = sha256_hex(doc);
        assert_eq!(store.document(None, &apq(&hash)), Err(PersistedError::NotFound));
        assert_eq!(store.document(Some(doc.into()), &apq(&hash)), Ok((doc.to_owned(), Some(hash.clone()))));
        assert_eq!(store.document(None, &apq(&hash)), Err(PersistedError::NotFound), "not kept until told to");
        store.remember(hash.clone(), doc);
        assert_eq!(store.document(None, &apq(&hash)), Ok((doc.to_owned(), None)));
        assert_eq!(store.document(Some("{ other }".into()), &apq(&hash)), Err(PersistedError::HashMismatch));
        assert!(matches!(store.document(None, &apq("abc")), Err(PersistedError::Malformed(_))));
    }

    #[test]
    fn trusted_documents_alone_run() {
        let dir = std::env::temp_dir().join(format!("trusted-{}.json", std::process::id()));
        std::fs::write(&dir, r#"["{ __typename }"]"#).expect("written");
        let store = Persisted::trusted_from_file(10, &dir).expect("read");
        let _ = std::fs::remove_file(&dir);
        let typename = || Ok(("{ __typename }".to_owned(), None));
        assert_eq!(store.document(Some("{ __typename }".into()), &Map::new()), typename());
        assert_eq!(store.document(None, &apq(&sha256_hex("{ __typename }"))), typename());
        assert_eq!(
            store.document(Some("{ partners { totalCount } }".into()), &Map::new()),
            Err(PersistedError::NotInList)
        );
    }
}
