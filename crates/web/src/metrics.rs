//! Prometheus metrics: the recorder, the HTTP middleware, and `GET /metrics`.
//!
//! The `metrics` facade keeps one recorder per process, which fits: one process is one server.
//! (Tests that start several apps in one process share it; they only ever assert that counters
//! moved.) Labels stay low-cardinality: route templates, methods, status classes, grant types and
//! error codes; never a client id, user or token.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use oauth2_actors::Services;
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets in seconds: sub-millisecond token answers up to slow Argon2 sign-ins.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Installs the recorder on first use; `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests by route template, method and status class"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        "HTTP request latency by route template"
    );
    describe_counter!(
        "oauth2_tokens_issued_total",
        "Tokens issued by grant type and client kind"
    );
    describe_counter!(
        "oauth2_token_errors_total",
        "Token endpoint errors by error code"
    );
    describe_counter!(
        "oauth2_introspections_total",
        "Introspections by result (active, inactive, error)"
    );
    describe_counter!("oauth2_revocations_total", "Revocation requests by result");
    describe_counter!(
        "oauth2_authorization_requests_total",
        "Authorization requests by outcome"
    );
    describe_counter!("oauth2_logins_total", "Sign-in attempts by outcome");
    describe_counter!(
        "oauth2_refresh_token_reuse_total",
        "Rotated-out refresh tokens presented again (family revoked)"
    );
    describe_counter!(
        "oauth2_code_replay_total",
        "Authorization codes presented again (family revoked)"
    );
    describe_gauge!("oauth2_build_info", "Build information (version)");
    describe_gauge!(
        "process_resident_memory_bytes",
        "Resident memory of the server process"
    );
    describe_gauge!(
        "process_cpu_seconds_total",
        "CPU time used by the server process"
    );
    describe_gauge!(
        "process_open_fds",
        "Open file descriptors of the server process"
    );
    describe_gauge!(
        "db_pool_connections",
        "Database pool connections by state (idle, in_use)"
    );
    describe_gauge!("db_pool_max_connections", "Configured database pool size");
    describe_histogram!(
        "db_query_duration_seconds",
        "Time of one store operation (its statements and the wait for a connection), by operation"
    );
    describe_gauge!(
        "oauth2_active_sessions",
        "Browser sessions live now, in the whole database (every instance reports the same figure)"
    );
}

/// How often [`refresh_cluster_gauges`] should run: a database count, so not per scrape.
pub const CLUSTER_GAUGE_PERIOD: std::time::Duration = std::time::Duration::from_secs(15);

/// Figures read from the database, the same on every instance: the live sessions. Run every
/// [`CLUSTER_GAUGE_PERIOD`] rather than per request or per scrape.
pub async fn refresh_cluster_gauges(svc: &Services) {
    let now = oauth2_actors::now();
    match svc
        .store
        .counts(now - svc.settings.session_idle_timeout, now)
        .await
    {
        Ok(counts) => metrics::gauge!("oauth2_active_sessions").set(counts.active_sessions as f64),
        Err(e) => tracing::warn!(error = %e, "could not count the active sessions"),
    }
}

/// Counts and times every request by its route template.
pub async fn http_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let class = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => class)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    Ok(res)
}

/// `GET /metrics` in the Prometheus text format; never cached.
pub async fn metrics_get(svc: web::Data<Services>) -> HttpResponse {
    let Some(handle) = handle() else {
        return HttpResponse::ServiceUnavailable().body("metrics recorder unavailable");
    };
    refresh_process_gauges();
    let pool = svc.store.pool_stats();
    metrics::gauge!("db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(pool.size.saturating_sub(pool.idle) as f64);
    metrics::gauge!("db_pool_max_connections").set(pool.max as f64);
    metrics::gauge!("oauth2_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(handle.render())
}

/// Linux process figures from /proc; absent elsewhere.
fn refresh_process_gauges() {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(kb) = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    {
        metrics::gauge!("process_resident_memory_bytes").set(kb * 1024.0);
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields 14 and 15 (utime, stime) in clock ticks, counted after the ")" of the name.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = after.split_whitespace().collect();
        if let (Some(u), Some(s)) = (fields.get(11), fields.get(12))
            && let (Ok(u), Ok(s)) = (u.parse::<f64>(), s.parse::<f64>())
        {
            // USER_HZ is 100 on every Linux architecture we build for.
            metrics::gauge!("process_cpu_seconds_total").set((u + s) / 100.0);
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        metrics::gauge!("process_open_fds").set(dir.count() as f64);
    }
}
