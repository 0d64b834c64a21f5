//! Building and running the server: connect, migrate, seed an empty
//! database, bind, serve until stopped.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use migration::MigratorTrait;
use sea_orm::DatabaseConnection;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::budget::Budgets;
use crate::db;
use crate::events::EventBus;
use crate::gate::Gate;
use crate::graphql::{Executor, Registry};
use crate::http::{AppState, Health, metrics_router, router};
use crate::metrics::Metrics;
use crate::options::ServerOptions;
use crate::persisted::Persisted;
use crate::replicas::Replicas;
use crate::seed;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub listen_addr: String,
    pub max_connections: u32,
    pub options: ServerOptions,
}

/// Connects, applies pending migrations and, when the registry is empty,
/// loads the real dataset.
pub async fn prepare_database(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let conn = db::connect(url, max_connections).await.with_context(|| format!("connecting to {}", redact(url)))?;
    migration::Migrator::up(&conn, None).await.context("applying migrations")?;
    if seed::is_empty(&conn).await.context("checking whether the registry is empty")? {
        let started = std::time::Instant::now();
        let counts = seed::dataset::load(&conn).await.context("loading the real dataset")?;
        tracing::info!(%counts, elapsed_ms = started.elapsed().as_millis() as u64, "empty registry seeded with the real dataset");
    }
    Ok(conn)
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    /// The operators' listener: `/metrics`, off the public address.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    shutdown: watch::Sender<bool>,
    /// Background work that lives as long as the server: the change
    /// listener (PostgreSQL) and the database monitor.
    tasks: Vec<JoinHandle<()>>,
    grace: Duration,
}

impl Application {
    /// Prepares the database and binds the listen address (port 0 picks a free one).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let conn = prepare_database(&settings.database_url, settings.max_connections).await?;
        Self::with_connection(conn, &settings.listen_addr, &settings.options).await
    }

    /// Binds over an already prepared connection.
    pub async fn with_connection(
        db: DatabaseConnection,
        listen_addr: &str,
        options: &ServerOptions,
    ) -> anyhow::Result<Self> {
        let persisted = match &options.trusted_documents {
            Some(file) => Persisted::trusted_from_file(options.persisted_cache, file)?,
            None => Persisted::new(options.persisted_cache),
        };
        if let Some(n) = persisted.trusted_len() {
            tracing::info!(documents = n, "running trusted documents only");
        }
        let metrics = Arc::new(Metrics::new().context("setting up metrics")?);
        let events = EventBus::new(db.get_database_backend());
        let mut tasks: Vec<JoinHandle<()>> =
            events.start(&db, options.event_poll).await.context("listening for changes")?;
        let health = Arc::new(Health::new());
        tasks.push(health.monitor(db.clone(), metrics.clone(), options.health_interval));
        let replicas = if options.database_replica_urls.is_empty() {
            None
        } else {
            let pool = u32::try_from(options.max_concurrent_queries).unwrap_or(u32::MAX).max(1);
            let replicas = Replicas::connect(
                db.clone(),
                &options.database_replica_urls,
                pool,
                options.replica_wait,
                Some(metrics.clone()),
            )
            .await?;
            tracing::info!(replicas = options.database_replica_urls.len(), "reading from replicas");
            let replicas = Arc::new(replicas);
            tasks.push(replicas.clone().monitor(options.health_interval));
            Some(replicas)
        };
        let listener = TcpListener::bind(listen_addr).await.with_context(|| format!("binding {listen_addr}"))?;
        let metrics_listener = match &options.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics address {addr} (--metrics-addr; `off` for none)"))?,
            ),
            None => None,
        };
        let (shutdown, stopping) = watch::channel(false);
        let budgets = Arc::new(Budgets::new(options.budget_per_token, options.budget_per_address));
        tasks.push(tokio::spawn({
            let budgets = budgets.clone();
            async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    budgets.forget_idle();
                }
            }
        }));
        let state = AppState {
            executor: Executor::new(
                Registry { db, replicas: replicas.clone(), events, metrics: Some(metrics.clone()) },
                options.executor.clone(),
            ),
            executions: Arc::new(Semaphore::new(options.max_concurrent_queries.max(1))),
            options: Arc::new(options.clone()),
            gate: Arc::new(
                Gate::new(options.limits.clone(), persisted).context("measuring the schema for the cost limit")?,
            ),
            metrics,
            health,
            budgets: budgets.clone(),
            shutdown: stopping,
        };
        Ok(Application { listener, metrics_listener, state, shutdown, tasks, grace: options.shutdown_grace })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address `/metrics` is served on, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves; then stops accepting connections,
    /// closes the WebSockets (1001) and lets the requests in flight finish,
    /// for at most the grace period.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stopping = self.shutdown;
        let (signalled, mut signal) = watch::channel(false);
        // The operators' listener lives as long as the server and stops with it.
        let metrics = self.metrics_listener.map(|listener| {
            let router = metrics_router(self.state.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            })
        });
        // Each request knows its peer: the address budgets count by.
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        // An answer's last piece goes out at once, not held back by Nagle's
        // algorithm until the client acknowledges the ones before it (which
        // a client may delay by up to 40 ms).
        let listener = self.listener.tap_io(|stream| {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY could not be set on a connection");
            }
        });
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping.send(true);
            let _ = signalled.send(true);
        });
        let grace = self.grace;
        let served = tokio::select! {
            served = serve.into_future() => served,
            () = async {
                let _ = signal.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still in flight after the grace period; stopping anyway");
                Ok(())
            }
        };
        for task in self.tasks.into_iter().chain(metrics) {
            task.abort();
        }
        served
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A database URL fit for logs: the password replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
