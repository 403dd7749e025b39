//! User operations.

use oauth2_core::password::{PasswordParams, hash_password};
use oauth2_core::ports::{Storage, StoreError, User};
use oauth2_core::secret::random_token;
use oauth2_core::{SecureRandom, UnixTime};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("username must be 1 to 100 characters without spaces or control characters")]
    InvalidUsername,
    #[error("password must be at least 8 characters")]
    WeakPassword,
    #[error("a user named '{0}' already exists")]
    Exists(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Internal(String),
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub password: String,
    pub admin: bool,
}

pub async fn create_user(
    store: &dyn Storage,
    rng: &dyn SecureRandom,
    params: PasswordParams,
    now: UnixTime,
    new: NewUser,
) -> Result<User, UserError> {
    let username = new.username.trim();
    if username.is_empty()
        || username.chars().count() > 100
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(UserError::InvalidUsername);
    }
    if new.password.chars().count() < 8 {
        return Err(UserError::WeakPassword);
    }
    let hash = hash_password(&new.password, params, rng)
        .map_err(|e| UserError::Internal(e.to_string()))?;
    let user = User {
        id: random_token(rng, 16).map_err(|e| UserError::Internal(e.to_string()))?,
        username: username.to_owned(),
        email: new.email.filter(|e| !e.trim().is_empty()),
        password_hash: Some(hash),
        enabled: true,
        admin: new.admin,
        created_at: now,
        updated_at: now,
    };
    match store.create_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => Err(UserError::Exists(username.to_owned())),
        Err(e) => Err(UserError::Store(e)),
    }
}
