//! Clients through the admin API: create, list and search, show, update, delete, rotate the
//! secret, revoke every token.
//!
//! The body of a create or an update is RFC 7591 metadata (`client_name`, `redirect_uris`,
//! `grant_types`, `scope`, `token_endpoint_auth_method`, `post_logout_redirect_uris`) plus the
//! operator's flags `skip_consent` and `admin`. Unlike dynamic registration, an unknown field is
//! an error here (an operator's typo should not pass silently), and the `password` grant and the
//! `admin` scope are allowed. Informational metadata (`client_uri`, `logo_uri`, ...) is managed
//! through dynamic registration only and kept as it is by an update.

use super::{Admin, AdminOp, Page, PageRequest, Revoked, parse_body, path_id};
use crate::clients::{CreatedClient, NewClient, create_client};
use crate::services::Services;
use oauth2_core::client::{AuthMethod, Client, GrantType};
use oauth2_core::events::EventKind;
use oauth2_core::ports::TokenOwner;
use oauth2_core::secret::{hash_secret, new_secret};
use oauth2_core::{ErrorCode, OAuthError, UnixTime};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientBody {
    client_name: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    /// Default: authorization_code and refresh_token with a redirect URI, client_credentials
    /// without (as the CLI does).
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    /// Accepted for RFC 7591's sake; only `code` exists.
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    scope: String,
    /// Default: client_secret_basic.
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    skip_consent: bool,
    #[serde(default)]
    admin: bool,
}

fn bad_metadata(why: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, why.into())
}

