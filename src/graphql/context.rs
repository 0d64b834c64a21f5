//! What each request carries into the resolvers.

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::Context;

use crate::auth::Caller;
use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;
use crate::graphql::lang::Lang;
use crate::graphql::sql::Wanted;

/// Per-request data: the counting connection, the caller's language and
/// identity, and where committed changes are announced.
pub struct RequestData {
    pub db: CountingDb,
    pub lang: Lang,
    pub caller: Caller,
    pub events: EventBus,
    /// The columns each field's objects need, by field position and type:
    /// the same for every sibling, so worked out once per request.
    pub wanted: Mutex<HashMap<(u64, &'static str), Wanted>>,
}

/// The request's data; every request carries it (see [`crate::graphql::execute`]).
pub fn request<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestData> {
    ctx.data::<RequestData>().map_err(|_| ApiError::Internal("request data missing".into()))
}

/// The request's database handle.
pub fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a CountingDb> {
    request(ctx).map(|r| &r.db)
}

/// The language asked for by the field's `lang` argument, else by the request.
pub fn lang(ctx: &Context<'_>, asked: Option<Lang>) -> Lang {
    asked.or_else(|| request(ctx).ok().map(|r| r.lang)).unwrap_or_default()
}
