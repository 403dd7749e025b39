//! Schemas of the bodies that have no Rust type of their own to derive one from: the handlers
//! build these with `serde_json::json!` (admin API, registration, health) or read them as a form
//! (OAuth endpoints). They are descriptions only, never (de)serialized; the wire format is decided
//! by the handlers in [`crate::routes`], and `tests/it/openapi.rs` checks real answers against
//! these schemas.
//!
//! The types that do exist in `oauth2-core` (`TokenResponse`, `Introspection`, `ServerMetadata`,
//! `JwkSet`) derive their schemas there, behind its `openapi` feature.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

// Errors.

/// An error (RFC 6749 §5.2, RFC 6750 §3, RFC 7591 §3.2.2). `error` is a code from the OAuth
/// error registry, or `not_found`/`conflict` for the admin API.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[schema(example = "invalid_request")]
    pub error: String,
    /// Human-readable, for the developer; never contains secrets.
    pub error_description: String,
}

// Health.

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable` (with HTTP 503).
    #[schema(example = "ready")]
    pub status: String,
    /// The database backend: `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: String,
}

// OAuth 2.0 endpoints (form-encoded requests).

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantTypeName {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
}

/// RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6 with RFC 7636 (`code_verifier`). Which fields are needed
/// depends on `grant_type`. A confidential client authenticates with HTTP Basic
/// (`client_secret_basic`) or with `client_id` and `client_secret` in the body
/// (`client_secret_post`); a public client sends only `client_id`.
#[derive(Serialize, ToSchema)]
pub struct TokenRequest {
    pub grant_type: GrantTypeName,
    /// `authorization_code`: the code from the authorization response.
    #[schema(required = false)]
    pub code: String,
    /// `authorization_code`: the redirect URI of the authorization request.
    #[schema(required = false)]
    pub redirect_uri: String,
    /// `authorization_code`: the PKCE verifier (RFC 7636 §4.5).
    #[schema(required = false)]
    pub code_verifier: String,
    /// `refresh_token`: the refresh token.
    #[schema(required = false)]
    pub refresh_token: String,
    /// `password`: the resource owner's username.
    #[schema(required = false)]
    pub username: String,
    /// `password`: the resource owner's password.
    #[schema(format = Password)]
    #[schema(required = false)]
    pub password: String,
    /// Space-separated scopes (`client_credentials`, `password`, or to narrow a refresh).
    #[schema(required = false)]
    pub scope: String,
    #[schema(required = false)]
    pub client_id: String,
    #[schema(format = Password)]
    #[schema(required = false)]
    pub client_secret: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenTypeHintName {
    AccessToken,
    RefreshToken,
}

/// RFC 7662 §2.1 (introspection) and RFC 7009 §2.1 (revocation). Client authentication as at
/// the token endpoint.
#[derive(Serialize, ToSchema)]
pub struct TokenRequestByValue {
    /// The token to introspect or revoke.
    pub token: String,
    /// A hint; unknown values are ignored.
    #[schema(required = false)]
    pub token_type_hint: TokenTypeHintName,
    #[schema(required = false)]
    pub client_id: String,
    #[schema(format = Password)]
    #[schema(required = false)]
    pub client_secret: String,
}

/// OIDC Core §5.3.1 with RFC 6750 §2.2: the access token in the body instead of the header.
#[derive(Serialize, ToSchema)]
pub struct UserInfoRequest {
    #[schema(required = false)]
    pub access_token: String,
}

/// OIDC Core §5.3.2: only the claims the token's scopes allow (`profile`: `name`,
/// `preferred_username`, `updated_at`; `email`: `email`, `email_verified`).
#[derive(Serialize, ToSchema)]
pub struct UserInfo {
    pub sub: String,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub updated_at: Option<i64>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

// Dynamic client registration (RFC 7591, RFC 7592).

#[derive(Serialize, ToSchema)]
pub enum AuthMethodName {
    #[serde(rename = "client_secret_basic")]
    ClientSecretBasic,
    #[serde(rename = "client_secret_post")]
    ClientSecretPost,
    #[serde(rename = "none")]
    None,
}

/// RFC 7591 §2 client metadata. Unknown fields are ignored, and so are `null` and empty values.
/// Every problem with a redirection URI is `invalid_redirect_uri`; any other is
/// `invalid_client_metadata`. The `password` grant and the `admin` scope cannot be registered.
#[derive(Serialize, ToSchema)]
pub struct ClientMetadata {
    /// Absolute, no fragment; `https` except loopback (`http://127.0.0.1`) and private-use
    /// schemes for native apps.
    pub redirect_uris: Option<Vec<String>>,
    /// Default: derived from `response_types`, else `["authorization_code"]`.
    pub grant_types: Option<Vec<String>>,
    /// Only `code`.
    pub response_types: Option<Vec<String>>,
    /// Default: `client_secret_basic`.
    pub token_endpoint_auth_method: Option<AuthMethodName>,
    /// Space-separated.
    pub scope: Option<String>,
    pub client_name: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
}

/// RFC 7592 §2.2: the whole new metadata (fields left out are dropped), with the client's own
/// `client_id`; `client_secret`, if sent, must be the current one.
#[derive(Serialize, ToSchema)]
pub struct ClientUpdate {
    pub client_id: String,
    #[schema(format = Password)]
    pub client_secret: Option<String>,
    #[serde(flatten)]
    pub metadata: ClientMetadata,
}

/// RFC 7591 §3.2.1 / RFC 7592 §3: the registered metadata, the secret when one was just issued,
/// and the means to manage the registration.
#[derive(Serialize, ToSchema)]
pub struct ClientInformation {
    pub client_id: String,
    /// Confidential clients, in the answer to the registration only.
    pub client_secret: Option<String>,
    /// `0`: the secret does not expire. Present with `client_secret`.
    pub client_secret_expires_at: Option<i64>,
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: AuthMethodName,
    pub scope: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    /// The Bearer token for `GET/PUT/DELETE` on `registration_client_uri` (RFC 7592).
    pub registration_access_token: String,
    pub registration_client_uri: String,
}

// Admin API.

/// `?limit=&after=&q=` of a listing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Case-insensitive substring to search for (names and ids).
    pub q: Option<String>,
}

/// `?limit=&after=` of the event log.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Page size, 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `id` of the last event of the previous page (events come newest first).
    pub after: Option<i64>,
}

