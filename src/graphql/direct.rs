//! Fields written straight from the row.
//!
//! Resolving a field through async-graphql goes through its generated
//! dispatch, a future per field, an [`async_graphql::Value`] built and
//! then written: some 900 instructions for a field that reads one column,
//! which was most of what a large nested answer (Q1: 10,000 fundings,
//! their amounts and funders) cost. A field [`object!`](crate::graphql::declare::object)
//! declares as a column field is also given a [`Writer`], worked out once
//! for the selection (its arguments read, the sub-selection of an object
//! value planned) and then run for every row: it calls the same body the
//! resolver does and writes the value as JSON, as
//! [`crate::graphql::render::write_value`] would write what async-graphql
//! resolves.
//!
//! A writer that cannot answer (the body failed, a value it has no plan
//! for) says so, and the field is resolved the standard way instead: the
//! same value or the same error as without writers. Writers run only where
//! objects are written as text ([`crate::graphql::inline`]); the suite
//! compares every field of every type with the fast path on and off
//! (`tests/api/fields.rs`).

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ScalarType};

use crate::graphql::placeholder::Placeholder;
use crate::graphql::render;

/// Writes one field's value of a `T` at the end of the buffer; false when
/// it cannot (the field is then resolved the standard way).
pub type Writer<T> = Box<dyn Fn(&T, &mut Vec<u8>) -> bool + Send + Sync>;

/// Works out a field's [`Writer`] for one selection; `None` when the field
/// cannot be written directly there.
pub type Prepare<T> = for<'a> fn(&ContextSelectionSet<'a>, &'a Positioned<Field>) -> Option<Writer<T>>;

/// An object type whose fields may have writers.
pub trait Direct: Sized {
    /// The writer of `field` (one of this type's fields) for this selection,
    /// if it has one. `ctx` is there to read the field's arguments and the
    /// request's data; it may be the context of an enclosing selection.
    fn writer<'a>(ctx: &ContextSelectionSet<'a>, field: &'a Positioned<Field>) -> Option<Writer<Self>>;
}

/// A value a writer writes: the type a column field's body returns.
pub trait Json {
    /// What writing it takes, worked out once per selection.
    type Plan: Send + Sync + 'static;

    /// The plan for the field `field`; `None` when the value cannot be written directly.
    fn plan<'a>(ctx: &ContextSelectionSet<'a>, field: &'a Positioned<Field>) -> Option<Self::Plan>;

    /// Writes the value as JSON; false when it cannot.
    fn write(&self, plan: &Self::Plan, out: &mut Vec<u8>) -> bool;
}

/// The writers of the fields asked of a `T` by `field`'s selection set,
/// with their response keys; `None` when one of them has none.
pub struct ObjectPlan<T> {
    /// Each field's `"key":` (after `{` or `,`), and its writer (`None`: `__typename`).
    fields: Vec<(Vec<u8>, Option<Writer<T>>)>,
}

impl<T: Direct + OutputType> ObjectPlan<T> {
    /// The plan of `field`'s selection set, but for the request's
    /// `placeholder`; `None` when a field of it has no writer.
    pub fn of<'a>(
        ctx: &ContextSelectionSet<'a>,
        field: &'a Positioned<Field>,
        placeholder: Option<&Placeholder>,
    ) -> Option<Self> {
        let mut fields = Vec::new();
        collect::<T>(ctx, &field.node.selection_set.node, placeholder, &mut fields)?;
        let mut plan = ObjectPlan { fields: Vec::with_capacity(fields.len()) };
        for (i, field) in fields.into_iter().enumerate() {
            let mut key = vec![if i == 0 { b'{' } else { b',' }];
            key.extend(render::rendered_key(&field.node.response_key().node).ok()?);
            let writer = if field.node.name.node == "__typename" { None } else { Some(T::writer(ctx, field)?) };
            plan.fields.push((key, writer));
        }
        Some(plan)
    }

    /// Writes `value`'s object; false when a field could not be written.
    pub fn write(&self, value: &T, out: &mut Vec<u8>) -> bool {
        if self.fields.is_empty() {
            out.extend_from_slice(b"{}");
            return true;
        }
        for (key, writer) in &self.fields {
            out.extend_from_slice(key);
            match writer {
                Some(writer) => {
                    if !writer(value, out) {
                        return false;
                    }
                }
                None => {
                    if render::write_str(out, &T::type_name()).is_err() {
                        return false;
                    }
                }
            }
        }
        out.push(b'}');
        true
    }
}

