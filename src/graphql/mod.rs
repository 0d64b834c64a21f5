//! The GraphQL schema: types, resolvers and the batching they share. It
//! knows nothing of HTTP; a transport hands [`Executor`] a request and who
//! asks, and gets back an [`Executed`] answer.

pub mod batch;
pub mod composites;
pub mod context;
pub mod declare;
pub mod direct;
pub mod guard;
pub mod history;
pub mod id;
pub mod inline;
pub mod input;
pub mod lang;
pub mod list;
pub mod mutation;
pub mod node;
pub mod nulls;
pub mod object;
pub mod order;
pub mod pagination;
pub mod placeholder;
pub mod query;
pub mod render;
pub mod scalar;
pub mod sort;
pub mod spare;
pub mod sql;
pub mod subscription;
pub mod totals;
pub mod validated;
pub mod window;

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionFactory};
use async_graphql::parser::types::OperationType;
use async_graphql::{Schema, ServerError, ValidationMode, Value};
use futures_util::{Stream, StreamExt};
use sea_orm::DatabaseConnection;

use crate::auth::Caller;
use crate::db::CountingDb;
use crate::events::EventBus;
use crate::graphql::composites::Composites;
use crate::graphql::context::RequestData;
use crate::graphql::lang::Lang;
use crate::graphql::mutation::MutationRoot;
use crate::graphql::nulls::Source;
use crate::graphql::order::RootOrder;
use crate::graphql::placeholder::Placeholder;
use crate::graphql::query::QueryRoot;
use crate::graphql::subscription::SubscriptionRoot;
use crate::graphql::validated::{Operation, Validated};
use crate::metrics::Metrics;
use crate::replicas::Replicas;

type RegistrySchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot).finish().sdl()
}

/// Every type of the schema, as async-graphql registers them, and its
/// root types: what the cost limit measures documents against.
pub fn type_registry() -> async_graphql::registry::Registry {
    use async_graphql::{OutputType, SubscriptionType};
    let mut registry = async_graphql::registry::Registry::default();
    QueryRoot::create_type_info(&mut registry);
    MutationRoot::create_type_info(&mut registry);
    SubscriptionRoot::create_type_info(&mut registry);
    registry.query_type = QueryRoot::type_name().into_owned();
    registry.mutation_type = Some(MutationRoot::type_name().into_owned());
    registry.subscription_type = Some(SubscriptionRoot::type_name().into_owned());
    registry
}

/// What a request runs against: the database (and its read replicas),
/// where changes are announced, and where what it cost is reported.
#[derive(Clone)]
pub struct Registry {
    pub db: DatabaseConnection,
    pub replicas: Option<Arc<Replicas>>,
    pub events: EventBus,
    pub metrics: Option<Arc<Metrics>>,
}

/// Who asks, in which language, and where its reads may go.
#[derive(Clone, Debug)]
pub struct Asker {
    pub caller: Caller,
    pub lang: Lang,
    pub read_from: ReadFrom,
}

/// Where an operation's reads may go when there are read replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    /// A replica that has replayed what the caller wrote, else the primary.
    Replicas,
    /// The primary only. Over a WebSocket the token's row is read once, when
    /// the connection opens, so a replica could miss the token's writes
    /// made since through another server.
    Primary,
}

/// A schema extension to install (tracing, metrics of one's own…).
pub type SharedExtension = Arc<dyn ExtensionFactory>;

/// How operations run.
#[derive(Clone)]
pub struct ExecutorOptions {
    /// The fast path (see [`Executor`]); off, async-graphql resolves every
    /// object and every statement reads every column.
    pub fast_path: bool,
    /// Extensions to install on the schema; with any, the fast path steps
    /// aside so that each sees every field resolve.
    pub extensions: Vec<SharedExtension>,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions { fast_path: true, extensions: Vec::new() }
    }
}

impl std::fmt::Debug for ExecutorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorOptions")
            .field("fast_path", &self.fast_path)
            .field("extensions", &self.extensions.len())
            .finish()
    }
}

