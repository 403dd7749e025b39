//! Users through the admin API: create, list and search, show, update, disable, reset the
//! password, revoke every token. Password hashes never leave this layer's callers' hands: the
//! web layer renders users without them.

use super::{Admin, AdminOp, Page, PageRequest, Revoked, parse_body, path_id, present};
use crate::services::Services;
use crate::users::{NewUser, UserError, create_user};
use oauth2_core::events::EventKind;
use oauth2_core::password::hash_password;
use oauth2_core::ports::{TokenOwner, User};
use oauth2_core::{ErrorCode, OAuthError, SystemRandom, UnixTime};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    #[serde(default)]
    email: Option<String>,
    password: String,
    #[serde(default)]
    admin: bool,
}

/// `PATCH`: only the fields present change; `"email": null` removes the address.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

const MIN_PASSWORD_CHARS: usize = 8;

fn no_user() -> OAuthError {
    OAuthError::not_found("no such user")
}

async fn existing(svc: &Services, user_id: &str) -> Result<User, OAuthError> {
    path_id(user_id, "user")?;
    svc.store.get_user(user_id).await?.ok_or_else(no_user)
}

/// An email address as an operator may set it: not checked beyond its shape, since nothing
/// here sends mail to it.
fn email(value: Option<String>) -> Result<Option<String>, OAuthError> {
    let Some(value) = value.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    if value.len() > 320 || !value.contains('@') || value.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request(
            "email must be an address of at most 320 characters",
        ));
    }
    Ok(Some(value))
}

fn user_error(e: UserError) -> OAuthError {
    match e {
        UserError::InvalidUsername | UserError::WeakPassword => {
            OAuthError::invalid_request(e.to_string())
        }
        UserError::Exists(_) => OAuthError::new(ErrorCode::Conflict, e.to_string()),
        UserError::Store(e) => e.into(),
        UserError::Internal(e) => OAuthError::server_error(e),
    }
}

async fn update(svc: &Services, user: &User) -> Result<(), OAuthError> {
    if svc.store.update_user(user).await? {
        Ok(())
    } else {
        Err(no_user())
    }
}

/// `POST /admin/api/users`.
pub struct CreateUser {
    pub body: Vec<u8>,
}

impl AdminOp for CreateUser {
    type Output = User;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<User, OAuthError> {
        let b: NewUserBody = parse_body(&self.body, ErrorCode::InvalidRequest)?;
        let new = NewUser {
            username: b.username,
            email: email(b.email)?,
            password: b.password,
            admin: b.admin,
        };
        let user = create_user(
            svc.store.as_ref(),
            &svc.rng,
            svc.settings.password_params,
            now,
            new,
        )
        .await
        .map_err(user_error)?;
        svc.record(
            &admin,
            EventKind::UserCreated,
            &user.id,
            json!({ "username": user.username, "admin": user.admin }),
            now,
        )
        .await?;
        Ok(user)
    }
}

/// `GET /admin/api/users?limit=&after=&q=`: by username; `q` searches usernames and emails.
pub struct ListUsers(pub PageRequest);

impl AdminOp for ListUsers {
    type Output = Page<User>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        _: UnixTime,
    ) -> Result<Page<User>, OAuthError> {
        let PageRequest {
            after,
            limit,
            query,
        } = self.0;
        let users = match &query {
            Some(q) => svc.store.search_users(q, after.as_deref(), limit).await?,
            None => svc.store.list_users(after.as_deref(), limit).await?,
        };
        Ok(Page::of(users, limit, |u| u.username.clone()))
    }
}

/// `GET /admin/api/users/{id}`.
pub struct ShowUser(pub String);

impl AdminOp for ShowUser {
    type Output = User;
    async fn run(self, svc: Arc<Services>, _: Admin, _: UnixTime) -> Result<User, OAuthError> {
        existing(&svc, &self.0).await
    }
}

/// `PATCH /admin/api/users/{id}`: `email`, `admin`, `enabled`. Disabling ends the user's
/// sessions, as `disable` does.
pub struct UpdateUser {
    pub user_id: String,
    pub body: Vec<u8>,
}