/// The fields of `set` on `T`, fragments spread in, but not the
/// `placeholder` (there for async-graphql alone); `None` for a fragment
/// whose condition is not `T` itself (an interface's, say), left to the
/// standard resolution.
fn collect<'a, T: OutputType>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    placeholder: Option<&Placeholder>,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> Option<()> {
    for selection in &set.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                if !placeholder.is_some_and(|p| p.is(&field.node.response_key().node)) {
                    fields.push(field);
                }
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let fragment = ctx.query_env.fragments.get(&spread.node.fragment_name.node)?;
                (Some(&fragment.node.type_condition.node.on.node), &fragment.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => {
                (fragment.node.type_condition.as_ref().map(|c| &c.node.on.node), &fragment.node.selection_set.node)
            }
        };
        if condition.is_some_and(|c| c.as_str() != T::type_name()) {
            return None;
        }
        collect::<T>(ctx, inner, placeholder, fields)?;
    }
    Some(())
}

impl<T: Json> Json for Option<T> {
    type Plan = T::Plan;

    fn plan<'a>(ctx: &ContextSelectionSet<'a>, field: &'a Positioned<Field>) -> Option<T::Plan> {
        T::plan(ctx, field)
    }

    fn write(&self, plan: &T::Plan, out: &mut Vec<u8>) -> bool {
        match self {
            Some(value) => value.write(plan, out),
            None => {
                out.extend_from_slice(b"null");
                true
            }
        }
    }
}

impl<T: Json> Json for Vec<T> {
    type Plan = T::Plan;

    fn plan<'a>(ctx: &ContextSelectionSet<'a>, field: &'a Positioned<Field>) -> Option<T::Plan> {
        T::plan(ctx, field)
    }

    fn write(&self, plan: &T::Plan, out: &mut Vec<u8>) -> bool {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if !item.write(plan, out) {
                return false;
            }
        }
        out.push(b']');
        true
    }
}

/// Leaf values (no selection of their own): `$write` writes `$value` at
/// the end of `$out`, true when it could.
macro_rules! leaf_json {
    ($($ty:ty),+ => |$value:ident, $out:ident| $write:expr) => {$(
        impl $crate::graphql::direct::Json for $ty {
            type Plan = ();

            fn plan(
                _: &async_graphql::ContextSelectionSet<'_>,
                _: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> Option<()> {
                Some(())
            }

            fn write(&self, _: &(), $out: &mut Vec<u8>) -> bool {
                let $value = self;
                $write
            }
        }
    )+};
}
pub(crate) use leaf_json;

leaf_json!(&str, String => |text, out| render::write_str(out, text).is_ok());

// Integers, written as async-graphql writes their number.
leaf_json!(i32, i64 => |number, out| serde_json::to_writer(out, number).is_ok());

/// Enums, written by the name async-graphql gives their value.
macro_rules! enum_json {
    ($($ty:ty),+ $(,)?) => {
        $crate::graphql::direct::leaf_json!($($ty),+ => |value, out| {
            let items = <Self as async_graphql::resolver_utils::EnumType>::items();
            match items.iter().find(|item| item.value == *value) {
                Some(item) => $crate::graphql::render::write_str(out, item.name).is_ok(),
                None => false,
            }
        });
    };
}
pub(crate) use enum_json;

/// A value of an object type whose fields are always resolved the standard way.
macro_rules! resolved_json {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::graphql::direct::Json for $ty {
            type Plan = ();

            fn plan(
                _: &async_graphql::ContextSelectionSet<'_>,
                _: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> Option<()> {
                None
            }

            fn write(&self, _: &(), _: &mut Vec<u8>) -> bool {
                false
            }
        }
    )+};
}
pub(crate) use resolved_json;

