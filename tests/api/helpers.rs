//! The test harness: a real server on a fresh database per test, reached
//! over real HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use partnership_registry::auth::{self, Role};
use partnership_registry::graphql::ExecutorOptions;
use partnership_registry::options::ServerOptions;
use partnership_registry::startup::{Application, prepare_database};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_base_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A running server on its own database.
pub struct TestApp {
    pub address: SocketAddr,
    /// The operators' listener (`/metrics`), when the options give one.
    pub metrics_address: Option<SocketAddr>,
    pub client: reqwest::Client,
    /// A connection of the test's own to the same database, for arranging and re-reading.
    pub db: DatabaseConnection,
    /// Every statement the server's pool ran since the app started (sea-orm's metric callback).
    pub pool_statements: Arc<AtomicU64>,
    pub backend: Backend,
    /// The database's URL, for a second server on the same database.
    pub database_url: String,
    /// Owned by the first server on a database; replicas leave it alone.
    _database: Option<TestDatabase>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The options tests serve with: the defaults, the fast path as
/// `FAST_PATH` says (CI runs the SQLite half of the suite once with it off).
pub fn options() -> ServerOptions {
    let fast_path = match std::env::var("FAST_PATH").as_deref() {
        Ok("false") => false,
        Ok("true") | Err(_) => true,
        Ok(other) => panic!("FAST_PATH must be true or false, not {other}"),
    };
    ServerOptions { executor: ExecutorOptions { fast_path, ..ExecutorOptions::default() }, ..ServerOptions::default() }
}

/// Creates a fresh database, migrated and seeded with the real dataset, and
/// serves it on a free port.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, options()).await
}

/// [`spawn_app`] with server options of the test's own.
pub async fn spawn_app_with(backend: Backend, options: ServerOptions) -> TestApp {
    // Server logs show up beside a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let database = TestDatabase::create(backend).await;
    let url = database.url.clone();
    serve(backend, &url, Some(database), options).await
}

/// A server on a database of the test's own making, reached through `server_url`
/// (which may differ from the database's own URL, e.g. through a proxy).
pub async fn spawn_app_at(backend: Backend, server_url: &str, options: ServerOptions) -> TestApp {
    serve(backend, server_url, None, options).await
}

async fn serve(backend: Backend, url: &str, database: Option<TestDatabase>, options: ServerOptions) -> TestApp {
    let mut conn = prepare_database(url, 10).await.expect("the database is prepared");
    let pool_statements = Arc::new(AtomicU64::new(0));
    let counter = pool_statements.clone();
    // Set before the connection is cloned into the server, so every clone counts.
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let app = Application::with_connection(conn, "127.0.0.1:0", &options).await.expect("the server binds");
    let address = app.local_addr().expect("the server has an address");
    let metrics_address = app.metrics_addr();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let db = Database::connect(url).await.expect("the test connects");
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        db,
        pool_statements,
        backend,
        database_url: url.to_owned(),
        _database: database,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// `/metrics` on the operators' listener.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_address.expect("the server serves metrics"))
    }

    /// Starts the server's shutdown and waits until it has stopped serving.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.server.take() {
            Some(server) => server.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }

    /// A second server process-alike on the same database (another replica).
    pub async fn replica(&self) -> TestApp {
        serve(self.backend, &self.database_url, None, options()).await
    }

    /// A second server on the same database, with options of the test's own.
    pub async fn replica_with(&self, options: ServerOptions) -> TestApp {
        serve(self.backend, &self.database_url, None, options).await
    }

    /// A fresh API token with this role, as `token create` makes one.
    pub async fn token(&self, role: Role) -> String {
        let name = format!("{role:?}-{}", NEXT.fetch_add(1, Ordering::Relaxed)).to_lowercase();
        auth::create(&self.db, &name, role).await.expect("the token is created").1
    }

    /// POSTs a GraphQL request with a bearer token.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.graphql_with(query, variables, &[("authorization", &format!("Bearer {token}"))]).await
    }

    /// Runs a request with a token that must succeed and returns its `data`.
    pub async fn data_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// POSTs a GraphQL request and returns the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_with(query, variables, &[]).await
    }

    /// POSTs a GraphQL request with extra headers.
    pub async fn graphql_with(&self, query: &str, variables: Value, headers: &[(&str, &str)]) -> Value {
        let mut request =
            self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        response.json().await.expect("the body is JSON")
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The global id of the partner with this slug.
    pub async fn partner_id(&self, slug: &str) -> String {
        let data = self.data("query($slug: String!) { partner(slug: $slug) { id } }", json!({ "slug": slug })).await;
        data["partner"]["id"].as_str().unwrap_or_else(|| panic!("no partner {slug}")).to_owned()
    }
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body:#}"))
}

/// How many statements the request reported in `extensions.sqlStatements`.
pub fn statements(body: &Value) -> u64 {
    body["extensions"]["sqlStatements"].as_u64().unwrap_or_else(|| panic!("no statement count in {body:#}"))
}

/// A database made for one test and dropped after it.
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    name: String,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("pr_test_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos % 1_000_000_000)
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                TestDatabase { url: format!("sqlite://{}", path.display()), backend, name: path.display().to_string() }
            }
            Backend::Postgres => {
                let base = postgres_base_url();
                let admin = Database::connect(&base)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {base} (set TEST_POSTGRES_URL): {e}"));
                admin
                    .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
                    .await
                    .expect("the test database is created");
                let url = match base.rfind('/') {
                    Some(i) => format!("{}/{name}", &base[..i]),
                    None => panic!("TEST_POSTGRES_URL must end with /DATABASE"),
                };
                TestDatabase { url, backend, name }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
                }
            }
            Backend::Postgres => {
                // The test's runtime is shutting down; a runtime of our own drops the database.
                let name = self.name.clone();
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(async {
                            if let Ok(admin) = Database::connect(&postgres_base_url()).await {
                                let _ = admin
                                    .execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                                    .await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

/// Declares each test twice: once on SQLite, once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                    $body
                }
            )*
        }
    };
}
