//! A signed-in user's own account: the applications they have authorized, and taking that
//! authorization back.

use crate::services::Services;
use oauth2_core::ports::{Consent, TokenOwner, User};
use oauth2_core::{OAuthError, UnixTime};
use serde_json::json;

/// An application the user has consented to.
#[derive(Debug, Clone)]
pub struct Application {
    pub consent: Consent,
    /// The client's name as registered.
    pub client_name: String,
}

impl Services {
    /// The user's consents, with the names of their clients, in client order.
    pub async fn applications(&self, user: &User) -> Result<Vec<Application>, OAuthError> {
        let consents = self.store.list_consents(&user.id).await?;
        let mut out = Vec::with_capacity(consents.len());
        for consent in consents {
            // A consent outlives nothing: deleting a client deletes its consents. A client gone
            // in between is skipped.
            if let Some(client) = self
                .clients
                .get(self.store.as_ref(), &consent.client_id)
                .await?
            {
                out.push(Application {
                    client_name: client.name.clone(),
                    consent,
                });
            }
        }
        Ok(out)
    }

    /// Takes back the user's authorization of a client: the consent goes, and so do the token
    /// families the user holds at that client (refresh tokens and their access tokens), so the
    /// client must ask again. False if there was nothing to take back.
    #[tracing::instrument(skip_all, fields(client_id = client_id))]
    pub async fn revoke_application(
        &self,
        user: &User,
        client_id: &str,
        now: UnixTime,
    ) -> Result<bool, OAuthError> {
        if client_id.is_empty() || client_id.len() > 255 {
            return Ok(false);
        }
        let had_consent = self.store.delete_consent(&user.id, client_id).await?;
        let families = self
            .store
            .token_families(
                &TokenOwner::UserAtClient {
                    user_id: user.id.clone(),
                    client_id: client_id.to_owned(),
                },
                now,
            )
            .await?;
        for family in &families {
            self.revoke_family(family, now).await?;
        }
        if !had_consent && families.is_empty() {
            return Ok(false);
        }
        self.emit(
            crate::events::EventDraft::new(oauth2_core::events::EventKind::ConsentRevoked)
                .actor(user.id.as_str())
                .user(user.id.as_str())
                .client(client_id)
                .subject(client_id)
                .detail(json!({ "revoked_families": families.len() })),
        );
        self.events.flush().await;
        Ok(true)
    }
}
