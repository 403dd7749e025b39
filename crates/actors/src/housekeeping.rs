//! Housekeeping: deletes what has expired, so the tables stay bounded. Every step is an
//! idempotent `DELETE ... WHERE expired`, so several instances may run it at the same time.

use crate::settings::Settings;
use oauth2_core::UnixTime;
use oauth2_core::ports::{Storage, StoreError};
use serde::Serialize;

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
    let report = CleanupReport {
        authorization_codes: store.purge_expired_codes(now).await?,
        access_tokens: store.purge_expired_access_tokens(now).await?,
        refresh_tokens: store.purge_expired_refresh_tokens(now).await?,
        sessions: store
            .purge_sessions(now - settings.session_idle_timeout, now)
            .await?,
        login_failures: store
            .purge_login_failures(now - settings.login_failure_window)
            .await?,
        signing_keys: store.purge_retired_keys(now).await?,
        events: 0,
        failed_webhooks: 0,
    };
    let retention = settings.events.retention_secs;
    let report = if retention > 0 {
        CleanupReport {
            events: store.purge_events(now - retention).await?,
            failed_webhooks: store.purge_failed_webhooks(now - retention).await?,
            ..report
        }
    } else {
        report
    };
    tracing::info!(?report, "housekeeping done");
    Ok(report)
}
