//! End-user authentication and the authorization endpoint: password checks with brute-force
//! limits, browser sessions, consent, and authorization codes.
//!
//! The pending authorization request is never kept in server memory: it travels as query
//! parameters through the login page and as hidden fields through the consent page, and is
//! validated again, in full, each time it comes back.

use crate::events::EventDraft;
use crate::services::Services;
use oauth2_core::authorize::{self, AuthorizationRequest, AuthorizeError, AuthorizePolicy};
use oauth2_core::client::Client;
use oauth2_core::events::EventKind;
use oauth2_core::form::Form;
use oauth2_core::password::{hash_password, verify_password};
use oauth2_core::ports::{AuthorizationCode, Consent, Session, User};
use oauth2_core::scope::Scope;
use oauth2_core::secret::{hash_secret, new_secret, random_token};
use oauth2_core::{ErrorCode, OAuthError, UnixTime};
use serde_json::json;
use std::sync::Arc;

/// The outcome of a password check.
pub enum PasswordCheck {
    Ok(User),
    Failed,
    /// Too many recent failures for this user or this address: refused without checking.
    Throttled,
}

/// A live browser session and its user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub user: User,
}

/// A request waiting for the user's consent.
#[derive(Debug)]
pub struct ConsentRequest {
    pub request: AuthorizationRequest,
    pub client: Arc<Client>,
    pub user: User,
}

/// What the authorization endpoint does next; the web layer renders each.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// Send the browser to the login page, which comes back to `return_to` after. `force`: show
    /// the form even to a signed-in user (prompt=login, max_age).
    LoginRequired {
        return_to: String,
        force: bool,
        login_hint: Option<String>,
    },
    /// Ask the user; the request is carried in the consent form.
    ConsentRequired(Box<ConsentRequest>),
    /// Redirect to the client (success or a redirectable error), or elsewhere.
    Redirect(String),
    /// The client or redirect URI is wrong: show an error page, never redirect.
    Fatal(OAuthError),
}

