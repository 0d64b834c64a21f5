//! Reading a table's rows by position, leaving out the columns nobody reads.
//!
//! sea-orm's derived reader looks every column up by name in every row and
//! formats an error message for every NULL it meets; on a nested read of
//! 13,000 rows that was most of the time spent reading them. A model
//! declared with [`positional_model!`](crate::positional_model) is instead
//! selected column by column in declaration order (the order of its
//! `Column::iter()`, which a generated test holds) and read back by index,
//! each cell decoded straight through sqlx.
//!
//! A statement may also leave out columns (see [`Selected`]): every column
//! but the primary key that no field of the query reads. The row then
//! holds a stand-in for each (empty text, zero, `None`, the epoch, an
//! enum's first value), and
//! [`Selected`] travels with the rows so that whoever reads a column can
//! tell a value from a stand-in.

use sea_orm::{DbErr, QueryResult};

/// A model read by position; implemented by
/// [`positional_model!`](crate::positional_model).
pub trait Positional: Sized {
    /// The column names, in declaration order.
    const NAMES: &'static [&'static str];
    /// One bit per column that a statement may leave out (its type has a
    /// stand-in, and it is not the primary key); the others are always selected.
    const LEAVABLE: u64;

    /// Reads a row whose statement selected the `selected` columns in
    /// declaration order, from its first column on; only through
    /// [`Checked::read`], once the statement's column types are checked.
    fn read(row: &QueryResult, selected: Selected, checked: Token) -> Result<Self, DbErr>;

    /// Whether the `selected` columns of the row's statement hold what the
    /// model's cells read ([`Cell::check`]).
    fn check(row: &QueryResult, selected: Selected) -> Result<(), DbErr>;

    /// The position of the column called `name`.
    fn position(name: &str) -> Option<usize> {
        Self::NAMES.iter().position(|n| *n == name)
    }

    /// Reads the key (an integer, when it holds one) of the column at
    /// `position`; `None` for a column that holds no integer key.
    fn key_reader(position: usize) -> Option<fn(&Self) -> Option<i64>>;
}

/// The columns a statement selects, one bit per position in
/// [`Positional::NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Selected(u64);

impl Selected {
    /// Every column.
    pub const ALL: Selected = Selected(u64::MAX);

    /// The columns to select for a reader that needs `wanted` (bits by
    /// position): those, and every column that cannot be left out.
    pub fn of<M: Positional>(wanted: u64) -> Self {
        Selected(wanted | !M::LEAVABLE)
    }

    /// Whether the column at `position` was selected (read, not a stand-in).
    pub fn has(self, position: usize) -> bool {
        position >= 64 || self.0 & (1 << position) != 0
    }

    /// How many of the model's columns the statement selects.
    pub fn count<M: Positional>(self) -> usize {
        (0..M::NAMES.len()).filter(|&p| self.has(p)).count()
    }
}

/// Whether two names are the same (in a constant).
pub const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Walks a row's cells in declaration order, stand-ins in place of the
/// columns left out.
pub struct Cells<'r> {
    row: &'r QueryResult,
    selected: Selected,
    index: usize,
    position: usize,
}

impl<'r> Cells<'r> {
    #[inline]
    pub fn new(row: &'r QueryResult, selected: Selected, _: Token) -> Self {
        Cells { row, selected, index: 0, position: 0 }
    }

    /// The next column's value.
    #[inline(always)]
    pub fn read<T: Cell>(&mut self) -> Result<T, DbErr> {
        let index = self.index;
        self.index += 1;
        if self.selected.has(index) {
            let value = T::cell(self.row, self.position, Token(()))?;
            self.position += 1;
            return Ok(value);
        }
        match T::STAND_IN {
            Some(stand_in) => Ok(stand_in()),
            None => Err(DbErr::Type(format!("column {index} is always selected, yet was left out"))),
        }
    }
}

/// The value a row holds in place of a column left out of its statement.
pub type StandIn<T> = Option<fn() -> T>;

/// One column of a row, read by position. Plain values go straight to
/// sqlx, whose type check (a lookup per cell) is skipped: on PostgreSQL,
/// whose binary cells are only bytes, the statement's column types are
/// checked instead, once, at its first row ([`Checked`]), by the same rule
/// sqlx would apply to every cell. Enums are read as text and converted;
/// JSON takes sea-orm's conversion, checked as it reads.
pub trait Cell: Sized {
    /// What the row holds when the column is left out (empty text, zero,
    /// `None`, the epoch, an enum's first value); `None` where the column
    /// is always read.
    const STAND_IN: StandIn<Self> = None;

    /// Column `position` of the row; only through [`Checked`].
    fn cell(row: &QueryResult, position: usize, checked: Token) -> Result<Self, DbErr>;

    /// Whether column `position` of the row's statement holds what this
    /// cell reads.
    fn check(row: &QueryResult, position: usize) -> Result<(), DbErr>;

    /// Whether the column can hold a key, and reads it (`None` when null).
    const KEY: Option<fn(&Self) -> Option<i64>> = None;
}

