//! [`object!`]: one declaration per field.
//!
//! A node type's fields are declared once, in one place, and everything
//! else follows from that declaration: the resolver (an async-graphql
//! `#[Object]` method), the columns it reads (so that statements select
//! only those), and what its relations join on.
//!
//! - A **column field** names the columns it reads, and its body sees
//!   those columns and nothing else: not `self`, not the row. Reading a
//!   column the declaration omits does not compile.
//!
//!   ```text
//!   /// The country of the headquarters, when it has one.
//!   fn country() reads(country_code) -> Option<Country> { country_code.map(|code| Country(code.to_owned())) }
//!   ```
//!
//!   Each column comes as its value (`&str` for text, `Option<&str>`,
//!   numbers, dates and enums by value). `(lang)` adds the `lang`
//!   argument and hands the body the language to answer in. A body may
//!   also return `ApiResult<T>`.
//! - A **text in two languages** names its two columns and has no body:
//!
//!   ```text
//!   /// The partner's acronym, if it has one.
//!   fn acronym(lang) picks(acronym_en, acronym_fr) -> Option<&str>;
//!   ```
//!
//!   It takes the `lang` argument, answers with the column of that
//!   language, and its statement reads that column alone (the request's
//!   language when the argument is not given).
//! - A **relation** names a sea-orm `Linked` path of `entity::links`; the
//!   column it is keyed by is read from the path:
//!   `= to_one(Link)`, `= linked(Link)` (every related row),
//!   `= linked_distinct(Link)` (each once),
//!   `= nested(Link, Filter, Order)` (a connection with its paging,
//!   `filter` and `orderBy` arguments), `= history` (the record's changes).
//! - A **sibling field** batches for the whole group and reads no column
//!   but the id: `fn countries(rows) -> T { … }`, with `rows` the row among
//!   its [`Siblings`]. The database is reached only through
//!   `rows.load(…)`, which runs once for the whole group, so such a field
//!   cannot run a statement per row.
//!
//! Column fields, to-one relations and nested connections are also
//! written straight from the rows ([`crate::graphql::direct`]), past
//! async-graphql's field hooks, so they take doc comments and a
//! `#[graphql(deprecation = …)]` and nothing else: a guard or a visibility
//! rule on one does not compile. A value
//! object that is not a row (`object! { value Money(money) { … } }`)
//! declares its fields as bodies over the value, under the same rule.
//!
//! The `id` and `databaseId` fields every node has are declared by the
//! macro. Root objects (`object! { root Name { … } }`) take plain
//! `async fn` resolvers and `= list(Filter, Order)`, `= list` and
//! `= list(where condition)` connections.
//!
//! A connection's arguments are written once, below, whoever declares
//! one, and every connection narrows its reads the same way.
//!
//! [`Siblings`]: crate::graphql::batch::Siblings

/// How a column's value is handed to a field's body: text borrowed as
/// `&str`, small values copied.
pub trait ColumnValue {
    type Value<'a>
    where
        Self: 'a;

    fn value(&self) -> Self::Value<'_>;
}

impl ColumnValue for String {
    type Value<'a> = &'a str;

    fn value(&self) -> &str {
        self
    }
}

impl ColumnValue for Option<String> {
    type Value<'a> = Option<&'a str>;