/// The schema and the registry it reads, running one operation at a time.
///
/// By default it takes the fast path: the objects of lists and to-one
/// fields are resolved in place ([`inline`]) and written as JSON where
/// they resolve ([`render`]), and every statement reads only the columns
/// the query's fields declare. Those parts go around async-graphql's
/// executor, so they step aside whenever its per-field machinery must be
/// seen: when the path is switched off, or when an extension is installed.
#[derive(Clone)]
pub struct Executor {
    schema: RegistrySchema,
    /// The same schema without the validation rules, for the operations
    /// in `validated` alone.
    validated_schema: RegistrySchema,
    validated: Arc<Validated>,
    registry: Registry,
    /// The schema's composite types, to find the selection sets that could
    /// select nothing ([`Placeholder`]).
    composites: Arc<Composites>,
    fast: bool,
}

/// An extension shared between schemas.
struct Shared(SharedExtension);

impl ExtensionFactory for Shared {
    fn create(&self) -> Arc<dyn Extension> {
        self.0.create()
    }
}

impl Executor {
    pub fn new(registry: Registry, options: ExecutorOptions) -> Self {
        let fast = options.fast_path && options.extensions.is_empty();
        let schema = |mode| {
            let mut builder =
                Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot).validation_mode(mode);
            for extension in &options.extensions {
                builder = builder.extension(Shared(extension.clone()));
            }
            builder.finish()
        };
        Executor {
            schema: schema(ValidationMode::Strict),
            validated_schema: schema(ValidationMode::Fast),
            validated: Arc::default(),
            registry,
            composites: Arc::new(Composites::of(&type_registry())),
            fast,
        }
    }

    /// The schema to run `request` on: without the validation rules when
    /// the same operation passed them lately; else with them, and the
    /// operation to remember should it pass.
    fn schema_for(&self, request: &async_graphql::Request) -> (&RegistrySchema, Option<Operation>) {
        match Operation::of(request) {
            Some(operation) if self.validated.holds(&operation) => (&self.validated_schema, None),
            operation => (&self.schema, operation),
        }
    }

    /// Keeps `operation` as validated if its answer shows it was: it has
    /// data, or no error (an operation that fails validation has neither).
    fn passed(&self, operation: Option<Operation>, response: &async_graphql::Response) {
        if let Some(operation) = operation
            && (!matches!(response.data, Value::Null) || response.errors.is_empty())
        {
            self.validated.remember(operation);
        }
    }

    /// The database the registry reads.
    pub fn db(&self) -> &DatabaseConnection {
        &self.registry.db
    }

    /// The read replicas, if any.
    pub fn replicas(&self) -> Option<&Replicas> {
        self.registry.replicas.as_deref()
    }

    /// Whether operations take the fast path.
    pub fn fast(&self) -> bool {
        self.fast
    }

    /// The per-request data of one operation, on its own counting
    /// connection, reading from a replica when there are some and the
    /// asker may.
    fn request_data(
        &self,
        asker: Asker,
        deadline: Option<tokio::time::Instant>,
        shaping: &Shaping,
    ) -> (RequestData, CountingDb) {
        let mut db = CountingDb::new(self.registry.db.clone());
        if let Some(replicas) = &self.registry.replicas
            && asker.read_from == ReadFrom::Replicas
        {
            db = db.with_replicas(replicas.clone(), asker.caller.written().cloned(), deadline);
        }
        if let Some(metrics) = &self.registry.metrics {
            db = db.with_metrics(metrics.clone());
        }
        (
            RequestData {
                db: db.clone(),
                lang: asker.lang,
                caller: asker.caller,
                events: self.registry.events.clone(),
                replicas: self.registry.replicas.clone(),
                fast: self.fast,
                fields: Default::default(),
                writes_text: Default::default(),
                loans: Default::default(),
                writes: Default::default(),
                placeholder: shaping.placeholder.clone(),
            },
            db,
        )
    }

    /// What puts `request`'s answer in the shape the specification gives
    /// it, worked out before it runs (the placeholder goes into its document).
    fn shaping(&self, request: &mut async_graphql::Request) -> Shaping {
        Shaping {
            placeholder: Placeholder::insert(request, &self.composites),
            order: RootOrder::of(request),
            source: Source::of(request),
            composites: self.composites.clone(),
        }
    }

    /// Runs one query or mutation on its own counting connection, in the
    /// asker's language unless the query says otherwise; the statements it
    /// cost go in `extensions.sqlStatements`. Its operation's type is not
    /// known here, so it reads the primary (see [`Executor::execute_by`]).
    pub async fn execute(&self, asker: Asker, mut request: async_graphql::Request) -> Executed {
        let shaping = self.shaping(&mut request);
        let (data, db) = self.request_data(Asker { read_from: ReadFrom::Primary, ..asker }, None, &shaping);
        let (schema, unproven) = self.schema_for(&request);
        let response = schema.execute(request.data(data)).await;
        self.passed(unproven, &response);
        Executed::new(response, &shaping, db.statements())
    }

    /// [`Executor::execute`], cut off at `deadline` unless one of its
    /// writes has begun to commit by then: an operation that has made a
    /// change is never reported as cancelled. It then runs to its end (no
    /// write of it may begin any more, each answering `TIMEOUT`) and
    /// answers with what it did.
    ///
    /// Only a query (`operation`) reads where the asker may: a mutation
    /// reads what it is about to change, so it reads the primary from its
    /// first statement.
    pub async fn execute_by(
        &self,
        asker: Asker,
        mut request: async_graphql::Request,
        operation: OperationType,
        deadline: tokio::time::Instant,
    ) -> Result<Executed, TimedOut> {
        let asker = match operation {
            OperationType::Query => asker,
            OperationType::Mutation | OperationType::Subscription => Asker { read_from: ReadFrom::Primary, ..asker },
        };
        let shaping = self.shaping(&mut request);
        let (data, db) = self.request_data(asker, Some(deadline), &shaping);
        let writes = data.writes.clone();
        let (schema, unproven) = self.schema_for(&request);
        let execution = schema.execute(request.data(data));
        tokio::pin!(execution);
        // The execution only moves when polled here, so no write can begin
        // to commit between the deadline's check and the decision below.
        let response = match tokio::time::timeout_at(deadline, &mut execution).await {
            Ok(response) => response,
            Err(_) if writes.committing() => {
                writes.close();
                tracing::warn!("operation past its deadline after a write began to commit; answering what it did");
                execution.await
            }
            Err(_) => return Err(TimedOut),
        };
        self.passed(unproven, &response);
        Ok(Executed::new(response, &shaping, db.statements()))
    }

    /// Runs a subscription (or, once, a query or mutation): each event's
    /// answer with the statements it cost so far. It reads the primary,
    /// where each event's change is committed by the time it is sent.
    pub fn execute_stream(
        &self,
        asker: Asker,
        mut request: async_graphql::Request,
    ) -> impl Stream<Item = Executed> + Send + 'static {
        let shaping = self.shaping(&mut request);
        let (data, db) = self.request_data(Asker { read_from: ReadFrom::Primary, ..asker }, None, &shaping);
        self.schema
            .execute_stream(request.data(data))
            .map(move |response| Executed::new(response, &shaping, db.statements()))
    }
}

