//! The operations, one stub per path and method. The handlers in [`crate::routes`] take the raw
//! request (bodies are parsed by the actors once the caller is known), so there is nothing in
//! their signatures for utoipa to read; the descriptions live here instead, in one place, and
//! `tests/it/openapi.rs` checks them against the routes the app really registers.
#![allow(dead_code)] // The stubs exist for their `#[utoipa::path]`; they are never called.

use super::schemas::*;
use oauth2_core::discovery::ServerMetadata;
use oauth2_core::jose::JwkSet;
use oauth2_core::token::{Introspection, TokenResponse};

const FORM: &str = "application/x-www-form-urlencoded";

// OAuth 2.0.

/// Token endpoint (RFC 6749 §3.2)
///
/// Grants: `authorization_code` (with PKCE, RFC 7636), `refresh_token` (rotated on use),
/// `client_credentials`, and `password` where enabled. Confidential clients authenticate with
/// HTTP Basic or `client_id`/`client_secret` in the body; public clients send `client_id`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "OAuth 2.0",
    request_body(content = TokenRequest, content_type = FORM),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Tokens issued (RFC 6749 §5.1)", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unauthorized_client`, \
            `unsupported_grant_type`, `invalid_scope` (RFC 6749 §5.2)", body = ErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed",
            body = ErrorBody, headers(("WWW-Authenticate" = String))),
    )
)]
fn token() {}

/// Token introspection (RFC 7662)
///
/// Only confidential clients may introspect. An unknown, expired or revoked token answers
/// `{"active": false}`.
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    tag = "OAuth 2.0",
    request_body(content = TokenRequestByValue, content_type = FORM),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "The token's state (RFC 7662 §2.2)", body = Introspection),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_client`", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
    )
)]
fn introspect() {}

/// Token revocation (RFC 7009)
///
/// Revoking a refresh token revokes its whole family and the access tokens issued from it. An
/// unknown token, or one of another client, answers 200 all the same (RFC 7009 §2.2).
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "OAuth 2.0",
    request_body(content = TokenRequestByValue, content_type = FORM),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "`invalid_request`, `unsupported_token_type`", body = ErrorBody),
        (status = 401, description = "`invalid_client`", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
    )
)]
fn revoke() {}

/// UserInfo (OIDC Core §5.3)
#[utoipa::path(
    get,
    path = "/oauth/userinfo",
    tag = "OpenID Connect",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The claims the token's scopes allow", body = UserInfo),
        (status = 401, description = "`invalid_token` (RFC 6750 §3.1)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"invalid_token\"`"))),
    )
)]
fn userinfo_get() {}

/// UserInfo, token in the body (OIDC Core §5.3, RFC 6750 §2.2)
#[utoipa::path(
    post,
    path = "/oauth/userinfo",
    tag = "OpenID Connect",
    request_body(content = UserInfoRequest, content_type = FORM),
    security(("bearer" = []), ()),
    responses(
        (status = 200, description = "The claims the token's scopes allow", body = UserInfo),
        (status = 401, description = "`invalid_token` (RFC 6750 §3.1)", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
    )
)]
fn userinfo_post() {}

// Discovery.

/// Authorization server metadata (RFC 8414)
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "Discovery",
    responses((status = 200, description = "What this server supports", body = ServerMetadata))
)]
fn oauth_authorization_server() {}

/// OpenID Provider configuration (OIDC Discovery 1.0 §4)
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "Discovery",
    responses((status = 200, description = "What this server supports", body = ServerMetadata))
)]
fn openid_configuration() {}

/// The public signing keys (RFC 7517)
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "Discovery",
    responses(
        (status = 200, description = "Keys that sign tokens now, soon, or recently",
            body = JwkSet, content_type = "application/jwk-set+json"),
    )
)]
fn jwks() {}

// Health.

/// Liveness: the process serves HTTP
#[utoipa::path(
    get,
    path = "/health",
    tag = "Health",
    responses((status = 200, description = "Up", body = Health))
)]
fn health() {}

/// Readiness: the database answers
#[utoipa::path(
    get,
    path = "/ready",
    tag = "Health",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database does not answer", body = Readiness),
    )
)]
fn ready() {}

// Dynamic client registration.

