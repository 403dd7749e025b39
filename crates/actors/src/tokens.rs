//! Token operations: the token endpoint (RFC 6749 §3.2), introspection (RFC 7662) and
//! revocation (RFC 7009).
//!
//! Access tokens are self-contained JWTs (RFC 9068). Issuing one writes nothing for
//! client_credentials: no database round trip sits on the hot path. Revocation puts the token's
//! `jti` on a deny list in the database until the token would have expired anyway, and
//! introspection checks that list, so a revoked token is inactive at once on every instance.

use crate::events::EventDraft;
use crate::grants::Issued;
use crate::services::Services;
use oauth2_core::client::{Client, GrantType};
use oauth2_core::error::ErrorCode;
use oauth2_core::events::EventKind;
use oauth2_core::form::Form;
use oauth2_core::jose::{looks_like_jwt, peek_header};
use oauth2_core::scope::grant_scope;
use oauth2_core::secret::{hash_secret, random_token};
use oauth2_core::token::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, AccessTokenGrant, Introspection, TokenResponse,
    TokenTypeHint, is_live,
};
use oauth2_core::{OAuthError, UnixTime};
use serde_json::json;

/// The client a request names, authenticated or not: for the event of a refusal.
pub(crate) fn claimed_client(form: &Form, authorization: Option<&[u8]>) -> Option<String> {
    oauth2_core::client_auth::extract(authorization, form)
        .ok()
        .map(|c| c.client_id().to_owned())
        .filter(|c| c.len() <= 255)
}

impl Services {
    /// `POST /oauth/token`.
    #[tracing::instrument(skip_all, fields(grant_type))]
    pub async fn token(
        &self,
        form: Form,
        authorization: Option<Vec<u8>>,
        address: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let result = self
            .token_inner(&form, authorization.as_deref(), address)
            .await;
        let grant_type = || form.get("grant_type").filter(|g| g.len() <= 64);
        match &result {
            Ok((issued, client)) if self.events.wants(EventKind::TokenIssued) => {
                let client_id = client.client_id.as_str();
                let mut draft = EventDraft::new(EventKind::TokenIssued)
                    .actor(issued.user_id.as_deref().unwrap_or(client_id))
                    .client(client_id)
                    .detail(json!({
                        "grant_type": grant_type(),
                        "scope": issued.response.scope,
                        "refresh_token": issued.response.refresh_token.is_some(),
                        "id_token": issued.response.id_token.is_some(),
                    }));
                if let Some(u) = &issued.user_id {
                    draft = draft.user(u.as_str());
                }
                self.emit(draft);
            }
            Err(e) if self.events.wants(EventKind::TokenRefused) => {
                // The client as claimed: authentication may be what failed.
                let claimed = claimed_client(&form, authorization.as_deref());
                let mut draft = EventDraft::new(EventKind::TokenRefused).detail(json!({
                    "endpoint": "token",
                    "grant_type": grant_type(),
                    "error": e.code.as_str(),
                }));
                if let Some(c) = claimed {
                    draft = draft.actor(c.as_str()).client(c);
                }
                self.emit(draft);
            }
            _ => {}
        }
        result.map(|(issued, _)| issued.response)
    }

