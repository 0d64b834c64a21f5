//! Every field of every object type answers the same whatever else is
//! asked beside it and however the server reads it: statements select only
//! the columns a query's fields declare, and objects are resolved in place,
//! so a declaration that misses a column, or a selection the planner
//! misreads, would show as a field whose value depends on the rest of the
//! query.
//!
//! Nothing here names a type or a field: the schema is read by
//! introspection, and the object types are reached from `Query` through
//! every pair of relations in a row (a connection at the top and nested,
//! each to-one and list), so a new field or type is covered as it lands.
//! For each, every field without required arguments (each value of an
//! optional enum argument such as `lang` as well) is asked alone and
//! beside all the others, and compared with what a second server on the
//! same database answers with its fast path off (async-graphql resolving
//! every object, every column read). Types that only mutations and
//! subscriptions return are read by their own tests.
//!
//! The same walk checks the answer's shape on both paths: an object whose
//! selection selects nothing (its fields skipped, or only fragments on
//! other types) is `{}`, never `null`; a field that fails is `null`, and
//! its `null` climbs exactly as far as the non-null types say.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use partnership_registry::auth::Role;
use partnership_registry::graphql::ExecutorOptions;
use partnership_registry::options::ServerOptions;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::mutations::{CREATE_FUNDING, create_agreement, create_partner, create_project};
use crate::on_both_databases;

/// The page size asked of every connection: enough rows to compare, small answers.
const PAGE: u32 = 4;

const INTROSPECTION: &str = "{ __schema { queryType { name } types { kind name
    fields { name type { ...Ref } args { name defaultValue type { ...Ref } } }
    enumValues { name } possibleTypes { name } } } }
    fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// A type reference, down to the named type at the bottom.
#[derive(Clone, Debug)]
struct Ref {
    name: String,
    kind: String,
    /// `T!`.
    non_null: bool,
    /// `[T!]`: a list whose items are non-null.
    items_non_null: bool,
}

impl Ref {
    fn of(value: &Value) -> Ref {
        let non_null = value["kind"] == "NON_NULL";
        let outer = if non_null { &value["ofType"] } else { value };
        let items_non_null = outer["kind"] == "LIST" && outer["ofType"]["kind"] == "NON_NULL";
        let mut named = value;
        while named["name"].is_null() && !named["ofType"].is_null() {
            named = &named["ofType"];
        }
        Ref {
            name: named["name"].as_str().unwrap_or_default().to_owned(),
            kind: named["kind"].as_str().unwrap_or_default().to_owned(),
            non_null,
            items_non_null,
        }
    }

    fn is_object(&self) -> bool {
        matches!(self.kind.as_str(), "OBJECT" | "INTERFACE" | "UNION")
    }
}

#[derive(Clone, Debug)]
struct Arg {
    name: String,
    ty: Ref,
    /// Required: non-null without a default.
    required: bool,
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    ty: Ref,
    args: Vec<Arg>,
}

struct Schema {
    query: String,
    fields: HashMap<String, Vec<Field>>,
    kinds: HashMap<String, String>,
    enums: HashMap<String, Vec<String>>,
    /// The object types of each interface and union.
    possible: HashMap<String, Vec<String>>,
}

