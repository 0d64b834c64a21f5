//! The committed `schema.graphql` is the schema the code serves.

#[test]
fn the_committed_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap_or_default();
    let actual = partnership_registry::graphql::sdl();
    assert!(
        committed == actual,
        "schema.graphql is out of date; regenerate it with:\n\n    cargo run -- export-schema > schema.graphql\n"
    );
}
