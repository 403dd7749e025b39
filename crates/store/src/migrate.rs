//! The migration list shared by both runners: each backend embeds its own SQL files and applies
//! them under its own lock (see `SqliteStore::migrate` and `PgStore::migrate`).
//!
//! We do not use sqlx's `migrate` feature: it pulls the macros crate into the build. The runners
//! are a few lines each: a `schema_migrations` table, and each pending migration applied and
//! recorded in its own transaction.

/// One schema change, applied once, in order of `version`.
pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Warns when the database holds a migration newer than any this build knows about: it was
/// migrated by a newer release, and the queries here may no longer fit its schema.
pub(crate) fn warn_if_newer(migrations: &[Migration], newest_applied: Option<i64>) {
    let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(applied) = newest_applied.filter(|&v| v > known) {
        tracing::warn!(
            applied,
            known,
            "the database schema is newer than this build knows about"
        );
    }
}
