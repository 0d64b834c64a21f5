//! Integration tests: the real server over real HTTP, each test on a fresh
//! SQLite database and again on a fresh PostgreSQL database.

mod adversarial;
mod auth;
mod binary;
mod browser;
mod budgets;
mod crash;
mod dataset;
mod events;
mod fields;
mod filters;
mod helpers;
mod history;
mod http;
mod migrations;
mod mutations;
mod nodes;
mod ordering;
mod orderings;
mod outage;
mod over_http;
mod pagination;
mod process;
mod production;
mod provenance;
mod relations;
mod rendering;
mod replicas;
mod rows;
mod schema;
mod search;
mod statements;
mod subscriptions;
mod totals;
mod write_rules;
mod ws_client;
