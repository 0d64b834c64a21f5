//! Big row vectors kept, emptied, from one request to the next.
//!
//! The allocator hands freed memory back to the system at once
//! ([`crate::allocator`]), which keeps the resident set small; but then a
//! level of ten thousand rows is read into memory the kernel must map and
//! zero afresh for every request, page by page. A vector of rows that a
//! request is done with is kept here instead, for the next request reading
//! rows of the same type, and only such vectors: at most [`PER_TYPE`] of a
//! type, none under [`MIN_BYTES`] (the allocator keeps small pages itself)
//! or over [`MAX_ONE`], at most [`MAX_BYTES`] in all. A vector comes out
//! empty: its rows were dropped when it was given back.

use std::any::{Any, TypeId};
use std::sync::{LazyLock, Mutex};

/// Smaller vectors are not kept: the allocator serves them from pages it keeps.
pub const MIN_BYTES: usize = 64 << 10;
/// Bigger vectors are not kept either: one unusual request's must not take
/// the room of the vectors every request reads into.
pub const MAX_ONE: usize = 4 << 20;
/// Vectors of one type kept at most.
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

/// An empty vector with room for `capacity` rows: a kept one when one has
/// that room (a smaller one would be copied into fresh memory to grow).
pub fn vec_with_capacity<T: Send + 'static>(capacity: usize) -> Vec<T> {
    if capacity.saturating_mul(size_of::<T>()) < MIN_BYTES {
        return Vec::with_capacity(capacity);
    }
    // A poisoned lock only means nothing is reused.
    let kept = SPARE.lock().ok().and_then(|mut spare| {
        let kept = spare.by_type.get_mut(&TypeId::of::<T>())?;
        let roomy =
            kept.iter().position(|rows| rows.downcast_ref::<Vec<T>>().is_some_and(|r| r.capacity() >= capacity))?;
        let rows = kept.swap_remove(roomy).downcast::<Vec<T>>().ok()?;
        spare.bytes = spare.bytes.saturating_sub(bytes_of(&rows));
        Some(*rows)
    });
    kept.unwrap_or_else(|| Vec::with_capacity(capacity))
}

/// Takes `rows` (leaving it empty) and keeps the vector, emptied, when its
/// size is between [`MIN_BYTES`] and [`MAX_ONE`] and there is room; a
/// vector of any other size is left to its owner.
pub fn give_back<T: Send + 'static>(rows: &mut Vec<T>) {
    let bytes = bytes_of(rows);
    if !(MIN_BYTES..=MAX_ONE).contains(&bytes) {
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

    /// How many vectors of `T` are kept.
    fn kept<T: 'static>() -> Option<usize> {
        SPARE.lock().ok().map(|spare| spare.by_type.get(&TypeId::of::<T>()).map_or(0, Vec::len))
    }

    // Each test reads and writes vectors of a type of its own, so that no
    // other test shares them.

    #[test]
    fn a_vector_given_back_comes_out_empty_with_its_room() {
        struct Row(String);
        let asked = MIN_BYTES.div_ceil(size_of::<Row>());
        let mut rows: Vec<Row> = vec_with_capacity(asked * 2);
        rows.extend((0..asked * 2).map(|i| Row(i.to_string())));
        assert_eq!(rows[1].0, "1");
        give_back(&mut rows);
        assert!(rows.is_empty() && rows.capacity() == 0, "the caller keeps nothing");
        assert_eq!(kept::<Row>(), Some(1));

        let again: Vec<Row> = vec_with_capacity(asked);
        assert!(again.is_empty(), "no row of the earlier request is left");
        assert_eq!(again.capacity(), asked * 2, "the kept vector, not a fresh one of the size asked");
        assert_eq!(kept::<Row>(), Some(0));
        drop(again);
        let fresh: Vec<Row> = vec_with_capacity(asked);
        assert_eq!(fresh.capacity(), asked, "none kept: a fresh vector");
    }

    #[test]
    fn a_kept_vector_too_small_for_the_rows_asked_is_left_kept() {
        struct Row([u8; 256]);
        let asked = MIN_BYTES.div_ceil(size_of::<Row>());
        let mut rows: Vec<Row> = vec_with_capacity(asked);
        rows.push(Row([1; 256]));
        assert_eq!(rows[0].0[0], 1);
        give_back(&mut rows);
        let bigger: Vec<Row> = vec_with_capacity(asked * 4);
        assert_eq!(bigger.capacity(), asked * 4);
        assert_eq!(kept::<Row>(), Some(1), "the small one stays for a request it fits");
    }

    #[test]
    fn small_huge_and_more_than_two_of_a_type_are_not_kept() {
        struct Small(u64);
        let mut small: Vec<Small> = vec_with_capacity(8);
        small.push(Small(1));
        assert_eq!(small[0].0, 1);
        give_back(&mut small);
        assert_eq!(small.len(), 1, "left to its owner");
        assert_eq!(kept::<Small>(), Some(0));

        struct Huge([u8; 4096]);
        let mut huge: Vec<Huge> = Vec::with_capacity(MAX_ONE / size_of::<Huge>() + 1);
        huge.push(Huge([2; 4096]));
        assert_eq!(huge[0].0[0], 2);
        give_back(&mut huge);
        assert_eq!(huge.len(), 1, "left to its owner");
        assert_eq!(kept::<Huge>(), Some(0));

        struct Wide([u8; 1024]);
        let capacity = MIN_BYTES.div_ceil(size_of::<Wide>());
        let mut three: Vec<Vec<Wide>> = (0..3).map(|_| vec_with_capacity(capacity)).collect();
        for rows in &mut three {
            rows.push(Wide([1; 1024]));
            assert_eq!(rows[0].0[0], 1);
            give_back(rows);
        }
        assert_eq!(kept::<Wide>(), Some(PER_TYPE));
    }
}
