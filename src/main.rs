//! The `partnership-registry` binary: parse the command line, set up
//! logging, dispatch.

use anyhow::Context;
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use std::time::Duration;

use partnership_registry::cli::{Cli, Command, LogFormat, MigrateAction, SeedArgs, ServeArgs, TokenAction};
use partnership_registry::graphql::ExecutorOptions;
use partnership_registry::options::ServerOptions;
use partnership_registry::startup::{self, Application, Settings};
use partnership_registry::{auth, db, graphql, seed};
use tracing_subscriber::EnvFilter;

// See `partnership_registry::allocator` for why mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    partnership_registry::allocator::return_freed_memory_promptly();
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().with_current_span(true).init(),
        LogFormat::Pretty => logs.init(),
    }

    match cli.command.unwrap_or_else(|| Command::Serve(Box::new(ServeArgs::from_env()))) {
        Command::Serve(args) => serve(cli.database_url, *args).await,
        Command::Migrate { action } => migrate(&cli.database_url, action).await,
        Command::Seed(args) => seed_database(&cli.database_url, args).await,
        Command::ExportSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::ExportSources => {
            let file = serde_json::from_str(seed::dataset::REGISTRY_JSON).context("data/registry.json is invalid")?;
            print!("{}", seed::provenance::sources_markdown(&file));
            Ok(())
        }
        Command::Token { action } => manage_tokens(&cli.database_url, action).await,
    }
}

/// `token create|list|revoke`: prints to stdout what the operator asked for.
async fn manage_tokens(url: &str, action: TokenAction) -> anyhow::Result<()> {
    let conn = db::connect(url, 1).await.with_context(|| format!("connecting to {}", startup::redact(url)))?;
    Migrator::up(&conn, None).await.context("applying migrations")?;
    match action {
        TokenAction::Create { name, role } => {
            let (row, token) = auth::create(&conn, &name, role.into()).await.context("creating the token")?;
            tracing::info!(id = row.id, name = %row.name, role = ?row.role, "token created");
            println!("{token}");
            eprintln!(
                "Keep this token now: it is shown once and cannot be recovered. Send it as `Authorization: Bearer <token>`."
            );
        }
        TokenAction::List => {
            println!("{:>5}  {:<24}  {:<7}  {:<20}  revoked", "id", "name", "role", "created");
            for t in auth::list(&conn).await.context("listing tokens")? {
                let revoked = t.revoked_at.map(|r| r.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
                let role = format!("{:?}", t.role).to_uppercase();
                println!(
                    "{:>5}  {:<24}  {:<7}  {:<20}  {revoked}",
                    t.id,
                    t.name,
                    role,
                    t.created_at.format("%Y-%m-%d %H:%M:%S")
                );
            }
        }
        TokenAction::Revoke { id_or_name } => {
            let revoked = auth::revoke(&conn, &id_or_name).await.context("revoking")?;
            anyhow::ensure!(!revoked.is_empty(), "no active token has the id or name `{id_or_name}`");
            for t in revoked {
                println!("revoked token {} ({})", t.id, t.name);
            }
        }
    }
    Ok(())
}

async fn serve(database_url: String, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings {
        database_url,
        listen_addr: args.listen_addr,
        max_connections: args.max_connections,
        options: ServerOptions {
            max_concurrent_queries: args.max_concurrent_queries,
            require_auth_for_reads: args.require_auth_for_reads,
            ws_init_timeout: Duration::from_secs(args.ws_init_timeout_secs),
            limits: (&args.limits).into(),
            trusted_documents: args.trusted_documents.clone(),
            persisted_cache: args.persisted_query_cache,
            cors_origins: args.cors_origins.clone(),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
            executor: ExecutorOptions { fast_path: args.fast_path, ..ExecutorOptions::default() },
            metrics_addr: (args.metrics_addr != "off").then(|| args.metrics_addr.clone()),
            budget_per_token: args.budget_per_token,
            budget_per_address: args.budget_per_address,
            client_address_header: args.client_address_header.clone(),
            trusted_proxies: args.trusted_proxies.clone(),
            database_replica_urls: args.database_replica_urls.clone(),
            replica_wait: Duration::from_millis(args.replica_wait_ms),
            ..ServerOptions::default()
        },
    };
    let started = std::time::Instant::now();
    let app = Application::build(&settings).await?;
    let addr = app.local_addr()?;
    tracing::info!(
        database = %startup::redact(&settings.database_url),
        startup_ms = started.elapsed().as_millis() as u64,
        "listening on http://{addr} (GraphiQL at http://{addr}/graphiql)"
    );
    match app.metrics_addr() {
        Some(metrics) => tracing::info!("metrics on http://{metrics}/metrics"),
        None => tracing::info!("no metrics listener (--metrics-addr off)"),
    }
    app.run_until(startup::shutdown_signal()).await.context("serving HTTP")?;
    Ok(())
}

/// Progress of a long load: a bar on a terminal; elsewhere (CI logs,
/// pipes) a log line at every tenth.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    done: u64,
    total: u64,
    next_line: u64,
}

impl Progress {
    fn new(total: u64) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} rows  {per_sec}  eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            indicatif::ProgressBar::new(total).with_style(style)
        });
        Progress { bar, done: 0, total, next_line: total / 10 }
    }

    fn inc(&mut self, rows: usize) {
        self.done += rows as u64;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.done >= self.next_line => {
                tracing::info!(rows = self.done, of = self.total, "synthetic data");
                self.next_line = self.done + self.total / 10;
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

async fn migrate(url: &str, action: MigrateAction) -> anyhow::Result<()> {
    let conn = db::connect(url, 1).await.with_context(|| format!("connecting to {}", startup::redact(url)))?;
    match action {
        MigrateAction::Up => Migrator::up(&conn, None).await?,
        MigrateAction::Down { steps } => Migrator::down(&conn, steps).await?,
        MigrateAction::Fresh => Migrator::fresh(&conn).await?,
        MigrateAction::Status => {
            for m in Migrator::get_migration_with_status(&conn).await? {
                println!("{:<8} {}", format!("{:?}", m.status()).to_lowercase(), m.name());
            }
            return Ok(());
        }
    }
    tracing::info!("migrations done");
    Ok(())
}

async fn seed_database(url: &str, args: SeedArgs) -> anyhow::Result<()> {
    let conn = db::connect(url, 2).await.with_context(|| format!("connecting to {}", startup::redact(url)))?;
    if args.reset {
        Migrator::fresh(&conn).await.context("re-creating the schema")?;
    } else {
        Migrator::up(&conn, None).await.context("applying migrations")?;
    }
    let started = std::time::Instant::now();
    if args.synthetic {
        let shape =
            seed::synthetic::Shape { donors: args.donors, ..seed::synthetic::Shape::with_partners(args.partners) };
        let mut progress = Progress::new(shape.total_rows() as u64);
        let counts = seed::synthetic::load(&conn, shape, args.seed, |n| progress.inc(n)).await;
        progress.finish();
        let counts = counts.context("loading synthetic data")?;
        seed::after_bulk_load(&conn).await.context("refreshing the planner's statistics")?;
        tracing::info!(%counts, elapsed_ms = started.elapsed().as_millis() as u64, "synthetic data loaded");
    } else if seed::is_empty(&conn).await? {
        let counts = seed::dataset::load(&conn).await.context("loading the real dataset")?;
        tracing::info!(%counts, elapsed_ms = started.elapsed().as_millis() as u64, "real dataset loaded");
    } else {
        anyhow::bail!("the registry already holds data; run `seed --reset` to replace it with the real dataset");
    }
    Ok(())
}