/// `?client_id=` or `?user_id=` (exactly one), and `limit`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    /// Per kind (access and refresh tokens), 1 to the server's maximum.
    #[param(minimum = 1)]
    pub limit: Option<u32>,
}

/// RFC 7591 metadata plus the operator's flags. Unknown fields are an error here.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)] // For the schema: `additionalProperties: false`, as the API does.
pub struct AdminClientRequest {
    pub client_name: String,
    #[schema(required = false)]
    pub redirect_uris: Vec<String>,
    /// Default: `authorization_code` and `refresh_token` with redirect URIs,
    /// `client_credentials` without. `password` is allowed here.
    pub grant_types: Option<Vec<GrantTypeName>>,
    /// Only `code`.
    pub response_types: Option<Vec<String>>,
    /// Space-separated; the `admin` scope is allowed here.
    #[schema(required = false)]
    pub scope: String,
    /// Default: `client_secret_basic`.
    pub token_endpoint_auth_method: Option<AuthMethodName>,
    #[schema(required = false)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Default false.
    #[schema(required = false)]
    pub skip_consent: bool,
    /// Default false: may obtain tokens with the `admin` scope.
    #[schema(required = false)]
    pub admin: bool,
}

/// A client: RFC 7591 names for its metadata, and the operator's flags. Never the secret's hash.
#[derive(Serialize, ToSchema)]
pub struct AdminClient {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantTypeName>,
    pub response_types: Vec<String>,
    pub scope: String,
    pub token_endpoint_auth_method: AuthMethodName,
    pub post_logout_redirect_uris: Vec<String>,
    pub skip_consent: bool,
    pub admin: bool,
    pub dynamically_registered: bool,
    pub client_id_issued_at: i64,
    pub updated_at: i64,
    /// Only in the answer that issued it (create, or an update that made the client
    /// confidential): shown this once.
    pub client_secret: Option<String>,
    /// `0`, with `client_secret`.
    pub client_secret_expires_at: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<AdminClient>,
    /// `after` for the next page; null on the last one.
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClientSecret {
    pub client_id: String,
    /// Shown this once.
    pub client_secret: String,
    pub client_secret_expires_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RevokedTokens {
    pub revoked_families: u64,
    pub sessions_ended: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)] // For the schema: `additionalProperties: false`, as the API does.
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    #[schema(format = Password)]
    pub password: String,
    /// Default false.
    #[schema(required = false)]
    pub admin: bool,
}

