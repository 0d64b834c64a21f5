//! Who may do what: a field guarded by a [`RoleGuard`] runs only for a
//! caller whose token holds that role or a stronger one.

use async_graphql::{Context, Guard};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::graphql::context::request;

/// Requires a token with at least this role.
pub struct RoleGuard(pub Role);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = &request(ctx)?.caller;
        if caller.has(self.0) {
            return Ok(());
        }
        let needed = match self.0 {
            Role::Viewer => "VIEWER",
            Role::Editor => "EDITOR",
            Role::Admin => "ADMIN",
        };
        Err(match caller {
            Caller::Anonymous => ApiError::Unauthenticated(format!(
                "this needs an API token with the {needed} role: send `Authorization: Bearer <token>`"
            )),
            Caller::Token { role, .. } => {
                ApiError::Forbidden(format!("this needs the {needed} role; the token's role is {role:?}"))
            }
        }
        .into())
    }
}
