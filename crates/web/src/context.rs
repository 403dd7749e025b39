//! Request context: a request id and a W3C trace context for every request, carried by a tracing
//! span so that every log line written while serving the request names them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use oauth2_core::SecureRandom;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Instrument;

/// Whether spans are exported to OpenTelemetry: set once at start-up, by the server's telemetry
/// set-up, after it installed the OpenTelemetry layer and the W3C propagator.
static TRACE_EXPORT: AtomicBool = AtomicBool::new(false);

/// Makes every request span a child of the caller's `traceparent` (through the global
/// OpenTelemetry propagator) and logs the OpenTelemetry trace id, so logs and traces join.
pub fn enable_trace_export() {
    TRACE_EXPORT.store(true, Ordering::Relaxed);
}

/// The request's headers as an OpenTelemetry carrier.
struct HeaderCarrier<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The request span when spans are exported: its parent is the incoming W3C trace context (if
/// any), and its `trace_id` field the OpenTelemetry trace id it was given.
fn exported_request_span(req: &ServiceRequest, id: &str) -> tracing::Span {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = tracing::field::Empty,
        method = %req.method(),
        path = %req.path(),
        otel.kind = "server",
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderCarrier(req.headers()))
    });
    let _ = span.set_parent(parent);
    let otel_trace = span.context().span().span_context().trace_id();
    let trace = if otel_trace == opentelemetry::trace::TraceId::INVALID {
        // The span is not exported (filtered out): keep the ids of the logs consistent anyway.
        trace_id(
            req.headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok()),
        )
    } else {
        otel_trace.to_string()
    };
    span.record("trace_id", trace.as_str());
    span
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // A failed RNG only makes ids less unique; it must not fail the request.
    let _ = oauth2_core::SystemRandom::new().fill(&mut buf);
    oauth2_core::secret::to_hex(&buf)
}

/// `X-Request-Id` from the caller (a proxy's) if it is short and plain, or a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| random_hex(8))
}

/// The trace id of a valid `traceparent` header (W3C Trace Context §3.2), or a new one.
pub fn trace_id(traceparent: Option<&str>) -> String {
    let from_header = traceparent.and_then(|tp| {
        let parts: Vec<&str> = tp.trim().split('-').collect();
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        (parts.len() >= 4
            && hex(parts[0], 2)
            && parts[0] != "ff"
            && hex(parts[1], 32)
            && parts[1] != "00000000000000000000000000000000"
            && hex(parts[2], 16))
        .then(|| parts[1].to_ascii_lowercase())
    });
    from_header.unwrap_or_else(|| random_hex(16))
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    // The path only: a query string may carry codes or tokens.
    let span = if TRACE_EXPORT.load(Ordering::Relaxed) {
        exported_request_span(&req, &id)
    } else {
        let trace = trace_id(
            req.headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok()),
        );
        tracing::info_span!(
            "request",
            request_id = %id,
            trace_id = %trace,
            method = %req.method(),
            path = %req.path(),
        )
    };
    // What the events this request causes name as their request and address.
    let address = req
        .app_data::<actix_web::web::Data<oauth2_actors::Services>>()
        .and_then(|svc| {
            crate::extract::client_address(req.request(), &svc.settings.trusted_proxies)
        });
    let info = std::sync::Arc::new(oauth2_actors::events::RequestInfo {
        request_id: Some(id.clone()),
        address,
    });
    let mut res = oauth2_actors::events::REQUEST
        .scope(info, next.call(req).instrument(span.clone()))
        .await?;
    span.in_scope(|| tracing::debug!(status = res.status().as_u16(), "request done"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}
