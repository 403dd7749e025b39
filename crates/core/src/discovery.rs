//! Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0 §3).
//!
//! Built from what is really enabled, so a client never finds an advertised feature missing.

use crate::client::{AuthMethod, GrantType};
use crate::jose::Algorithm;
use serde::Serialize;

/// What the server has switched on; the metadata is derived from this alone.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub issuer: String,
    pub grant_types: Vec<GrantType>,
    pub auth_methods: Vec<AuthMethod>,
    pub signing_alg: Algorithm,
    pub registration_enabled: bool,
    pub scopes: Vec<String>,
    pub allow_plain_pkce: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerMetadata {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9068 access tokens are signed with this algorithm.
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub openid: Option<OpenIdMetadata>,
}

/// The OpenID Provider fields (OIDC Discovery §3), present when the code flow is served.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenIdMetadata {
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    /// Defaults to true when absent (OIDC Discovery §3), so it is stated.
    pub request_uri_parameter_supported: bool,
    pub userinfo_signing_alg_values_supported: Vec<&'static str>,
}

impl ServerMetadata {
    pub fn build(c: &Capabilities) -> ServerMetadata {
        let base = c.issuer.trim_end_matches('/');
        let url = |path: &str| format!("{base}{path}");
        let code_flow = c.grant_types.contains(&GrantType::AuthorizationCode);
        let confidential: Vec<&'static str> = c
            .auth_methods
            .iter()
            .filter(|m| m.is_confidential())
            .map(|m| m.as_str())
            .collect();
        ServerMetadata {
            issuer: c.issuer.clone(),
            authorization_endpoint: code_flow.then(|| url("/oauth/authorize")),
            token_endpoint: url("/oauth/token"),
            jwks_uri: url("/.well-known/jwks.json"),
            registration_endpoint: c.registration_enabled.then(|| url("/clients/register")),
            scopes_supported: if code_flow {
                let mut s: Vec<String> = crate::oidc::STANDARD_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                s.extend(
                    c.scopes
                        .iter()
                        .filter(|x| !s.contains(x))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                s
            } else {
                c.scopes.clone()
            },
            response_types_supported: if code_flow { vec!["code"] } else { vec![] },
            grant_types_supported: c.grant_types.iter().map(|g| g.as_str()).collect(),
            token_endpoint_auth_methods_supported: c
                .auth_methods
                .iter()
                .map(|m| m.as_str())
                .collect(),
            introspection_endpoint: url("/oauth/introspect"),
            introspection_endpoint_auth_methods_supported: confidential.clone(),
            revocation_endpoint: url("/oauth/revoke"),
            revocation_endpoint_auth_methods_supported: c
                .auth_methods
                .iter()
                .map(|m| m.as_str())
                .collect(),
            code_challenge_methods_supported: match (code_flow, c.allow_plain_pkce) {
                (false, _) => vec![],
                (true, false) => vec!["S256"],
                (true, true) => vec!["S256", "plain"],
            },
            authorization_response_iss_parameter_supported: code_flow,
            access_token_signing_alg_values_supported: vec![c.signing_alg.as_str()],
            openid: code_flow.then(|| OpenIdMetadata {
                userinfo_endpoint: url("/oauth/userinfo"),
                end_session_endpoint: url("/oauth/logout"),
                subject_types_supported: vec!["public"],
                id_token_signing_alg_values_supported: vec![c.signing_alg.as_str()],
                claims_supported: crate::oidc::CLAIMS_SUPPORTED.to_vec(),
                response_modes_supported: vec!["query"],
                prompt_values_supported: vec!["none", "login", "consent", "select_account"],
                claims_parameter_supported: false,
                request_parameter_supported: false,
                request_uri_parameter_supported: false,
                userinfo_signing_alg_values_supported: vec![],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enabled_features_are_listed() {
        let m = ServerMetadata::build(&Capabilities {
            issuer: "https://as.example/".into(),
            grant_types: vec![GrantType::ClientCredentials],
            auth_methods: vec![AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost],
            signing_alg: Algorithm::ES256,
            registration_enabled: false,
            scopes: vec![],
            allow_plain_pkce: false,
        });
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["token_endpoint"], "https://as.example/oauth/token");
        assert!(v.get("authorization_endpoint").is_none());
        assert!(v.get("registration_endpoint").is_none());
        assert_eq!(
            v["grant_types_supported"],
            serde_json::json!(["client_credentials"])
        );
    }
}
