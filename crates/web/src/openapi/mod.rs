//! The OpenAPI 3.1 document of every JSON endpoint, served at `GET /api-docs/openapi.json`, and
//! Swagger UI (vendored in `utoipa-swagger-ui`: nothing is downloaded) at `/swagger-ui/`.
//!
//! What is left out of the document, and why, is [`UNDOCUMENTED`]: the HTML pages and other
//! non-JSON routes. `tests/it/openapi.rs` reads the app's route table and checks that every
//! route is either documented or listed there, and that every documented operation exists.

pub mod paths;
pub mod schemas;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::{Arc, OnceLock};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api-docs/openapi.json";
/// Where Swagger UI is served (the page is at `/swagger-ui/`).
pub const SWAGGER_UI_PATH: &str = "/swagger-ui";

/// Routes that are not JSON endpoints and so are not in the document, with the reason. A
/// pattern ending in `/*` stands for everything under that prefix. `/admin/api/...` is the JSON
/// admin API and is documented; the rest of `/admin` is the dashboard (HTML).
pub const UNDOCUMENTED: &[(&str, &str)] = &[
    (
        "/oauth/authorize",
        "front channel: HTML pages and redirects",
    ),
    ("/oauth/logout", "front channel: RP-initiated logout page"),
    ("/auth/login", "HTML page"),
    ("/auth/logout", "HTML form post"),
    ("/account/*", "HTML pages"),
    ("/admin", "HTML: the dashboard"),
    ("/admin/*", "HTML: the dashboard (but not /admin/api/*)"),
    ("/static/*", "CSS and scripts of the pages"),
    ("/metrics", "Prometheus text format"),
    ("/api-docs/openapi.json", "this document"),
    ("/swagger-ui", "Swagger UI (HTML and its assets)"),
    ("/swagger-ui/*", "Swagger UI (HTML and its assets)"),
];

/// Whether a route pattern (as actix spells it: `/clients/{id}`) is deliberately left out of
/// the document.
pub fn is_undocumented(pattern: &str) -> bool {
    if pattern == "/admin/api" || pattern.starts_with("/admin/api/") {
        return false;
    }
    UNDOCUMENTED
        .iter()
        .any(|(p, _)| match p.strip_suffix("/*") {
            Some(prefix) => pattern
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/')),
            None => pattern == *p,
        })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "oauth2-server",
        description = "OAuth 2.0 / OpenID Connect authorization server: the token, \
            introspection, revocation and userinfo endpoints, discovery, dynamic client \
            registration (RFC 7591/7592), the admin API, and health checks. Errors are \
            `{\"error\", \"error_description\"}` (RFC 6749 §5.2). HTML pages (sign-in, consent, \
            account, dashboard) and the front-channel authorization and logout endpoints are \
            not described here.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        paths::token,
        paths::introspect,
        paths::revoke,
        paths::userinfo_get,
        paths::userinfo_post,
        paths::oauth_authorization_server,
        paths::openid_configuration,
        paths::jwks,
        paths::health,
        paths::ready,
        paths::register,
        paths::registration_read,
        paths::registration_update,
        paths::registration_delete,
        paths::admin_clients_create,
        paths::admin_clients_list,
        paths::admin_client_show,
        paths::admin_client_update,
        paths::admin_client_delete,
        paths::admin_client_rotate_secret,
        paths::admin_client_revoke_tokens,
        paths::admin_users_create,
        paths::admin_users_list,
        paths::admin_user_show,
        paths::admin_user_update,
        paths::admin_user_disable,
        paths::admin_user_reset_password,
        paths::admin_user_revoke_tokens,
        paths::admin_tokens_list,
        paths::admin_token_revoke,
        paths::admin_keys_list,
        paths::admin_keys_rotate,
        paths::admin_registration_tokens_list,
        paths::admin_registration_tokens_create,
        paths::admin_registration_token_delete,
        paths::admin_events_list,
        paths::admin_events_recent,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "OAuth 2.0", description = "RFC 6749, 7009, 7662"),
        (name = "OpenID Connect", description = "OpenID Connect Core 1.0"),
        (name = "Discovery", description = "RFC 8414, OpenID Connect Discovery 1.0, RFC 7517"),
        (name = "Client registration", description = "RFC 7591, RFC 7592"),
        (name = "Admin: clients", description = "Bearer token with the `admin` scope"),
        (name = "Admin: users", description = "Bearer token with the `admin` scope"),
        (name = "Admin: tokens", description = "Bearer token with the `admin` scope"),
        (name = "Admin: keys", description = "Bearer token with the `admin` scope"),
        (name = "Admin: registration tokens", description = "Bearer token with the `admin` scope"),
        (name = "Admin: events", description = "Bearer token with the `admin` scope"),
        (name = "Health", description = "For load balancers and orchestrators"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let http = |scheme: HttpAuthScheme, description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(scheme)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "client_secret_basic",
            http(
                HttpAuthScheme::Basic,
                "Client authentication (RFC 6749 §2.3.1): the form-encoded client id and \
                 secret. `client_secret_post` sends them in the form instead.",
            ),
        );
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token from /oauth/token (RFC 6750). The admin API needs one with \
                 the `admin` scope, issued to an admin user or an admin client.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "initial_access_token",
            http(
                HttpAuthScheme::Bearer,
                "An initial access token (RFC 7591 §3) issued by an admin \
                 (`oauth2-server registration-token create` or the admin API).",
            ),
        );
        components.add_security_scheme(
            "registration_access_token",
            http(
                HttpAuthScheme::Bearer,
                "The `registration_access_token` from the registration response (RFC 7592).",
            ),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as JSON, built once.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| match document().to_json() {
        Ok(json) => json,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be serialized");
            "{}".to_owned()
        }
    })
}