impl Schema {
    async fn read(app: &TestApp) -> Schema {
        let data = app.data(INTROSPECTION, json!({})).await;
        let schema = &data["__schema"];
        let mut read = Schema {
            query: schema["queryType"]["name"].as_str().unwrap_or_default().to_owned(),
            fields: HashMap::new(),
            kinds: HashMap::new(),
            enums: HashMap::new(),
            possible: HashMap::new(),
        };
        for ty in schema["types"].as_array().into_iter().flatten() {
            let name = ty["name"].as_str().unwrap_or_default().to_owned();
            read.kinds.insert(name.clone(), ty["kind"].as_str().unwrap_or_default().to_owned());
            if let Some(types) = ty["possibleTypes"].as_array() {
                read.possible
                    .insert(name.clone(), types.iter().filter_map(|t| t["name"].as_str()).map(str::to_owned).collect());
            }
            if let Some(values) = ty["enumValues"].as_array() {
                read.enums.insert(
                    name.clone(),
                    values.iter().filter_map(|v| v["name"].as_str()).map(str::to_owned).collect(),
                );
            }
            let fields = ty["fields"].as_array().into_iter().flatten().map(|f| Field {
                name: f["name"].as_str().unwrap_or_default().to_owned(),
                ty: Ref::of(&f["type"]),
                args: f["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| Arg {
                        name: a["name"].as_str().unwrap_or_default().to_owned(),
                        ty: Ref::of(&a["type"]),
                        required: a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null(),
                    })
                    .collect(),
            });
            read.fields.insert(name, fields.filter(|f| !f.name.starts_with("__")).collect());
        }
        read
    }

    fn is_connection(&self, type_name: &str) -> bool {
        self.fields.get(type_name).is_some_and(|f| f.iter().any(|f| f.name == "pageInfo"))
    }

    /// The ways to call `field` with its required arguments filled: each
    /// value of a required enum argument; none when another is required.
    /// A connection asks for a small page.
    fn calls(&self, field: &Field) -> Vec<String> {
        let mut calls = vec![Vec::new()];
        for arg in &field.args {
            if arg.name == "first" && self.is_connection(&field.ty.name) {
                calls.iter_mut().for_each(|c| c.push(format!("first: {PAGE}")));
            } else if arg.required {
                let Some(values) = self.enums.get(&arg.ty.name).filter(|_| arg.ty.kind == "ENUM") else {
                    return Vec::new();
                };
                calls = calls
                    .into_iter()
                    .flat_map(|c| values.iter().map(move |v| [c.clone(), vec![format!("{}: {v}", arg.name)]].concat()))
                    .collect();
            }
        }
        calls
            .into_iter()
            .map(
                |args| {
                    if args.is_empty() { field.name.clone() } else { format!("{}({})", field.name, args.join(", ")) }
                },
            )
            .collect()
    }

    /// The selections that ask `type_name`'s fields: `(response key,
    /// selection)`. Leaves are asked plainly and once per value of each
    /// optional enum argument; objects with the leaves of their type
    /// (`depth` 1) or their `__typename` alone.
    fn selections(&self, type_name: &str, depth: u32) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for field in self.fields.get(type_name).into_iter().flatten() {
            let calls = self.calls(field);
            let Some(call) = calls.first() else { continue };
            let inner = if !field.ty.is_object() {
                String::new()
            } else if depth == 0 {
                " { __typename }".to_owned()
            } else if self.is_connection(&field.ty.name) {
                let node = self.node_of(&field.ty.name);
                let leaves: Vec<String> = self.selections(&node, 0).into_iter().map(|(_, s)| s).collect();
                format!(
                    " {{ totalCount pageInfo {{ hasNextPage hasPreviousPage }} nodes {{ __typename {} }} }}",
                    leaves.join(" ")
                )
            } else {
                let leaves: Vec<String> = self.selections(&field.ty.name, 0).into_iter().map(|(_, s)| s).collect();
                format!(" {{ __typename {} }}", leaves.join(" "))
            };
            out.push((field.name.clone(), format!("{call}{inner}")));
            for arg in field.args.iter().filter(|a| !a.required && a.ty.kind == "ENUM") {
                for value in self.enums.get(&arg.ty.name).into_iter().flatten() {
                    let key = format!("{}_{}_{value}", field.name, arg.name);
                    let call = if call.contains('(') {
                        call.replacen('(', &format!("({}: {value}, ", arg.name), 1)
                    } else {
                        format!("{call}({}: {value})", arg.name)
                    };
                    out.push((key.clone(), format!("{key}: {call}{inner}")));
                }
            }
        }
        out
    }

    /// The type of a connection's nodes.
    fn node_of(&self, connection: &str) -> String {
        let nodes = self.fields.get(connection).and_then(|f| f.iter().find(|f| f.name == "nodes"));
        nodes.map(|f| f.ty.name.clone()).unwrap_or_default()
    }
}

/// A way from the query root to objects of one type: the fields to follow
/// (each with its arguments), and the type they lead to.
#[derive(Clone, Debug)]
struct Path {
    steps: Vec<(String, String)>,
    target: String,
}

impl Path {
    /// The document asking `selection` of the objects the path leads to.
    fn query(&self, selection: &str) -> String {
        let mut query = selection.to_owned();
        for (_, call) in self.steps.iter().rev() {
            query = format!("{call} {{ {query} }}");
        }
        format!("{{ {query} }}")
    }

