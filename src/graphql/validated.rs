//! Operations async-graphql has validated lately, so that sending one again
//! does not validate it again.
//!
//! Validating a two-field query costs the server about a tenth of its work
//! for the whole request (see BENCHMARKS.md), and clients send the same
//! few operations again and again. Whether an operation is valid depends on
//! nothing but its document, the operation named and the variables' values
//! (the schema does not change while the server runs), so an operation is
//! kept by all three, compared whole: one that differs in any of them, by
//! a single character, is validated in full.
//!
//! An operation kept here runs on a schema that skips the validation rules
//! ([`async_graphql::ValidationMode::Fast`]); every other runs on the one
//! that applies them all.

use std::num::NonZeroUsize;
use std::sync::Mutex;

/// An operation as async-graphql validates it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    document: String,
    name: Option<String>,
    /// The variables as JSON text.
    variables: String,
}

impl Operation {
    /// Longer documents are validated every time: with the variables, the
    /// operations kept come to at most a few mebibytes.
    const MAX_DOCUMENT: usize = 4 * 1024;
    const MAX_VARIABLES: usize = 1024;

    /// The operation `request` asks for, if it is small enough to keep.
    pub fn of(request: &async_graphql::Request) -> Option<Operation> {
        if request.query.len() > Self::MAX_DOCUMENT {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        if variables.len() > Self::MAX_VARIABLES {
            return None;
        }
        Some(Operation { document: request.query.clone(), name: request.operation_name.clone(), variables })
    }
}

/// The operations validated lately.
pub struct Validated(Mutex<lru::LruCache<Operation, ()>>);

impl Validated {
    /// How many operations are kept.
    const CAPACITY: usize = 512;

    pub fn new() -> Self {
        let capacity = NonZeroUsize::new(Self::CAPACITY).unwrap_or(NonZeroUsize::MIN);
        Validated(Mutex::new(lru::LruCache::new(capacity)))
    }

    /// Whether `operation` was validated lately.
    pub fn holds(&self, operation: &Operation) -> bool {
        // A poisoned lock only means nothing is skipped.
        self.0.lock().is_ok_and(|mut kept| kept.get(operation).is_some())
    }

    /// Keeps `operation`, which passed validation.
    pub fn remember(&self, operation: Operation) {
        if let Ok(mut kept) = self.0.lock() {
            kept.put(operation, ());
        }
    }
}

impl Default for Validated {
    fn default() -> Self {
        Validated::new()
    }
}
