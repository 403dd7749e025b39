//! The admin REST API, `/admin/api/...`: JSON in and out. Every call carries a Bearer access
//! token with the `admin` scope (RFC 6750 §2.1); the admin actor checks it before it runs the
//! operation, so a handler here cannot forget to. Errors go through the one mapping in
//! [`crate::error`]: 401 `invalid_token`, 403 `insufficient_scope`, 404 `not_found`, ...
//!
//! Handlers are named after the route and method; `{id}` is the resource's id.

use crate::error::{HttpError, mailbox};
use crate::extract::authorization;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2_actors::Actors;
use oauth2_actors::admin::clients::{
    CreateClient, DeleteClient, ListClients, RevokeClientTokens, RotateClientSecret, ShowClient,
    UpdateClient,
};
use oauth2_actors::admin::system::{
    CreateRegistrationToken, DeleteRegistrationToken, KeyInfo, ListEvents, ListKeys,
    ListRegistrationTokens, RecentEvents, RotateKey,
};
use oauth2_actors::admin::tokens::{ListTokens, MAX_TOKENS_LISTED, RevokeToken, TokenInfo};
use oauth2_actors::admin::users::{
    CreateUser, DisableUser, ListUsers, ResetPassword, RevokeUserTokens, ShowUser, UpdateUser,
};
use oauth2_actors::admin::{AdminOp, Page, PageRequest, Revoked};
use oauth2_actors::clients::CreatedClient;
use oauth2_actors::messages::{AdminCall, SendTraced};
use oauth2_core::OAuthError;
use oauth2_core::client::{Client, GrantType};
use oauth2_core::form::Form;
use oauth2_core::ports::{Event, InitialAccessToken, TokenOwner, User};
use serde_json::{Value, json};

/// Admin requests are small; a larger body is refused before it is read in full.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// Registers the routes under the scope this is mounted on (`/admin/api`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/clients")
            .route(web::post().to(clients_post))
            .route(web::get().to(clients_get)),
    )
    .service(
        web::resource("/clients/{id}")
            .route(web::get().to(client_get))
            .route(web::put().to(client_put))
            .route(web::delete().to(client_delete)),
    )
    .route("/clients/{id}/secret", web::post().to(client_secret_post))
    .route(
        "/clients/{id}/revoke-tokens",
        web::post().to(client_revoke_tokens_post),
    )
    .service(
        web::resource("/users")
            .route(web::post().to(users_post))
            .route(web::get().to(users_get)),
    )
    .service(
        web::resource("/users/{id}")
            .route(web::get().to(user_get))
            .route(web::patch().to(user_patch)),
    )
    .route("/users/{id}/disable", web::post().to(user_disable_post))
    .route("/users/{id}/password", web::post().to(user_password_post))
    .route(
        "/users/{id}/revoke-tokens",
        web::post().to(user_revoke_tokens_post),
    )
    .route("/tokens", web::get().to(tokens_get))
    .route("/tokens/{id}", web::delete().to(token_delete))
    .route("/keys", web::get().to(keys_get))
    .route("/keys/rotate", web::post().to(keys_rotate_post))
    .service(
        web::resource("/registration-tokens")
            .route(web::get().to(registration_tokens_get))
            .route(web::post().to(registration_tokens_post)),
    )
    .route(
        "/registration-tokens/{id}",
        web::delete().to(registration_token_delete),
    )
    .route("/events", web::get().to(events_get))
    .route("/events/recent", web::get().to(recent_events_get));
}

/// The Bearer token of the request (RFC 6750 §2.1); without one, 401 `invalid_token`.
fn bearer(req: &HttpRequest) -> Result<String, HttpError> {
    let missing =
        || OAuthError::invalid_token("a bearer access token with the admin scope is required");
    let header = authorization(req)?.ok_or_else(missing)?;
    let value = std::str::from_utf8(&header).map_err(|_| missing())?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(missing().into()),
    }
}

/// Runs an operation for the caller of `req`.
async fn call<T: AdminOp>(
    actors: &Actors,
    req: &HttpRequest,
    op: T,
) -> Result<T::Output, HttpError> {
    let token = bearer(req)?;
    Ok(actors
        .admin
        .traced(AdminCall { token, op })
        .await
        .map_err(mailbox)??)
}

/// Reads a JSON body as bytes (the operation parses it, once the caller is known to be an
/// admin). An empty body is allowed here; the operation decides whether it needs one.
async fn json_body(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, HttpError> {
    // The token first: a caller without one learns nothing about the body's shape.
    bearer(req)?;
    let body = match payload.to_bytes_limited(MAX_JSON_BYTES).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return Err(OAuthError::invalid_request("the body could not be read").into()),
        Err(_) => return Err(OAuthError::invalid_request("the body is too large").into()),
    };
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(OAuthError::invalid_request("the body must be application/json").into());
    }
    Ok(body.to_vec())
}