    /// The objects the path leads to in an answer, in order (nulls kept, so
    /// positions line up between answers).
    fn objects<'a>(&self, data: &'a Value) -> Vec<&'a Value> {
        let mut level = vec![data];
        for (key, _) in &self.steps {
            level = level
                .into_iter()
                .flat_map(|v| match &v[key] {
                    Value::Array(items) => items.iter().collect::<Vec<_>>(),
                    other => vec![other],
                })
                .collect();
        }
        level
    }

    /// The path on through `call` (answering under `key`) to objects of `target`.
    fn then(&self, key: &str, call: &str, target: &str) -> Path {
        let mut steps = self.steps.clone();
        steps.push((key.to_owned(), call.to_owned()));
        Path { steps, target: target.to_owned() }
    }

    fn describe(&self) -> String {
        self.steps.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(".")
    }
}

/// The ways to every field that leads to objects, each reached the
/// shortest way; a connection's also on to its nodes, through `nodes` and
/// through `edges { node }`, since where a connection's rows come from (the
/// top of the query, or under each of a level's rows) is decided by the
/// field that leads to it. The fields of the root that fail without
/// arguments (lookups needing a key) are left out.
async fn paths(app: &TestApp, schema: &Schema) -> Vec<Path> {
    let root = Path { steps: Vec::new(), target: schema.query.clone() };
    let mut arrivals: Vec<Path> = Vec::new();
    let mut queue = VecDeque::from([root]);
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        for field in schema.fields.get(&path.target).into_iter().flatten().filter(|f| f.ty.is_object()) {
            for call in schema.calls(field) {
                if !seen.insert((path.target.clone(), call.clone())) {
                    continue;
                }
                let next = path.then(&field.name, &call, &field.ty.name);
                if path.steps.is_empty()
                    && app.graphql(&next.query("__typename"), json!({})).await.get("errors").is_some()
                {
                    continue;
                }
                arrivals.push(next.clone());
                queue.push_back(next);
            }
        }
    }
    let mut paths = Vec::new();
    for path in arrivals {
        if schema.is_connection(&path.target) {
            let node = schema.node_of(&path.target);
            let edge = schema.fields[&path.target].iter().find(|f| f.name == "edges").map(|f| f.ty.name.clone());
            paths.push(path.then("nodes", "nodes", &node));
            if let Some(edge) = edge {
                paths.push(path.then("edges", "edges", &edge).then("node", "node", &node));
            }
        }
        paths.push(path);
    }
    paths
}

/// A second server on `app`'s database with the fast path off: async-graphql
/// resolves every object and every statement reads every column.
async fn fast_path_off(app: &TestApp) -> TestApp {
    app.replica_with(ServerOptions {
        executor: ExecutorOptions { fast_path: false, ..ExecutorOptions::default() },
        ..crate::helpers::options()
    })
    .await
}

/// Most of the real dataset's amounts are undisclosed: add fundings that
/// fill every field, so a column left out by mistake shows.
async fn add_full_fundings(app: &TestApp) {
    let editor = app.token(Role::Editor).await;
    let funder = app.partner_id("european-union").await;
    let partner = create_partner(app, &editor, "fields-test").await;
    let agreement = create_agreement(app, &editor, &partner, "FIELDS-1").await;
    let project = create_project(app, &editor, &agreement, "FIELDS-P1").await;
    for (amount, currency) in [("1250000.50", "EUR"), ("90000", "USD")] {
        let input = json!({
            "projectId": project, "funderId": funder, "kind": "GRANT", "status": "PLEDGED", "amount": amount,
            "currency": currency, "programme": "Fields programme", "committedOn": "2026-02-02",
            "sourceUrl": "https://example.org/fields"
        });
        app.data_as(&editor, CREATE_FUNDING, json!({ "input": input })).await;
    }
}

