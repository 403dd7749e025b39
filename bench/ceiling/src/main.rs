//! The ceiling of the benchmark: a minimal actix-web server that does only the work a token
//! endpoint and an introspection endpoint cannot avoid, with the same code the server uses for it
//! (`oauth2_core`: form parsing, Basic credentials, SHA-256 secret check in constant time, scope
//! check, JWS signing and verification over aws-lc-rs). No database, no actors, no cache, one
//! client and one key in memory. bench/run.sh reports the server's figures as a ratio to these.
//!
//! - `POST /token`: client_credentials; answers the server's token response JSON.
//! - `POST /introspect`: verifies one of its own JWT access tokens; answers RFC 7662 JSON.
//! - `GET /plain`: a tiny JSON answer (the framework's own ceiling).
//!
//! Environment: `BENCH_PORT` (required), `BENCH_ALG` (RS256, ES256, EdDSA or HS256; default
//! ES256), `BENCH_HS256_SECRET` (HS256), `BENCH_CLIENT_ID`, `BENCH_CLIENT_SECRET`,
//! `BENCH_WORKERS` (default: actix's, one per CPU).

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use oauth2_core::SystemRandom;
use oauth2_core::client_auth::{Credentials, extract};
use oauth2_core::form::Form;
use oauth2_core::jose::{Algorithm, SigningKey, VerifyingKey, looks_like_jwt, peek_header};
use oauth2_core::scope::Scope;
use oauth2_core::secret::{hash_secret, random_token, verify_secret};
use oauth2_core::token::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, AccessTokenGrant, Introspection, TokenResponse, is_live,
};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

struct State {
    issuer: String,
    client_id: String,
    secret_hash: String,
    scope: Scope,
    key: SigningKey,
    verifier: VerifyingKey,
    rng: SystemRandom,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn json(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .body(body)
}

fn error(status: u16, code: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    json(status, format!(r#"{{"error":"{code}"}}"#))
}

/// The form and the authenticated client check: the part both endpoints share.
/// Errors are (status, error code), turned into a response by [`error`].
fn authenticate(req: &HttpRequest, body: &[u8], st: &State) -> Result<Form, (u16, &'static str)> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err((400, "invalid_request"));
    }
    let form = Form::parse(body).map_err(|_| (400, "invalid_request"))?;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    let creds = extract(authorization, &form).map_err(|_| (401, "invalid_client"))?;
    let ok = match &creds {
        Credentials::Basic { client_id, secret } | Credentials::Post { client_id, secret } => {
            *client_id == st.client_id && verify_secret(secret, &st.secret_hash)
        }
        Credentials::PublicId { .. } => false,
    };
    if !ok {
        return Err((401, "invalid_client"));
    }
    Ok(form)
}

async fn token(req: HttpRequest, body: web::Bytes, st: web::Data<State>) -> HttpResponse {
    let form = match authenticate(&req, &body, &st) {
        Ok(f) => f,
        Err((status, code)) => return error(status, code),
    };
    if form.get("grant_type") != Some("client_credentials") {
        return error(400, "unsupported_grant_type");
    }
    // What grant_scope does for a non-admin client: the registered scope, or a subset of it.
    let scope = match form.get("scope").map(Scope::parse) {
        None => st.scope.clone(),
        Some(Ok(s)) if s.is_subset_of(&st.scope) => s,
        Some(_) => return error(400, "invalid_scope"),
    };
    let Ok(jti) = random_token(&st.rng, 16) else {
        return error(500, "server_error");
    };
    let grant = AccessTokenGrant {
        issuer: &st.issuer,
        audience: &st.issuer,
        subject: &st.client_id,
        client_id: &st.client_id,
        scope: &scope,
        jti,
        now: now(),
        lifetime: 3600,
    };
    let Ok(access_token) = st.key.sign_jwt(ACCESS_TOKEN_TYP, &grant.claims()) else {
        return error(500, "server_error");
    };
    let response = TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: 3600,
        scope: scope.to_string(),
        refresh_token: None,
        id_token: None,
    };
    match serde_json::to_string(&response) {
        Ok(body) => json(actix_web::http::StatusCode::OK, body),
        Err(_) => error(500, "server_error"),
    }
}

async fn introspect(req: HttpRequest, body: web::Bytes, st: web::Data<State>) -> HttpResponse {
    let form = match authenticate(&req, &body, &st) {
        Ok(f) => f,
        Err((status, code)) => return error(status, code),
    };
    let Some(token) = form.get("token") else {
        return error(400, "invalid_request");
    };
    let verified = looks_like_jwt(token)
        .then(|| peek_header(token).ok())
        .flatten()
        .filter(|h| h.kid.as_deref() == Some(st.verifier.kid()))
        .and_then(|_| st.verifier.verify::<AccessTokenClaims>(token).ok())
        .filter(|(h, c)| {
            h.typ.as_deref() == Some(ACCESS_TOKEN_TYP) && is_live(c, &st.issuer, now())
        });
    let answer = match verified {
        Some((_, claims)) => Introspection::from_access_token(claims),
        None => Introspection::inactive(),
    };
    match serde_json::to_string(&answer) {
        Ok(body) => json(actix_web::http::StatusCode::OK, body),
        Err(_) => error(500, "server_error"),
    }
}

async fn plain() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"ok":true}"#)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn invalid(m: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, m.into())
}

fn main() -> io::Result<()> {
    let port: u16 = env("BENCH_PORT")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| invalid("BENCH_PORT must be a port number"))?;
    let alg: Algorithm = env("BENCH_ALG")
        .unwrap_or_else(|| "ES256".to_owned())
        .parse()
        .map_err(|_| invalid("BENCH_ALG must be RS256, ES256, EdDSA or HS256"))?;
    let key = if alg == Algorithm::HS256 {
        let secret = env("BENCH_HS256_SECRET")
            .filter(|s| s.len() >= 32)
            .ok_or_else(|| invalid("HS256 needs BENCH_HS256_SECRET (32+ bytes)"))?;
        SigningKey::hmac("ceiling-hs256".to_owned(), secret.as_bytes())
    } else {
        SigningKey::generate(alg, "ceiling".to_owned())
            .map_err(|e| invalid(e.to_string()))?
            .0
    };
    let verifier = key.verifying_key().map_err(|e| invalid(e.to_string()))?;
    let state = web::Data::new(State {
        issuer: format!("http://127.0.0.1:{port}"),
        client_id: env("BENCH_CLIENT_ID").unwrap_or_else(|| "bench".to_owned()),
        secret_hash: hash_secret(
            &env("BENCH_CLIENT_SECRET").unwrap_or_else(|| "bench-secret".to_owned()),
        ),
        scope: Scope::parse("api.read api.write").map_err(|e| invalid(e.description))?,
        key,
        verifier,
        rng: SystemRandom::new(),
    });
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/token", web::post().to(token))
            .route("/introspect", web::post().to(introspect))
            .route("/plain", web::get().to(plain))
    });
    if let Some(w) = env("BENCH_WORKERS").and_then(|w| w.parse().ok()) {
        server = server.workers(w);
    }
    let server = server.bind(("127.0.0.1", port))?.run();
    actix_web::rt::System::new().block_on(server)
}