fn query(req: &HttpRequest) -> Result<Form, HttpError> {
    Ok(Form::parse(req.query_string().as_bytes())?)
}

fn page_json<T>(page: &Page<T>, item: impl Fn(&T) -> Value) -> Value {
    json!({
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "next": page.next,
    })
}

/// A client with RFC 7591's names for its metadata, and the operator's flags. Never the secret
/// or its hash.
pub fn client_json(c: &Client) -> Value {
    let mut out = serde_json::Map::new();
    // Informational metadata first, so that nothing in it can shadow the fields below.
    for (k, v) in &c.metadata {
        out.insert(k.clone(), v.clone());
    }
    let fields = json!({
        "client_id": c.client_id,
        "client_name": c.name,
        "redirect_uris": c.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types": if c.allows_grant(GrantType::AuthorizationCode) { vec!["code"] } else { vec![] },
        "scope": c.scope.to_string(),
        "token_endpoint_auth_method": c.auth_method.as_str(),
        "post_logout_redirect_uris": c.post_logout_redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "skip_consent": c.skip_consent,
        "admin": c.admin,
        "dynamically_registered": c.registration_token_hash.is_some(),
        "client_id_issued_at": c.created_at,
        "updated_at": c.updated_at,
    });
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    Value::Object(out)
}

/// A client and, when just issued, its secret (RFC 7591 §3.2.1 names).
fn with_secret(client: &Client, secret: Option<&str>) -> Value {
    let mut v = client_json(client);
    if let (Some(secret), Some(obj)) = (secret, v.as_object_mut()) {
        obj.insert("client_secret".into(), json!(secret));
        obj.insert("client_secret_expires_at".into(), json!(0));
    }
    v
}

/// A user without the password hash.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "enabled": u.enabled,
        "admin": u.admin,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    })
}

fn token_json(t: &TokenInfo) -> Value {
    json!({
        "id": t.id,
        "kind": t.kind.as_str(),
        "client_id": t.client_id,
        "user_id": t.user_id,
        "scope": t.scope.to_string(),
        "created_at": t.created_at,
        "expires_at": t.expires_at,
    })
}

fn key_json(k: &KeyInfo) -> Value {
    json!({
        "kid": k.kid,
        "algorithm": k.algorithm.as_str(),
        "status": k.status.as_str(),
        "created_at": k.created_at,
        "activate_at": k.activate_at,
        "retire_at": k.retire_at,
    })
}

/// An initial access token without its value: its hash is its id.
fn registration_token_json(t: &InitialAccessToken) -> Value {
    json!({
        "id": t.token_hash,
        "description": t.description,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "max_uses": t.max_uses,
        "uses": t.uses,
    })
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "event_id": e.event_id,
        "at": e.at,
        "kind": e.kind,
        "actor": e.actor,
        "subject": e.subject,
        "client_id": e.client_id,
        "user_id": e.user_id,
        "address": e.address,
        "outcome": e.outcome,
        "request_id": e.request_id,
        "detail": e.detail,
    })
}

fn revoked_json(r: Revoked) -> Value {
    json!({ "revoked_families": r.families, "sessions_ended": r.sessions_ended })
}

// Clients.

pub async fn clients_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let body = json_body(&req, payload).await?;
    let CreatedClient { client, secret } = call(&actors, &req, CreateClient { body }).await?;
    Ok(HttpResponse::Created().json(with_secret(&client, secret.as_deref())))
}

pub async fn clients_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let page = PageRequest::from_query(&query(&req)?)?;
    let page = call(&actors, &req, ListClients(page)).await?;
    Ok(HttpResponse::Ok().json(page_json(&page, client_json)))
}

