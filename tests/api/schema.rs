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

/// GraphiQL users read the descriptions: every type, field, argument, input
/// field and enum value has one.
#[test]
fn everything_in_the_schema_is_described() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let document = async_graphql::parser::parse_schema(partnership_registry::graphql::sdl()).expect("the SDL parses");
    let mut undescribed = Vec::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = ty.node;
        let name = ty.name.node.to_string();
        if ty.description.is_none() {
            undescribed.push(name.clone());
        }
        match ty.kind {
            TypeKind::Object(o) => {
                for f in o.fields {
                    if f.node.description.is_none() {
                        undescribed.push(format!("{name}.{}", f.node.name.node));
                    }
                    for a in f.node.arguments {
                        if a.node.description.is_none() {
                            undescribed.push(format!("{name}.{}({})", f.node.name.node, a.node.name.node));
                        }
                    }
                }
            }
            TypeKind::Interface(i) => {
                for f in i.fields {
                    if f.node.description.is_none() {
                        undescribed.push(format!("{name}.{}", f.node.name.node));
                    }
                }
            }
            TypeKind::InputObject(i) => {
                for f in i.fields {
                    if f.node.description.is_none() {
                        undescribed.push(format!("{name}.{}", f.node.name.node));
                    }
                }
            }
            TypeKind::Enum(e) => {
                for v in e.values {
                    if v.node.description.is_none() {
                        undescribed.push(format!("{name}.{}", v.node.value.node));
                    }
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    // async-graphql's own scalars describe themselves in the spec, not here.
    undescribed.retain(|n| !["Boolean", "Float", "ID", "Int", "String"].contains(&n.as_str()));
    assert!(undescribed.is_empty(), "undescribed in the schema: {undescribed:#?}");
}