    /// The token request itself: what was issued, and to which client.
    async fn token_inner(
        &self,
        form: &Form,
        authorization: Option<&[u8]>,
        address: Option<String>,
    ) -> Result<(Issued, std::sync::Arc<Client>), OAuthError> {
        let grant_type = form.require("grant_type")?;
        tracing::Span::current().record("grant_type", grant_type);
        let grant: GrantType = grant_type.parse()?;
        if !self.settings.grant_types.contains(&grant) {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "the grant type is not enabled on this server",
            ));
        }
        let (client, _) = self.authenticate_client(authorization, form).await?;
        if !client.allows_grant(grant) {
            return Err(OAuthError::unauthorized_client(format!(
                "the client is not registered for the {grant} grant"
            )));
        }
        let now = crate::now();
        let issued = match grant {
            GrantType::ClientCredentials => {
                self.client_credentials(&client, form, now)
                    .map(|response| Issued {
                        response,
                        user_id: None,
                    })
            }
            GrantType::AuthorizationCode => self.authorization_code_grant(&client, form, now).await,
            GrantType::RefreshToken => self.refresh_token_grant(&client, form, now).await,
            GrantType::Password => {
                self.password_grant(&client, form, address.as_deref(), now)
                    .await
            }
        };
        if issued.is_ok() {
            let kind = if client.is_public() {
                "public"
            } else {
                "confidential"
            };
            metrics::counter!("oauth2_tokens_issued_total", "grant_type" => grant.as_str(), "client_kind" => kind)
                .increment(1);
            self.activity.token_issued(grant, now);
        }
        issued.map(|i| (i, client))
    }

    /// RFC 6749 §4.4. Only confidential clients get here (public clients cannot register it).
    fn client_credentials(
        &self,
        client: &Client,
        form: &Form,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        if client.is_public() {
            return Err(OAuthError::unauthorized_client(
                "public clients cannot use client_credentials",
            ));
        }
        // The client is the principal: the admin scope needs an admin client.
        let scope = grant_scope(form.get("scope"), &client.scope, client.admin)?;
        let access_token = self.sign_access_token(&AccessTokenGrant {
            issuer: &self.settings.issuer,
            audience: &self.settings.audience,
            subject: &client.client_id,
            client_id: &client.client_id,
            scope: &scope,
            jti: random_token(&self.rng, 16)?,
            now,
            lifetime: self.settings.access_token_ttl,
        })?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: self.settings.access_token_ttl,
            scope: scope.to_string(),
            refresh_token: None,
            id_token: None,
        })
    }

    pub(crate) fn sign_access_token(
        &self,
        grant: &AccessTokenGrant<'_>,
    ) -> Result<String, OAuthError> {
        let keys = self.keys.current();
        let key = keys
            .signing_key(grant.now)
            .ok_or_else(|| OAuthError::server_error("no signing key is active"))?;
        key.sign_jwt(ACCESS_TOKEN_TYP, &grant.claims())
            .map_err(OAuthError::server_error)
    }

    /// Verifies one of our JWT access tokens: signature, `typ`, issuer, expiry. Not the deny list.
    pub(crate) fn verify_access_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Option<AccessTokenClaims> {
        if !looks_like_jwt(token) {
            return None;
        }
        let header = peek_header(token).ok()?;
        let keys = self.keys.current();
        let key = keys.verifying_key(header.kid.as_deref()?)?;
        let (header, claims) = key.verify::<AccessTokenClaims>(token).ok()?;
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return None;
        }
        is_live(&claims, &self.settings.issuer, now).then_some(claims)
    }

    /// `POST /oauth/introspect`. Any authenticated confidential client (a resource server) may
    /// introspect; public clients cannot authenticate, so they cannot.
    #[tracing::instrument(skip_all)]
    pub async fn introspect(
        &self,
        form: &Form,
        authorization: Option<&[u8]>,
    ) -> Result<Introspection, OAuthError> {
        let (client, _) = self.authenticate_client(authorization, form).await?;
        if client.is_public() {
            return Err(OAuthError::invalid_client(
                "introspection needs an authenticated confidential client",
            ));
        }
        let token = form.require("token")?;
        let hint = TokenTypeHint::parse(form.get("token_type_hint"));
        let now = crate::now();
        if hint != Some(TokenTypeHint::RefreshToken)
            && let Some(claims) = self.verify_access_token(token, now)
        {
            if self.deny_list.is_revoked(&self.store, &claims.jti).await? {
                return Ok(Introspection::inactive());
            }
            // A deleted client's tokens die with it (a cache hit, normally).
            if self
                .clients
                .get(self.store.as_ref(), &claims.client_id)
                .await?
                .is_none()
            {
                return Ok(Introspection::inactive());
            }
            return Ok(Introspection::from_access_token(claims));
        }
        if looks_like_jwt(token) {
            return Ok(Introspection::inactive());
        }
        let Some(rt) = self.store.get_refresh_token(&hash_secret(token)).await? else {
            return Ok(Introspection::inactive());
        };
        if rt.rotated_at.is_some() || rt.revoked_at.is_some() || rt.expires_at <= now {
            return Ok(Introspection::inactive());
        }
        Ok(Introspection {
            active: true,
            scope: Some(rt.scope.to_string()),
            client_id: Some(rt.client_id),
            sub: rt.user_id,
            exp: Some(rt.expires_at),
            iat: Some(rt.created_at),
            iss: Some(self.settings.issuer.clone()),
            ..Introspection::default()
        })
    }

    /// `POST /oauth/revoke`. A client may revoke only its own tokens; an unknown, expired or
    /// malformed token is not an error (RFC 7009 §2.2).
    #[tracing::instrument(skip_all)]
    pub async fn revoke(
        &self,
        form: &Form,
        authorization: Option<&[u8]>,
    ) -> Result<(), OAuthError> {
        let (client, _) = self.authenticate_client(authorization, form).await?;
        let token = form.require("token")?;
        let now = crate::now();
        let not_yours = || {
            OAuthError::unauthorized_client("the token was not issued to the authenticated client")
        };
        if let Some(claims) = self.verify_access_token(token, now) {
            if claims.client_id != client.client_id {
                return Err(not_yours());
            }
            self.store
                .revoke_access_token(&claims.jti, claims.exp, now)
                .await?;
            tracing::info!(jti = %claims.jti, "access token revoked");
            let mut draft = EventDraft::new(EventKind::TokenRevoked)
                .actor(client.client_id.as_str())
                .client(client.client_id.as_str())
                .subject(claims.jti.as_str())
                .detail(json!({ "token_type": "access_token", "by": "client" }));
            if claims.sub != claims.client_id {
                draft = draft.user(claims.sub.as_str());
            }
            self.emit(draft);
            return Ok(());
        }
        if looks_like_jwt(token) {
            return Ok(());
        }
        let Some(rt) = self.store.get_refresh_token(&hash_secret(token)).await? else {
            return Ok(());
        };
        if rt.client_id != client.client_id {
            return Err(not_yours());
        }
        // Revoking a refresh token revokes its whole grant: the refresh family and the access
        // tokens issued from it (RFC 7009 §2.1 "SHOULD").
        self.store.revoke_refresh_family(&rt.family_id, now).await?;
        self.store
            .revoke_family_access_tokens(&rt.family_id, now)
            .await?;
        tracing::info!(family = %rt.family_id, "refresh token family revoked");
        let mut draft = EventDraft::new(EventKind::TokenRevoked)
            .actor(client.client_id.as_str())
            .client(client.client_id.as_str())
            .subject(rt.family_id.as_str())
            .detail(json!({ "token_type": "refresh_token", "by": "client" }));
        if let Some(u) = &rt.user_id {
            draft = draft.user(u.as_str());
        }
        self.emit(draft);
        Ok(())
    }
}