/// What async-graphql 7.2 answers that the GraphQL specification answers
/// otherwise, put right around each execution: failed fields are `null`
/// and non-null promises kept ([`nulls`]), objects that select nothing are
/// `{}` ([`placeholder`]), root fields come in the document's order
/// ([`order`]).
struct Shaping {
    placeholder: Option<Placeholder>,
    order: Option<RootOrder>,
    source: Source,
    composites: Arc<Composites>,
}

impl Shaping {
    fn apply(&self, response: &mut async_graphql::Response) {
        nulls::mend(&mut response.data, &response.errors, &self.source, &self.composites);
        if let Some(placeholder) = &self.placeholder {
            placeholder.remove(&mut response.data);
        }
        if let Some(order) = &self.order {
            order.apply(&mut response.data);
        }
    }
}

/// An operation cut off at its deadline before any of its writes began to
/// commit: nothing of it was made.
#[derive(Debug)]
pub struct TimedOut;

/// What one operation (or one event of a subscription) answered.
///
/// Its data leaves only as JSON text ([`Executed::to_json`]): objects the
/// fast path wrote as text travel inside it as bytes, which async-graphql's
/// own serialisation would write as arrays of numbers, so nothing else can
/// read or serialise it.
pub struct Executed {
    response: async_graphql::Response,
    /// Errors and no data, as execution left it: before a failed field's
    /// `null` climbed to `data` ([`nulls`]).
    no_data: bool,
}