/// The client a create or update body describes (validated by [`NewClient::validate`]).
fn new_client(body: &[u8]) -> Result<NewClient, OAuthError> {
    let b: ClientBody = parse_body(body, ErrorCode::InvalidClientMetadata)?;
    if let Some(types) = &b.response_types
        && types.iter().any(|t| t != "code")
    {
        return Err(bad_metadata("the only response type is \"code\""));
    }
    let auth_method = match &b.token_endpoint_auth_method {
        Some(m) => m.parse::<AuthMethod>()?,
        None => AuthMethod::ClientSecretBasic,
    };
    let grant_types = match &b.grant_types {
        Some(types) => types
            .iter()
            .map(|g| {
                g.parse::<GrantType>()
                    .map_err(|_| bad_metadata(format!("unsupported grant type '{g}'")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None if b.redirect_uris.is_empty() => vec![GrantType::ClientCredentials],
        None => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    };
    let mut new = NewClient::new(
        b.client_name,
        grant_types,
        b.scope,
        auth_method,
        b.redirect_uris,
    );
    new.post_logout_redirect_uris = b.post_logout_redirect_uris;
    new.skip_consent = b.skip_consent;
    new.admin = b.admin;
    Ok(new)
}

fn no_client() -> OAuthError {
    OAuthError::not_found("no such client")
}

async fn existing(svc: &Services, client_id: &str) -> Result<Client, OAuthError> {
    path_id(client_id, "client")?;
    svc.store.get_client(client_id).await?.ok_or_else(no_client)
}

fn summary(c: &Client) -> serde_json::Value {
    json!({
        "client_name": c.name,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scope": c.scope.to_string(),
        "token_endpoint_auth_method": c.auth_method.as_str(),
        "skip_consent": c.skip_consent,
        "admin": c.admin,
    })
}

/// `POST /admin/api/clients`: the secret (confidential clients) is in the answer, this once.
pub struct CreateClient {
    pub body: Vec<u8>,
}

impl AdminOp for CreateClient {
    type Output = CreatedClient;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<CreatedClient, OAuthError> {
        let new = new_client(&self.body)?;
        let created = create_client(svc.store.as_ref(), &svc.rng, now, new).await?;
        let c = &created.client;
        svc.record(
            &admin,
            EventKind::ClientCreated,
            &c.client_id,
            summary(c),
            now,
        )
        .await?;
        Ok(created)
    }
}

/// `GET /admin/api/clients?limit=&after=&q=`: by client id; `q` searches names and ids.
pub struct ListClients(pub PageRequest);

impl AdminOp for ListClients {
    type Output = Page<Client>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        _: UnixTime,
    ) -> Result<Page<Client>, OAuthError> {
        let PageRequest {
            after,
            limit,
            query,
        } = self.0;
        let clients = match &query {
            Some(q) => svc.store.search_clients(q, after.as_deref(), limit).await?,
            None => svc.store.list_clients(after.as_deref(), limit).await?,
        };
        Ok(Page::of(clients, limit, |c| c.client_id.clone()))
    }
}

/// `GET /admin/api/clients/{id}`.
pub struct ShowClient(pub String);

impl AdminOp for ShowClient {
    type Output = Client;
    async fn run(self, svc: Arc<Services>, _: Admin, _: UnixTime) -> Result<Client, OAuthError> {
        existing(&svc, &self.0).await
    }
}

/// `PUT /admin/api/clients/{id}`: the metadata is replaced as a whole. The secret is kept while
/// the client stays confidential, dropped if it becomes public, and issued (and shown this
/// once) if it becomes confidential.
pub struct UpdateClient {
    pub client_id: String,
    pub body: Vec<u8>,
}

impl AdminOp for UpdateClient {
    type Output = CreatedClient;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<CreatedClient, OAuthError> {
        let current = existing(&svc, &self.client_id).await?;
        let new = new_client(&self.body)?;
        let fields = new.validate()?;
        let (secret_hash, secret) = match (new.auth_method.is_confidential(), current.secret_hash) {
            (true, Some(hash)) => (Some(hash), None),
            (true, None) => {
                let secret = new_secret(&svc.rng)?;
                (Some(hash_secret(&secret)), Some(secret))
            }
            (false, _) => (None, None),
        };
        let client = Client {
            client_id: current.client_id,
            secret_hash,
            name: fields.name,
            redirect_uris: fields.redirect_uris,
            grant_types: fields.grant_types,
            scope: fields.scope,
            auth_method: new.auth_method,
            skip_consent: new.skip_consent,
            post_logout_redirect_uris: fields.post_logout_redirect_uris,
            metadata: current.metadata,
            registration_token_hash: current.registration_token_hash,
            admin: new.admin,
            created_at: current.created_at,
            updated_at: now,
        };
        let updated = svc.store.update_client(&client).await?;
        svc.clients.invalidate(&client.client_id);
        if !updated {
            return Err(no_client());
        }
        svc.record(
            &admin,
            EventKind::ClientUpdated,
            &client.client_id,
            summary(&client),
            now,
        )
        .await?;
        Ok(CreatedClient { client, secret })
    }
}

/// `DELETE /admin/api/clients/{id}`: the client and everything issued to it. Its live access
/// tokens go on the deny list first, so that no resource server keeps accepting them.
pub struct DeleteClient(pub String);

impl AdminOp for DeleteClient {
    type Output = ();
    async fn run(self, svc: Arc<Services>, admin: Admin, now: UnixTime) -> Result<(), OAuthError> {
        let client = existing(&svc, &self.0).await?;
        let families = svc
            .revoke_families_of(&TokenOwner::Client(client.client_id.clone()), now)
            .await?;
        let deleted = svc.store.delete_client(&client.client_id).await?;
        svc.clients.invalidate(&client.client_id);
        if !deleted {
            return Err(no_client());
        }
        svc.record(
            &admin,
            EventKind::ClientDeleted,
            &client.client_id,
            json!({ "client_name": client.name, "revoked_families": families }),
            now,
        )
        .await
    }
}

/// `POST /admin/api/clients/{id}/secret`: a new secret, shown this once; the old one stops
/// working at once on this instance, and within the client cache's lifetime on the others.
pub struct RotateClientSecret(pub String);

impl AdminOp for RotateClientSecret {
    type Output = (Client, String);
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<(Client, String), OAuthError> {
        let mut client = existing(&svc, &self.0).await?;
        if client.is_public() {
            return Err(OAuthError::invalid_request(
                "a public client has no secret to rotate",
            ));
        }
        let secret = new_secret(&svc.rng)?;
        client.secret_hash = Some(hash_secret(&secret));
        client.updated_at = now;
        let updated = svc.store.update_client(&client).await?;
        svc.clients.invalidate(&client.client_id);
        if !updated {
            return Err(no_client());
        }
        svc.record(
            &admin,
            EventKind::ClientSecretRotated,
            &client.client_id,
            json!({}),
            now,
        )
        .await?;
        Ok((client, secret))
    }
}

/// `POST /admin/api/clients/{id}/revoke-tokens`: every token family of the client.
pub struct RevokeClientTokens(pub String);

impl AdminOp for RevokeClientTokens {
    type Output = Revoked;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<Revoked, OAuthError> {
        let client = existing(&svc, &self.0).await?;
        let families = svc
            .revoke_families_of(&TokenOwner::Client(client.client_id.clone()), now)
            .await?;
        svc.record(
            &admin,
            EventKind::ClientTokensRevoked,
            &client.client_id,
            json!({ "revoked_families": families }),
            now,
        )
        .await?;
        Ok(Revoked {
            families,
            sessions_ended: 0,
        })
    }
}