macro_rules! sqlx_cell {
    ($($ty:ty => $stand_in:expr $(; key $key:expr)?),+ $(,)?) => {$(
        impl Cell for $ty {
            const STAND_IN: StandIn<Self> = $stand_in;
            $(const KEY: Option<fn(&Self) -> Option<i64>> = Some($key);)?

            #[inline]
            fn cell(row: &QueryResult, position: usize, _: Token) -> Result<Self, DbErr> {
                decode(row, position).unwrap_or_else(|| row.try_get_by_index(position))
            }

            fn check(row: &QueryResult, position: usize) -> Result<(), DbErr> {
                holds::<$ty>(row, position)
            }
        }
    )+};
}

/// Whether column `position` of a PostgreSQL row's statement has a type sqlx
/// would decode as a `T`. SQLite's values carry their own types, which its
/// decoders convert as they read.
pub fn holds<T: sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>>(row: &QueryResult, position: usize) -> Result<(), DbErr> {
    use sea_orm::sqlx::{Column, Row, TypeInfo};
    let Some(row) = row.try_as_pg_row() else {
        return Ok(());
    };
    let Some(column) = row.columns().get(position) else {
        return Err(DbErr::Type(format!("column {position} is past the statement's {} columns", row.len())));
    };
    if T::compatible(column.type_info()) {
        return Ok(());
    }
    Err(DbErr::Type(format!(
        "column {position} (`{}`) is {}, which is not read as {}",
        column.name(),
        column.type_info().name(),
        std::any::type_name::<T>()
    )))
}

/// Proof that only [`Checked`] reads cells: a value no other module can make.
pub struct Token(());

/// A statement's rows, read as `M`s once its first row showed that the
/// columns hold what `M`'s cells read: a model field of one type over a
/// column of another fails the read, instead of being decoded from bytes
/// meant as something else.
pub struct Checked<M> {
    selected: Selected,
    /// The position of the first key column, past the model's.
    first_key: usize,
    model: std::marker::PhantomData<fn() -> M>,
}

impl<M: Positional> Checked<M> {
    /// Checks the columns of `row`'s statement: the `selected` columns of
    /// `M`, then `keys` `int8` columns (a parent's id, a row number).
    pub fn of(row: &QueryResult, selected: Selected, keys: usize) -> Result<Self, DbErr> {
        M::check(row, selected)?;
        let first_key = selected.count::<M>();
        for key in first_key..first_key + keys {
            i64::check(row, key)?;
        }
        Ok(Checked { selected, first_key, model: std::marker::PhantomData })
    }

    /// The checker kept in `slot` for a statement read row by row: made by
    /// [`Checked::of`] at its first row, then reused.
    #[inline]
    pub fn at<'s>(
        slot: &'s mut Option<Self>,
        row: &QueryResult,
        selected: Selected,
        keys: usize,
    ) -> Result<&'s Self, DbErr> {
        match slot {
            Some(checked) => Ok(checked),
            None => Ok(slot.insert(Self::of(row, selected, keys)?)),
        }
    }

    /// A row of the statement, as an `M`.
    #[inline]
    pub fn read(&self, row: &QueryResult) -> Result<M, DbErr> {
        M::read(row, self.selected, Token(()))
    }

    /// The `key`th `int8` column after the model's (from 0).
    #[inline]
    pub fn key(&self, row: &QueryResult, key: usize) -> Result<i64, DbErr> {
        i64::cell(row, self.first_key + key, Token(()))
    }
}

/// Column `position` decoded by sqlx itself, borrowing from the row where
/// the type allows; `None` for a row of neither backend's sqlx type.
#[inline]
fn decode<'r, T>(row: &'r QueryResult, position: usize) -> Option<Result<T, DbErr>>
where
    T: sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres> + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>,
{
    use sea_orm::sqlx::Row;
    let read = if let Some(row) = row.try_as_pg_row() {
        row.try_get_unchecked(position)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get_unchecked(position)
    } else {
        return None;
    };
    Some(read.map_err(|e| DbErr::Type(format!("column {position}: {e}"))))
}

/// An `int8` cell of a PostgreSQL row in binary format (as every prepared
/// statement's row is), read from its 8 bytes: sqlx's decoder reads integers
/// of any width through a copy. `Some(None)` for NULL; `None` for anything
/// else (text format, another width, another backend), which goes to sqlx.
#[inline]
fn int8(row: &QueryResult, position: usize) -> Option<Option<i64>> {
    use sea_orm::sqlx::postgres::PgValueFormat;
    use sea_orm::sqlx::{Row, ValueRef};
    let value = row.try_as_pg_row()?.try_get_raw(position).ok()?;
    if value.is_null() {
        return Some(None);
    }
    if value.format() != PgValueFormat::Binary {
        return None;
    }
    let bytes: [u8; 8] = value.as_bytes().ok()?.try_into().ok()?;
    Some(Some(i64::from_be_bytes(bytes)))
}

impl Cell for i64 {
    const STAND_IN: StandIn<Self> = Some(|| 0);
    const KEY: Option<fn(&Self) -> Option<i64>> = Some(|v| Some(*v));