async fn every_field_answers_the_same_alone_together_and_off_the_fast_path(app: &TestApp) {
    add_full_fundings(app).await;
    let off = fast_path_off(app).await;
    let schema = Schema::read(app).await;
    let paths = paths(app, &schema).await;
    // Per type, the fields seen holding a value somewhere.
    let mut shown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut asked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &paths {
        let selections = schema.selections(&path.target, 1);
        if selections.is_empty() {
            continue;
        }
        let all: Vec<&str> = selections.iter().map(|(_, s)| s.as_str()).collect();
        let together = app.data(&path.query(&all.join(" ")), json!({})).await;
        let reference = off.data(&path.query(&all.join(" ")), json!({})).await;
        let (together, reference) = (path.objects(&together), path.objects(&reference));
        assert_eq!(together, reference, "{}: all fields together, fast path on and off", path.describe());
        for (key, selection) in &selections {
            let alone = app.data(&path.query(selection), json!({})).await;
            let alone = path.objects(&alone);
            assert_eq!(alone.len(), reference.len(), "{} {key}: the same objects", path.describe());
            for (position, (object, expected)) in alone.iter().zip(&reference).enumerate() {
                assert_eq!(
                    object.get(key),
                    expected.get(key),
                    "{} {key} of object {position}: asked alone, and beside the others off the fast path",
                    path.describe()
                );
                if expected.get(key).is_some_and(|v| !v.is_null()) {
                    shown.entry(path.target.clone()).or_default().insert(key.clone());
                }
            }
            asked.entry(path.target.clone()).or_default().insert(key.clone());
        }
    }
    // Every object type the root reaches was asked, and the comparisons
    // were of values, not of nulls: most fields of each type held one.
    let reached: BTreeSet<&String> = paths.iter().map(|p| &p.target).collect();
    for (type_name, kind) in &schema.kinds {
        if kind == "OBJECT" && reached.contains(type_name) {
            assert!(asked.contains_key(type_name), "{type_name} is reached but none of its fields was asked");
        }
    }
    for (type_name, keys) in &asked {
        let held = shown.get(type_name).map_or(0, BTreeSet::len);
        assert!(held * 4 >= keys.len() * 3, "{type_name}: only {held} of {} fields held a value: {keys:?}", keys.len());
    }
    // The walk itself works: every node type is reached.
    let nodes = app.data(r#"{ __type(name: "Node") { possibleTypes { name } } }"#, json!({})).await;
    for node in nodes["__type"]["possibleTypes"].as_array().into_iter().flatten() {
        let name = node["name"].as_str().unwrap_or_default();
        assert!(asked.contains_key(name), "the walk from the root reaches {name}");
    }
}

/// An object whose selection selects nothing answers `{}`, and one that
/// is null stays null: every object the root reaches, its one field left
/// out by `@skip`, or by `@include` with a variable on a fragment, and, where the objects
/// are of an interface or a union, asked through a fragment on each of its
/// types in turn (the others select nothing); and introspection's objects,
/// whose types the schema's own walk does not list.
async fn objects_that_select_nothing_are_empty_maps(app: &TestApp) {
    let off = fast_path_off(app).await;
    let schema = Schema::read(app).await;
    let paths = paths(app, &schema).await;
    for (server, fast) in [(app, "on"), (&off, "off")] {
        assert_eq!(server.data("{ __typename @skip(if: true) }", json!({})).await, json!({}), "fast path {fast}");
        for path in &paths {
            let typed = server.data(&path.query("__typename"), json!({})).await;
            let typed: Vec<Value> = path.objects(&typed).into_iter().cloned().collect();
            let empty: Vec<Value> = typed.iter().map(|o| if o.is_null() { Value::Null } else { json!({}) }).collect();
            let skipped = [
                (path.query("__typename @skip(if: true)"), json!({})),
                // On a fragment: async-graphql's validator does not see the
                // directives of `__typename`, and calls `$no` unused there.
                (
                    format!("query($no: Boolean!) {}", path.query("... @include(if: $no) { __typename }")),
                    json!({ "no": false }),
                ),
            ];
            for (query, variables) in skipped {
                let data = server.data(&query, variables).await;
                let objects: Vec<Value> = path.objects(&data).into_iter().cloned().collect();
                assert_eq!(objects, empty, "{}, fast path {fast}: {query}", path.describe());
            }
            let Some(possible) = schema.possible.get(&path.target) else { continue };
            for object_type in possible {
                let query = path.query(&format!("... on {object_type} {{ __typename }}"));
                let data = server.data(&query, json!({})).await;
                let objects: Vec<Value> = path.objects(&data).into_iter().cloned().collect();
                let expected: Vec<Value> = typed
                    .iter()
                    .map(|o| match o["__typename"].as_str() {
                        None => Value::Null,
                        Some(t) if t == object_type => json!({ "__typename": t }),
                        Some(_) => json!({}),
                    })
                    .collect();
                assert_eq!(objects, expected, "{}, fast path {fast}: {query}", path.describe());
            }
        }
    }
    // The root's fields of an interface or a union (`search`, `node`)
    // need arguments the walk cannot make up: `search.rs` asks them.

    // Introspection's objects, one path to each of its object types:
    // with their one field left out, each is `{}` where it was an object.
    let introspection = [
        ("__schema { X }", "__Schema"),
        (r#"__type(name: "Partner") { X }"#, "__Type"),
        ("__schema { queryType { X } }", "__Type"),
        ("__schema { types { X } }", "__Type"),
        ("__schema { types { fields(includeDeprecated: true) { X } } }", "__Field"),
        ("__schema { types { fields(includeDeprecated: true) { type { ofType { X } } } } }", "__Type"),
        ("__schema { types { fields(includeDeprecated: true) { args { X } } } }", "__InputValue"),
        ("__schema { types { inputFields { X } } }", "__InputValue"),
        ("__schema { types { enumValues(includeDeprecated: true) { X } } }", "__EnumValue"),
        ("__schema { directives { X } }", "__Directive"),
        ("__schema { directives { args { X } } }", "__InputValue"),
    ];
    for (server, fast) in [(app, "on"), (&off, "off")] {
        for (path, object_type) in introspection {
            let typed = server.data(&format!("{{ {} }}", path.replace('X', "__typename")), json!({})).await;
            let mut expected = typed.clone();
            without_typename(&mut expected);
            assert_ne!(expected, typed, "{path} reaches objects");
            let skipped = [
                (format!("{{ {} }}", path.replace('X', "__typename @skip(if: true)")), json!({})),
                (
                    format!("query($no: Boolean!) {{ {} }}", path.replace('X', "... @include(if: $no) { __typename }")),
                    json!({ "no": false }),
                ),
                (
                    format!(
                        "{{ {} }}",
                        path.replace('X', &format!("... on {object_type} {{ __typename @skip(if: true) }}"))
                    ),
                    json!({}),
                ),
                (
                    format!(
                        "{{ {} }} fragment F on {object_type} {{ __typename @include(if: false) }}",
                        path.replace('X', "...F")
                    ),
                    json!({}),
                ),
            ];
            for (query, variables) in skipped {
                assert_eq!(server.data(&query, variables).await, expected, "fast path {fast}: {query}");
            }
        }
    }
}

/// `value` with every object's `__typename` taken out.
fn without_typename(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("__typename");
            map.values_mut().for_each(without_typename);
        }
        Value::Array(items) => items.iter_mut().for_each(without_typename),
        _ => {}
    }
}