/// Register a client (RFC 7591)
///
/// Under the `token` policy (the default) the request carries an initial access token as a
/// Bearer token (issued by an admin); under `open` none; under `disabled` every request is
/// refused (403 `access_denied`).
#[utoipa::path(
    post,
    path = "/clients/register",
    tag = "Client registration",
    request_body = ClientMetadata,
    security(("initial_access_token" = []), ()),
    responses(
        (status = 201, description = "Registered (RFC 7591 §3.2.1)", body = ClientInformation),
        (status = 400, description = "`invalid_redirect_uri`, `invalid_client_metadata`, \
            `invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`: the initial access token is missing, \
            unknown, expired or used up", body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, description = "`access_denied`: registration is disabled", body = ErrorBody),
    )
)]
fn register() {}

/// Read a registration (RFC 7592 §2.1)
#[utoipa::path(
    get,
    path = "/clients/register/{client_id}",
    tag = "Client registration",
    params(("client_id" = String, Path, description = "The registered client's id")),
    security(("registration_access_token" = [])),
    responses(
        (status = 200, description = "The client's information", body = ClientInformation),
        (status = 401, description = "`invalid_token`: the registration access token does not \
            match this client", body = ErrorBody, headers(("WWW-Authenticate" = String))),
    )
)]
fn registration_read() {}

/// Update a registration (RFC 7592 §2.2)
#[utoipa::path(
    put,
    path = "/clients/register/{client_id}",
    tag = "Client registration",
    params(("client_id" = String, Path, description = "The registered client's id")),
    request_body = ClientUpdate,
    security(("registration_access_token" = [])),
    responses(
        (status = 200, description = "Updated", body = ClientInformation),
        (status = 400, description = "`invalid_redirect_uri`, `invalid_client_metadata`, \
            `invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
    )
)]
fn registration_update() {}

/// Delete a registration (RFC 7592 §2.3)
///
/// The client and every token issued to it.
#[utoipa::path(
    delete,
    path = "/clients/register/{client_id}",
    tag = "Client registration",
    params(("client_id" = String, Path, description = "The registered client's id")),
    security(("registration_access_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
    )
)]
fn registration_delete() {}

// Admin API. Every call needs a Bearer access token with the `admin` scope.

/// Create a client
#[utoipa::path(
    post,
    path = "/admin/api/clients",
    tag = "Admin: clients",
    request_body = AdminClientRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; a confidential client's secret is shown this once",
            body = AdminClient),
        (status = 400, description = "`invalid_client_metadata`, `invalid_redirect_uri`, \
            `invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: not an admin token", body = ErrorBody),
    )
)]
fn admin_clients_create() {}

/// List or search clients
#[utoipa::path(
    get,
    path = "/admin/api/clients",
    tag = "Admin: clients",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page, by client id", body = ClientPage),
        (status = 400, description = "`invalid_request`: a bad `limit`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_clients_list() {}

/// Show a client
#[utoipa::path(
    get,
    path = "/admin/api/clients/{id}",
    tag = "Admin: clients",
    params(("id" = String, Path, description = "Client id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The client", body = AdminClient),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_client_show() {}

/// Replace a client's metadata
///
/// The secret is kept while the client stays confidential, dropped if it becomes public, and
/// issued (shown this once) if it becomes confidential.
#[utoipa::path(
    put,
    path = "/admin/api/clients/{id}",
    tag = "Admin: clients",
    params(("id" = String, Path, description = "Client id")),
    request_body = AdminClientRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = AdminClient),
        (status = 400, description = "`invalid_client_metadata`, `invalid_redirect_uri`, \
            `invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_client_update() {}

/// Delete a client and everything issued to it
#[utoipa::path(
    delete,
    path = "/admin/api/clients/{id}",
    tag = "Admin: clients",
    params(("id" = String, Path, description = "Client id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_client_delete() {}

/// Rotate a client's secret
#[utoipa::path(
    post,
    path = "/admin/api/clients/{id}/secret",
    tag = "Admin: clients",
    params(("id" = String, Path, description = "Client id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret, shown this once", body = ClientSecret),
        (status = 400, description = "`invalid_request`: a public client has no secret",
            body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_client_rotate_secret() {}

/// Revoke every token of a client
#[utoipa::path(
    post,
    path = "/admin/api/clients/{id}/revoke-tokens",
    tag = "Admin: clients",
    params(("id" = String, Path, description = "Client id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was revoked", body = RevokedTokens),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_client_revoke_tokens() {}

/// Create a user
#[utoipa::path(
    post,
    path = "/admin/api/users",
    tag = "Admin: users",
    request_body = NewUser,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AdminUser),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 409, description = "`conflict`: the username is taken", body = ErrorBody),
    )
)]
fn admin_users_create() {}

/// List or search users
#[utoipa::path(
    get,
    path = "/admin/api/users",
    tag = "Admin: users",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page, by username", body = UserPage),
        (status = 400, description = "`invalid_request`: a bad `limit`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_users_list() {}

/// Show a user
#[utoipa::path(
    get,
    path = "/admin/api/users/{id}",
    tag = "Admin: users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = AdminUser),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_user_show() {}

/// Update a user
#[utoipa::path(
    patch,
    path = "/admin/api/users/{id}",
    tag = "Admin: users",
    params(("id" = String, Path, description = "User id")),
    request_body = UserPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = AdminUser),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_user_update() {}

/// Disable a user and end their sessions
#[utoipa::path(
    post,
    path = "/admin/api/users/{id}/disable",
    tag = "Admin: users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Disabled", body = AdminUser),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_user_disable() {}

/// Reset a user's password
#[utoipa::path(
    post,
    path = "/admin/api/users/{id}/password",
    tag = "Admin: users",
    params(("id" = String, Path, description = "User id")),
    request_body = PasswordReset,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed; the user's sessions are ended",
            body = PasswordChanged),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_user_reset_password() {}