/// Only the fields given change; `email: null` removes the address.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)] // For the schema: `additionalProperties: false`, as the API does.
pub struct UserPatch {
    pub email: Option<String>,
    pub admin: Option<bool>,
    pub enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)] // For the schema: `additionalProperties: false`, as the API does.
pub struct PasswordReset {
    #[schema(format = Password)]
    pub password: String,
}

/// A user, without the password hash.
#[derive(Serialize, ToSchema)]
pub struct AdminUser {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub admin: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Only in the answer to `disable`: the sessions it ended.
    pub sessions_ended: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<AdminUser>,
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    pub password_changed: bool,
    pub sessions_ended: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKindName {
    AccessToken,
    RefreshToken,
}

/// An active token, without its value.
#[derive(Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub kind: TokenKindName,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenInfo>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatusName {
    Pending,
    Active,
    Retiring,
    Retired,
}

/// A signing key, without its private part (the public part is in the JWKS).
#[derive(Serialize, ToSchema)]
pub struct SigningKey {
    pub kid: String,
    #[schema(example = "RS256")]
    pub algorithm: String,
    pub status: KeyStatusName,
    pub created_at: i64,
    /// When it starts signing (resource servers fetch it from the JWKS before).
    pub activate_at: i64,
    pub retire_at: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<SigningKey>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)] // For the schema: `additionalProperties: false`, as the API does.
pub struct NewRegistrationToken {
    #[schema(required = false)]
    pub description: String,
    /// Seconds; default: never expires.
    pub expires_in: Option<i64>,
    /// Default: any number of registrations.
    pub max_uses: Option<u32>,
}

/// An initial access token (RFC 7591 §3) for `POST /clients/register`.
#[derive(Serialize, ToSchema)]
pub struct RegistrationToken {
    /// The token's hash: its id in this API.
    pub id: String,
    pub description: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<u32>,
    pub uses: u32,
    /// The token itself, only in the answer to its creation.
    pub token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationTokenList {
    pub items: Vec<RegistrationToken>,
}

/// One event of the audit table.
#[derive(Serialize, ToSchema)]
pub struct Event {
    /// Row number: increasing, what pages are cut by.
    pub id: i64,
    /// The event's own id (as sent to webhooks and the Redis stream).
    pub event_id: String,
    pub at: i64,
    #[schema(example = "client.created")]
    pub kind: String,
    /// Who did it: a user id, a client id, or `cli`; empty for an anonymous caller.
    pub actor: String,
    pub subject: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub address: Option<String>,
    #[schema(example = "success")]
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
}

/// An event as it is sent to webhooks and the Redis stream, and kept in the memory ring.
#[derive(Serialize, ToSchema)]
pub struct LiveEvent {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(example = "login.failed")]
    pub kind: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub actor: Option<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub subject: Option<String>,
    pub address: Option<String>,
    #[schema(example = "failure")]
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct LiveEventList {
    pub items: Vec<LiveEvent>,
}

/// `?limit=` of the memory ring.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentEventQuery {
    /// How many, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<Event>,
    pub next: Option<String>,
}
