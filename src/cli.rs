//! The command line: every option also readable from the environment.

use clap::{Args, Parser, Subcommand};

/// Partnership Registry: a GraphQL API of INTERPOL's international partnerships.
#[derive(Debug, Parser)]
#[command(name = "partnership-registry", version, about)]
pub struct Cli {
    /// Database to use: `sqlite://FILE` (created when missing) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://partnership-registry.db", global = true)]
    pub database_url: String,

    /// How log lines are written: `pretty` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default): migrates and, when empty, seeds the database first.
    Serve(Box<ServeArgs>),
    /// Apply, roll back or inspect schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load the real dataset, or a synthetic one of a chosen size.
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL), as committed in `schema.graphql`.
    ExportSchema,
    /// Print every fact of the dataset with its source passage (Markdown), as committed in `data/SOURCES.md`.
    ExportSources,
    /// Create, list or revoke API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it, once: only its SHA-256 is kept.
    Create {
        /// Who or what will use it (recorded as the author of its changes).
        #[arg(long)]
        name: String,
        /// What it may do: VIEWER reads, EDITOR also writes, ADMIN also manages tokens.
        #[arg(long, value_enum, ignore_case = true)]
        role: RoleArg,
    },
    /// List every token (never the tokens themselves).
    List,
    /// Revoke a token by id, or every active token with a name.
    Revoke {
        /// The token's id (from `token list`) or name.
        id_or_name: String,
    },
}

/// A token role on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum RoleArg {
    Viewer,
    Editor,
    Admin,
}

impl From<RoleArg> for entity::enums::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Viewer => entity::enums::Role::Viewer,
            RoleArg::Editor => entity::enums::Role::Editor,
            RoleArg::Admin => entity::enums::Role::Admin,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8000")]
    pub listen_addr: String,

    /// Address and port of the operators' listener, which serves `/metrics` (Prometheus) and nothing else;
    /// loopback by default, so the public address never shows them. `off` serves no metrics.
    #[arg(long, env = "METRICS_ADDR", default_value = "127.0.0.1:9464")]
    pub metrics_addr: String,

    /// Points of document cost (the `cost` extension) each API token may spend a minute, all at once if it likes;
    /// over it, requests are answered 429 RATE_LIMITED. 0 turns token budgets off.
    #[arg(long, env = "BUDGET_PER_TOKEN", default_value_t = crate::options::DEFAULT_BUDGET_PER_TOKEN)]
    pub budget_per_token: u32,

    /// Points each IP address may spend a minute on requests without a token. 0 turns address budgets off.
    #[arg(long, env = "BUDGET_PER_ADDRESS", default_value_t = crate::options::DEFAULT_BUDGET_PER_ADDRESS)]
    pub budget_per_address: u32,

    /// Behind a proxy: the header it sets to the client's address (e.g. `X-Forwarded-For`). Without it, each
    /// connection's peer is the client, and behind a proxy every client would share one budget.
    #[arg(long, env = "CLIENT_ADDRESS_HEADER")]
    pub client_address_header: Option<axum::http::HeaderName>,

    /// The proxies whose --client-address-header is believed (addresses or CIDR networks, comma-separated):
    /// from any other peer the header is ignored; the rightmost entry that is not one of them is the client.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network,
          default_value = "127.0.0.0/8,::1/128")]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// A PostgreSQL streaming replica to read from (repeat for several; the environment variable takes a
    /// comma-separated list). Writes, subscriptions and change events stay on DATABASE_URL, the primary.
    #[arg(long = "database-replica-url", env = "DATABASE_REPLICA_URLS", value_delimiter = ',')]
    pub database_replica_urls: Vec<String>,

    /// How long a read waits for a replica to replay its token's last write before reading from the primary.
    #[arg(long, env = "REPLICA_WAIT_MS", default_value_t = 500)]
    pub replica_wait_ms: u64,

    /// Most database connections held open at once.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10)]
    pub max_connections: u32,

    /// GraphQL operations executed at once; later ones queue. Defaults to two per CPU core.
    #[arg(long, env = "MAX_CONCURRENT_QUERIES", default_value_t = crate::options::default_concurrent_queries())]
    pub max_concurrent_queries: usize,

    /// Require an API token (VIEWER or more) for reads and subscriptions too, not only for writes.
    #[arg(long, env = "REQUIRE_AUTH_FOR_READS")]
    pub require_auth_for_reads: bool,

    /// Run only the documents in this JSON file (an object of sha256 → document, or an array of documents).
    #[arg(long, env = "TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<std::path::PathBuf>,

    /// Documents remembered for automatic persisted queries.
    #[arg(long, env = "PERSISTED_QUERY_CACHE", default_value_t = 1_000)]
    pub persisted_query_cache: usize,

    /// Origins allowed to call the API from a browser (CORS); repeat, or comma-separate; `*` for any.
    #[arg(long = "cors-origin", env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Seconds a shutdown waits for requests in flight before stopping anyway.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// Seconds a WebSocket client has to send `connection_init`.
    #[arg(long, env = "WS_INIT_TIMEOUT_SECS", default_value_t = 3)]
    pub ws_init_timeout_secs: u64,

    /// The fast path: objects resolved in place and written as JSON where they resolve, reads narrowed to the
    /// columns a query's fields declare. `false` leaves every object to async-graphql and reads every column.
    #[arg(long, env = "FAST_PATH", default_value_t = true, action = clap::ArgAction::Set)]
    pub fast_path: bool,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What one document and one request may cost; every limit is answered
