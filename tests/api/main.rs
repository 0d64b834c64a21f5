//! Integration tests: the real server over real HTTP, each test on a fresh
//! SQLite database and again on a fresh PostgreSQL database.

mod dataset;
mod helpers;
mod http;
mod migrations;
mod nodes;
mod pagination;
mod relations;
mod schema;
mod statements;
