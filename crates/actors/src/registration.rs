//! Dynamic client registration (RFC 7591), its management protocol (RFC 7592), and the initial
//! access tokens an operator issues to gate registration under the `token` policy.
//!
//! The order of checks under the `token` policy: a Bearer token must be present (401), then the
//! metadata must be valid (400), and only then is one use of the initial access token spent
//! (401 if it is unknown, expired or used up), so a rejected request never costs a use.

use crate::services::Services;
use crate::settings::RegistrationPolicy;
use oauth2_core::client::Client;
use oauth2_core::events::EventKind;
use oauth2_core::ports::{InitialAccessToken, Storage};
use oauth2_core::registration::{ClientMetadata, UpdateRequest, bearer_token};
use oauth2_core::secret::{hash_secret, new_secret, random_token, verify_secret};
use oauth2_core::{ErrorCode, OAuthError, SecureRandom, UnixTime};
use serde_json::json;

/// A registered client as its owner sees it: what the registration response (RFC 7591 §3.2.1)
/// and the client information response (RFC 7592 §3) are made of.
#[derive(Debug, Clone)]
pub struct ClientInformation {
    pub client: Client,
    /// Present only when just issued (a registration, or an update that made the client
    /// confidential): it is stored hashed and cannot be shown again.
    pub client_secret: Option<String>,
    /// The registration access token, as issued or as presented (only its hash is stored).
    pub registration_access_token: String,
}

/// The one answer to every failed RFC 7592 authentication: it does not tell an unknown client
/// from a wrong token.
fn bad_registration_token() -> OAuthError {
    OAuthError::invalid_token("the registration access token is not valid for this client")
}

/// A client built from validated metadata. Operator-only flags (`skip_consent`, `admin`) are
/// never set here; an update keeps whatever the operator decided.
fn client_from(
    client_id: String,
    metadata: ClientMetadata,
    secret_hash: Option<String>,
    registration_token_hash: Option<String>,
    created_at: UnixTime,
    now: UnixTime,
) -> Client {
    Client {
        // Without a client_name the consent page shows the id: nothing the client did not say.
        name: metadata.client_name.unwrap_or_else(|| client_id.clone()),
        client_id,
        secret_hash,
        redirect_uris: metadata.redirect_uris,
        grant_types: metadata.grant_types,
        scope: metadata.scope,
        auth_method: metadata.auth_method,
        skip_consent: false,
        post_logout_redirect_uris: metadata.post_logout_redirect_uris,
        metadata: metadata.informational,
        registration_token_hash,
        admin: false,
        created_at,
        updated_at: now,
    }
}

impl Services {
    /// `POST /clients/register` (RFC 7591 §3), under the configured registration policy.
    #[tracing::instrument(skip_all, fields(client_id))]
    pub async fn register_client(
        &self,
        authorization: Option<&[u8]>,
        body: &[u8],
        now: UnixTime,
    ) -> Result<ClientInformation, OAuthError> {
        let initial_token = match self.settings.registration_policy {
            RegistrationPolicy::Disabled => {
                return Err(OAuthError::new(
                    ErrorCode::AccessDenied,
                    "dynamic client registration is disabled on this server",
                ));
            }
            RegistrationPolicy::Open => None,
            RegistrationPolicy::Token => Some(bearer_token(authorization).ok_or_else(|| {
                OAuthError::invalid_token(
                    "registration needs an initial access token (Authorization: Bearer)",
                )
            })?),
        };
        let metadata = ClientMetadata::parse(body)?;
        if let Some(token) = initial_token
            && !self
                .store
                .use_initial_token(&hash_secret(token), now)
                .await?
        {
            self.emit(
                crate::events::EventDraft::new(EventKind::TokenRefused)
                    .detail(json!({ "endpoint": "registration", "error": "invalid_token" })),
            );
            return Err(OAuthError::invalid_token(
                "the initial access token is unknown, expired or used up",
            ));
        }
        let client_id = random_token(&self.rng, 16)?;
        tracing::Span::current().record("client_id", client_id.as_str());
        let secret = if metadata.auth_method.is_confidential() {
            Some(new_secret(&self.rng)?)
        } else {
            None
        };
        let registration_access_token = new_secret(&self.rng)?;
        let client = client_from(
            client_id,
            metadata,
            secret.as_deref().map(hash_secret),
            Some(hash_secret(&registration_access_token)),
            now,
            now,
        );
        self.store.create_client(&client).await?;
        tracing::info!("registered a client");
        self.emit(registration_event(
            EventKind::ClientRegistered,
            &client.client_id,
            json!({ "name": client.name, "public": client.is_public() }),
        ));
        Ok(ClientInformation {
            client,
            client_secret: secret,
            registration_access_token,
        })
    }

