//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use oauth2_actors::Services;
use serde_json::json;

/// The process is up and serving HTTP.
pub async fn health_get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"status": "ok"}))
}

/// The database answers; 503 otherwise, so a load balancer stops sending traffic here.
pub async fn ready_get(svc: web::Data<Services>) -> HttpResponse {
    match svc.store.ping().await {
        Ok(()) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({"status": "ready", "database": svc.store.backend()})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Cache-Control", "no-store"))
                .json(json!({"status": "unavailable", "database": svc.store.backend()}))
        }
    }
}