impl AdminOp for UpdateUser {
    type Output = User;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<User, OAuthError> {
        let patch: UserPatch = parse_body(&self.body, ErrorCode::InvalidRequest)?;
        let mut user = existing(&svc, &self.user_id).await?;
        let mut changed = serde_json::Map::new();
        if let Some(e) = patch.email {
            user.email = email(e)?;
            changed.insert("email".into(), json!(user.email));
        }
        if let Some(a) = patch.admin {
            user.admin = a;
            changed.insert("admin".into(), json!(a));
        }
        let was_enabled = user.enabled;
        if let Some(enabled) = patch.enabled {
            user.enabled = enabled;
            changed.insert("enabled".into(), json!(enabled));
        }
        user.updated_at = now;
        update(&svc, &user).await?;
        if !user.enabled {
            let ended = svc.store.delete_user_sessions(&user.id).await?;
            changed.insert("sessions_ended".into(), json!(ended));
        }
        svc.record(
            &admin,
            EventKind::UserUpdated,
            &user.id,
            serde_json::Value::Object(changed),
            now,
        )
        .await?;
        // Enabling and disabling are events of their own too, whichever way they were made.
        if user.enabled != was_enabled {
            let kind = if user.enabled {
                EventKind::UserEnabled
            } else {
                EventKind::UserDisabled
            };
            svc.record(&admin, kind, &user.id, json!({}), now).await?;
        }
        Ok(user)
    }
}

/// `POST /admin/api/users/{id}/disable`: no more sign-ins, refreshes or userinfo, and every
/// session ends. Returns the user and how many sessions ended.
pub struct DisableUser(pub String);

impl AdminOp for DisableUser {
    type Output = (User, u64);
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<(User, u64), OAuthError> {
        let mut user = existing(&svc, &self.0).await?;
        user.enabled = false;
        user.updated_at = now;
        update(&svc, &user).await?;
        let ended = svc.store.delete_user_sessions(&user.id).await?;
        svc.record(
            &admin,
            EventKind::UserDisabled,
            &user.id,
            json!({ "sessions_ended": ended }),
            now,
        )
        .await?;
        Ok((user, ended))
    }
}

/// `POST /admin/api/users/{id}/password`: sets a new password and ends every session. Returns
/// how many sessions ended.
pub struct ResetPassword {
    pub user_id: String,
    pub body: Vec<u8>,
}

impl AdminOp for ResetPassword {
    type Output = u64;
    async fn run(self, svc: Arc<Services>, admin: Admin, now: UnixTime) -> Result<u64, OAuthError> {
        let b: PasswordBody = parse_body(&self.body, ErrorCode::InvalidRequest)?;
        if b.password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(OAuthError::invalid_request(format!(
                "password must be at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let mut user = existing(&svc, &self.user_id).await?;
        let params = svc.settings.password_params;
        // Argon2 takes tens of milliseconds of CPU: off the async worker.
        let hash = tokio::task::spawn_blocking(move || {
            hash_password(&b.password, params, &SystemRandom::new())
        })
        .await
        .map_err(OAuthError::server_error)?
        .map_err(OAuthError::server_error)?;
        user.password_hash = Some(hash);
        user.updated_at = now;
        update(&svc, &user).await?;
        let ended = svc.store.delete_user_sessions(&user.id).await?;
        svc.record(
            &admin,
            EventKind::UserPasswordReset,
            &user.id,
            json!({ "sessions_ended": ended }),
            now,
        )
        .await?;
        Ok(ended)
    }
}

/// `POST /admin/api/users/{id}/revoke-tokens`: every token family of the user, at every
/// client, and every session.
pub struct RevokeUserTokens(pub String);

impl AdminOp for RevokeUserTokens {
    type Output = Revoked;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<Revoked, OAuthError> {
        let user = existing(&svc, &self.0).await?;
        let families = svc
            .revoke_families_of(&TokenOwner::User(user.id.clone()), now)
            .await?;
        let sessions_ended = svc.store.delete_user_sessions(&user.id).await?;
        svc.record(
            &admin,
            EventKind::UserTokensRevoked,
            &user.id,
            json!({ "revoked_families": families, "sessions_ended": sessions_ended }),
            now,
        )
        .await?;
        Ok(Revoked {
            families,
            sessions_ended,
        })
    }
}
