//! Storage backends: one implementation of the core's ports ([`oauth2_core::ports`]) per database,
//! SQLite ([`SqliteStore`]) and PostgreSQL ([`PgStore`]), each with its own migrations folder.
//!
//! The schema (`migrations/<backend>/NNNN_*.sql`, embedded and applied by [`Storage::migrate`]):
//! timestamps are Unix seconds in BIGINT (INTEGER on SQLite); lists (a client's redirect URIs and
//! grant types) are JSON arrays of strings in TEXT; scopes are space-separated, as on the wire;
//! private keys are PKCS#8 DER in BLOB / BYTEA; codes, refresh tokens, client secrets and session
//! ids arrive hashed and are stored as such. Server secrets (`server_secrets`, e.g. the cookie
//! key) are the exception: the server needs their value, so they are stored as given.
//!
//! Queries are built at run time with `sqlx::query(..).bind(..)`, not with the `query!` macros:
//! the macros (and sqlx's `migrate` feature) need heavy proc-macro builds and a database or
//! offline data at compile time. We keep the build lean instead, and the conformance suite
//! (`tests/it/conformance.rs`) runs every query on both backends.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Times the rest of the enclosing block into `db_query_duration_seconds{operation}`:
/// `timed!("get_client");` as the first statement of a store method. The label is a literal,
/// so the metric key is static (no allocation per call); with no recorder installed (tests,
/// tools) the record is a no-op. The time includes waiting for a pooled connection, and every
/// statement of the operation: what the caller waits for.
macro_rules! timed {
    ($operation:literal) => {
        let _timer = $crate::QueryTimer {
            start: std::time::Instant::now(),
            record: |seconds| {
                metrics::histogram!("db_query_duration_seconds", "operation" => $operation)
                    .record(seconds)
            },
        };
    };
}

/// Records the time since `start` when dropped, on success, error or cancellation alike.
struct QueryTimer {
    start: std::time::Instant,
    record: fn(f64),
}

impl Drop for QueryTimer {
    fn drop(&mut self) {
        (self.record)(self.start.elapsed().as_secs_f64());
    }
}

mod migrate;
pub mod postgres;
mod rows;
pub mod sqlite;
pub mod testing;

pub use oauth2_core::ports::StoreError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use oauth2_core::ports::Storage;
use std::sync::Arc;

/// Connects to the database named by `url`, without migrating it (call
/// [`Storage::migrate`] next).
///
/// `sqlite:PATH`, `sqlite://PATH` and `sqlite::memory:` open SQLite (the file is created if
/// missing); `postgres://` and `postgresql://` open PostgreSQL. Errors never contain the
/// password of the URL.
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Storage>, StoreError> {
    if max_connections == 0 {
        return Err(StoreError::Backend(
            "max_connections must be at least 1".to_owned(),
        ));
    }
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, max_connections).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, max_connections).await?))
    } else {
        // Only the scheme is echoed: whatever follows it may hold a password.
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        Err(StoreError::Backend(match scheme {
            Some(scheme) => format!(
                "unsupported database URL scheme '{scheme}': expected sqlite:PATH, \
                 sqlite::memory:, postgres:// or postgresql://"
            ),
            None => "unsupported database URL: expected sqlite:PATH, sqlite::memory:, \
                     postgres:// or postgresql://"
                .to_owned(),
        }))
    }
}

/// The URL with its password (in the user information or a `password=` query parameter)
/// replaced by `***`, fit for logs and error messages.
///
/// It errs on the side of hiding too much: with an `@` anywhere after the scheme, everything
/// from the first `:` of the user information to the last `@` is hidden, so that a password
/// holding an unescaped `/` or `@` still does not leak.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // `sqlite:PATH` and the like: no user information to hide.
        return redact_query_password(url);
    };
    let rest = match rest.rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}:***{}", &rest[..colon], &rest[at..]),
            None => rest.to_owned(),
        },
        None => rest.to_owned(),
    };
    format!("{scheme}://{}", redact_query_password(&rest))
}

fn redact_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}
