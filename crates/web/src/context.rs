//! Request context: a request id and a W3C trace context for every request, carried by a tracing
//! span so that every log line written while serving the request names them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use oauth2_core::SecureRandom;
use tracing::Instrument;

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // A failed RNG only makes ids less unique; it must not fail the request.
    let _ = oauth2_core::SystemRandom::new().fill(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
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
    let trace = trace_id(
        req.headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok()),
    );
    // The path only: a query string may carry codes or tokens.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = %trace,
        method = %req.method(),
        path = %req.path(),
    );
    let mut res = next.call(req).instrument(span.clone()).await?;
    span.in_scope(|| tracing::debug!(status = res.status().as_u16(), "request done"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}