    /// The client named in the path, if the Bearer token is its registration access token.
    /// Clients made by an operator have none and cannot be managed this way.
    async fn registered_client(
        &self,
        client_id: &str,
        authorization: Option<&[u8]>,
    ) -> Result<(Client, String), OAuthError> {
        let token = bearer_token(authorization).ok_or_else(|| {
            OAuthError::invalid_token(
                "a registration access token is required (Authorization: Bearer)",
            )
        })?;
        let client = self
            .store
            .get_client(client_id)
            .await?
            .ok_or_else(bad_registration_token)?;
        // verify_secret compares the hashes in constant time.
        let valid = client
            .registration_token_hash
            .as_deref()
            .is_some_and(|hash| verify_secret(token, hash));
        if !valid {
            self.emit(registration_event(
                EventKind::TokenRefused,
                client_id,
                json!({ "endpoint": "registration", "error": "invalid_token" }),
            ));
            return Err(bad_registration_token());
        }
        Ok((client, token.to_owned()))
    }

    /// `GET /clients/register/{client_id}` (RFC 7592 §2.1).
    #[tracing::instrument(skip_all, fields(client_id = client_id))]
    pub async fn read_registration(
        &self,
        client_id: &str,
        authorization: Option<&[u8]>,
    ) -> Result<ClientInformation, OAuthError> {
        let (client, token) = self.registered_client(client_id, authorization).await?;
        Ok(ClientInformation {
            client,
            client_secret: None,
            registration_access_token: token,
        })
    }

    /// `PUT /clients/register/{client_id}` (RFC 7592 §2.2): the metadata is replaced as a whole.
    /// The secret is kept while the client stays confidential, dropped if it becomes public, and
    /// issued (and shown this once) if it becomes confidential.
    #[tracing::instrument(skip_all, fields(client_id = client_id))]
    pub async fn update_registration(
        &self,
        client_id: &str,
        authorization: Option<&[u8]>,
        body: &[u8],
        now: UnixTime,
    ) -> Result<ClientInformation, OAuthError> {
        let (current, token) = self.registered_client(client_id, authorization).await?;
        let update = UpdateRequest::parse(body, client_id)?;
        if let Some(presented) = &update.client_secret {
            let matches = current
                .secret_hash
                .as_deref()
                .is_some_and(|hash| verify_secret(presented, hash));
            if !matches {
                return Err(OAuthError::new(
                    ErrorCode::InvalidClientMetadata,
                    "client_secret does not match the client's current secret",
                ));
            }
        }
        let (secret_hash, new_secret_value) = match (
            update.metadata.auth_method.is_confidential(),
            current.secret_hash.clone(),
        ) {
            (true, Some(hash)) => (Some(hash), None),
            (true, None) => {
                let secret = new_secret(&self.rng)?;
                (Some(hash_secret(&secret)), Some(secret))
            }
            (false, _) => (None, None),
        };
        let client = Client {
            skip_consent: current.skip_consent,
            admin: current.admin,
            ..client_from(
                current.client_id.clone(),
                update.metadata,
                secret_hash,
                current.registration_token_hash.clone(),
                current.created_at,
                now,
            )
        };
        let updated = self.store.update_client(&client).await?;
        self.clients.invalidate(client_id);
        if !updated {
            // Deleted in the meantime.
            return Err(bad_registration_token());
        }
        self.emit(registration_event(
            EventKind::ClientUpdated,
            client_id,
            json!({ "via": "registration", "secret_rotated": new_secret_value.is_some() }),
        ));
        Ok(ClientInformation {
            client,
            client_secret: new_secret_value,
            registration_access_token: token,
        })
    }