/// with `LIMIT_EXCEEDED` (or the HTTP status the transport calls for) before
/// anything runs.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Bytes of one GraphQL document.
    #[arg(long, env = "MAX_DOCUMENT_BYTES", default_value_t = 64 * 1024)]
    pub max_document_bytes: usize,
    /// Tokens of one document.
    #[arg(long, env = "MAX_TOKENS", default_value_t = 15_000)]
    pub max_tokens: usize,
    /// Brackets open at once in a document (values and selections).
    #[arg(long, env = "MAX_NESTING", default_value_t = 64)]
    pub max_nesting: usize,
    /// Selections a document expands to, fragments spread out.
    #[arg(long, env = "MAX_SELECTIONS", default_value_t = 10_000)]
    pub max_selections: u64,
    /// Fields nested in fields.
    #[arg(long, env = "MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,
    /// Fields nested under `__schema` or `__type`.
    #[arg(long, env = "MAX_INTROSPECTION_DEPTH", default_value_t = 16)]
    pub max_introspection_depth: usize,
    /// Nodes a document may ask for: each connection multiplies by its `first`/`last` (20 by default), `fundingTotals` by its `first` (100 by default).
    #[arg(long, env = "MAX_COST", default_value_t = 50_000)]
    pub max_cost: u64,
    /// Aliases in a document, fragments spread out.
    #[arg(long, env = "MAX_ALIASES", default_value_t = 200)]
    pub max_aliases: u64,
    /// Directives in a document, fragments spread out.
    #[arg(long, env = "MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: u64,
    /// Operations in one batched request (a JSON array).
    #[arg(long, env = "MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,
    /// How deeply a variable's value may nest.
    #[arg(long, env = "MAX_VARIABLE_NESTING", default_value_t = 32)]
    pub max_variable_nesting: usize,
    /// Bytes of one HTTP request body.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Milliseconds one operation may take (waiting for its turn included).
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
}

impl From<&LimitArgs> for crate::limits::Limits {
    fn from(a: &LimitArgs) -> Self {
        crate::limits::Limits {
            max_document_bytes: a.max_document_bytes,
            max_tokens: a.max_tokens,
            max_nesting: a.max_nesting,
            max_selections: a.max_selections,
            max_depth: a.max_depth,
            max_introspection_depth: a.max_introspection_depth,
            max_cost: a.max_cost,
            max_aliases: a.max_aliases,
            max_directives: a.max_directives,
            max_batch: a.max_batch,
            max_variable_nesting: a.max_variable_nesting,
            max_body_bytes: a.max_body_bytes,
            timeout: std::time::Duration::from_millis(a.request_timeout_ms),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back applied migrations (all of them unless `--steps` is given).
    Down {
        /// How many migrations to roll back.
        #[arg(long)]
        steps: Option<u32>,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table, then apply all migrations again.
    Fresh,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Empty the database (drop and re-create every table) before loading.
    #[arg(long)]
    pub reset: bool,

    /// Load synthetic data instead of the real dataset.
    #[arg(long)]
    pub synthetic: bool,

    /// With `--synthetic`: how many partners (each with 10 agreements, 5 projects an agreement, 4 fundings a project).
    #[arg(long, default_value_t = 100, requires = "synthetic")]
    pub partners: usize,

    /// With `--synthetic`: how many of the partners fund projects (spread evenly over them; all of them when there are fewer).
    #[arg(long, default_value_t = crate::seed::synthetic::Shape::DONORS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), requires = "synthetic")]
    pub donors: usize,

    /// With `--synthetic`: the random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 1, requires = "synthetic")]
    pub seed: u64,
}

impl ServeArgs {
    /// The serve options from the environment and defaults alone, for when no
    /// subcommand is given.
    pub fn from_env() -> Self {
        #[derive(Parser)]
        struct ServeOnly {
            #[command(flatten)]
            args: ServeArgs,
        }
        ServeOnly::parse_from(["partnership-registry"]).args
    }
}

/// A network in CIDR notation, or one address.
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a network such as 10.0.0.0/8"))
}
