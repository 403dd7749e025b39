//! The grants that act for a user: authorization_code (RFC 6749 §4.1.3 with RFC 7636),
//! refresh_token (§6, rotated on every use) and password (§4.3).
//!
//! Every token issued here belongs to a family (one authorization). Replaying a code or a
//! rotated-out refresh token revokes the whole family. Because a replay can race the legitimate
//! redemption, the replayer also leaves a family marker on the deny list, and the issuer checks it
//! after recording its tokens: whichever runs second sees the other.

use crate::events::EventDraft;
use crate::services::Services;
use oauth2_core::client::{Client, GrantType};
use oauth2_core::events::EventKind;
use oauth2_core::form::Form;
use oauth2_core::oidc::{ID_TOKEN_TYP, IdTokenClaims, at_hash};
use oauth2_core::pkce;
use oauth2_core::ports::{AccessTokenRecord, CodeRedemption, RefreshRotation, RefreshToken, User};
use oauth2_core::scope::{Scope, check_admin_scope, client_scope, refresh_scope};
use oauth2_core::secret::{hash_secret, new_secret, random_token};
use oauth2_core::token::{AccessTokenGrant, TokenResponse};
use oauth2_core::{OAuthError, UnixTime};
use serde_json::json;

/// The deny-list entry that marks a revoked family.
fn family_marker(family_id: &str) -> String {
    format!("family:{family_id}")
}

impl Services {
    /// Revokes a family: its refresh tokens, its recorded access tokens, and the marker.
    pub async fn revoke_family(&self, family_id: &str, now: UnixTime) -> Result<(), OAuthError> {
        self.store
            .revoke_access_token(
                &family_marker(family_id),
                now + self
                    .settings
                    .refresh_token_ttl
                    .max(self.settings.access_token_ttl),
                now,
            )
            .await?;
        self.store.revoke_refresh_family(family_id, now).await?;
        self.store
            .revoke_family_access_tokens(family_id, now)
            .await?;
        tracing::warn!(family = family_id, "token family revoked");
        Ok(())
    }

    async fn family_revoked(&self, family_id: &str) -> Result<bool, OAuthError> {
        Ok(self
            .store
            .is_access_token_revoked(&family_marker(family_id))
            .await?)
    }

    /// Signs and records an access token for a user.
    async fn user_access_token(
        &self,
        client: &Client,
        user_id: &str,
        scope: &Scope,
        family_id: &str,
        now: UnixTime,
    ) -> Result<String, OAuthError> {
        let jti = random_token(&self.rng, 16)?;
        let token = self.sign_access_token(&AccessTokenGrant {
            issuer: &self.settings.issuer,
            audience: &self.settings.audience,
            subject: user_id,
            client_id: &client.client_id,
            scope,
            jti: jti.clone(),
            now,
            lifetime: self.settings.access_token_ttl,
        })?;
        self.store
            .record_access_token(&AccessTokenRecord {
                jti,
                family_id: family_id.to_owned(),
                client_id: client.client_id.clone(),
                user_id: Some(user_id.to_owned()),
                scope: scope.clone(),
                expires_at: now + self.settings.access_token_ttl,
                created_at: now,
            })
            .await?;
        Ok(token)
    }

