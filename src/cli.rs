//! The command line: every option also readable from the environment.

use clap::{Args, Parser, Subcommand};

/// Partnership Registry: a GraphQL API of INTERPOL's international partnerships.
#[derive(Debug, Parser)]
#[command(name = "partnership-registry", version, about)]
pub struct Cli {
    /// Database to use: `sqlite://FILE` (created when missing) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://partnership-registry.db", global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default): migrates and, when empty, seeds the database first.
    Serve(ServeArgs),
    /// Apply, roll back or inspect schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load the real dataset, or a synthetic one of a chosen size.
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL), as committed in `schema.graphql`.
    ExportSchema,
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

    /// Most database connections held open at once.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10)]
    pub max_connections: u32,

    /// GraphQL operations executed at once; later ones queue. Defaults to two per CPU core.
    #[arg(long, env = "MAX_CONCURRENT_QUERIES", default_value_t = crate::startup::default_concurrent_queries())]
    pub max_concurrent_queries: usize,

    /// Require an API token (VIEWER or more) for reads and subscriptions too, not only for writes.
    #[arg(long, env = "REQUIRE_AUTH_FOR_READS")]
    pub require_auth_for_reads: bool,
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