impl Executed {
    fn new(mut response: async_graphql::Response, shaping: &Shaping, statements: u64) -> Self {
        let no_data = matches!(response.data, Value::Null) && !response.errors.is_empty();
        shaping.apply(&mut response);
        add_missing_codes(&mut response);
        response.extensions.insert("sqlStatements".to_owned(), Value::from(statements));
        Executed { response, no_data }
    }

    pub fn errors(&self) -> &[ServerError] {
        &self.response.errors
    }

    pub fn into_errors(self) -> Vec<ServerError> {
        self.response.errors
    }

    /// The code of the first error, if any.
    pub fn first_code(&self) -> Option<&str> {
        first_code(&self.response.errors)
    }

    /// Whether async-graphql refused the operation before running it: it did
    /// not parse or validate.
    pub fn never_ran(&self) -> bool {
        self.has_no_data()
            && self
                .response
                .errors
                .iter()
                .all(|e| matches!(error_code(e), Some("GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED")))
    }

    /// Errors and no data at all from the execution itself (not a field's
    /// `null` that climbed to `data`): for a subscription, one that could
    /// not start.
    pub fn has_no_data(&self) -> bool {
        self.no_data
    }

    /// How many statements the operation ran.
    pub fn statements(&self) -> u64 {
        match self.response.extensions.get("sqlStatements") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            _ => 0,
        }
    }

    /// Adds an entry to `extensions`.
    pub fn set_extension(&mut self, name: &str, value: impl Into<Value>) {
        self.response.extensions.insert(name.to_owned(), value.into());
    }

    /// Internal errors reach the client as a generic message with the request
    /// id, which finds the details in the log.
    pub fn mask_internal(&mut self, request_id: &str) {
        for error in &mut self.response.errors {
            if error_code(error) == Some("INTERNAL") {
                error.message = "internal error".into();
                error.extensions.get_or_insert_with(Default::default).set("requestId", request_id);
            }
        }
    }

    /// The answer as JSON: `data`, then `extensions` and `errors` when there
    /// are any, written text in place.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        render::response_json(&self.response)
    }

    /// [`Self::to_json`] in pieces, written text passed on as it stands
    /// rather than copied ([`render::response_pieces`]).
    pub fn to_json_pieces(&self) -> serde_json::Result<Vec<bytes::Bytes>> {
        render::response_pieces(&self.response)
    }
}

/// async-graphql's own errors carry no code: those raised before execution
/// (the document does not parse or does not validate) and argument or
/// variable values it could not coerce while executing (those have a path).
/// Every error a client sees has one.
fn add_missing_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
            continue;
        }
        let code = if !error.path.is_empty() {
            "BAD_USER_INPUT"
        } else if error.message.starts_with(" --> ") {
            // The parser's errors are the only ones that open with a source position.
            "GRAPHQL_PARSE_FAILED"
        } else {
            "GRAPHQL_VALIDATION_FAILED"
        };
        error.extensions.get_or_insert_with(Default::default).set("code", code);
    }
}

/// An error's `extensions.code`, when it is a string.
pub fn error_code(error: &ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code),
        _ => None,
    }
}

/// The code of the first error, if any.
pub fn first_code(errors: &[ServerError]) -> Option<&str> {
    errors.first().and_then(error_code)
}
