//! What an answer's shape depends on in the schema: the type of each field
//! of each object and interface, the object types an interface or a union
//! stands for, and the fragment conditions each object type meets. Read
//! once from async-graphql's registry; [`crate::graphql::placeholder`] and
//! [`crate::graphql::nulls`] walk documents with it.

use foldhash::{HashMap, HashMapExt, HashSet};

use async_graphql::registry::{MetaType, Registry};

pub struct Composites {
    /// The type of each field (`[Partner!]!`), by object or interface type.
    fields: HashMap<String, HashMap<String, String>>,
    /// Each composite type's possible object types (an object: itself).
    possible: HashMap<String, Vec<String>>,
    /// Each object type's names for fragment conditions: its own, its
    /// interfaces' and its unions'.
    conditions: HashMap<String, HashSet<String>>,
    query: String,
    mutation: Option<String>,
    subscription: Option<String>,
}

impl Composites {
    pub fn of(registry: &Registry) -> Self {
        let mut fields = HashMap::new();
        let mut possible = HashMap::new();
        let mut conditions: HashMap<String, HashSet<String>> = HashMap::new();
        for (name, meta) in &registry.types {
            if let Some(defined) = meta.fields() {
                let types = defined.values().map(|field| (field.name.clone(), field.ty.clone())).collect();
                fields.insert(name.clone(), types);
            }
            match meta {
                MetaType::Object { .. } => {
                    possible.insert(name.clone(), vec![name.clone()]);
                    conditions.entry(name.clone()).or_default().insert(name.clone());
                }
                MetaType::Interface { possible_types, .. } | MetaType::Union { possible_types, .. } => {
                    possible.insert(name.clone(), possible_types.iter().cloned().collect());
                    for object in possible_types {
                        conditions.entry(object.clone()).or_default().insert(name.clone());
                    }
                }
                _ => {}
            }
        }
        Composites {
            fields,
            possible,
            conditions,
            query: registry.query_type.clone(),
            mutation: registry.mutation_type.clone(),
            subscription: registry.subscription_type.clone(),
        }
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn mutation(&self) -> Option<&str> {
        self.mutation.as_deref()
    }

    pub fn subscription(&self) -> Option<&str> {
        self.subscription.as_deref()
    }

    /// The type of `parent.field` as the schema writes it (`[Partner!]!`).
    pub fn field_type(&self, parent: &str, field: &str) -> Option<&str> {
        self.fields.get(parent)?.get(field).map(String::as_str)
    }

    /// The named type of `parent.field`, when it is composite.
    pub fn composite(&self, parent: &str, field: &str) -> Option<&str> {
        let named = named(self.field_type(parent, field)?);
        self.possible.contains_key(named).then_some(named)
    }

    /// The object types a composite type stands for (an object: itself).
    pub fn possible(&self, ty: &str) -> &[String] {
        self.possible.get(ty).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether a fragment on `condition` applies to an object of type `object`.
    pub fn applies(&self, condition: &str, object: &str) -> bool {
        self.conditions.get(object).is_some_and(|names| names.contains(condition))
    }
}

/// The named type at the bottom of a type's lists and non-nulls (`[Partner!]!` → `Partner`).
pub fn named(ty: &str) -> &str {
    ty.trim_matches(|c| matches!(c, '[' | ']' | '!'))
}
