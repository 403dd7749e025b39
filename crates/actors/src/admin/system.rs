//! The server's own things through the admin API: signing keys, the initial access tokens of
//! dynamic registration, and the event log.

use super::{Admin, AdminOp, Page, parse_body, path_id};
use crate::keys::{self, KeyError};
use crate::registration::{NewInitialToken, create_initial_token};
use crate::services::Services;
use oauth2_core::events::EventKind;
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{Event, InitialAccessToken, StoredKey};
use oauth2_core::{ErrorCode, OAuthError, UnixTime};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Where a signing key is in its life (see [`crate::keys::rotate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Published, not signing yet.
    Pending,
    /// Signing (the most recently activated of these signs).
    Active,
    /// Replaced: published until the tokens it signed have expired.
    Retiring,
    /// Neither used nor published any more.
    Retired,
}

impl KeyStatus {
    pub fn of(k: &StoredKey, now: UnixTime) -> KeyStatus {
        if k.retire_at.is_some_and(|r| r <= now) {
            KeyStatus::Retired
        } else if k.activate_at > now {
            KeyStatus::Pending
        } else if k.retire_at.is_some() {
            KeyStatus::Retiring
        } else {
            KeyStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Pending => "pending",
            KeyStatus::Active => "active",
            KeyStatus::Retiring => "retiring",
            KeyStatus::Retired => "retired",
        }
    }
}

/// A signing key as the admin API shows it: never its private part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub algorithm: Algorithm,
    pub status: KeyStatus,
    pub created_at: UnixTime,
    pub activate_at: UnixTime,
    pub retire_at: Option<UnixTime>,
}

impl KeyInfo {
    fn of(k: &StoredKey, now: UnixTime) -> KeyInfo {
        KeyInfo {
            kid: k.kid.clone(),
            algorithm: k.algorithm,
            status: KeyStatus::of(k, now),
            created_at: k.created_at,
            activate_at: k.activate_at,
            retire_at: k.retire_at,
        }
    }
}

/// `GET /admin/api/keys`, oldest first.
pub struct ListKeys;

impl AdminOp for ListKeys {
    type Output = Vec<KeyInfo>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        now: UnixTime,
    ) -> Result<Vec<KeyInfo>, OAuthError> {
        let keys = svc.store.list_keys().await?;
        Ok(keys.iter().map(|k| KeyInfo::of(k, now)).collect())
    }
}

/// `POST /admin/api/keys/rotate`: a new key, published at once (this instance reloads its keys
/// now, the others within their reload period) and signing after the activation delay.
pub struct RotateKey;

impl AdminOp for RotateKey {
    type Output = KeyInfo;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<KeyInfo, OAuthError> {
        let key = keys::rotate(svc.store.as_ref(), &svc.settings, &svc.rng, now)
            .await
            .map_err(|e| match e {
                KeyError::Jose(_) => OAuthError::invalid_request(
                    "HS256 signs with the shared OAUTH2_JWT_SECRET: rotate it by changing the secret",
                ),
                other => other.into(),
            })?;
        svc.keys
            .reload(svc.store.as_ref(), &svc.settings, now)
            .await?;
        let info = KeyInfo::of(&key, now);
        svc.record(
            &admin,
            EventKind::KeyRotated,
            &info.kid,
            json!({ "algorithm": info.algorithm.as_str(), "activate_at": info.activate_at }),
            now,
        )
        .await?;
        Ok(info)
    }
}

/// `GET /admin/api/registration-tokens`: hashes and limits, never the values.
pub struct ListRegistrationTokens;

impl AdminOp for ListRegistrationTokens {
    type Output = Vec<InitialAccessToken>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        _: UnixTime,
    ) -> Result<Vec<InitialAccessToken>, OAuthError> {
        Ok(svc.store.list_initial_tokens().await?)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    #[serde(default)]
    description: String,
    /// Seconds; default: never expires.
    #[serde(default)]
    expires_in: Option<i64>,
    /// Default: any number of registrations.
    #[serde(default)]
    max_uses: Option<u32>,
}

/// `POST /admin/api/registration-tokens`: the token's value, shown this once, and its record.
pub struct CreateRegistrationToken {
    pub body: Vec<u8>,
}

impl AdminOp for CreateRegistrationToken {
    type Output = (String, InitialAccessToken);
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<(String, InitialAccessToken), OAuthError> {
        let b: NewTokenBody = if self.body.is_empty() {
            NewTokenBody::default()
        } else {
            parse_body(&self.body, ErrorCode::InvalidRequest)?
        };
        if b.max_uses == Some(0) {
            return Err(OAuthError::invalid_request("max_uses must be at least 1"));
        }
        let (token, record) = create_initial_token(
            svc.store.as_ref(),
            &svc.rng,
            now,
            NewInitialToken {
                description: b.description,
                expires_in: b.expires_in,
                max_uses: b.max_uses,
            },
        )
        .await?;
        svc.record(
            &admin,
            EventKind::RegistrationTokenCreated,
            &record.token_hash,
            json!({
                "description": record.description,
                "expires_at": record.expires_at,
                "max_uses": record.max_uses,
            }),
            now,
        )
        .await?;
        Ok((token, record))
    }
}

/// `DELETE /admin/api/registration-tokens/{id}`; the id is the token's hash, as listed.
pub struct DeleteRegistrationToken(pub String);

impl AdminOp for DeleteRegistrationToken {
    type Output = ();
    async fn run(self, svc: Arc<Services>, admin: Admin, now: UnixTime) -> Result<(), OAuthError> {
        path_id(&self.0, "registration token")?;
        if !svc.store.delete_initial_token(&self.0).await? {
            return Err(OAuthError::not_found("no such registration token"));
        }
        svc.record(
            &admin,
            EventKind::RegistrationTokenDeleted,
            &self.0,
            json!({}),
            now,
        )
        .await
    }
}

/// `GET /admin/api/events?limit=&after=`: newest first; `after` is the id of the last event of
/// the previous page.
pub struct ListEvents {
    pub after: Option<i64>,
    pub limit: u32,
}

impl AdminOp for ListEvents {
    type Output = Page<Event>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        _: UnixTime,
    ) -> Result<Page<Event>, OAuthError> {
        let events = svc.store.list_events(self.after, self.limit).await?;
        Ok(Page::of(events, self.limit, |e| e.id.to_string()))
    }
}

/// `GET /admin/api/events/recent?limit=`: this instance's memory ring, newest first.
pub struct RecentEvents {
    pub limit: usize,
}

impl AdminOp for RecentEvents {
    type Output = Vec<oauth2_core::events::Event>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        _: UnixTime,
    ) -> Result<Vec<oauth2_core::events::Event>, OAuthError> {
        Ok(svc.events.recent(self.limit))
    }
}
