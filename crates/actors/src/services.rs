//! The state every actor shares: settings, storage, the key ring and the client cache.

use crate::clients::ClientCache;
use crate::keys::{KeyError, KeyRing};
use crate::settings::Settings;
use oauth2_core::client::Client;
use oauth2_core::client_auth::{self, Credentials};
use oauth2_core::form::Form;
use oauth2_core::ports::Storage;
use oauth2_core::{OAuthError, SystemRandom};
use std::sync::Arc;
use std::time::Duration;

pub struct Services {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Storage>,
    pub keys: KeyRing,
    pub clients: ClientCache,
    pub rng: SystemRandom,
    /// Batched deny-list lookups (introspection's database check).
    pub deny_list: Arc<crate::deny_list::DenyList>,
    /// Key material for cookies (sessions, CSRF), shared by every instance through the database.
    pub cookie_key: Vec<u8>,
    /// Hash compared against when a user does not exist, so both cases cost the same.
    pub(crate) dummy_hash: std::sync::OnceLock<String>,
    /// This instance's tokens issued and token errors per minute (the dashboard's overview).
    pub activity: crate::activity::Activity,
    /// Where events are emitted (see [`crate::events`]).
    pub events: Arc<crate::events::EventBus>,
}

impl Services {
    /// Loads (or on first start creates) the signing keys; the store must be migrated already.
    pub async fn start(
        store: Arc<dyn Storage>,
        settings: Settings,
    ) -> Result<Arc<Services>, KeyError> {
        let rng = SystemRandom::new();
        let now = crate::now();
        let keys = KeyRing::load(store.as_ref(), &settings, &rng, now).await?;
        let mut candidate = vec![0u8; 64];
        oauth2_core::SecureRandom::fill(&rng, &mut candidate).map_err(|_| KeyError::Random)?;
        let cookie_key = store
            .get_or_create_secret("cookie_key", &candidate, now)
            .await?;
        Ok(Arc::new(Services {
            cookie_key,
            deny_list: Arc::default(),
            dummy_hash: std::sync::OnceLock::new(),
            activity: crate::activity::Activity::default(),
            events: Arc::new(crate::events::EventBus::new(settings.events.clone())),
            clients: ClientCache::new(Duration::from_secs(settings.client_cache_ttl_secs)),
            settings: Arc::new(settings),
            store,
            keys,
            rng,
        }))
    }

    /// Authenticates the client of a token, introspection or revocation request (RFC 6749 §2.3).
    #[tracing::instrument(skip_all, fields(client_id))]
    pub async fn authenticate_client(
        &self,
        authorization: Option<&[u8]>,
        form: &Form,
    ) -> Result<(Arc<Client>, Credentials), OAuthError> {
        let creds = client_auth::extract(authorization, form)?;
        tracing::Span::current().record("client_id", creds.client_id());
        let client = self
            .clients
            .get(self.store.as_ref(), creds.client_id())
            .await?
            .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
        client_auth::authenticate(&client, &creds)?;
        Ok((client, creds))
    }

    /// Emits an event (see [`crate::events::EventBus::emit`]).
    pub fn emit(&self, draft: crate::events::EventDraft) {
        self.events.emit(draft);
    }

    /// Re-reads keys from the database; run periodically so keys rotated elsewhere are picked up.
    pub async fn reload_keys(&self) -> Result<(), KeyError> {
        self.keys
            .reload(self.store.as_ref(), &self.settings, crate::now())
            .await
            .map(|_| ())
    }
}
