//! `api_token`: a bearer token, stored only as its SHA-256.

use crate::enums::Role;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[sea_orm(unique)]
    pub token_sha256: String,
    pub role: Role,
    pub revoked_at: Option<DateTimeUtc>,
    /// PostgreSQL: the primary's WAL position (in bytes) after this token's
    /// last write; reads with the token wait for a replica to replay it.
    pub written_lsn: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
