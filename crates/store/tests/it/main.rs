#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The store's integration tests, in one binary: the conformance suite, written once against
//! `Arc<dyn Storage>` and run on every backend, plus what is particular to each backend.

mod conformance;
mod fixtures;
mod open;
mod postgres;
mod sqlite;
