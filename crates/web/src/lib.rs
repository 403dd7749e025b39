//! The HTTP layer: actix-web routes, request extraction, and the one mapping from protocol errors
//! to HTTP responses. Handlers parse, send a typed message to an actor, and render the outcome.

pub mod context;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;

use actix_web::http::Method;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;
use oauth2_actors::{Actors, Services};
use std::sync::Arc;

pub use error::HttpError;

/// Registers every route. `actors` are this worker's actors; `services` is shared by all workers.
pub fn configure(cfg: &mut web::ServiceConfig, actors: Actors, services: Arc<Services>) {
    let metadata = routes::discovery::Metadata::new(&services);
    cfg.app_data(web::Data::new(actors))
        .app_data(web::Data::from(services))
        .app_data(web::Data::new(metadata))
        .service(
            web::resource("/oauth/token")
                .wrap(no_store())
                .wrap(cors())
                .route(web::post().to(routes::token::token_post))
                .route(web::method(Method::OPTIONS).to(preflight)),
        )
        .service(
            web::resource("/oauth/introspect")
                .wrap(no_store())
                .route(web::post().to(routes::token::introspect_post)),
        )
        .service(
            web::resource("/oauth/revoke")
                .wrap(no_store())
                .wrap(cors())
                .route(web::post().to(routes::token::revoke_post))
                .route(web::method(Method::OPTIONS).to(preflight)),
        )
        .service(
            web::resource("/clients/register")
                .wrap(no_store())
                .route(web::post().to(routes::registration::register_post)),
        )
        .service(
            web::resource("/clients/register/{client_id}")
                .wrap(no_store())
                .route(web::get().to(routes::registration::registration_get))
                .route(web::put().to(routes::registration::registration_put))
                .route(web::delete().to(routes::registration::registration_delete)),
        )
        .service(
            web::resource("/.well-known/oauth-authorization-server")
                .wrap(cors())
                .route(web::get().to(routes::discovery::oauth_metadata_get))
                .route(web::method(Method::OPTIONS).to(preflight)),
        )
        .service(
            web::resource("/.well-known/openid-configuration")
                .wrap(cors())
                .route(web::get().to(routes::discovery::openid_configuration_get))
                .route(web::method(Method::OPTIONS).to(preflight)),
        )
        .service(
            web::resource("/.well-known/jwks.json")
                .wrap(cors())
                .route(web::get().to(routes::discovery::jwks_get))
                .route(web::method(Method::OPTIONS).to(preflight)),
        )
        .service(
            web::resource("/oauth/authorize")
                .route(web::get().to(routes::auth::authorize_get))
                .route(web::post().to(routes::auth::authorize_post)),
        )
        .service(
            web::resource("/auth/login")
                .route(web::get().to(routes::auth::login_get))
                .route(web::post().to(routes::auth::login_post)),
        )
        .route("/auth/logout", web::post().to(routes::auth::logout_post))
        .service(
            web::resource("/oauth/userinfo")
                .wrap(cors())
                .route(web::get().to(routes::auth::userinfo))
                .route(web::post().to(routes::auth::userinfo))
                .route(web::method(Method::OPTIONS).to(preflight)),
        )
        .service(
            web::resource("/oauth/logout")
                .route(web::get().to(routes::auth::logout_endpoint))
                .route(web::post().to(routes::auth::logout_endpoint)),
        )
        .service(
            web::scope("/admin/api")
                .wrap(no_store())
                .configure(routes::admin_api::configure),
        )
        // The dashboard's pages: after the `/admin/api` scope, which keeps its paths.
        .configure(routes::admin_pages::configure)
        .route(
            "/account/applications",
            web::get().to(routes::account::applications_get),
        )
        .route(
            "/account/applications/revoke",
            web::post().to(routes::account::applications_revoke_post),
        )
        .route("/static/style.css", web::get().to(routes::auth::style_get))
        .route("/health", web::get().to(routes::health::health_get))
        .route("/ready", web::get().to(routes::health::ready_get))
        .configure(openapi::configure);
}

/// `GET /metrics`, on the main port or on its own (`OAUTH2_METRICS_ADDR`).
pub fn configure_metrics(cfg: &mut web::ServiceConfig, services: Arc<Services>) {
    cfg.app_data(web::Data::from(services))
        .route("/metrics", web::get().to(metrics::metrics_get));
}

/// CORS for the endpoints browser apps (public clients, RFC 8252/OAuth 2.1 SPAs) call directly.
/// Any origin, never credentials: these endpoints take no cookies, so a cross-origin caller gains
/// nothing it could not do from its own server; the cookie-bearing pages get no CORS at all.
fn cors() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Access-Control-Allow-Origin", "*"))
        .add(("Access-Control-Expose-Headers", "WWW-Authenticate"))
}

/// The answer to a CORS preflight (`OPTIONS`).
async fn preflight() -> actix_web::HttpResponse {
    actix_web::HttpResponse::NoContent()
        .insert_header(("Access-Control-Allow-Methods", "GET, POST"))
        .insert_header((
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type, DPoP",
        ))
        .insert_header(("Access-Control-Max-Age", "600"))
        .finish()
}

/// RFC 6749 §5.1: token responses (and errors) must not be cached.
fn no_store() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Cache-Control", "no-store"))
        .add(("Pragma", "no-cache"))
}

/// Headers every response carries.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
}
