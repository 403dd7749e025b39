//! OpenID Connect endpoints: UserInfo (OIDC Core §5.3) and RP-initiated logout
//! (OIDC RP-Initiated Logout 1.0).

use crate::auth::SignedIn;
use crate::services::Services;
use oauth2_core::authorize::redirect_with;
use oauth2_core::form::Form;
use oauth2_core::jose::{looks_like_jwt, peek_header};
use oauth2_core::oidc::{IdTokenClaims, userinfo_claims};
use oauth2_core::scope::Scope;
use oauth2_core::{ErrorCode, OAuthError, UnixTime};
use serde_json::{Map, Value};

/// What the end-session endpoint does next.
#[derive(Debug)]
pub enum LogoutOutcome {
    /// Ask the user to confirm; the request's parameters go into the confirmation form.
    Confirm {
        client_name: Option<String>,
        params: Vec<(String, String)>,
    },
    /// Signed out (or was not signed in): go to the client's registered URI, or show a page.
    Done { redirect: Option<String> },
    /// The request is not acceptable; show an error, never redirect.
    Fatal(OAuthError),
}

impl Services {
    /// `GET/POST /oauth/userinfo` with a Bearer access token that carries `openid`.
    #[tracing::instrument(skip_all)]
    pub async fn userinfo(&self, access_token: &str) -> Result<Map<String, Value>, OAuthError> {
        let now = crate::now();
        let invalid = || OAuthError::invalid_token("the access token is invalid or expired");
        let claims = self
            .verify_access_token(access_token, now)
            .ok_or_else(invalid)?;
        if self.store.is_access_token_revoked(&claims.jti).await? {
            return Err(invalid());
        }
        let scope = Scope::parse(&claims.scope).map_err(|_| invalid())?;
        if !scope.contains("openid") {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token does not carry the openid scope",
            ));
        }
        match self.store.get_user(&claims.sub).await? {
            Some(user) if user.enabled => Ok(userinfo_claims(&user, &scope)),
            _ => Err(invalid()),
        }
    }

    /// Reads an ID token this server issued, accepting it after expiry (a hint, not a credential:
    /// OIDC RP-Initiated Logout §2 expects expired hints).
    fn id_token_hint(&self, token: &str) -> Option<IdTokenClaims> {
        if !looks_like_jwt(token) {
            return None;
        }
        let header = peek_header(token).ok()?;
        let keys = self.keys.current();
        let key = keys.verifying_key(header.kid.as_deref()?)?;
        let (_, claims) = key.verify::<IdTokenClaims>(token).ok()?;
        (claims.iss == self.settings.issuer).then_some(claims)
    }

    /// `GET/POST /oauth/logout`. `confirmed`: the user answered the confirmation form.
    #[tracing::instrument(skip_all)]
    pub async fn end_session(
        &self,
        params: &Form,
        signed_in: Option<&SignedIn>,
        session_id: Option<&str>,
        confirmed: bool,
        _now: UnixTime,
    ) -> LogoutOutcome {
        let hint = match params.get("id_token_hint") {
            Some(t) => match self.id_token_hint(t) {
                Some(c) => Some(c),
                None => {
                    return LogoutOutcome::Fatal(OAuthError::invalid_request(
                        "id_token_hint is not an ID token of this server",
                    ));
                }
            },
            None => None,
        };
        let client_id = match (
            params.get("client_id"),
            hint.as_ref().map(|h| h.aud.as_str()),
        ) {
            (Some(a), Some(b)) if a != b => {
                return LogoutOutcome::Fatal(OAuthError::invalid_request(
                    "client_id does not match the id_token_hint",
                ));
            }
            (Some(a), _) => Some(a.to_owned()),
            (None, b) => b.map(str::to_owned),
        };
        let client = match &client_id {
            Some(id) if id.len() <= 255 && !id.chars().any(char::is_control) => {
                match self.clients.get(self.store.as_ref(), id).await {
                    Ok(c) => c,
                    Err(e) => return LogoutOutcome::Fatal(e),
                }
            }
            _ => None,
        };
        let redirect = match params.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let registered = client.as_ref().is_some_and(|c| {
                    c.post_logout_redirect_uris
                        .iter()
                        .any(|r| r.as_str() == uri)
                });
                if !registered {
                    return LogoutOutcome::Fatal(OAuthError::invalid_request(
                        "post_logout_redirect_uri is not registered for the client",
                    ));
                }
                let mut query: Vec<(&str, &str)> = Vec::new();
                if let Some(state) = params.get("state") {
                    query.push(("state", state));
                }
                Some(redirect_with(uri, &query))
            }
        };
        let Some(signed_in) = signed_in else {
            return LogoutOutcome::Done { redirect };
        };
        let hinted_user = hint.as_ref().is_some_and(|h| h.sub == signed_in.user.id);
        if !confirmed && !hinted_user {
            let keep = [
                "id_token_hint",
                "client_id",
                "post_logout_redirect_uri",
                "state",
            ];
            let params = keep
                .iter()
                .filter_map(|k| params.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
                .collect();
            return LogoutOutcome::Confirm {
                client_name: client.map(|c| c.name.clone()),
                params,
            };
        }
        if let Some(id) = session_id
            && let Err(e) = self.sign_out(id).await
        {
            return LogoutOutcome::Fatal(e);
        }
        LogoutOutcome::Done { redirect }
    }
}