/// A field that fails is `null`, and the `null` climbs exactly as far as
/// non-null types require: every connection the walk reaches, asked from
/// a cursor that is none of its own. The answer keeps every key the query
/// selects, holds no `null` where the schema promises a value, and each
/// `null` the error brought is the failed field's or sits right above a
/// non-null position it came up from; on both paths.
async fn failed_fields_are_null_and_their_nulls_climb_as_the_types_say(app: &TestApp) {
    let off = fast_path_off(app).await;
    let schema = Schema::read(app).await;
    let mut checked = 0;
    for path in paths(app, &schema).await {
        // The fields each step follows, from the root.
        let mut fields: Vec<&Field> = Vec::new();
        let mut parent = schema.query.clone();
        for (key, _) in &path.steps {
            let Some(field) = schema.fields.get(&parent).and_then(|f| f.iter().find(|f| &f.name == key)) else {
                break;
            };
            parent = field.ty.name.clone();
            fields.push(field);
        }
        let Some((last, call)) = path.steps.last() else { continue };
        if fields.len() != path.steps.len() || !fields.last().is_some_and(|f| f.args.iter().any(|a| a.name == "after"))
        {
            continue;
        }
        let bogus = if call.contains('(') {
            call.replacen('(', "(after: \"bogus\", ", 1)
        } else {
            format!("{call}(after: \"bogus\")")
        };
        let mut failing = path.clone();
        failing.steps.last_mut().expect("a step").1 = bogus;
        let normal = app.data(&path.query("__typename"), json!({})).await;
        for (server, fast) in [(app, "on"), (&off, "off")] {
            let body = server.graphql(&failing.query("__typename"), json!({})).await;
            let what = format!("{} ({last} from a bogus cursor), fast path {fast}: {body:#}", path.describe());
            assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{what}");
            if body["data"].is_null() {
                assert!(fields[0].ty.non_null, "data is null only when the first field may not be: {what}");
                continue;
            }
            check_nulls(&body["data"], &normal, &fields, &path.steps, &what);
        }
        checked += 1;
    }
    assert!(checked > 0, "the walk reaches connections");
}