    /// `DELETE /clients/register/{client_id}` (RFC 7592 §2.3): the client and everything issued
    /// to it.
    #[tracing::instrument(skip_all, fields(client_id = client_id))]
    pub async fn delete_registration(
        &self,
        client_id: &str,
        authorization: Option<&[u8]>,
    ) -> Result<(), OAuthError> {
        self.registered_client(client_id, authorization).await?;
        let deleted = self.store.delete_client(client_id).await?;
        self.clients.invalidate(client_id);
        if !deleted {
            return Err(bad_registration_token());
        }
        tracing::info!("deleted a registered client");
        self.emit(registration_event(
            EventKind::ClientDeleted,
            client_id,
            json!({ "via": "registration" }),
        ));
        Ok(())
    }
}

/// A change a client made to its own registration: the client is the actor.
fn registration_event(
    kind: EventKind,
    client_id: &str,
    detail: serde_json::Value,
) -> crate::events::EventDraft {
    crate::events::EventDraft::new(kind)
        .actor(client_id)
        .client(client_id)
        .subject(client_id)
        .detail(detail)
}

/// What an operator asks for when issuing an initial access token.
#[derive(Debug, Clone, Default)]
pub struct NewInitialToken {
    pub description: String,
    /// Seconds from now; `None`: never expires.
    pub expires_in: Option<i64>,
    /// `None`: any number of registrations.
    pub max_uses: Option<u32>,
}

/// Issues an initial access token (RFC 7591 §3): returns its value, shown this once, and the
/// stored record, which holds only its hash.
pub async fn create_initial_token(
    store: &dyn Storage,
    rng: &dyn SecureRandom,
    now: UnixTime,
    new: NewInitialToken,
) -> Result<(String, InitialAccessToken), OAuthError> {
    let description = new.description.trim();
    if description.chars().count() > 200 || description.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request(
            "the description must be at most 200 characters, none of them control characters",
        ));
    }
    let expires_at = match new.expires_in {
        None => None,
        Some(secs) if secs > 0 => Some(now.saturating_add(secs)),
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "expires_in must be a positive number of seconds",
            ));
        }
    };
    let token = new_secret(rng)?;
    let record = InitialAccessToken {
        token_hash: hash_secret(&token),
        description: description.to_owned(),
        created_at: now,
        expires_at,
        max_uses: new.max_uses,
        uses: 0,
    };
    store.create_initial_token(&record).await?;
    Ok((token, record))
}

/// Deletes the one initial access token whose hash is `hash_or_prefix` or starts with it (at
/// least 6 characters, so that a slip of the keyboard cannot match everything).
pub async fn delete_initial_token(
    store: &dyn Storage,
    hash_or_prefix: &str,
) -> Result<InitialAccessToken, OAuthError> {
    if hash_or_prefix.chars().count() < 6 {
        return Err(OAuthError::invalid_request(
            "give the token's hash or at least its first 6 characters",
        ));
    }
    let tokens = store.list_initial_tokens().await?;
    let mut matching = tokens
        .into_iter()
        .filter(|t| t.token_hash.starts_with(hash_or_prefix));
    let (Some(token), None) = (matching.next(), matching.next()) else {
        return Err(OAuthError::invalid_request(format!(
            "'{hash_or_prefix}' does not name exactly one initial access token"
        )));
    };
    if !store.delete_initial_token(&token.token_hash).await? {
        return Err(OAuthError::invalid_request(format!(
            "'{hash_or_prefix}' does not name exactly one initial access token"
        )));
    }
    Ok(token)
}