    fn value(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl ColumnValue for Option<serde_json::Value> {
    type Value<'a> = Option<&'a serde_json::Value>;

    fn value(&self) -> Option<&serde_json::Value> {
        self.as_ref()
    }
}

macro_rules! copied {
    ($($ty:ty),+ $(,)?) => {$(
        impl ColumnValue for $ty {
            type Value<'a> = $ty;

            fn value(&self) -> $ty {
                *self
            }
        }
    )+};
}

copied!(
    i64,
    i32,
    Option<i64>,
    Option<i32>,
    Option<chrono::NaiveDate>,
    chrono::DateTime<chrono::Utc>,
    entity::enums::PartnerKind,
    entity::enums::Sector,
    entity::enums::AgreementKind,
    entity::enums::AgreementStatus,
    entity::enums::ProjectStatus,
    entity::enums::FundingKind,
    entity::enums::FundingStatus,
);

/// The GraphQL names of `T`'s fields, in the order they are declared.
pub fn field_names<T: async_graphql::OutputType>() -> Vec<String> {
    let mut registry = async_graphql::registry::Registry::default();
    T::create_type_info(&mut registry);
    let fields = registry.types.get(&*T::type_name()).and_then(|t| t.fields());
    fields.map(|fields| fields.keys().cloned().collect()).unwrap_or_default()
}

/// What each field of `T` declares (the columns it reads, its writer), by
/// its GraphQL name: the schema's fields and the declarations are the same
/// methods in the same order, so a field renamed with `#[graphql(name = …)]`
/// keeps its declaration. Should they ever differ in number, each
/// resolver's name is turned into the name async-graphql gives it (a
/// renamed field is then missing: the statements for it read every column,
/// it has no writer, and `every_field_is_declared` fails).
pub fn by_name<T: async_graphql::OutputType, V: Copy>(declared: &[(&'static str, V)]) -> foldhash::HashMap<String, V> {
    let names = field_names::<T>();
    if names.len() == declared.len() {
        return names.into_iter().zip(declared.iter().map(|&(_, value)| value)).collect();
    }
    tracing::error!(type_name = %T::type_name(), "the schema's fields and the declarations differ");
    declared.iter().map(|&(method, value)| (graphql_name(method), value)).collect()
}

/// The GraphQL name async-graphql gives a resolver method (`source_url` → `sourceUrl`).
pub fn graphql_name(method: &str) -> String {
    let mut name = String::with_capacity(method.len());
    let mut upper = false;
    for c in method.chars() {
        if c == '_' {
            upper = !name.is_empty();
        } else if upper {
            name.extend(c.to_uppercase());
            upper = false;
        } else {
            name.push(c);
        }
    }
    name
}

/// Declares a GraphQL object type and its fields; see the [module](self).
macro_rules! object {
    // A node type: one row of `entity::$module`.
    (
        $(#[$meta:meta])*
        node $object:ident($module:ident, $noun:literal) { $($fields:tt)* }
    ) => {
        $crate::graphql::declare::object!(@node [$(#[$meta])*] [$object $module $noun] [] [] $($fields)*);
    };

    // A root object: plain resolvers and top-level lists.
    (
        $(#[$meta:meta])*
        root $object:ident { $($fields:tt)* }
    ) => {
        $crate::graphql::declare::object!(@root [$(#[$meta])*] [$object] [] $($fields)*);
    };

    // A value object (not a row): each field a body over the value, named `$this`.
    (
        $(#[$meta:meta])*
        value $object:ident($this:ident) {
            $($(#[doc = $doc:expr])* fn $name:ident() -> $ret:ty $body:block)*
        }
    ) => {
        $(#[$meta])*
        #[async_graphql::Object(serial)]
        impl $object {
            $(
                $(#[doc = $doc])*
                async fn $name(&self) -> $ret {
                    let $this = self;
                    $body
                }
            )*
        }

        impl $crate::graphql::direct::Direct for $object {
            fn writer<'a>(
                ctx: &async_graphql::ContextSelectionSet<'a>,
                field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> Option<$crate::graphql::direct::Writer<Self>> {
                static WRITERS: std::sync::LazyLock<foldhash::HashMap<String, $crate::graphql::direct::Prepare<$object>>> =
                    std::sync::LazyLock::new(|| $crate::graphql::declare::by_name::<$object, _>(&[$((stringify!($name), {
                        fn prepare<'a>(
                            ctx: &async_graphql::ContextSelectionSet<'a>,
                            field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
                        ) -> Option<$crate::graphql::direct::Writer<$object>> {
                            fn value($this: &$object) -> $ret {
                                $body
                            }
                            let plan = <$ret as $crate::graphql::direct::Json>::plan(ctx, field)?;
                            Some(Box::new(move |this: &$object, out: &mut Vec<u8>| {
                                $crate::graphql::direct::Json::write(&value(this), &plan, out)
                            }))
                        }
                        prepare as $crate::graphql::direct::Prepare<$object>
                    })),*]));
                WRITERS.get(field.node.name.node.as_str())?(ctx, field)
            }
        }
    };

    // The writer of a relation field (`to_one`, `nested`): `$writer`, a
    // function of the selection and the relation along `$link`, worked out
    // for each selection.
    (@relation_writer $object:ident $module:ident $link:ty => $($writer:tt)*) => {
        Some({
            fn prepare<'a>(
                ctx: &async_graphql::ContextSelectionSet<'a>,
                field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> Option<$crate::graphql::direct::Writer<$object>> {
                static RELATION: $crate::graphql::pagination::Declared<entity::$module::Model> =
                    std::sync::LazyLock::new($crate::graphql::pagination::Relation::linked::<$link>);
                $($writer)*(ctx, field, &RELATION)
            }
            prepare as $crate::graphql::direct::Prepare<$object>
        })
    };

    // ---- node fields ----

    // A column field whose body may fail.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] $methods:tt $reads:tt
        $(#[doc = $doc:expr])* $(#[graphql(deprecation = $deprecation:literal)])? fn $name:ident() reads($($col:ident),* $(,)?) -> ApiResult<$ret:ty> $body:block
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@column $meta [$object $module $noun] $methods $reads
            [$(#[doc = $doc])* $(#[graphql(deprecation = $deprecation)])?] $name [] (columns ($($col),*) $body) -> $ret,
            reads($crate::graphql::node::Reads::Columns($crate::graphql::node::Wanted::of(&[$(entity::$module::POSITIONS.$col),*])))
            $($rest)*);
    };

    // A column field.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] $methods:tt $reads:tt
        $(#[doc = $doc:expr])* $(#[graphql(deprecation = $deprecation:literal)])? fn $name:ident() reads($($col:ident),* $(,)?) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@column $meta [$object $module $noun] $methods $reads
            [$(#[doc = $doc])* $(#[graphql(deprecation = $deprecation)])?] $name [] (columns ($($col),*) { Ok($body) }) -> $ret,
            reads($crate::graphql::node::Reads::Columns($crate::graphql::node::Wanted::of(&[$(entity::$module::POSITIONS.$col),*])))
            $($rest)*);
    };

    // A column field in the language asked for.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] $methods:tt $reads:tt
        $(#[doc = $doc:expr])* $(#[graphql(deprecation = $deprecation:literal)])? fn $name:ident($lang:ident) reads($($col:ident),* $(,)?) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@column $meta [$object $module $noun] $methods $reads
            [$(#[doc = $doc])* $(#[graphql(deprecation = $deprecation)])?] $name [$lang] (columns ($($col),*) { Ok($body) }) -> $ret,
            reads($crate::graphql::node::Reads::Columns($crate::graphql::node::Wanted::of(&[$(entity::$module::POSITIONS.$col),*])))
            $($rest)*);
    };

    // A column field that is one of two columns, by the language asked:
    // only that column is read.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] $methods:tt $reads:tt
        $(#[doc = $doc:expr])* $(#[graphql(deprecation = $deprecation:literal)])? fn $name:ident($lang:ident) picks($en:ident, $fr:ident) -> $ret:ty;
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@column $meta [$object $module $noun] $methods $reads
            [$(#[doc = $doc])* $(#[graphql(deprecation = $deprecation)])?] $name [$lang] (pick $lang $en $fr) -> $ret,
            reads($crate::graphql::node::Reads::InLang { en: entity::$module::POSITIONS.$en, fr: entity::$module::POSITIONS.$fr })
            $($rest)*);
    };

    // Every column field: its resolver, the columns it reads and its writer
    // (`src/graphql/direct.rs`), the body (returning `ApiResult`) run by both.
    (@column $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        [$($attr:tt)*] $name:ident [$($lang:ident)?] $value:tt -> $ret:ty, reads($field_reads:expr)
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@node $meta [$object $module $noun] [$($methods)*
            $($attr)*
            async fn $name(
                &self,
                $(
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "The language to answer in; the request's `Accept-Language` by default.")]
                    $lang: Option<$crate::graphql::lang::Lang>,
                )?
            ) -> $crate::error::ApiResult<$ret> {
                $(let $lang = $crate::graphql::context::lang(ctx, $lang);)?
                $crate::graphql::declare::object!(@value self [$object $module $name] $value)
            }
        ] [$($reads)* (stringify!($name), $field_reads, Some({
            fn prepare<'a>(
                ctx: &async_graphql::ContextSelectionSet<'a>,
                field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> Option<$crate::graphql::direct::Writer<$object>> {
                fn value(this: &$object $(, $lang: $crate::graphql::lang::Lang)?) -> $crate::error::ApiResult<$ret> {
                    $crate::graphql::declare::object!(@value this [$object $module $name] $value)
                }
                $(let $lang = $crate::graphql::context::field_lang(ctx, field)?;)?
                let plan = <$ret as $crate::graphql::direct::Json>::plan(ctx, field)?;
                Some(Box::new(move |this: &$object, out: &mut Vec<u8>| match value(this $(, $lang)?) {
                    Ok(value) => $crate::graphql::direct::Json::write(&value, &plan, out),
                    Err(_) => false,
                }))
            }
            prepare as $crate::graphql::direct::Prepare<$object>
        }))] $($rest)*);
    };

    // A column field's body over `$this`'s row: the columns it names, each
    // checked to hold a value (not a stand-in), and nothing else.
    (@value $this:ident [$object:ident $module:ident $name:ident] (columns ($($col:ident),*) $body:block)) => {{
        let group = &$this.group;
        let row = &group.rows()[$this.index];
        $(
            if !$crate::graphql::node::holds(group.selected(), <entity::$module::Model as entity::row::Positional>::LEAVABLE, entity::$module::POSITIONS.$col) {
                return Err($crate::graphql::node::stand_in(stringify!($object), stringify!($name), stringify!($col)));
            }
            let $col = $crate::graphql::declare::ColumnValue::value(&row.$col);
        )*
        $body
    }};
    // The one column of the two that `$lang` picks, checked in the same way.
    (@value $this:ident [$object:ident $module:ident $name:ident] (pick $lang:ident $en:ident $fr:ident)) => {{
        let group = &$this.group;
        let row = &group.rows()[$this.index];
        let position = $lang.pick(entity::$module::POSITIONS.$en, entity::$module::POSITIONS.$fr);
        if !$crate::graphql::node::holds(group.selected(), <entity::$module::Model as entity::row::Positional>::LEAVABLE, position) {
            return Err($crate::graphql::node::stand_in(stringify!($object), stringify!($name), $lang.pick(stringify!($en), stringify!($fr))));
        }
        Ok($crate::graphql::declare::ColumnValue::value($lang.pick(&row.$en, &row.$fr)))
    }};

    // A field batched over the siblings, reading no column but the id.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        $(#[$attr:meta])* fn $name:ident($rows:ident) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@node $meta [$object $module $noun] [$($methods)*
            $(#[$attr])*
            async fn $name(&self, ctx: &async_graphql::Context<'_>) -> $crate::error::ApiResult<$ret> {
                let db = $crate::graphql::context::db(ctx)?;
                let $rows = $crate::graphql::batch::Siblings::new(&self.group, self.index, db);
                $body
            }
        ] [$($reads)* (stringify!($name), $crate::graphql::node::Reads::Columns($crate::graphql::node::Wanted::NONE), None)] $($rest)*);
    };

    // A to-one relation: `Option<N>` when it may be absent, `Inline<N>` when required.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        $(#[doc = $doc:expr])* $(#[graphql(deprecation = $deprecation:literal)])? fn $name:ident() -> $ret:ty = to_one($link:ty);
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@node $meta [$object $module $noun] [$($methods)*
            $(#[doc = $doc])* $(#[graphql(deprecation = $deprecation)])?
            async fn $name(&self, ctx: &async_graphql::Context<'_>) -> $crate::error::ApiResult<$ret> {
                static RELATION: $crate::graphql::pagination::Declared<entity::$module::Model> =
                    std::sync::LazyLock::new($crate::graphql::pagination::Relation::linked::<$link>);
                $crate::graphql::pagination::to_one::<Self, _, $ret>(ctx, self, &RELATION).await
            }
        ] [$($reads)* (stringify!($name), $crate::graphql::node::Reads::Columns($crate::graphql::pagination::Relation::<entity::$module::Model>::reads_of::<$link>()),
            $crate::graphql::declare::object!(@relation_writer $object $module $link => $crate::graphql::pagination::to_one_writer::<$object, _, $ret>)
        )] $($rest)*);
    };

    // Every related object, or each once.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        $(#[$attr:meta])* fn $name:ident() -> List<$n:ty> = linked($link:ty);
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@node $meta [$object $module $noun] [$($methods)*]
            [$($reads)*] @linked false $(#[$attr])* $name $n, $link; $($rest)*);
    };
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        $(#[$attr:meta])* fn $name:ident() -> List<$n:ty> = linked_distinct($link:ty);
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@node $meta [$object $module $noun] [$($methods)*]
            [$($reads)*] @linked true $(#[$attr])* $name $n, $link; $($rest)*);
    };
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        @linked $distinct:literal $(#[$attr:meta])* $name:ident $n:ty, $link:ty;
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@node $meta [$object $module $noun] [$($methods)*
            $(#[$attr])*
            async fn $name(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> $crate::error::ApiResult<$crate::graphql::list::List<$n>> {
                static RELATION: $crate::graphql::pagination::Declared<entity::$module::Model> =
                    std::sync::LazyLock::new($crate::graphql::pagination::Relation::linked::<$link>);
                $crate::graphql::pagination::linked::<Self, $n>(ctx, self, &RELATION, $distinct).await
            }
        ] [$($reads)* (stringify!($name), $crate::graphql::node::Reads::Columns($crate::graphql::pagination::Relation::<entity::$module::Model>::reads_of::<$link>()), None)] $($rest)*);
    };

    // A connection under each row; written from its pages past the
    // field's hooks (`pagination::nested_writer`), so it takes doc comments
    // and a deprecation, no guard.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        $(#[doc = $doc:expr])* $(#[graphql(deprecation = $deprecation:literal)])? fn $name:ident() -> Connection<$n:ty> = nested($link:ty, $filter:ty, $order:ty);
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@connection [@node $meta [$object $module $noun]] [$($methods)*]
            [[$($reads)* (stringify!($name), $crate::graphql::node::Reads::Columns($crate::graphql::pagination::Relation::<entity::$module::Model>::reads_of::<$link>()),
                $crate::graphql::declare::object!(@relation_writer $object $module $link => $crate::graphql::pagination::nested_writer::<$object, $n>)
            )] $($rest)*]
            [$(#[doc = $doc])* $(#[graphql(deprecation = $deprecation)])?] $name -> $n, []
            [
                #[graphql(desc = "Only the results matching this filter.")] filter: Option<$filter>,
                #[graphql(desc = "The order of the results; the order they were recorded in by default.")]
                order_by: Option<$order>,
            ]
            => [$crate::graphql::pagination::nested::<Self, $n, $filter, $order>]
            [
                {
                    static RELATION: $crate::graphql::pagination::Declared<entity::$module::Model> =
                        std::sync::LazyLock::new($crate::graphql::pagination::Relation::linked::<$link>);
                    &RELATION
                },
                filter,
                order_by
            ]
        );
    };

    // The record's history.
    (@node $meta:tt [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$($reads:tt)*]
        $(#[$attr:meta])* fn $name:ident() -> Connection<$n:ty> = history;
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@connection [@node $meta [$object $module $noun]] [$($methods)*]
            [[$($reads)* (stringify!($name), $crate::graphql::node::Reads::Columns($crate::graphql::node::Wanted::NONE), None)] $($rest)*]
            [$(#[$attr])*] $name -> $n, [] []
            => [$crate::graphql::history::of_record::<Self>]
            [
                {
                    static RELATION: $crate::graphql::pagination::Declared<entity::$module::Model> =
                        std::sync::LazyLock::new($crate::graphql::history::relation);
                    &RELATION
                }
            ]
        );
    };

    // Every field declared: the type.
    (@node [$($meta:tt)*] [$object:ident $module:ident $noun:literal] [$($methods:tt)*] [$(($field:expr, $wanted:expr, $writer:expr))*]) => {
        $($meta)*
        #[derive(Clone)]
        pub struct $object {
            group: std::sync::Arc<$crate::graphql::batch::Group<entity::$module::Model>>,
            index: usize,
        }

        impl $crate::graphql::batch::RowId for entity::$module::Model {
            fn row_id(&self) -> i64 {
                self.id
            }
        }

        impl $crate::graphql::node::NodeType for $object {
            type Entity = entity::$module::Entity;
            type Model = entity::$module::Model;
            const TYPE_NAME: &'static str = stringify!($object);
            const CONNECTION_NAME: &'static str = concat!(stringify!($object), "Connection");
            const EDGE_NAME: &'static str = concat!(stringify!($object), "Edge");

            fn new(group: std::sync::Arc<$crate::graphql::batch::Group<Self::Model>>, index: usize) -> Self {
                $object { group, index }
            }

            fn group(&self) -> &std::sync::Arc<$crate::graphql::batch::Group<Self::Model>> {
                &self.group
            }

            fn index(&self) -> usize {
                self.index
            }

            fn reads(field: &str) -> Option<$crate::graphql::node::Reads> {
                static READS: std::sync::LazyLock<foldhash::HashMap<String, $crate::graphql::node::Reads>> =
                    std::sync::LazyLock::new(|| {
                        let declared: Vec<_> = $object::declared().into_iter().map(|(name, wanted, _)| (name, wanted)).collect();
                        $crate::graphql::declare::by_name::<$object, _>(&declared)
                    });
                READS.get(field).copied()
            }
        }

        impl $crate::graphql::direct::Direct for $object {
            fn writer<'a>(
                ctx: &async_graphql::ContextSelectionSet<'a>,
                field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> Option<$crate::graphql::direct::Writer<Self>> {
                static WRITERS: std::sync::LazyLock<foldhash::HashMap<String, Option<$crate::graphql::direct::Prepare<$object>>>> =
                    std::sync::LazyLock::new(|| {
                        let declared: Vec<_> = $object::declared().into_iter().map(|(name, _, writer)| (name, writer)).collect();
                        $crate::graphql::declare::by_name::<$object, _>(&declared)
                    });
                (*WRITERS.get(field.node.name.node.as_str())?)?(ctx, field)
            }
        }

        impl $object {
            /// Each field's resolver, the columns it reads and its writer, in declaration order.
            fn declared() -> Vec<(&'static str, $crate::graphql::node::Reads, Option<$crate::graphql::direct::Prepare<$object>>)> {
                let id = $crate::graphql::node::Reads::Columns($crate::graphql::node::Wanted::of(&[entity::$module::POSITIONS.id]));
                vec![
                    ("id", id, Some({
                        fn prepare<'a>(
                            ctx: &async_graphql::ContextSelectionSet<'a>,
                            field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
                        ) -> Option<$crate::graphql::direct::Writer<$object>> {
                            let plan = <async_graphql::ID as $crate::graphql::direct::Json>::plan(ctx, field)?;
                            Some(Box::new(move |this: &$object, out: &mut Vec<u8>| {
                                $crate::graphql::direct::Json::write(&this.global_id(), &plan, out)
                            }))
                        }
                        prepare as $crate::graphql::direct::Prepare<$object>
                    })),
                    ("database_id", id, Some({
                        fn prepare<'a>(
                            ctx: &async_graphql::ContextSelectionSet<'a>,
                            field: &'a async_graphql::Positioned<async_graphql::parser::types::Field>,
                        ) -> Option<$crate::graphql::direct::Writer<$object>> {
                            let plan = <i64 as $crate::graphql::direct::Json>::plan(ctx, field)?;
                            Some(Box::new(move |this: &$object, out: &mut Vec<u8>| {
                                $crate::graphql::direct::Json::write(&this.group.rows()[this.index].id, &plan, out)
                            }))
                        }
                        prepare as $crate::graphql::direct::Prepare<$object>
                    })),
                    $(($field, $wanted, $writer)),*
                ]
            }

            /// The opaque global id.
            fn global_id(&self) -> async_graphql::ID {
                async_graphql::ID($crate::graphql::id::encode(stringify!($object), self.group.rows()[self.index].id))
            }
        }

        /// Every field the schema shows has a declaration.
        #[cfg(test)]
        #[test]
        fn every_field_is_declared() {
            let declared: Vec<_> = $object::declared().into_iter().map(|(name, wanted, _)| (name, wanted)).collect();
            let declared = $crate::graphql::declare::by_name::<$object, _>(&declared);
            let shown = $crate::graphql::declare::field_names::<$object>();
            assert_eq!(shown.len(), $object::declared().len(), "{shown:?}");
            for name in shown {
                assert!(declared.contains_key(&name), "{} has no declaration", name);
            }
        }

        $($meta)*
        #[async_graphql::Object(serial)]
        impl $object {
            #[doc = concat!("The ", $noun, "'s opaque global id.")]
            pub async fn id(&self) -> async_graphql::ID {
                self.global_id()
            }

            #[doc = concat!("The ", $noun, "'s row id in the database; prefer `id` in clients.")]
            async fn database_id(&self) -> i64 {
                self.group.rows()[self.index].id
            }

            $($methods)*
        }
    };

    // ---- root fields ----

    // A plain resolver.
    (@root $meta:tt [$object:ident] [$($methods:tt)*]
        $(#[$attr:meta])* async fn $name:ident($($args:tt)*) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@root $meta [$object] [$($methods)*
            $(#[$attr])* async fn $name($($args)*) -> $ret $body
        ] $($rest)*);
    };

    // A top-level list, filtered and ordered.
    (@root $meta:tt [$object:ident] [$($methods:tt)*]
        $(#[$attr:meta])* fn $name:ident() -> Connection<$n:ty> = list($filter:ty, $order:ty);
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@connection [@root $meta [$object]] [$($methods)*] [$($rest)*]
            [$(#[$attr])*] $name -> $n, []
            [
                #[graphql(desc = "Only the results matching this filter.")] filter: Option<$filter>,
                #[graphql(desc = "The order of the results; the order they were recorded in by default.")]
                order_by: Option<$order>,
            ]
            => [$crate::graphql::pagination::top_level::<$n, $filter, $order>] [filter, order_by]
        );
    };

    // A top-level list in the order its rows were recorded.
    (@root $meta:tt [$object:ident] [$($methods:tt)*]
        $(#[$attr:meta])* fn $name:ident() -> Connection<$n:ty> = list;
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@connection [@root $meta [$object]] [$($methods)*] [$($rest)*]
            [$(#[$attr])*] $name -> $n, [] []
            => [$crate::graphql::pagination::top_level_where::<$n, $crate::graphql::input::Unfiltered, $crate::graphql::input::Unfiltered>]
            [None, None, sea_orm::sea_query::Condition::all()]
        );
    };

    // A top-level list narrowed by arguments of its own.
    (@root $meta:tt [$object:ident] [$($methods:tt)*]
        $(#[$attr:meta])* fn $name:ident($($params:tt)*) -> Connection<$n:ty> = list(where $condition:expr);
        $($rest:tt)*
    ) => {
        $crate::graphql::declare::object!(@connection [@root $meta [$object]] [$($methods)*] [$($rest)*]
            [$(#[$attr])*] $name -> $n, [$($params)*] []
            => [$crate::graphql::pagination::top_level_where::<$n, $crate::graphql::input::Unfiltered, $crate::graphql::input::Unfiltered>]
            [None, None, $condition]
        );
    };

    // Every field declared: the root type.
    (@root [$($meta:tt)*] [$object:ident] [$($methods:tt)*]) => {
        #[derive(Default)]
        pub struct $object;

        $($meta)*
        #[async_graphql::Object]
        impl $object {
            $($methods)*
        }
    };

    // ---- what every connection shares ----

    // The resolver of a connection, appended to `methods` before going on
    // with `continue … [methods] after`: its paging arguments (declared
    // here only) between the `leading` ones and the `params` of its kind,
    // and a call of `function` with the paging and `args`.
    (@connection [$($continue:tt)*] [$($methods:tt)*] [$($after:tt)*]
        [$($attr:tt)*] $name:ident -> $n:ty, [$($leading:tt)*] [$($params:tt)*] => [$($function:tt)*] [$($args:tt)*]
    ) => {
        $crate::graphql::declare::object!($($continue)* [$($methods)*
            $($attr)*
            #[allow(clippy::too_many_arguments)]
            async fn $name(
                &self,
                ctx: &async_graphql::Context<'_>,
                $($leading)*
                #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")]
                first: Option<i32>,
                #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
                #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
                #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
                $($params)*
            ) -> $crate::error::ApiResult<$crate::graphql::inline::Inline<$crate::graphql::pagination::Connection<$n>>> {
                let paging = $crate::graphql::window::Paging { first, after, last, before };
                $($function)*(ctx, self, paging, $($args)*).map($crate::graphql::inline::Inline)
            }
        ] $($after)*);
    };
}
pub(crate) use object;

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use entity::crime_area::{Model, POSITIONS};
    use entity::row::{Positional, Selected};

    use crate::graphql::batch::Group;
    use crate::graphql::node::NodeType;
    use crate::graphql::object::CrimeArea;

    /// A crime area whose statement selected only its id and slug, as a
    /// planner that misread a query would have left it.
    struct Narrowed;

    #[Object]
    impl Narrowed {
        async fn crime_area(&self) -> CrimeArea {
            let row = Model {
                id: 7,
                slug: "terrorism".into(),
                name_en: String::new(),
                name_fr: String::new(),
                reference_fields: String::new(),
                created_at: chrono::DateTime::UNIX_EPOCH,
                updated_at: chrono::DateTime::UNIX_EPOCH,
            };
            CrimeArea::new(Group::read(vec![row], Selected::of::<Model>(1 << POSITIONS.slug)), 0)
        }
    }

    /// A stand-in never reaches an answer: the field that would read one
    /// fails with `INTERNAL`; the columns read answer.
    #[tokio::test]
    async fn a_stand_in_read_fails_the_field_loudly() {
        assert!(!Selected::of::<Model>(1 << POSITIONS.slug).has(POSITIONS.name_en));
        assert_eq!(Model::position("name_en"), Some(POSITIONS.name_en));
        let schema = Schema::new(Narrowed, EmptyMutation, EmptySubscription);
        let response = schema.execute("{ crimeArea { databaseId slug name(lang: EN) } }").await;
        assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
        let error = &response.errors[0];
        assert_eq!(crate::graphql::error_code(error), Some("INTERNAL"), "{error:?}");
        assert_eq!(format!("{:?}", error.path), r#"[Field("crimeArea"), Field("name")]"#);

        let response = schema.execute("{ crimeArea { databaseId slug } }").await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().expect("JSON data");
        assert_eq!(data["crimeArea"]["slug"], "terrorism");
    }
}
