//! OpenID Connect Core 1.0: ID tokens, `at_hash`, `prompt`, and the claims each scope releases.

use crate::UnixTime;
use crate::jose::Algorithm;
use crate::ports::User;
use crate::scope::Scope;
use aws_lc_rs::digest::{SHA256, SHA512, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The scopes with a meaning in OIDC Core §5.4 (plus `openid` itself, §3.1.2.1).
pub const STANDARD_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Claims this server can release.
pub const CLAIMS_SUPPORTED: [&str; 14] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "name",
    "preferred_username",
    "updated_at",
    "email",
    "email_verified",
];

/// `typ` of ID tokens (a plain JWT).
pub const ID_TOKEN_TYP: &str = "JWT";

/// OIDC Core §2.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The authorized party: the client the token was issued to (§2, "MAY be included").
    pub azp: String,
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the hash of the access token, with the hash
/// of the signing algorithm (SHA-512 for Ed25519, as RFC 8037 pairs EdDSA with it).
pub fn at_hash(access_token: &str, alg: Algorithm) -> String {
    let d = match alg {
        Algorithm::EdDSA => digest(&SHA512, access_token.as_bytes()),
        Algorithm::RS256 | Algorithm::ES256 | Algorithm::HS256 => {
            digest(&SHA256, access_token.as_bytes())
        }
    };
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// The `prompt` parameter (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

impl Prompt {
    /// Parses the space-separated values; `none` with anything else is an error (§3.1.2.1).
    /// `select_account` is accepted and treated as `login`: there is one account per session.
    pub fn parse(s: Option<&str>) -> Result<Prompt, &'static str> {
        let mut p = Prompt::default();
        for v in s.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" | "select_account" => p.login = true,
                "consent" => p.consent = true,
                _ => return Err("unsupported prompt value"),
            }
        }
        if p.none && (p.login || p.consent) {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(p)
    }

    pub fn to_param(self) -> Option<String> {
        let mut v = Vec::new();
        if self.none {
            v.push("none");
        }
        if self.login {
            v.push("login");
        }
        if self.consent {
            v.push("consent");
        }
        (!v.is_empty()).then(|| v.join(" "))
    }
}

/// The UserInfo claims the granted scopes allow (OIDC Core §5.4); `sub` always.
pub fn userinfo_claims(user: &User, scope: &Scope) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(user.id));
    if scope.contains("profile") {
        m.insert("preferred_username".into(), json!(user.username));
        m.insert("name".into(), json!(user.username));
        m.insert("updated_at".into(), json!(user.updated_at));
    }
    if scope.contains("email")
        && let Some(email) = &user.email
    {
        m.insert("email".into(), json!(email));
        // Addresses are recorded as given; nothing here has verified them.
        m.insert("email_verified".into(), json!(false));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_sha256_base64url() {
        // OIDC Core appendix A.3 example.
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                Algorithm::RS256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn prompt_none_stands_alone() {
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("bogus")).is_err());
        let p = Prompt::parse(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none);
        assert_eq!(p.to_param().as_deref(), Some("login consent"));
        assert_eq!(Prompt::parse(None).unwrap(), Prompt::default());
    }

    #[test]
    fn userinfo_releases_only_what_the_scopes_allow() {
        let user = User {
            id: "u1".into(),
            username: "alice".into(),
            email: Some("a@example.com".into()),
            password_hash: Some("x".into()),
            enabled: true,
            admin: false,
            created_at: 0,
            updated_at: 5,
        };
        let only = userinfo_claims(&user, &Scope::parse("openid").unwrap());
        assert_eq!(Value::Object(only), json!({"sub": "u1"}));
        let all = userinfo_claims(&user, &Scope::parse("openid profile email").unwrap());
        assert_eq!(all["email"], "a@example.com");
        assert_eq!(all["preferred_username"], "alice");
        assert!(
            !Value::Object(all).to_string().contains("\"x\""),
            "never the hash"
        );
    }
}