pub async fn client_get(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let client = call(&actors, &req, ShowClient(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(client_json(&client)))
}

pub async fn client_put(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let body = json_body(&req, payload).await?;
    let op = UpdateClient {
        client_id: id.into_inner(),
        body,
    };
    let CreatedClient { client, secret } = call(&actors, &req, op).await?;
    Ok(HttpResponse::Ok().json(with_secret(&client, secret.as_deref())))
}

pub async fn client_delete(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    call(&actors, &req, DeleteClient(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn client_secret_post(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let (client, secret) = call(&actors, &req, RotateClientSecret(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(json!({
        "client_id": client.client_id,
        "client_secret": secret,
        "client_secret_expires_at": 0,
    })))
}

pub async fn client_revoke_tokens_post(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let revoked = call(&actors, &req, RevokeClientTokens(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(revoked_json(revoked)))
}

// Users.

pub async fn users_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let body = json_body(&req, payload).await?;
    let user = call(&actors, &req, CreateUser { body }).await?;
    Ok(HttpResponse::Created().json(user_json(&user)))
}

pub async fn users_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let page = PageRequest::from_query(&query(&req)?)?;
    let page = call(&actors, &req, ListUsers(page)).await?;
    Ok(HttpResponse::Ok().json(page_json(&page, user_json)))
}

pub async fn user_get(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let user = call(&actors, &req, ShowUser(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

pub async fn user_patch(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let body = json_body(&req, payload).await?;
    let op = UpdateUser {
        user_id: id.into_inner(),
        body,
    };
    let user = call(&actors, &req, op).await?;
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

pub async fn user_disable_post(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let (user, ended) = call(&actors, &req, DisableUser(id.into_inner())).await?;
    let mut v = user_json(&user);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("sessions_ended".into(), json!(ended));
    }
    Ok(HttpResponse::Ok().json(v))
}

pub async fn user_password_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let body = json_body(&req, payload).await?;
    let op = ResetPassword {
        user_id: id.into_inner(),
        body,
    };
    let ended = call(&actors, &req, op).await?;
    Ok(HttpResponse::Ok().json(json!({ "password_changed": true, "sessions_ended": ended })))
}

pub async fn user_revoke_tokens_post(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let revoked = call(&actors, &req, RevokeUserTokens(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(revoked_json(revoked)))
}

// Tokens.

/// `?client_id=` or `?user_id=` (exactly one), and optionally `limit` (of each kind).
pub async fn tokens_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let q = query(&req)?;
    let owner = match (q.get("client_id"), q.get("user_id")) {
        (Some(c), None) if !c.is_empty() => TokenOwner::Client(c.to_owned()),
        (None, Some(u)) if !u.is_empty() => TokenOwner::User(u.to_owned()),
        _ => {
            return Err(
                OAuthError::invalid_request("give exactly one of client_id and user_id").into(),
            );
        }
    };
    let limit = match q.get("limit") {
        None => MAX_TOKENS_LISTED,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_TOKENS_LISTED).contains(n))
            .ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "limit must be a number from 1 to {MAX_TOKENS_LISTED}"
                ))
            })?,
    };
    let tokens = call(&actors, &req, ListTokens { owner, limit }).await?;
    Ok(HttpResponse::Ok().json(json!({
        "items": tokens.iter().map(token_json).collect::<Vec<_>>(),
    })))
}

pub async fn token_delete(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let revoked = call(&actors, &req, RevokeToken(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(token_json(&revoked)))
}

// Signing keys.

pub async fn keys_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let keys = call(&actors, &req, ListKeys).await?;
    Ok(HttpResponse::Ok().json(json!({
        "items": keys.iter().map(key_json).collect::<Vec<_>>(),
    })))
}

pub async fn keys_rotate_post(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let key = call(&actors, &req, RotateKey).await?;
    Ok(HttpResponse::Created().json(key_json(&key)))
}

// Registration tokens.

pub async fn registration_tokens_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let tokens = call(&actors, &req, ListRegistrationTokens).await?;
    Ok(HttpResponse::Ok().json(json!({
        "items": tokens.iter().map(registration_token_json).collect::<Vec<_>>(),
    })))
}

/// The token's value is in the answer, this once.
pub async fn registration_tokens_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let body = json_body(&req, payload).await?;
    let (token, record) = call(&actors, &req, CreateRegistrationToken { body }).await?;
    let mut v = registration_token_json(&record);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("token".into(), json!(token));
    }
    Ok(HttpResponse::Created().json(v))
}

pub async fn registration_token_delete(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    call(&actors, &req, DeleteRegistrationToken(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

// Events.

/// Newest first; `after` is the `id` of the last event of the previous page.
pub async fn events_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let page = PageRequest::from_query(&query(&req)?)?;
    let after = match page.after.as_deref() {
        None => None,
        Some(a) => Some(
            a.parse::<i64>()
                .map_err(|_| OAuthError::invalid_request("after must be the id of an event"))?,
        ),
    };
    let events = call(
        &actors,
        &req,
        ListEvents {
            after,
            limit: page.limit,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(page_json(&events, event_json)))
}

/// This instance's most recent events (its memory ring), newest first: `limit` 1 to 1000,
/// default 100.
pub async fn recent_events_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let q = query(&req)?;
    let limit = match q.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| OAuthError::invalid_request("limit must be 1 to 1000"))?,
    };
    let events = call(&actors, &req, RecentEvents { limit }).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": events })))
}