/// Swagger UI loads its own scripts and styles and the document, from here only, and may not be
/// framed. Its bundle inserts one `<style>` element at run time: that one is allowed by its hash
/// (Swagger UI 5.32.6, vendored by `utoipa-swagger-ui-vendored` 0.2.0), so no other inline
/// style can run. A newer Swagger UI may change it: `tests/browser/swagger_ui.test.mjs` fails
/// on any CSP violation, and Chromium's message names the new hash.
pub const SWAGGER_UI_CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'none'";

/// Registers `GET /api-docs/openapi.json` and Swagger UI.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let config = Arc::new(
        utoipa_swagger_ui::Config::from(DOCUMENT_PATH)
            // No "valid" badge: it would send the document to an outside validator.
            .validator_url("none")
            .try_it_out_enabled(true),
    );
    cfg.route(DOCUMENT_PATH, web::get().to(document_get))
        .route(SWAGGER_UI_PATH, web::get().to(swagger_ui_redirect))
        .service(
            web::resource(format!("{SWAGGER_UI_PATH}/{{tail:.*}}"))
                .app_data(web::Data::from(config))
                .route(web::get().to(swagger_ui_get)),
        );
}

async fn document_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(document_json())
}

/// Swagger UI's page loads its assets relative to itself, so it must be served with the slash.
async fn swagger_ui_redirect() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, format!("{SWAGGER_UI_PATH}/")))
        .finish()
}

async fn swagger_ui_get(
    req: HttpRequest,
    config: web::Data<utoipa_swagger_ui::Config<'static>>,
) -> HttpResponse {
    let tail = req.match_info().get("tail").unwrap_or_default();
    match utoipa_swagger_ui::serve(tail, config.into_inner()) {
        Ok(Some(file)) => {
            let mut res = HttpResponse::Ok();
            if file.gzpipped {
                res.insert_header((header::CONTENT_ENCODING, "gzip"));
            }
            res.content_type(file.content_type)
                .insert_header((header::CONTENT_SECURITY_POLICY, SWAGGER_UI_CSP))
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .body(file.bytes.into_owned())
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => {
            tracing::error!(error = %e, "Swagger UI could not be served");
            HttpResponse::InternalServerError().finish()
        }
    }
}
