//! Integration tests: the real server over real HTTP, each test on a fresh
//! SQLite database and again on a fresh PostgreSQL database.

mod dataset;
mod filters;
mod helpers;
mod http;
mod migrations;
mod nodes;
mod ordering;
mod pagination;
mod relations;
mod schema;
mod search;
mod statements;
mod totals;
