//! Access-token claims (RFC 9068), token responses (RFC 6749 §5.1) and introspection (RFC 7662).

use crate::UnixTime;
use crate::scope::Scope;
use serde::{Deserialize, Serialize};

/// `typ` header of JWT access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Claims of a JWT access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The resource owner, or the client itself for client_credentials (RFC 9068 §2.2).
    pub sub: String,
    pub aud: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
}

/// What goes into an access token, before signing.
#[derive(Debug, Clone)]
pub struct AccessTokenGrant<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub subject: &'a str,
    pub client_id: &'a str,
    pub scope: &'a Scope,
    pub jti: String,
    pub now: UnixTime,
    pub lifetime: i64,
}

impl AccessTokenGrant<'_> {
    pub fn claims(&self) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: self.issuer.to_owned(),
            sub: self.subject.to_owned(),
            aud: self.audience.to_owned(),
            exp: self.now + self.lifetime,
            iat: self.now,
            jti: self.jti.clone(),
            client_id: self.client_id.to_owned(),
            scope: self.scope.to_string(),
        }
    }
}

/// RFC 6749 §5.1 successful token response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    /// Always stated, even when it equals what was asked (CONTRACT.md).
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// RFC 7662 §2.2 introspection response. Inactive tokens answer `{"active": false}` and nothing else.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub exp: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub iat: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    pub fn inactive() -> Introspection {
        Introspection::default()
    }

    /// The answer for a verified, unexpired, unrevoked JWT access token.
    pub fn from_access_token(c: AccessTokenClaims) -> Introspection {
        Introspection {
            active: true,
            scope: Some(c.scope),
            client_id: Some(c.client_id),
            username: None,
            token_type: Some("Bearer".to_owned()),
            exp: Some(c.exp),
            iat: Some(c.iat),
            sub: Some(c.sub),
            aud: Some(c.aud),
            iss: Some(c.iss),
            jti: Some(c.jti),
        }
    }
}

/// Whether verified claims describe a token that is live at `now` for this issuer.
pub fn is_live(c: &AccessTokenClaims, issuer: &str, now: UnixTime) -> bool {
    c.iss == issuer && c.exp > now && c.iat <= now + 60
}

/// `token_type_hint` values (RFC 7009 §2.1, RFC 7662 §2.1). Unknown hints are ignored, as both RFCs allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

impl TokenTypeHint {
    pub fn parse(s: Option<&str>) -> Option<TokenTypeHint> {
        match s {
            Some("access_token") => Some(TokenTypeHint::AccessToken),
            Some("refresh_token") => Some(TokenTypeHint::RefreshToken),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64, iat: i64) -> AccessTokenClaims {
        AccessTokenGrant {
            issuer: "https://as",
            audience: "https://as",
            subject: "c",
            client_id: "c",
            scope: &Scope::parse("a").unwrap(),
            jti: "j".into(),
            now: iat,
            lifetime: exp - iat,
        }
        .claims()
    }

    #[test]
    fn expiry_is_exclusive_and_issuer_must_match() {
        let c = claims(1100, 1000);
        assert!(is_live(&c, "https://as", 1099));
        assert!(!is_live(&c, "https://as", 1100));
        assert!(!is_live(&c, "https://other", 1050));
    }

    #[test]
    fn inactive_introspection_is_only_active_false() {
        let v = serde_json::to_value(Introspection::inactive()).unwrap();
        assert_eq!(v, serde_json::json!({"active": false}));
    }
}