/// `/oauth/authorize?...` for these parameters.
fn authorize_path(params: &[(&'static str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", authorize::encode(v)))
        .collect();
    format!("/oauth/authorize?{}", query.join("&"))
}

impl Services {
    fn throttle_keys(username: &str, address: Option<&str>) -> (String, Option<String>) {
        (
            format!("user:{}", username.to_lowercase()),
            address.map(|a| format!("ip:{a}")),
        )
    }

    /// Checks a username and password, with the same work for unknown users as for wrong
    /// passwords (no user enumeration by timing), and per-user and per-address limits.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        address: Option<&str>,
        now: UnixTime,
        via: &'static str,
    ) -> Result<PasswordCheck, OAuthError> {
        let (check, reason, user_id) = self
            .check_password_inner(username, password, address, now)
            .await?;
        let (kind, user_id) = match &check {
            PasswordCheck::Ok(u) => (EventKind::LoginSucceeded, Some(u.id.clone())),
            _ => (EventKind::LoginFailed, user_id),
        };
        if self.events.wants(kind) {
            // The username only of a user that exists: what was typed into the field of an
            // unknown one may be a password.
            let mut draft = EventDraft::new(kind).detail(json!({
                "method": via,
                "reason": reason,
                "username": user_id.as_ref().map(|_| username),
            }));
            if let Some(u) = user_id {
                draft = draft.actor(u.as_str()).user(u);
            }
            self.emit(draft);
        }
        Ok(check)
    }

    /// The check, why it failed (for the event), and the user's id when the user exists.
    async fn check_password_inner(
        &self,
        username: &str,
        password: &str,
        address: Option<&str>,
        now: UnixTime,
    ) -> Result<(PasswordCheck, Option<&'static str>, Option<String>), OAuthError> {
        let s = &self.settings;
        let since = now - s.login_failure_window;
        let (user_key, ip_key) = Self::throttle_keys(username, address);
        if username.len() > 256 || password.len() > 1024 {
            return Ok((PasswordCheck::Failed, Some("too_long"), None));
        }
        if self.store.count_login_failures(&user_key, since).await? >= s.login_max_failures_per_user
        {
            return Ok((PasswordCheck::Throttled, Some("throttled_user"), None));
        }
        if let Some(k) = &ip_key
            && self.store.count_login_failures(k, since).await? >= s.login_max_failures_per_address
        {
            return Ok((PasswordCheck::Throttled, Some("throttled_address"), None));
        }
        let user = self.store.find_user_by_username(username).await?;
        let hash = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(h) => h,
            None => self.dummy_hash()?,
        };
        let candidate = password.to_owned();
        // Argon2 takes tens of milliseconds of CPU: off the async worker.
        let matches = tokio::task::spawn_blocking(move || verify_password(&candidate, &hash))
            .await
            .map_err(OAuthError::server_error)?;
        match user {
            Some(u) if matches && u.enabled => {
                self.store.clear_login_failures(&user_key).await?;
                Ok((PasswordCheck::Ok(u), None, None))
            }
            user => {
                self.store.record_login_failure(&user_key, now).await?;
                if let Some(k) = &ip_key {
                    self.store.record_login_failure(k, now).await?;
                }
                tracing::info!(outcome = "failed", "sign-in refused");
                let reason = match &user {
                    None => "unknown_user",
                    Some(u) if !u.enabled => "disabled",
                    Some(_) => "wrong_password",
                };
                Ok((PasswordCheck::Failed, Some(reason), user.map(|u| u.id)))
            }
        }
    }

    /// A hash with the configured parameters, verified against when the user does not exist.
    fn dummy_hash(&self) -> Result<String, OAuthError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h.clone());
        }
        let h = hash_password(
            "not a real password",
            self.settings.password_params,
            &self.rng,
        )
        .map_err(OAuthError::server_error)?;
        Ok(self.dummy_hash.get_or_init(|| h).clone())
    }

    /// Signs a user in; returns the session id for the cookie (stored only hashed).
    pub async fn start_session(&self, user: &User, now: UnixTime) -> Result<String, OAuthError> {
        let id = new_secret(&self.rng)?;
        self.store
            .create_session(&Session {
                id_hash: hash_secret(&id),
                user_id: user.id.clone(),
                auth_time: now,
                created_at: now,
                last_seen_at: now,
                expires_at: now + self.settings.session_max_lifetime,
            })
            .await?;
        tracing::info!(outcome = "succeeded", "signed in");
        Ok(id)
    }

    /// The live session behind a cookie value, if any; keeps it alive while it is used.
    pub async fn signed_in(
        &self,
        session_id: &str,
        now: UnixTime,
    ) -> Result<Option<SignedIn>, OAuthError> {
        if session_id.len() > 128 {
            return Ok(None);
        }
        let hash = hash_secret(session_id);
        let Some(session) = self.store.get_session(&hash).await? else {
            return Ok(None);
        };
        let idle = now - session.last_seen_at >= self.settings.session_idle_timeout;
        if session.expires_at <= now || idle {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        let Some(user) = self.store.get_user(&session.user_id).await? else {
            return Ok(None);
        };
        if !user.enabled {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        // One write a minute at most, not one per page.
        if now - session.last_seen_at >= 60 {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Some(SignedIn { session, user }))
    }

    pub async fn sign_out(&self, session_id: &str) -> Result<(), OAuthError> {
        let hash = hash_secret(session_id);
        // Whose session it was, for the event: one read, only when the event is wanted, and
        // never a reason for the sign-out to fail.
        let user = if self.events.wants(EventKind::SessionEnded) {
            self.store
                .get_session(&hash)
                .await
                .ok()
                .flatten()
                .map(|s| s.user_id)
        } else {
            None
        };
        self.store.delete_session(&hash).await?;
        if let Some(u) = user {
            self.emit(
                EventDraft::new(EventKind::SessionEnded)
                    .actor(u.as_str())
                    .user(u)
                    .detail(json!({ "reason": "logout" })),
            );
        }
        Ok(())
    }

    fn policy(&self) -> AuthorizePolicy {
        AuthorizePolicy {
            allow_plain_pkce: self.settings.allow_plain_pkce,
        }
    }

    /// Validates a request, mapping errors to outcomes (error redirects carry `iss`, RFC 9207).
    async fn validated(
        &self,
        params: &Form,
    ) -> Result<(AuthorizationRequest, Arc<Client>), AuthorizeOutcome> {
        let client = match authorize::client_id_of(params) {
            Ok(id) if id.len() <= 255 && !id.chars().any(char::is_control) => self
                .clients
                .get(self.store.as_ref(), id)
                .await
                .map_err(AuthorizeOutcome::Fatal)?,
            _ => None,
        };
        match authorize::validate(params, client.as_deref(), self.policy()) {
            Ok(req) => match client {
                Some(c) => Ok((req, c)),
                None => Err(AuthorizeOutcome::Fatal(OAuthError::invalid_request(
                    "the client is unknown",
                ))),
            },
            Err(AuthorizeError::Fatal(e)) => Err(AuthorizeOutcome::Fatal(e)),
            Err(AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
            }) => Err(AuthorizeOutcome::Redirect(self.error_redirect(
                &redirect_uri,
                state.as_deref(),
                &error,
                client.as_ref().map(|c| c.client_id.as_str()),
            ))),
        }
    }

    /// The outcome of a request refused by [`AuthorizationRequest::check_user`].
    fn refusal(&self, refused: AuthorizeError, client_id: &str) -> AuthorizeOutcome {
        match refused {
            AuthorizeError::Fatal(e) => AuthorizeOutcome::Fatal(e),
            AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
            } => AuthorizeOutcome::Redirect(self.error_redirect(
                &redirect_uri,
                state.as_deref(),
                &error,
                Some(client_id),
            )),
        }
    }

    fn redirect_error(
        &self,
        request: &AuthorizationRequest,
        code: ErrorCode,
        description: &'static str,
    ) -> AuthorizeOutcome {
        AuthorizeOutcome::Redirect(self.error_redirect(
            &request.redirect_uri,
            request.state.as_deref(),
            &OAuthError::new(code, description),
            Some(&request.client_id),
        ))
    }

    /// The error redirect to the client; a refusal of `client_id`'s request is an event.
    fn error_redirect(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        e: &OAuthError,
        client_id: Option<&str>,
    ) -> String {
        if let Some(c) = client_id {
            self.emit(
                EventDraft::new(EventKind::AuthorizationRefused)
                    .actor(c)
                    .client(c)
                    .detail(json!({ "error": e.code.as_str() })),
            );
        }
        let mut params = vec![
            ("error", e.code.as_str()),
            ("error_description", e.description.as_ref()),
        ];
        if let Some(s) = state {
            params.push(("state", s));
        }
        params.push(("iss", &self.settings.issuer));
        authorize::redirect_with(redirect_uri, &params)
    }

    /// `GET /oauth/authorize`.
    #[tracing::instrument(skip_all)]
    pub async fn authorize(
        &self,
        params: &Form,
        signed_in: Option<&SignedIn>,
        now: UnixTime,
    ) -> AuthorizeOutcome {
        let (request, client) = match self.validated(params).await {
            Ok(v) => v,
            Err(outcome) => return outcome,
        };
        // OIDC Core §3.1.2.3: a fresh sign-in is needed without a session, with prompt=login,
        // or when the last sign-in is older than max_age.
        let stale = |s: &SignedIn| {
            request
                .max_age
                .is_some_and(|max| now - s.session.auth_time > max)
        };
        let must_sign_in = match signed_in {
            None => true,
            Some(s) => request.prompt.login || stale(s),
        };
        if must_sign_in {
            if request.prompt.none {
                return self.redirect_error(
                    &request,
                    ErrorCode::LoginRequired,
                    "the user must sign in",
                );
            }
            // Once signed in, `login` is satisfied: the request comes back without it.
            let mut prompt = request.prompt;
            prompt.login = false;
            return AuthorizeOutcome::LoginRequired {
                return_to: authorize_path(&request.params_with_prompt(prompt)),
                force: signed_in.is_some(),
                login_hint: request.login_hint.clone(),
            };
        }
        let Some(signed_in) = signed_in else {
            return AuthorizeOutcome::Fatal(OAuthError::server_error("no session"));
        };
        if let Err(refused) = request.check_user(signed_in.user.admin) {
            return self.refusal(refused, &request.client_id);
        }
        let consented = if client.skip_consent && !request.prompt.consent {
            true
        } else if request.prompt.consent {
            false
        } else {
            match self
                .store
                .get_consent(&signed_in.user.id, &client.client_id)
                .await
            {
                Ok(c) => c.is_some_and(|c| request.scope.is_subset_of(&c.scope)),
                Err(e) => return AuthorizeOutcome::Fatal(e.into()),
            }
        };
        if !consented {
            if request.prompt.none {
                return self.redirect_error(
                    &request,
                    ErrorCode::ConsentRequired,
                    "the user must consent",
                );
            }
            return AuthorizeOutcome::ConsentRequired(Box::new(ConsentRequest {
                request,
                client,
                user: signed_in.user.clone(),
            }));
        }
        self.issue_code(&request, signed_in, now).await
    }

    /// `POST /oauth/authorize`: the user's answer on the consent page.
    #[tracing::instrument(skip_all)]
    pub async fn consent(
        &self,
        params: &Form,
        signed_in: Option<&SignedIn>,
        allow: bool,
        now: UnixTime,
    ) -> AuthorizeOutcome {
        let (request, client) = match self.validated(params).await {
            Ok(v) => v,
            Err(outcome) => return outcome,
        };
        let Some(signed_in) = signed_in else {
            return AuthorizeOutcome::LoginRequired {
                return_to: authorize_path(&request.to_params()),
                force: false,
                login_hint: request.login_hint.clone(),
            };
        };
        if let Err(refused) = request.check_user(signed_in.user.admin) {
            return self.refusal(refused, &request.client_id);
        }
        if !allow {
            self.emit(
                EventDraft::new(EventKind::AuthorizationDenied)
                    .actor(signed_in.user.id.as_str())
                    .user(signed_in.user.id.as_str())
                    .client(client.client_id.as_str())
                    .detail(json!({ "scope": request.scope.to_string() })),
            );
            let e = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            return AuthorizeOutcome::Redirect(self.error_redirect(
                &request.redirect_uri,
                request.state.as_deref(),
                &e,
                None,
            ));
        }
        let existing = match self
            .store
            .get_consent(&signed_in.user.id, &client.client_id)
            .await
        {
            Ok(c) => c,
            Err(e) => return AuthorizeOutcome::Fatal(e.into()),
        };
        let mut scope: Vec<&str> = existing
            .as_ref()
            .map(|c| c.scope.iter().collect())
            .unwrap_or_default();
        scope.extend(request.scope.iter());
        let scope = Scope::parse(&scope.join(" ")).unwrap_or_else(|_| request.scope.clone());
        let saved = self
            .store
            .save_consent(&Consent {
                user_id: signed_in.user.id.clone(),
                client_id: client.client_id.clone(),
                scope,
                created_at: existing.as_ref().map_or(now, |c| c.created_at),
                updated_at: now,
            })
            .await;
        if let Err(e) = saved {
            return AuthorizeOutcome::Fatal(e.into());
        }
        self.issue_code(&request, signed_in, now).await
    }

    async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        signed_in: &SignedIn,
        now: UnixTime,
    ) -> AuthorizeOutcome {
        let made = async {
            let code = new_secret(&self.rng)?;
            let family_id = random_token(&self.rng, 16)?;
            self.store
                .insert_code(&AuthorizationCode {
                    code_hash: hash_secret(&code),
                    client_id: request.client_id.clone(),
                    user_id: signed_in.user.id.clone(),
                    redirect_uri: request.redirect_uri.clone(),
                    scope: request.scope.clone(),
                    code_challenge: request.code_challenge.clone(),
                    code_challenge_method: request
                        .code_challenge_method
                        .map(|m| m.as_str().to_owned()),
                    nonce: request.nonce.clone(),
                    auth_time: signed_in.session.auth_time,
                    family_id,
                    expires_at: now + self.settings.authorization_code_ttl,
                    created_at: now,
                })
                .await?;
            Ok::<_, OAuthError>(code)
        };
        match made.await {
            Ok(code) => {
                self.emit(
                    EventDraft::new(EventKind::AuthorizationGranted)
                        .actor(signed_in.user.id.as_str())
                        .user(signed_in.user.id.as_str())
                        .client(request.client_id.as_str())
                        .detail(json!({ "scope": request.scope.to_string() })),
                );
                let mut params = vec![("code", code.as_str())];
                if let Some(s) = &request.state {
                    params.push(("state", s));
                }
                params.push(("iss", &self.settings.issuer));
                AuthorizeOutcome::Redirect(authorize::redirect_with(&request.redirect_uri, &params))
            }
            Err(e) => AuthorizeOutcome::Fatal(e),
        }
    }
}
