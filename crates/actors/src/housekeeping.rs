//! Housekeeping: deletes what has expired, so the tables stay bounded. Every step is an
//! idempotent `DELETE ... WHERE expired`, so several instances may run it at the same time.
//!
//! Each step deletes in batches of `cleanup_batch_size` rows, one statement per batch, until a
//! batch comes back short: a backlog of millions of rows never holds one long lock (SQLite's
//! single writer, or PostgreSQL row locks and a huge transaction), and the requests in between
//! get their turn.

use crate::settings::Settings;
use oauth2_core::UnixTime;
use oauth2_core::ports::{Storage, StoreError};
use serde::Serialize;
use std::future::Future;

/// How many rows each step deleted.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct CleanupReport {
    pub authorization_codes: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub sessions: u64,
    pub login_failures: u64,
    pub signing_keys: u64,
    /// Audit events past retention.
    pub events: u64,
    /// Given-up webhook deliveries past retention.
    pub failed_webhooks: u64,
}

pub async fn cleanup(
    store: &dyn Storage,
    settings: &Settings,
    now: UnixTime,
) -> Result<CleanupReport, StoreError> {
    let limit = settings.cleanup_batch_size.max(1);
    let report = CleanupReport {
        authorization_codes: in_batches(limit, || store.purge_expired_codes(now, limit)).await?,
        access_tokens: in_batches(limit, || store.purge_expired_access_tokens(now, limit)).await?,
        refresh_tokens: in_batches(limit, || store.purge_expired_refresh_tokens(now, limit))
            .await?,
        sessions: in_batches(limit, || {
            store.purge_sessions(now - settings.session_idle_timeout, now, limit)
        })
        .await?,
        login_failures: in_batches(limit, || {
            store.purge_login_failures(now - settings.login_failure_window, limit)
        })
        .await?,
        signing_keys: in_batches(limit, || store.purge_retired_keys(now, limit)).await?,
        events: 0,
        failed_webhooks: 0,
    };
    let retention = settings.events.retention_secs;
    let report = if retention > 0 {
        let before = now - retention;
        CleanupReport {
            events: in_batches(limit, || store.purge_events(before, limit)).await?,
            failed_webhooks: in_batches(limit, || store.purge_failed_webhooks(before, limit))
                .await?,
            ..report
        }
    } else {
        report
    };
    tracing::info!(?report, "housekeeping done");
    Ok(report)
}

/// Runs `batch` until it deletes fewer than `limit` rows; returns the total.
async fn in_batches<F, Fut>(limit: u32, mut batch: F) -> Result<u64, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let deleted = batch().await?;
        total += deleted;
        if deleted < u64::from(limit) {
            return Ok(total);
        }
    }
}
