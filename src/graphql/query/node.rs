//! `node`, `nodes`: any object by global id.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object};

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::graphql::batch::RowId;
use crate::graphql::context::db;
use crate::graphql::id;
use crate::graphql::node::{NodeType, Wanted};
use crate::graphql::object::{Agreement, Change, CrimeArea, Funding, Node, Partner, PolicingGoal, Project, Source};
use crate::graphql::sql;

/// The most ids `nodes` takes at once.
const MAX_NODES: usize = 100;

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when it does not exist.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id from any object's `id` field.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        let (type_name, row_id) = id::decode("id", &id)?;
        Ok(fetch(db(ctx)?, &type_name, &[row_id]).await?.remove(&row_id))
    }

    /// Objects by global id, in the order given, with null for those that do
    /// not exist; one statement per type asked for. At most 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids from objects' `id` fields.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(ApiError::bad_input("ids", format!("at most {MAX_NODES} ids at once, got {}", ids.len())));
        }
        let decoded = ids.iter().map(|id| id::decode("ids", id)).collect::<ApiResult<Vec<_>>>()?;
        let mut by_type: HashMap<&str, Vec<i64>> = HashMap::new();
        for (type_name, row_id) in &decoded {
            by_type.entry(type_name.as_str()).or_default().push(*row_id);
        }
        let db = db(ctx)?;
        let mut found: HashMap<(&str, i64), Node> = HashMap::new();
        // Types in a fixed order, so the statements a request runs do not depend on hashing.
        let mut types: Vec<_> = by_type.into_iter().collect();
        types.sort();
        for (type_name, row_ids) in types {
            for (row_id, node) in fetch(db, type_name, &row_ids).await? {
                found.insert((type_name, row_id), node);
            }
        }
        Ok(decoded.iter().map(|(t, i)| found.remove(&(t.as_str(), *i))).collect())
    }
}

/// Rows of the named type by id, as nodes of one group.
async fn fetch(db: &CountingDb, type_name: &str, ids: &[i64]) -> ApiResult<HashMap<i64, Node>> {
    async fn of<N: NodeType>(db: &CountingDb, ids: &[i64], wrap: fn(N) -> Node) -> ApiResult<HashMap<i64, Node>> {
        let ids = crate::graphql::batch::distinct(ids.iter().copied());
        // Each type's fields come through fragments: every column is read.
        let group = sql::fetch_by_ids::<N::Entity>(db, &ids, Wanted::ALL).await?;
        Ok((0..group.rows().len()).map(|i| (group.rows()[i].row_id(), wrap(N::new(group.clone(), i)))).collect())
    }
    match type_name {
        Partner::TYPE_NAME => of::<Partner>(db, ids, Node::Partner).await,
        Agreement::TYPE_NAME => of::<Agreement>(db, ids, Node::Agreement).await,
        Project::TYPE_NAME => of::<Project>(db, ids, Node::Project).await,
        Funding::TYPE_NAME => of::<Funding>(db, ids, Node::Funding).await,
        CrimeArea::TYPE_NAME => of::<CrimeArea>(db, ids, Node::CrimeArea).await,
        PolicingGoal::TYPE_NAME => of::<PolicingGoal>(db, ids, Node::PolicingGoal).await,
        Source::TYPE_NAME => of::<Source>(db, ids, Node::Source).await,
        Change::TYPE_NAME => of::<Change>(db, ids, Node::Change).await,
        other => Err(ApiError::bad_input("id", format!("no object type is called `{other}`"))),
    }
}
