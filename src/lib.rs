//! Partnership Registry: a GraphQL API recording INTERPOL's international
//! partnerships — partners, agreements, projects and fundings — on SQLite
//! or PostgreSQL.
//!
//! Start reading at [`startup::Application`] (how the server comes up),
//! [`http::router`] (the routes) and [`graphql`] (the schema and how it
//! batches its SQL).

pub mod allocator;
pub mod auth;
pub mod budget;
pub mod cli;
pub mod db;
pub mod error;
pub mod events;
pub mod gate;
pub mod graphql;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod options;
pub mod persisted;
pub mod replicas;
pub mod seed;
pub mod startup;
