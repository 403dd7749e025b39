//! The validated settings the operations run with (built by the server from its configuration).

use oauth2_core::client::GrantType;
use oauth2_core::jose::Algorithm;
use oauth2_core::password::PasswordParams;
use std::fmt;

/// Who may use `POST /clients/register` (RFC 7591).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPolicy {
    /// An initial access token issued by an admin is required.
    Token,
    /// Anyone may register.
    Open,
    Disabled,
}

impl RegistrationPolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(Self::Token),
            "open" => Some(Self::Open),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Open => "open",
            Self::Disabled => "disabled",
        }
    }
}

/// A secret that never shows itself in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL: `iss` of every token and the discovery `issuer`.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    pub algorithm: Algorithm,
    /// HS256 only.
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub authorization_code_ttl: i64,
    /// A rotated-in key is published at once but signs only after this many seconds.
    pub key_activation_delay: i64,
    /// How long a client read from the database may be served from memory.
    pub client_cache_ttl_secs: u64,
    pub registration_policy: RegistrationPolicy,
    pub password_params: PasswordParams,
    /// Grant types the token endpoint serves.
    pub grant_types: Vec<GrantType>,
}

impl Settings {
    /// Settings for the given issuer with every other value at its default.
    pub fn with_issuer(issuer: impl Into<String>) -> Settings {
        let issuer = issuer.into();
        Settings {
            audience: issuer.clone(),
            issuer,
            algorithm: Algorithm::RS256,
            jwt_secret: None,
            access_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            authorization_code_ttl: 60,
            key_activation_delay: 3600,
            client_cache_ttl_secs: 5,
            registration_policy: RegistrationPolicy::Token,
            password_params: PasswordParams::default(),
            grant_types: vec![GrantType::ClientCredentials],
        }
    }
}
