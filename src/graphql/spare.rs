//! Big row vectors kept, emptied, from one request to the next.
//!
//! The allocator hands freed memory back to the system at once
//! ([`crate::allocator`]), which keeps the resident set small; but then a
//! level of ten thousand rows is read into memory the kernel must map and
//! zero afresh for every request, page by page. A vector of rows that a
//! request is done with is kept here instead, for the next request reading
//! rows of the same type, and only such vectors: at most [`PER_TYPE`] of a
//! type, none under [`MIN_BYTES`] (the allocator keeps small pages itself),
//! at most [`MAX_BYTES`] in all. A vector comes out empty: its rows were
//! dropped when it was given back.

use std::any::{Any, TypeId};
use std::sync::{LazyLock, Mutex};

/// Smaller vectors are not kept: the allocator serves them from pages it keeps.
pub const MIN_BYTES: usize = 64 << 10;
/// Vectors of one type kept at most (a Q1 gives back one vector of each of
/// its levels' row types, and two of parent keys).
pub const PER_TYPE: usize = 2;
/// All vectors kept, together, at most.
pub const MAX_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Spare {
    by_type: foldhash::HashMap<TypeId, Vec<Box<dyn Any + Send>>>,
    bytes: usize,
}

static SPARE: LazyLock<Mutex<Spare>> = LazyLock::new(Mutex::default);

fn bytes_of<T>(rows: &Vec<T>) -> usize {
    rows.capacity().saturating_mul(size_of::<T>())
}

/// An empty vector with room for `capacity` rows: a kept one when there is one.
pub fn vec_with_capacity<T: Send + 'static>(capacity: usize) -> Vec<T> {
    if capacity.saturating_mul(size_of::<T>()) < MIN_BYTES {
        return Vec::with_capacity(capacity);
    }
    // A poisoned lock only means nothing is reused.
    let kept = SPARE.lock().ok().and_then(|mut spare| {
        let rows = spare.by_type.get_mut(&TypeId::of::<T>())?.pop()?.downcast::<Vec<T>>().ok()?;
        spare.bytes = spare.bytes.saturating_sub(bytes_of(&rows));
        Some(*rows)
    });
    match kept {
        Some(mut rows) => {
            rows.reserve(capacity);
            rows
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Empties `rows` and keeps the vector, when it is big enough and there is room.
pub fn give_back<T: Send + 'static>(rows: &mut Vec<T>) {
    let bytes = bytes_of(rows);
    if !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
        return;
    }
    let mut rows = std::mem::take(rows);
    rows.clear();
    // What is not kept is freed once the lock is released.
    let _refused = match SPARE.lock() {
        Ok(mut spare) if spare.bytes + bytes <= MAX_BYTES => {
            let spare = &mut *spare;
            let kept = spare.by_type.entry(TypeId::of::<T>()).or_default();
            if kept.len() < PER_TYPE {
                kept.push(Box::new(rows));
                spare.bytes += bytes;
                None
            } else {
                Some(rows)
            }
        }
        _ => Some(rows),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A type of its own, so that no other test shares its vectors.
    #[derive(Debug, PartialEq)]
    struct Row(String, [u8; 64]);

    #[test]
    fn a_vector_given_back_comes_out_empty_with_its_room() {
        let capacity = MIN_BYTES / size_of::<Row>() + 1;
        let mut rows: Vec<Row> = vec_with_capacity(capacity);
        rows.extend((0..capacity).map(|i| Row(i.to_string(), [0; 64])));
        let address = rows.as_ptr();
        give_back(&mut rows);
        assert!(rows.is_empty() && rows.capacity() == 0, "the caller keeps nothing");

        let again: Vec<Row> = vec_with_capacity(capacity);
        assert!(again.is_empty(), "no row of the earlier request is left");
        assert_eq!(again.as_ptr(), address, "the same memory, not fresh");
        assert!(again.capacity() >= capacity);
        let fresh: Vec<Row> = vec_with_capacity(capacity);
        assert_ne!(fresh.as_ptr(), address, "none left: a fresh vector");
    }

    #[test]
    fn small_vectors_and_more_than_two_of_a_type_are_not_kept() {
        #[derive(Debug)]
        struct Small(u64);
        let mut small: Vec<Small> = vec_with_capacity(8);
        small.push(Small(1));
        assert_eq!(small[0].0, 1);
        give_back(&mut small);
        let none = SPARE.lock().map(|spare| spare.by_type.contains_key(&TypeId::of::<Small>())).ok();
        assert_eq!(none, Some(false));

        struct Wide([u8; 1024]);
        let capacity = MIN_BYTES / size_of::<Wide>();
        let mut three: Vec<Vec<Wide>> = (0..3).map(|_| vec_with_capacity(capacity)).collect();
        for rows in &mut three {
            rows.push(Wide([1; 1024]));
            assert_eq!(rows[0].0[0], 1);
            give_back(rows);
        }
        let kept = SPARE.lock().map(|spare| spare.by_type.get(&TypeId::of::<Wide>()).map_or(0, Vec::len)).ok();
        assert_eq!(kept, Some(PER_TYPE));
    }
}