/// Revoke every token of a user
#[utoipa::path(
    post,
    path = "/admin/api/users/{id}/revoke-tokens",
    tag = "Admin: users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was revoked", body = RevokedTokens),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_user_revoke_tokens() {}

/// List the active tokens of a client or a user
#[utoipa::path(
    get,
    path = "/admin/api/tokens",
    tag = "Admin: tokens",
    params(TokenQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active tokens, without their values", body = TokenList),
        (status = 400, description = "`invalid_request`: not exactly one of `client_id` and \
            `user_id`, or a bad `limit`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_tokens_list() {}

/// Revoke one token
///
/// A refresh token's whole family goes with it.
#[utoipa::path(
    delete,
    path = "/admin/api/tokens/{id}",
    tag = "Admin: tokens",
    params(("id" = String, Path, description = "Token id, from the listing")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked token", body = TokenInfo),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_token_revoke() {}

/// List the signing keys
#[utoipa::path(
    get,
    path = "/admin/api/keys",
    tag = "Admin: keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending, active, retiring and retired keys", body = KeyList),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_keys_list() {}

/// Rotate the signing key
///
/// The new key is published at once and signs after the activation delay.
#[utoipa::path(
    post,
    path = "/admin/api/keys/rotate",
    tag = "Admin: keys",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new key", body = SigningKey),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_keys_rotate() {}

/// List the initial access tokens
#[utoipa::path(
    get,
    path = "/admin/api/registration-tokens",
    tag = "Admin: registration tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Without their values", body = RegistrationTokenList),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_registration_tokens_list() {}

/// Issue an initial access token
#[utoipa::path(
    post,
    path = "/admin/api/registration-tokens",
    tag = "Admin: registration tokens",
    request_body = NewRegistrationToken,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Issued; `token` is shown this once", body = RegistrationToken),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_registration_tokens_create() {}

/// Delete an initial access token
#[utoipa::path(
    delete,
    path = "/admin/api/registration-tokens/{id}",
    tag = "Admin: registration tokens",
    params(("id" = String, Path, description = "The token's id (its hash), from the listing")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
fn admin_registration_token_delete() {}

/// The event log
///
/// The audit table (OAUTH2_EVENTS_AUDIT): events of every instance, newest first.
#[utoipa::path(
    get,
    path = "/admin/api/events",
    tag = "Admin: events",
    params(EventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page, newest first", body = EventPage),
        (status = 400, description = "`invalid_request`: a bad `limit` or `after`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_events_list() {}

/// This instance's most recent events (its memory ring, OAUTH2_EVENTS_RING), newest first.
#[utoipa::path(
    get,
    path = "/admin/api/events/recent",
    tag = "Admin: events",
    params(RecentEventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = LiveEventList),
        (status = 400, description = "`invalid_request`: a bad `limit`", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
    )
)]
fn admin_events_recent() {}
