//! Test support, for this crate's tests and other crates' (so not `cfg(test)`): a fresh,
//! isolated PostgreSQL schema per test, in the one test database.

use crate::{PgStore, StoreError, redact_url};
use oauth2_core::{SecureRandom, SystemRandom};
use sqlx::{AssertSqlSafe, Row};
use std::time::{SystemTime, UNIX_EPOCH};

/// Schemas made by [`fresh_postgres_url`] older than this are dropped by later calls: tests do not
/// clean up after themselves (there is no async drop), so the test database would grow forever.
const STALE_AFTER_SECS: u64 = 24 * 60 * 60;

/// The PostgreSQL database the tests use: `OAUTH2_TEST_POSTGRES_URL`, else
/// `postgres://postgres@127.0.0.1:5432/test`; `None` if `OAUTH2_TEST_POSTGRES` is `0` or `off`.
pub fn postgres_test_url() -> Option<String> {
    let disabled = std::env::var("OAUTH2_TEST_POSTGRES")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "off"));
    if disabled {
        return None;
    }
    Some(
        std::env::var("OAUTH2_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
    )
}

/// Creates a new schema `t_<time>_<random hex>` in the database at `base_url` and returns a URL
/// whose connections use it as their `search_path` (through the `options` connection parameter),
/// so each test gets empty tables without creating a database.
pub async fn fresh_postgres_url(base_url: &str) -> Result<String, StoreError> {
    let store = PgStore::connect(base_url, 1).await?;
    let pool = store.pool();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    drop_stale_schemas(pool, now).await;

    let mut random = [0u8; 8];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| StoreError::Backend("the system random source failed".to_owned()))?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    // Only hex digits and a number: safe to splice into the statement.
    let schema = format!("t_{now:x}_{hex}");
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(pool)
        .await
        .map_err(|e| StoreError::Backend(format!("cannot create schema {schema}: {e}")))?;
    store.close().await;

    let separator = if base_url.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{base_url}{separator}options=-c%20search_path%3D{schema}"
    ))
}

/// Best effort: a failure (say, another test dropping the same schema) is no reason to fail.
async fn drop_stale_schemas(pool: &sqlx::PgPool, now: u64) {
    let Ok(rows) = sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        .fetch_all(pool)
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String, _>("nspname") else {
            continue;
        };
        let mut parts = name.splitn(3, '_');
        let (Some("t"), Some(time), Some(hex)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let ours = hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let Ok(created) = u64::from_str_radix(time, 16) else {
            continue;
        };
        if ours && created.saturating_add(STALE_AFTER_SECS) < now {
            let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(pool)
            .await;
        }
    }
}

/// A fresh schema URL (see [`fresh_postgres_url`]) if the test PostgreSQL is reachable.
///
/// If it is not: in CI (the `CI` variable set, and not `false` or `0`) this panics, so a missing
/// database fails the build instead of silently skipping half the tests; elsewhere it prints a
/// "skipping PostgreSQL" line to stderr and returns `None`.
// Panicking is the point: it is how a test fails.
#[allow(clippy::panic)]
pub async fn postgres_for_tests() -> Option<String> {
    let Some(base_url) = postgres_test_url() else {
        eprintln!("skipping PostgreSQL: disabled by OAUTH2_TEST_POSTGRES");
        return None;
    };
    match fresh_postgres_url(&base_url).await {
        Ok(url) => Some(url),
        Err(e) if in_ci() => panic!(
            "PostgreSQL is required in CI but {} is unreachable: {e} \
             (set OAUTH2_TEST_POSTGRES_URL, or OAUTH2_TEST_POSTGRES=off to skip)",
            redact_url(&base_url)
        ),
        Err(e) => {
            eprintln!(
                "skipping PostgreSQL: {} unreachable: {e} \
                 (set OAUTH2_TEST_POSTGRES_URL, or OAUTH2_TEST_POSTGRES=off to silence this)",
                redact_url(&base_url)
            );
            None
        }
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !v.is_empty() && v != "false" && v != "0"
    })
}