    fn new_refresh_token(
        &self,
        client: &Client,
        user_id: &str,
        scope: &Scope,
        family_id: &str,
        auth_time: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<(String, RefreshToken), OAuthError> {
        let value = new_secret(&self.rng)?;
        let record = RefreshToken {
            token_hash: hash_secret(&value),
            family_id: family_id.to_owned(),
            client_id: client.client_id.clone(),
            user_id: Some(user_id.to_owned()),
            scope: scope.clone(),
            auth_time,
            expires_at: now + self.settings.refresh_token_ttl,
            created_at: now,
            rotated_at: None,
            revoked_at: None,
        };
        Ok((value, record))
    }

    /// Issues the tokens of a new grant (code exchange, password): an access token and, for
    /// clients registered for it, a refresh token.
    #[allow(clippy::too_many_arguments)]
    async fn issue_grant(
        &self,
        client: &Client,
        user_id: &str,
        scope: &Scope,
        family_id: &str,
        auth_time: Option<UnixTime>,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> Result<Issued, OAuthError> {
        let refresh_token = if client.allows_grant(GrantType::RefreshToken) {
            let (value, record) =
                self.new_refresh_token(client, user_id, scope, family_id, auth_time, now)?;
            self.store.insert_refresh_token(&record).await?;
            Some(value)
        } else {
            None
        };
        let access_token = self
            .user_access_token(client, user_id, scope, family_id, now)
            .await?;
        if self.family_revoked(family_id).await? {
            self.revoke_family(family_id, now).await?;
            return Err(OAuthError::invalid_grant("the grant was revoked"));
        }
        let id_token =
            self.id_token(client, user_id, scope, &access_token, auth_time, nonce, now)?;
        Ok(Issued {
            response: TokenResponse {
                access_token,
                token_type: "Bearer".to_owned(),
                expires_in: self.settings.access_token_ttl,
                scope: scope.to_string(),
                refresh_token,
                id_token,
            },
            user_id: Some(user_id.to_owned()),
        })
    }

    /// An ID token (OIDC Core §2) when the grant includes `openid`.
    #[allow(clippy::too_many_arguments)]
    fn id_token(
        &self,
        client: &Client,
        user_id: &str,
        scope: &Scope,
        access_token: &str,
        auth_time: Option<UnixTime>,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> Result<Option<String>, OAuthError> {
        if !scope.contains("openid") {
            return Ok(None);
        }
        let keys = self.keys.current();
        let key = keys
            .signing_key(now)
            .ok_or_else(|| OAuthError::server_error("no signing key is active"))?;
        let claims = IdTokenClaims {
            iss: self.settings.issuer.clone(),
            sub: user_id.to_owned(),
            aud: client.client_id.clone(),
            exp: now + self.settings.access_token_ttl,
            iat: now,
            auth_time,
            nonce: nonce.map(str::to_owned),
            at_hash: Some(at_hash(access_token, key.algorithm())),
            azp: client.client_id.clone(),
        };
        key.sign_jwt(ID_TOKEN_TYP, &claims)
            .map(Some)
            .map_err(OAuthError::server_error)
    }

    async fn enabled_user(&self, user_id: &str) -> Result<User, OAuthError> {
        match self.store.get_user(user_id).await? {
            Some(u) if u.enabled => Ok(u),
            _ => Err(OAuthError::invalid_grant("the user is disabled or gone")),
        }
    }

    /// RFC 6749 §4.1.3 with RFC 7636 §4.6.
    pub(crate) async fn authorization_code_grant(
        &self,
        client: &Client,
        form: &Form,
        now: UnixTime,
    ) -> Result<Issued, OAuthError> {
        let code = form.require("code")?;
        let redeemed = match self.store.redeem_code(&hash_secret(code), now).await? {
            CodeRedemption::Redeemed(c) => c,
            CodeRedemption::AlreadyUsed { family_id, .. } => {
                metrics::counter!("oauth2_code_replay_total").increment(1);
                self.emit(
                    EventDraft::new(EventKind::CodeReplayDetected)
                        .actor(client.client_id.as_str())
                        .client(client.client_id.as_str())
                        .subject(family_id.as_str())
                        .detail(json!({ "family_revoked": true })),
                );
                // RFC 6749 §4.1.2: deny, and revoke what the code was exchanged for.
                self.revoke_family(&family_id, now).await?;
                return Err(OAuthError::invalid_grant(
                    "the authorization code was already used",
                ));
            }
            CodeRedemption::NotFound => {
                return Err(OAuthError::invalid_grant(
                    "the authorization code is invalid",
                ));
            }
        };
        let invalid = || OAuthError::invalid_grant("the authorization code is invalid");
        if redeemed.client_id != client.client_id {
            return Err(invalid());
        }
        if redeemed.expires_at <= now {
            return Err(OAuthError::invalid_grant(
                "the authorization code has expired",
            ));
        }
        // The redirect URI must be the one the code was issued to; it may be left out only
        // where the authorization request could leave it out (a single registered URI).
        match form.get("redirect_uri") {
            Some(uri) if uri == redeemed.redirect_uri => {}
            None if client.redirect_uris.len() == 1
                && client.redirect_uris[0].as_str() == redeemed.redirect_uri => {}
            _ => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
        }
        match (
            redeemed.code_challenge.as_deref(),
            redeemed
                .code_challenge_method
                .as_deref()
                .and_then(pkce::Method::parse),
            form.get("code_verifier"),
        ) {
            (Some(challenge), Some(method), Some(verifier)) => {
                if !pkce::verify(verifier, challenge, method) {
                    return Err(OAuthError::invalid_grant("code_verifier does not match"));
                }
            }
            (Some(_), _, None) => {
                return Err(OAuthError::invalid_grant("code_verifier is required"));
            }
            // A verifier without a challenge is a downgrade attempt (RFC 9700 §4.8.2).
            (None, _, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier sent but no code_challenge was",
                ));
            }
            (Some(_), None, Some(_)) => return Err(invalid()),
            (None, _, None) if client.is_public() => return Err(invalid()),
            (None, _, None) => {}
        }
        let user = self.enabled_user(&redeemed.user_id).await?;
        // The user may have lost the admin role since the code was issued.
        check_admin_scope(&redeemed.scope, user.admin)?;
        self.issue_grant(
            client,
            &redeemed.user_id,
            &redeemed.scope,
            &redeemed.family_id,
            Some(redeemed.auth_time),
            redeemed.nonce.as_deref(),
            now,
        )
        .await
    }

    /// RFC 6749 §6. The refresh token rotates; the new one keeps the family's scope, the access
    /// token gets the (possibly narrower) scope asked for.
    pub(crate) async fn refresh_token_grant(
        &self,
        client: &Client,
        form: &Form,
        now: UnixTime,
    ) -> Result<Issued, OAuthError> {
        let presented = form.require("refresh_token")?;
        let hash = hash_secret(presented);
        let invalid = || OAuthError::invalid_grant("the refresh token is invalid");
        let Some(old) = self.store.get_refresh_token(&hash).await? else {
            return Err(invalid());
        };
        if old.client_id != client.client_id || old.revoked_at.is_some() {
            return Err(invalid());
        }
        if old.rotated_at.is_some() {
            metrics::counter!("oauth2_refresh_token_reuse_total").increment(1);
            self.reuse_detected(client, old.user_id.as_deref(), &old.family_id);
            self.revoke_family(&old.family_id, now).await?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used",
            ));
        }
        if old.expires_at <= now {
            return Err(OAuthError::invalid_grant("the refresh token has expired"));
        }
        let Some(user_id) = old.user_id.clone() else {
            return Err(invalid());
        };
        let user = self.enabled_user(&user_id).await?;
        let scope = refresh_scope(form.get("scope"), &old.scope, user.admin)?;
        let (value, successor) = self.new_refresh_token(
            client,
            &user_id,
            &old.scope,
            &old.family_id,
            old.auth_time,
            now,
        )?;
        match self
            .store
            .rotate_refresh_token(&hash, &successor, now)
            .await?
        {
            RefreshRotation::Rotated(_) => {}
            RefreshRotation::Reused { family_id, .. } => {
                metrics::counter!("oauth2_refresh_token_reuse_total").increment(1);
                self.reuse_detected(client, Some(&user_id), &family_id);
                self.revoke_family(&family_id, now).await?;
                return Err(OAuthError::invalid_grant(
                    "the refresh token was already used",
                ));
            }
            RefreshRotation::Revoked | RefreshRotation::NotFound => return Err(invalid()),
        }
        let access_token = self
            .user_access_token(client, &user_id, &scope, &old.family_id, now)
            .await?;
        if self.family_revoked(&old.family_id).await? {
            self.revoke_family(&old.family_id, now).await?;
            return Err(invalid());
        }
        // OIDC Core §12.2: a refreshed ID token keeps the original auth_time and has no nonce.
        let id_token = self.id_token(
            client,
            &user_id,
            &scope,
            &access_token,
            old.auth_time,
            None,
            now,
        )?;
        Ok(Issued {
            response: TokenResponse {
                access_token,
                token_type: "Bearer".to_owned(),
                expires_in: self.settings.access_token_ttl,
                scope: scope.to_string(),
                refresh_token: Some(value),
                id_token,
            },
            user_id: Some(user_id),
        })
    }

    fn reuse_detected(&self, client: &Client, user_id: Option<&str>, family_id: &str) {
        let mut draft = EventDraft::new(EventKind::RefreshTokenReuseDetected)
            .actor(client.client_id.as_str())
            .client(client.client_id.as_str())
            .subject(family_id)
            .detail(json!({ "family_revoked": true }));
        if let Some(u) = user_id {
            draft = draft.user(u);
        }
        self.emit(draft);
    }

    /// RFC 6749 §4.3, for clients registered for it. Wrong passwords, unknown and disabled users
    /// are all the same `invalid_grant`, and count towards the brute-force limits.
    pub(crate) async fn password_grant(
        &self,
        client: &Client,
        form: &Form,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<Issued, OAuthError> {
        let username = form.require("username")?;
        let password = form.require("password")?;
        // Whether the admin scope may be granted depends on the user, known only after the
        // password check; everything else about the scope is checked before it.
        let scope = client_scope(form.get("scope"), &client.scope)?;
        let user = match self
            .check_password(username, password, address, now, "password_grant")
            .await?
        {
            crate::auth::PasswordCheck::Ok(user) => user,
            crate::auth::PasswordCheck::Throttled => {
                return Err(OAuthError::invalid_grant(
                    "too many failed attempts; try again later",
                ));
            }
            crate::auth::PasswordCheck::Failed => {
                return Err(OAuthError::invalid_grant(
                    "the username or password is wrong",
                ));
            }
        };
        check_admin_scope(&scope, user.admin)?;
        let family_id = random_token(&self.rng, 16)?;
        self.issue_grant(client, &user.id, &scope, &family_id, Some(now), None, now)
            .await
    }
}

/// What a grant issued, and to which user (none for client_credentials).
pub(crate) struct Issued {
    pub response: TokenResponse,
    pub user_id: Option<String>,
}
