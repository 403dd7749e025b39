//! Client authentication (RFC 6749 §2.3): what credentials a request presents, and whether they
//! prove the identity of a registered client.

use crate::client::{AuthMethod, Client};
use crate::error::OAuthError;
use crate::form::Form;
use crate::secret::verify_secret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

/// The credentials a request carries, before any lookup.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Basic` (RFC 6749 §2.3.1).
    Basic { client_id: String, secret: String },
    /// `client_id` and `client_secret` in the body (RFC 6749 §2.3.1, "NOT RECOMMENDED" but common).
    Post { client_id: String, secret: String },
    /// A public client naming itself with `client_id` only.
    PublicId { client_id: String },
}

// Secrets never reach a log through Debug.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, id) = match self {
            Credentials::Basic { client_id, .. } => ("Basic", client_id),
            Credentials::Post { client_id, .. } => ("Post", client_id),
            Credentials::PublicId { client_id } => ("PublicId", client_id),
        };
        write!(f, "Credentials::{kind}({id:?}, ..)")
    }
}

impl Credentials {
    pub fn client_id(&self) -> &str {
        match self {
            Credentials::Basic { client_id, .. }
            | Credentials::Post { client_id, .. }
            | Credentials::PublicId { client_id } => client_id,
        }
    }

    pub fn used_basic(&self) -> bool {
        matches!(self, Credentials::Basic { .. })
    }

    fn method(&self) -> AuthMethod {
        match self {
            Credentials::Basic { .. } => AuthMethod::ClientSecretBasic,
            Credentials::Post { .. } => AuthMethod::ClientSecretPost,
            Credentials::PublicId { .. } => AuthMethod::None,
        }
    }
}

/// Longest client identifier accepted; ours are 22 characters, imported ones may be longer.
pub const MAX_CLIENT_ID_LEN: usize = 255;

/// Reads the client's credentials from the `Authorization` header value and the form.
/// More than one method at once is `invalid_request` (RFC 6749 §2.3: "MUST NOT use more than one").
pub fn extract(authorization: Option<&[u8]>, form: &Form) -> Result<Credentials, OAuthError> {
    let creds = extract_unchecked(authorization, form)?;
    // An identifier no client can have is refused before any lookup (a NUL byte, for one, is
    // not even storable in PostgreSQL text).
    let id = creds.client_id();
    if id.is_empty() || id.len() > MAX_CLIENT_ID_LEN || id.chars().any(char::is_control) {
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    Ok(creds)
}

fn extract_unchecked(authorization: Option<&[u8]>, form: &Form) -> Result<Credentials, OAuthError> {
    let form_secret = form.get("client_secret");
    let form_id = form.get("client_id");
    if let Some(header) = authorization {
        let (id, secret) = parse_basic(header)?;
        if form_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client used more than one authentication method",
            ));
        }
        if form_id.is_some_and(|f| f != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the authenticated client",
            ));
        }
        return Ok(Credentials::Basic {
            client_id: id,
            secret,
        });
    }
    match (form_id, form_secret) {
        (Some(id), Some(secret)) => Ok(Credentials::Post {
            client_id: id.to_owned(),
            secret: secret.to_owned(),
        }),
        (Some(id), None) => Ok(Credentials::PublicId {
            client_id: id.to_owned(),
        }),
        (None, _) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(header: &[u8]) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client("malformed Basic authorization header");
    let header = std::str::from_utf8(header).map_err(|_| bad())?;
    let (scheme, value) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "only the Basic scheme authenticates clients",
        ));
    }
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> Result<String, OAuthError> {
        let plus = s.replace('+', " ");
        percent_decode_str(&plus)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| bad())
    };
    let id = unescape(id)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok((id, unescape(secret)?))
}

/// Checks the presented credentials against the registered client: the method must be the one the
/// client registered, and the secret must match. Every failure is the same `invalid_client`, so the
/// answer does not tell an attacker which part was wrong.
pub fn authenticate(client: &Client, creds: &Credentials) -> Result<(), OAuthError> {
    let failed = || OAuthError::invalid_client("client authentication failed");
    if creds.method() != client.auth_method {
        return Err(failed());
    }
    match creds {
        Credentials::Basic { secret, .. } | Credentials::Post { secret, .. } => {
            let Some(hash) = client.secret_hash.as_deref() else {
                return Err(failed());
            };
            if verify_secret(secret, hash) {
                Ok(())
            } else {
                Err(failed())
            }
        }
        Credentials::PublicId { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::client::GrantType;
    use crate::scope::Scope;
    use crate::secret::hash_secret;

    fn client(method: AuthMethod) -> Client {
        Client {
            client_id: "c1".into(),
            secret_hash: Some(hash_secret("s e+cret")),
            name: "c".into(),
            redirect_uris: vec![],
            grant_types: vec![GrantType::ClientCredentials],
            scope: Scope::empty(),
            auth_method: method,
            skip_consent: false,
            post_logout_redirect_uris: vec![],
            metadata: Default::default(),
            registration_token_hash: None,
            admin: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn basic(id: &str, secret: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))).into_bytes()
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_inside() {
        let h = basic("c1", "s+e%2Bcret");
        let creds = extract(Some(&h), &Form::default()).unwrap();
        assert_eq!(creds.client_id(), "c1");
        authenticate(&client(AuthMethod::ClientSecretBasic), &creds).unwrap();
    }

    #[test]
    fn two_methods_at_once_are_invalid_request() {
        let form = Form::parse(b"client_id=c1&client_secret=x").unwrap();
        let err = extract(Some(&basic("c1", "x")), &form).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_method_other_than_the_registered_one_fails() {
        let form = Form::parse(b"client_id=c1&client_secret=s+e%2Bcret").unwrap();
        let creds = extract(None, &form).unwrap();
        let err = authenticate(&client(AuthMethod::ClientSecretBasic), &creds).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidClient);
        authenticate(&client(AuthMethod::ClientSecretPost), &creds).unwrap();
    }

    #[test]
    fn wrong_secret_and_garbage_headers_are_invalid_client() {
        let creds = extract(Some(&basic("c1", "nope")), &Form::default()).unwrap();
        assert!(authenticate(&client(AuthMethod::ClientSecretBasic), &creds).is_err());
        for h in [&b"Basic !!!"[..], b"Bearer abc", b"Basic", b"\xff\xfe"] {
            let err = extract(Some(h), &Form::default()).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidClient);
        }
    }

    #[test]
    fn public_clients_cannot_pass_as_confidential() {
        let form = Form::parse(b"client_id=c1").unwrap();
        let creds = extract(None, &form).unwrap();
        assert!(authenticate(&client(AuthMethod::ClientSecretPost), &creds).is_err());
        assert!(authenticate(&client(AuthMethod::None), &creds).is_ok());
    }
}