/// [`failed_fields_are_null_and_their_nulls_climb_as_the_types_say`], at
/// one object of the failing answer and the same one of the normal answer.
fn check_nulls(failing: &Value, normal: &Value, fields: &[&Field], steps: &[(String, String)], what: &str) {
    let (Some((field, below)), Some(((key, _), rest))) = (fields.split_first(), steps.split_first()) else {
        return;
    };
    assert!(failing.get(key).is_some(), "the key {key} is there: {what}");
    let (value, was) = (&failing[key], &normal[key]);
    if rest.is_empty() {
        assert!(value.is_null(), "the failed field {key} is null: {what}");
        assert!(!field.ty.non_null, "a failed {key} that may not be null takes its parent: {what}");
        return;
    }
    if value.is_null() {
        assert!(!field.ty.non_null, "{key} may not be null: {what}");
        if !was.is_null() {
            // Brought by the error: from a non-null position right below.
            let from_below = match was {
                Value::Array(_) => field.ty.items_non_null,
                _ => below.first().is_some_and(|f| f.ty.non_null),
            };
            assert!(from_below, "{key} is null although nothing below it had to be: {what}");
        }
        return;
    }
    match (value, was) {
        (Value::Array(items), Value::Array(were)) => {
            assert_eq!(items.len(), were.len(), "{key}: {what}");
            for (item, was) in items.iter().zip(were) {
                if item.is_null() {
                    assert!(!field.ty.items_non_null, "an item of {key} may not be null: {what}");
                    assert!(
                        below.first().is_some_and(|f| f.ty.non_null),
                        "an item of {key} is null for nothing: {what}"
                    );
                } else {
                    check_nulls(item, was, below, rest, what);
                }
            }
        }
        _ => check_nulls(value, was, below, rest, what),
    }
}

/// A connection nested under many parents is written, after its first
/// parent, from the pages that first one loaded, found by the window its
/// own field was given: aliases of one connection with other pages,
/// orders and filters, `__typename` and `nodes` twice, answer as they do
/// off the fast path, where each is resolved.
async fn nested_pages_are_written_by_each_fields_own_window(app: &TestApp) {
    let off = fast_path_off(app).await;
    let query = r#"{ partners(first: 40) { nodes { slug
        a: agreements(first: 1) { __typename nodes { reference } }
        b: agreements(first: 3, orderBy: { field: TITLE, direction: DESC }) {
            nodes { reference title projects(first: 2) { nodes { code } } }
        }
        c: agreements(last: 2) { nodes { reference } }
        d: agreements(filter: { statusIn: [IN_FORCE] }) { x: nodes { reference } y: nodes { status } }
        e: agreements(first: 1) { nodes { reference } pageInfo { hasNextPage } }
    } } }"#;
    let on = app.data(query, json!({})).await;
    assert_eq!(on, off.data(query, json!({})).await, "fast path on and off");
    // The windows differ where a partner has several agreements, so a page
    // written by another field's window would show.
    let partners = on["partners"]["nodes"].as_array().cloned().unwrap_or_default();
    let count = |partner: &Value, key: &str| partner[key]["nodes"].as_array().map_or(0, Vec::len);
    assert!(
        partners.iter().any(|p| count(p, "b") > count(p, "a") && count(p, "a") == 1),
        "some partner has more than one agreement"
    );
    assert!(partners.iter().all(|p| p["a"]["__typename"] == "AgreementConnection"));
}

on_both_databases! {
    async fn nested_pages_are_written_by_each_fields_own_window_on_both_paths(app) {
        nested_pages_are_written_by_each_fields_own_window(&app).await;
    }

    async fn every_field_answers_the_same_alone_beside_the_others_and_off_the_fast_path(app) {
        every_field_answers_the_same_alone_together_and_off_the_fast_path(&app).await;
    }

    async fn objects_that_select_nothing_are_empty_maps_on_both_paths(app) {
        objects_that_select_nothing_are_empty_maps(&app).await;
    }

    async fn failed_fields_are_null_and_their_nulls_climb_as_the_types_say_on_both_paths(app) {
        failed_fields_are_null_and_their_nulls_climb_as_the_types_say(&app).await;
    }
}
