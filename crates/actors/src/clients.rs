//! Client operations and the in-memory client cache.
//!
//! The token endpoint looks a client up on every request, so clients are cached for a few seconds
//! (`client_cache_ttl_secs`). A new client is seen at once (misses are not cached); a changed or
//! deleted one within the cache lifetime, on every instance, with no coordination needed.

use oauth2_core::client::{AuthMethod, Client, GrantType, RedirectUri, validate_client_metadata};
use oauth2_core::ports::Storage;
use oauth2_core::scope::{ADMIN_SCOPE, Scope};
use oauth2_core::secret::{hash_secret, new_secret, random_token};
use oauth2_core::{OAuthError, SecureRandom, UnixTime};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Bound on cached clients; past it the cache starts over rather than grow without limit.
const MAX_CACHED: usize = 50_000;

pub struct ClientCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Arc<Client>, Instant)>>,
    /// Clients being re-read right now. While one request re-reads an expired entry, the others
    /// keep using it (for at most one more lifetime) instead of all asking the database at once:
    /// at the moment a popular client's entry expires under load, that herd would otherwise
    /// exhaust the connection pool.
    refreshing: Mutex<HashSet<String>>,
}

impl ClientCache {
    pub fn new(ttl: Duration) -> ClientCache {
        ClientCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
            refreshing: Mutex::new(HashSet::new()),
        }
    }

    pub async fn get(
        &self,
        store: &dyn Storage,
        client_id: &str,
    ) -> Result<Option<Arc<Client>>, OAuthError> {
        let cached = self
            .entries
            .read()
            .ok()
            .and_then(|e| e.get(client_id).map(|(c, at)| (c.clone(), at.elapsed())));
        let mut refresher = false;
        if let Some((client, age)) = cached {
            if age < self.ttl {
                return Ok(Some(client));
            }
            if age < self.ttl * 2 {
                refresher = self
                    .refreshing
                    .lock()
                    .is_ok_and(|mut r| r.insert(client_id.to_owned()));
                if !refresher {
                    return Ok(Some(client));
                }
            }
        }
        let read = store.get_client(client_id).await;
        if refresher && let Ok(mut r) = self.refreshing.lock() {
            r.remove(client_id);
        }
        let Some(client) = read? else {
            self.invalidate(client_id);
            return Ok(None);
        };
        let client = Arc::new(client);
        if !self.ttl.is_zero()
            && let Ok(mut entries) = self.entries.write()
        {
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
            entries.insert(client_id.to_owned(), (client.clone(), Instant::now()));
        }
        Ok(Some(client))
    }

    pub fn invalidate(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(client_id);
        }
    }
}

/// What an operator or a registration asks for.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scope: String,
    pub auth_method: AuthMethod,
    pub skip_consent: bool,
    pub post_logout_redirect_uris: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// May be granted the `admin` scope through client_credentials (which is then added to
    /// its scope).
    pub admin: bool,
}

impl NewClient {
    /// A client with these essentials and nothing else.
    pub fn new(
        name: impl Into<String>,
        grant_types: Vec<GrantType>,
        scope: impl Into<String>,
        auth_method: AuthMethod,
        redirect_uris: Vec<String>,
    ) -> NewClient {
        NewClient {
            name: name.into(),
            redirect_uris,
            grant_types,
            scope: scope.into(),
            auth_method,
            skip_consent: false,
            post_logout_redirect_uris: vec![],
            metadata: serde_json::Map::new(),
            admin: false,
        }
    }
}

/// A created client and, for confidential clients, its secret: shown this once, stored only hashed.
#[derive(Debug, Clone)]
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<String>,
}

/// The fields of a [`NewClient`], validated: what a stored client is made of.
#[derive(Debug, Clone)]
pub struct ClientFields {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    /// Sorted, without duplicates.
    pub grant_types: Vec<GrantType>,
    /// An admin client's scope always includes `admin`: the flag is what lets it be granted.
    pub scope: Scope,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
}

impl NewClient {
    /// Checks the name, the URIs, the scope and that the grant types fit the auth method.
    pub fn validate(&self) -> Result<ClientFields, OAuthError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(OAuthError::new(
                oauth2_core::ErrorCode::InvalidClientMetadata,
                "client name must be 1 to 200 characters",
            ));
        }
        let redirect_uris = self
            .redirect_uris
            .iter()
            .map(|u| RedirectUri::parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        let post_logout_redirect_uris = self
            .post_logout_redirect_uris
            .iter()
            .map(|u| RedirectUri::parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        let mut scope = self.scope.clone();
        if self.admin && !Scope::parse(&scope).is_ok_and(|s| s.contains(ADMIN_SCOPE)) {
            scope = format!("{scope} {ADMIN_SCOPE}");
        }
        let scope = Scope::parse(&scope).map_err(|e| {
            OAuthError::new(oauth2_core::ErrorCode::InvalidClientMetadata, e.description)
        })?;
        let mut grant_types = self.grant_types.clone();
        grant_types.sort();
        grant_types.dedup();
        validate_client_metadata(&grant_types, self.auth_method, &redirect_uris)?;
        Ok(ClientFields {
            name: name.to_owned(),
            redirect_uris,
            grant_types,
            scope,
            post_logout_redirect_uris,
        })
    }
}

pub async fn create_client(
    store: &dyn Storage,
    rng: &dyn SecureRandom,
    now: UnixTime,
    new: NewClient,
) -> Result<CreatedClient, OAuthError> {
    let fields = new.validate()?;
    let secret = if new.auth_method.is_confidential() {
        Some(new_secret(rng)?)
    } else {
        None
    };
    let client = Client {
        client_id: random_token(rng, 16)?,
        secret_hash: secret.as_deref().map(hash_secret),
        name: fields.name,
        redirect_uris: fields.redirect_uris,
        grant_types: fields.grant_types,
        scope: fields.scope,
        auth_method: new.auth_method,
        skip_consent: new.skip_consent,
        post_logout_redirect_uris: fields.post_logout_redirect_uris,
        metadata: new.metadata,
        registration_token_hash: None,
        admin: new.admin,
        created_at: now,
        updated_at: now,
    };
    store.create_client(&client).await?;
    Ok(CreatedClient { client, secret })
}
