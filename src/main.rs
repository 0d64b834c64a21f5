//! The `partnership-registry` binary: parse the command line, set up
//! logging, dispatch.

use anyhow::Context;
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use partnership_registry::cli::{Cli, Command, MigrateAction, SeedArgs, ServeArgs};
use partnership_registry::startup::{self, Application, Settings};
use partnership_registry::{db, graphql, seed};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    match cli.command.unwrap_or(Command::Serve(ServeArgs::from_env())) {
        Command::Serve(args) => serve(cli.database_url, args).await,
        Command::Migrate { action } => migrate(&cli.database_url, action).await,
        Command::Seed(args) => seed_database(&cli.database_url, args).await,
        Command::ExportSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
    }
}

async fn serve(database_url: String, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings { database_url, listen_addr: args.listen_addr, max_connections: args.max_connections };
    let started = std::time::Instant::now();
    let app = Application::build(&settings).await?;
    let addr = app.local_addr()?;
    tracing::info!(
        database = %startup::redact(&settings.database_url),
        startup_ms = started.elapsed().as_millis() as u64,
        "listening on http://{addr} (GraphiQL at http://{addr}/graphiql)"
    );
    app.run_until(startup::shutdown_signal()).await.context("serving HTTP")?;
    Ok(())
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
        let shape = seed::synthetic::Shape::with_partners(args.partners);
        let total = shape.total_rows();
        let mut done = 0usize;
        let counts = seed::synthetic::load(&conn, shape, args.seed, |n| {
            done += n;
            tracing::info!(rows = done, of = total, "synthetic data");
        })
        .await
        .context("loading synthetic data")?;
        tracing::info!(%counts, elapsed_ms = started.elapsed().as_millis() as u64, "synthetic data loaded");
    } else if seed::is_empty(&conn).await? {
        let counts = seed::dataset::load(&conn).await.context("loading the real dataset")?;
        tracing::info!(%counts, elapsed_ms = started.elapsed().as_millis() as u64, "real dataset loaded");
    } else {
        anyhow::bail!("the registry already holds data; run `seed --reset` to replace it with the real dataset");
    }
    Ok(())
}
