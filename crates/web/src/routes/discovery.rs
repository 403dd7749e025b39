//! Discovery documents (RFC 8414, OIDC Discovery) and the JWKS (RFC 7517).

use crate::error::HttpError;
use actix_web::{HttpResponse, web};
use oauth2_actors::Services;
use oauth2_core::OAuthError;
use oauth2_core::client::AuthMethod;
use oauth2_core::discovery::{Capabilities, ServerMetadata};

/// The metadata, serialized once at start: it changes only with the configuration.
pub struct Metadata {
    json: String,
}

impl Metadata {
    pub fn new(svc: &Services) -> Metadata {
        let s = &svc.settings;
        let caps = Capabilities {
            issuer: s.issuer.clone(),
            grant_types: s.grant_types.clone(),
            auth_methods: AuthMethod::ALL.to_vec(),
            signing_alg: s.algorithm,
            registration_enabled: s.registration_policy
                != oauth2_actors::RegistrationPolicy::Disabled,
            scopes: vec![],
            allow_plain_pkce: s.allow_plain_pkce,
        };
        let json = serde_json::to_string(&ServerMetadata::build(&caps)).unwrap_or_default();
        Metadata { json }
    }
}

pub async fn oauth_metadata_get(m: web::Data<Metadata>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(m.json.clone())
}

pub async fn openid_configuration_get(m: web::Data<Metadata>) -> HttpResponse {
    oauth_metadata_get(m).await
}

/// Re-reads the keys so that a key rotated a moment ago (by the CLI or another instance) is
/// published at once; this is not a hot path.
pub async fn jwks_get(svc: web::Data<Services>) -> Result<HttpResponse, HttpError> {
    let set = svc
        .keys
        .reload(svc.store.as_ref(), &svc.settings, oauth2_actors::now())
        .await
        .map_err(OAuthError::from)?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("Cache-Control", "public, max-age=60"))
        .json(set.jwks()))
}