    #[inline]
    fn cell(row: &QueryResult, position: usize, _: Token) -> Result<Self, DbErr> {
        match int8(row, position) {
            Some(Some(value)) => Ok(value),
            // NULL, too, is left to sqlx, which says why it cannot be read.
            _ => decode(row, position).unwrap_or_else(|| row.try_get_by_index(position)),
        }
    }

    fn check(row: &QueryResult, position: usize) -> Result<(), DbErr> {
        holds::<i64>(row, position)
    }
}

impl Cell for Option<i64> {
    const STAND_IN: StandIn<Self> = Some(|| None);
    const KEY: Option<fn(&Self) -> Option<i64>> = Some(|v| *v);

    #[inline]
    fn cell(row: &QueryResult, position: usize, _: Token) -> Result<Self, DbErr> {
        match int8(row, position) {
            Some(value) => Ok(value),
            None => decode(row, position).unwrap_or_else(|| row.try_get_by_index(position)),
        }
    }

    fn check(row: &QueryResult, position: usize) -> Result<(), DbErr> {
        holds::<Option<i64>>(row, position)
    }
}

sqlx_cell!(
    i32 => Some(|| 0),
    String => Some(String::new),
    Option<i32> => Some(|| None),
    Option<String> => Some(|| None),
    Option<chrono::NaiveDate> => Some(|| None),
    chrono::DateTime<chrono::Utc> => Some(|| chrono::DateTime::UNIX_EPOCH),
);

impl Cell for Option<serde_json::Value> {
    const STAND_IN: StandIn<Self> = Some(|| None);

    fn cell(row: &QueryResult, position: usize, _: Token) -> Result<Self, DbErr> {
        row.try_get_by_index(position)
    }

    // sea-orm's conversion checks the type as it reads.
    fn check(_: &QueryResult, _: usize) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Hands a text column to `read` without copying it out of the row.
#[inline]
pub fn with_text<T>(
    row: &QueryResult,
    position: usize,
    checked: Token,
    read: impl FnOnce(&str) -> Result<T, DbErr>,
) -> Result<T, DbErr> {
    match decode::<&str>(row, position) {
        Some(text) => read(text?),
        None => read(&String::cell(row, position, checked)?),
    }
}

/// Declares a table's model (the struct sea-orm derives its entity from,
/// unchanged) and reads its rows by position: the [`Positional`] impl,
/// and `POSITIONS`, each column's position by field name.
#[macro_export]
macro_rules! positional_model {
    (
        $(#[$meta:meta])*
        pub struct Model {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct Model {
            $( $(#[$field_meta])* pub $field: $ty ),+
        }

        impl $crate::row::Positional for Model {
            const NAMES: &'static [&'static str] = &[$(stringify!($field)),+];
            const LEAVABLE: u64 = {
                let mut mask = 0u64;
                let mut position = 0;
                $(
                    // The primary key is always read: rows are told apart by it.
                    if <$ty as $crate::row::Cell>::STAND_IN.is_some() && !$crate::row::same(stringify!($field), "id") {
                        mask |= 1 << position;
                    }
                    position += 1;
                )+
                assert!(position <= 64, "a positional model has at most 64 columns");
                mask
            };

            fn read(
                row: &sea_orm::QueryResult,
                selected: $crate::row::Selected,
                checked: $crate::row::Token,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut cells = $crate::row::Cells::new(row, selected, checked);
                Ok(Model { $( $field: cells.read::<$ty>()? ),+ })
            }

            fn check(row: &sea_orm::QueryResult, selected: $crate::row::Selected) -> Result<(), sea_orm::DbErr> {
                let (mut index, mut position) = (0, 0);
                $(
                    if selected.has(index) {
                        <$ty as $crate::row::Cell>::check(row, position)?;
                        position += 1;
                    }
                    index += 1;
                )+
                let _ = (index, position);
                Ok(())
            }

            fn key_reader(position: usize) -> Option<fn(&Self) -> Option<i64>> {
                let mut at = 0;
                $(
                    if at == position {
                        return <$ty as $crate::row::Cell>::KEY.map(|_| (|row: &Self| {
                            <$ty as $crate::row::Cell>::KEY.and_then(|key| key(&row.$field))
                        }) as fn(&Self) -> Option<i64>);
                    }
                    at += 1;
                )+
                let _ = at;
                None
            }
        }

        /// Each column's position among the model's columns.
        pub struct Positions {
            $( pub $field: usize ),+
        }

        /// Each column's position, by field: `POSITIONS.name_en`.
        pub const POSITIONS: Positions = {
            let mut next = 0;
            Positions { $( $field: { next += 1; next - 1 } ),+ }
        };

        /// The reader reads the columns in the order sea-orm lists (and the
        /// server selects) them.
        #[cfg(test)]
        #[test]
        fn columns_are_read_in_the_order_they_are_selected() {
            use sea_orm::{IdenStatic, Iterable};
            let selected: Vec<&str> = Column::iter().map(|c| c.as_str()).collect();
            assert_eq!(selected, <Model as $crate::row::Positional>::NAMES);
        }
    };
}
