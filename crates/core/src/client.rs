//! Registered clients: grant types, authentication methods, redirect URIs.

use crate::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use crate::scope::Scope;
use std::fmt;
use std::str::FromStr;

/// The grant types this server implements. Extension grants (device code, token exchange) are added
/// here as variants, so every `match` on a grant type must decide what to do with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    Password,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Password,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
        }
    }
}

impl FromStr for GrantType {
    type Err = OAuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "the grant type is not supported",
                )
            })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a client authenticates at the token, introspection and revocation endpoints
/// (RFC 7591 §2 `token_endpoint_auth_method`). One method per client, as registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client: no secret, identified by `client_id` only.
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }

    pub fn is_confidential(self) -> bool {
        !matches!(self, AuthMethod::None)
    }
}

impl FromStr for AuthMethod {
    type Err = OAuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::InvalidClientMetadata,
                    format!("unsupported token_endpoint_auth_method '{s}'"),
                )
            })
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    /// SHA-256 of the secret ([`crate::secret::hash_secret`]); `None` for public clients.
    pub secret_hash: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scope: Scope,
    pub auth_method: AuthMethod,
    /// First-party clients skip the consent page.
    pub skip_consent: bool,
    /// Where RP-initiated logout may send the browser afterwards (OIDC RP-Initiated Logout §3).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Informational RFC 7591 metadata kept as registered (`client_uri`, `logo_uri`, `contacts`,
    /// `tos_uri`, `policy_uri`, `software_id`, `software_version`).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// RFC 7592: SHA-256 of the registration access token of a dynamically registered client.
    pub registration_token_hash: Option<String>,
    /// May be granted the `admin` scope (the admin API).
    pub admin: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl Client {
    pub fn allows_grant(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }

    pub fn is_public(&self) -> bool {
        !self.auth_method.is_confidential()
    }

    /// Exact string comparison, as RFC 9700 §4.1.3 requires: no prefix, no pattern matching.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.as_str() == uri)
    }
}

/// Checks that a set of client metadata is consistent; returns the RFC 7591 error if not.
pub fn validate_client_metadata(
    grant_types: &[GrantType],
    auth_method: AuthMethod,
    redirect_uris: &[RedirectUri],
) -> Result<(), OAuthError> {
    if grant_types.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "at least one grant type is required",
        ));
    }
    if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            "the authorization_code grant needs at least one redirect URI",
        ));
    }
    if !auth_method.is_confidential() && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "a public client cannot use the client_credentials grant",
        ));
    }
    Ok(())
}

/// A redirect URI as registered: absolute, no fragment, no dangerous scheme (RFC 6749 §3.1.2,
/// RFC 8252 for native apps, RFC 9700 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(s: &str) -> Result<RedirectUri, OAuthError> {
        let bad = |why: &str| {
            OAuthError::new(
                ErrorCode::InvalidRedirectUri,
                format!("redirect URI is not acceptable: {why}"),
            )
        };
        if s.is_empty() || s.len() > 2000 {
            return Err(bad("empty or longer than 2000 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains white space or control characters"));
        }
        if s.contains('#') {
            return Err(bad("must not contain a fragment"));
        }
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(bad("must be an absolute URI"));
        };
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(bad("must be an absolute URI"));
        }
        let scheme = scheme.to_ascii_lowercase();
        if matches!(scheme.as_str(), "javascript" | "data" | "vbscript" | "file") {
            return Err(bad("scheme is not allowed"));
        }
        if scheme == "http" || scheme == "https" {
            let Some(authority_and_path) = rest.strip_prefix("//") else {
                return Err(bad("http(s) URIs need a host"));
            };
            let authority = authority_and_path
                .split(['/', '?'])
                .next()
                .unwrap_or_default();
            if authority.is_empty() || authority.contains('@') {
                return Err(bad("needs a host and must not carry user information"));
            }
            if scheme == "http" && !is_loopback_authority(authority) {
                return Err(bad(
                    "http is only allowed for loopback addresses; use https",
                ));
            }
        } else if rest.is_empty() {
            return Err(bad("must be an absolute URI"));
        }
        Ok(RedirectUri(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback_authority(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_round_trip_and_unknown_is_unsupported() {
        for g in GrantType::ALL {
            assert_eq!(g.as_str().parse::<GrantType>().unwrap(), g);
        }
        let err = "implicit".parse::<GrantType>().unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedGrantType);
    }

    #[test]
    fn redirect_uris_accept_https_loopback_and_native_schemes() {
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1:9000/cb",
            "http://localhost/cb",
            "http://[::1]:80/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn redirect_uris_reject_fragments_plain_http_and_script_schemes() {
        for bad in [
            "https://app.example.com/cb#x",
            "http://app.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://user@evil.example/cb",
            "https:///nohost",
            "",
        ] {
            let err = RedirectUri::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRedirectUri, "{bad}");
        }
    }

    #[test]
    fn public_clients_cannot_use_client_credentials() {
        let err = validate_client_metadata(&[GrantType::ClientCredentials], AuthMethod::None, &[])
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidClientMetadata);
    }
}
