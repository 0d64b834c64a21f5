//! What each request carries into the resolvers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::parser::types::Field;
use async_graphql::{Context, ContextSelectionSet, Positioned};

use crate::auth::Caller;
use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;
use crate::graphql::lang::Lang;
use crate::graphql::node::Wanted;
use crate::graphql::placeholder::Placeholder;
use crate::graphql::render::Loans;
use crate::replicas::Replicas;

/// Per-request data: the counting connection, the caller's language and
/// identity, and where committed changes are announced.
pub struct RequestData {
    pub db: CountingDb,
    pub lang: Lang,
    pub caller: Caller,
    pub events: EventBus,
    /// The read replicas, told of each write so its author reads it back.
    pub replicas: Option<Arc<Replicas>>,
    /// Whether the fast path is on for this request (see
    /// [`crate::graphql::Executor`]): objects resolved in place and
    /// written as JSON where they resolve, reads narrowed to the columns
    /// the query needs.
    pub fast: bool,
    /// What each field's siblings share, worked out once per request
    /// (shared, weakly, with the writers worked out from it).
    pub fields: Arc<Mutex<FieldMemo>>,
    /// Whether objects are written as JSON text where they resolve
    /// ([`crate::graphql::render`]); decided at the first object.
    pub writes_text: OnceLock<bool>,
    /// The text of the objects being written, lent to their fields' values.
    pub loans: Loans,
    /// Where the operation's writes stand, for a timeout to tell the truth.
    pub writes: Arc<Writes>,
    /// The response key of the `__typename` added to the selection sets
    /// that could select nothing, if any: never written as text.
    pub placeholder: Option<Placeholder>,
}

/// Where an operation's writes stand: whether one began to commit (from
/// then on the operation is not cut off, since it has made a change), and
/// whether the operation ran out of time (no further write may begin).
#[derive(Debug, Default)]
pub struct Writes {
    committing: AtomicBool,
    closed: AtomicBool,
}

impl Writes {
    /// A write is about to commit.
    pub fn begin_commit(&self) {
        self.committing.store(true, Ordering::SeqCst);
    }

    /// Whether a write of the operation began to commit.
    pub fn committing(&self) -> bool {
        self.committing.load(Ordering::SeqCst)
    }

    /// The operation ran out of time: no write may begin any more.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

impl RequestData {
    /// Whether reads leave out the columns no field of the query needs.
    pub fn narrows(&self) -> bool {
        self.fast
    }
}

/// A field of the document: its position and the type of its objects.
pub type FieldKey = (u64, &'static str);

/// What every sibling resolving one field of the document shares: the
/// field's arguments, hence its window, and its selection are the same for
/// all of them, so each is worked out once per request, not once per parent.
#[derive(Default)]
pub struct FieldMemo {
    /// The columns the field's objects need.
    pub wanted: foldhash::HashMap<FieldKey, Wanted>,
    /// The field's window, numbered by [`Self::window_numbers`].
    pub windows: foldhash::HashMap<FieldKey, u64>,
    /// Every distinct window key met so far, numbered: two fields with the
    /// same window (aliases) share one statement.
    pub window_numbers: foldhash::HashMap<String, u64>,
    /// The writers of a selection's fields, by the selection's position and
    /// the type of its objects ([`crate::graphql::inline`]).
    pub writers: foldhash::HashMap<(u64, std::any::TypeId), Arc<dyn std::any::Any + Send + Sync>>,
}

/// The request's data; every request carries it (see [`crate::graphql::Executor`]).
pub fn request<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestData> {
    ctx.data::<RequestData>().map_err(|_| ApiError::Internal("request data missing".into()))
}

/// The request's database handle.
pub fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a CountingDb> {
    request(ctx).map(|r| &r.db)
}

/// The key of the request's placeholder field, if it has one: left out of
/// written text.
pub fn placeholder<'a>(ctx: &ContextSelectionSet<'a>) -> Option<&'a Placeholder> {
    ctx.data::<RequestData>().ok()?.placeholder.as_ref()
}

/// The language asked for by the field's `lang` argument, else by the request.
pub fn lang(ctx: &Context<'_>, asked: Option<Lang>) -> Lang {
    asked.or_else(|| request(ctx).ok().map(|r| r.lang)).unwrap_or_default()
}

/// The language a field's `lang` argument asks for, else the request's;
/// `None` when the argument cannot be read (its resolver then says why).
pub fn field_lang(ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> Option<Lang> {
    let ctx = ctx.with_field(field);
    let (_, asked) = ctx.param_value::<Option<Lang>>("lang", None).ok()?;
    Some(lang(&ctx, asked))
}