enum_json!(
    crate::graphql::lang::Lang,
    entity::enums::PartnerKind,
    entity::enums::Sector,
    entity::enums::AgreementKind,
    entity::enums::AgreementStatus,
    entity::enums::ProjectStatus,
    entity::enums::FundingKind,
    entity::enums::FundingStatus,
);

// Scalars, written as the value they resolve to.
leaf_json!(
    async_graphql::ID,
    crate::graphql::scalar::Date,
    crate::graphql::scalar::DateTimeUtc
    => |scalar, out| render::write_value(out, &ScalarType::to_value(scalar)).is_ok()
);

// A decimal resolves to its text: written as its digits, not made into text first.
leaf_json!(crate::graphql::scalar::Decimal => |decimal, out| {
    decimal.write_json(out);
    true
});

/// Written as async-graphql resolves it (through its JSON value).
impl<T: serde::Serialize + Send + Sync> Json for async_graphql::Json<T> {
    type Plan = ();

    fn plan(_: &ContextSelectionSet<'_>, _: &Positioned<Field>) -> Option<()> {
        Some(())
    }

    fn write(&self, _: &(), out: &mut Vec<u8>) -> bool {
        match async_graphql::to_value(&self.0) {
            Ok(value) => render::write_value(out, &value).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::resolver_utils::{EnumType, enum_value};
    use async_graphql::{Number, Value};

    use super::Json;
    use crate::graphql::render::write_value;

    fn written<T: Json<Plan = ()>>(value: &T) -> String {
        let mut out = Vec::new();
        assert!(value.write(&(), &mut out), "written");
        String::from_utf8(out).expect("UTF-8")
    }

    fn resolved(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, value).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every value of every enum is written by the name async-graphql resolves it to.
    #[test]
    fn enums_are_written_as_async_graphql_names_them() {
        fn check<E: EnumType + Json + Json<Plan = ()>>() {
            for item in E::items() {
                assert_eq!(written(&item.value), resolved(&enum_value(item.value)), "{}", item.name);
            }
        }
        check::<crate::graphql::lang::Lang>();
        check::<entity::enums::PartnerKind>();
        check::<entity::enums::Sector>();
        check::<entity::enums::AgreementKind>();
        check::<entity::enums::AgreementStatus>();
        check::<entity::enums::ProjectStatus>();
        check::<entity::enums::FundingKind>();
        check::<entity::enums::FundingStatus>();
    }

    #[test]
    fn text_numbers_and_absent_values_are_written_as_their_values() {
        let text = "quote \" backslash \\ tab \t line\u{2028} é \u{1}";
        assert_eq!(written(&text), resolved(&Value::String(text.to_owned())));
        assert_eq!(written(&Some(text)), resolved(&Value::String(text.to_owned())));
        assert_eq!(written(&None::<&str>), resolved(&Value::Null));
        assert_eq!(written(&vec!["a", "b\n"]), resolved(&Value::List(vec![Value::from("a"), Value::from("b\n")])));
        assert_eq!(written(&Vec::<&str>::new()), "[]");
        assert_eq!(written(&i32::MIN), resolved(&Value::Number(Number::from(i32::MIN))));
        assert_eq!(written(&i64::MAX), resolved(&Value::Number(Number::from(i64::MAX))));
        for decimal in ["1250000.00", "-0.5", "12"] {
            let decimal: crate::graphql::scalar::Decimal =
                async_graphql::ScalarType::parse(Value::from(decimal)).expect("a decimal");
            assert_eq!(written(&decimal), resolved(&async_graphql::ScalarType::to_value(&decimal)));
        }
        let big = i128::from(u64::MAX);
        for minor in [0, 5, -5, 7, 1_000, 125_000_000, -987_654_321, i64::MIN.into(), big, -big, big * 1_000] {
            for exponent in 0..=4 {
                let decimal = crate::graphql::scalar::Decimal::minor(minor, exponent);
                assert_eq!(
                    written(&decimal),
                    resolved(&async_graphql::ScalarType::to_value(&decimal)),
                    "{minor} {exponent}"
                );
            }
        }
        let json = serde_json::json!({ "b": [1, 2.5, null], "a": { "é": "\"" } });
        assert_eq!(
            written(&async_graphql::Json(json.clone())),
            resolved(&async_graphql::to_value(&json).expect("a value"))
        );
    }
}
