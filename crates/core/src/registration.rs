//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592): the client's
//! JSON metadata parsed into [`ClientMetadata`], and a registered client rendered back with the
//! RFC's field names. No I/O: the operations layer generates ids and secrets and stores the client.
//!
//! Decisions where the RFCs leave room:
//! - Unknown fields are ignored (RFC 7591 §2), and so are JSON `null` and empty values of known
//!   fields (RFC 7592 §2.2 lets the server treat them as omitted); `client_id`, `client_secret` and
//!   the other server-issued fields are not metadata, so this parser ignores them too.
//! - Omitted `grant_types` and `response_types` are derived from each other, so that a client that
//!   names only one of them is consistent: with neither, the RFC 7591 §2 defaults
//!   (`["authorization_code"]`, `["code"]`).
//! - The `password` grant is refused: a dynamically registered client must never see a user's
//!   password. So is the `admin` scope: only clients an operator flags may ever ask for it.
//! - Every problem with a redirection URI (in `redirect_uris` or `post_logout_redirect_uris`) is
//!   `invalid_redirect_uri`; any other problem is `invalid_client_metadata`.

use crate::client::{AuthMethod, Client, GrantType, RedirectUri, validate_client_metadata};
use crate::error::{ErrorCode, OAuthError};
use crate::scope::{ADMIN_SCOPE, Scope};
use serde_json::{Map, Value};

/// Informational fields kept as registered (RFC 7591 §2): URLs of web pages about the client.
const URL_FIELDS: [&str; 4] = ["client_uri", "logo_uri", "tos_uri", "policy_uri"];
/// Informational free-text fields (RFC 7591 §2).
const TEXT_FIELDS: [&str; 2] = ["software_id", "software_version"];

/// Bounds that keep one registration small.
const MAX_URIS: usize = 20;
const MAX_CONTACTS: usize = 20;
const MAX_TEXT: usize = 200;
const MAX_CONTACT: usize = 320;
const MAX_URL: usize = 2000;

/// The response types this server implements (RFC 7591 §2 `response_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// RFC 6749 §4.1, paired with the `authorization_code` grant.
    Code,
}

impl ResponseType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
        }
    }
}

/// A registration request (RFC 7591 §3.1) or an update (RFC 7592 §2.2), validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    pub redirect_uris: Vec<RedirectUri>,
    /// Sorted, without duplicates; never `password`.
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<ResponseType>,
    pub auth_method: AuthMethod,
    pub scope: Scope,
    pub client_name: Option<String>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The informational fields that were given (`client_uri`, `logo_uri`, `contacts`, `tos_uri`,
    /// `policy_uri`, `software_id`, `software_version`).
    pub informational: Map<String, Value>,
}

fn bad_metadata(why: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, why.into())
}

fn bad_redirect(why: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRedirectUri, why.into())
}

impl ClientMetadata {
    /// Parses a request body: it must be one JSON object.
    pub fn parse(body: &[u8]) -> Result<ClientMetadata, OAuthError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| bad_metadata("the request body is not valid JSON"))?;
        let Value::Object(fields) = value else {
            return Err(bad_metadata("the request body must be a JSON object"));
        };
        ClientMetadata::from_fields(&fields)
    }

    /// Validates the metadata fields of a JSON object.
    pub fn from_fields(fields: &Map<String, Value>) -> Result<ClientMetadata, OAuthError> {
        let redirect_uris = uri_list(fields, "redirect_uris")?;
        let post_logout_redirect_uris = uri_list(fields, "post_logout_redirect_uris")?;
        let auth_method = match string(fields, "token_endpoint_auth_method")? {
            Some(m) => m.parse::<AuthMethod>()?,
            None => AuthMethod::ClientSecretBasic,
        };
        let (grant_types, response_types) = grant_and_response_types(fields)?;
        validate_client_metadata(&grant_types, auth_method, &redirect_uris)?;
        let scope = match string(fields, "scope")? {
            Some(s) => Scope::parse(s).map_err(|e| bad_metadata(e.description))?,
            None => Scope::empty(),
        };
        if scope.contains(ADMIN_SCOPE) {
            return Err(bad_metadata(
                "the admin scope cannot be registered dynamically",
            ));
        }
        let client_name = string(fields, "client_name")?
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(|n| {
                if n.chars().count() > MAX_TEXT || n.chars().any(char::is_control) {
                    Err(bad_metadata(format!(
                        "client_name must be at most {MAX_TEXT} characters, none of them control characters"
                    )))
                } else {
                    Ok(n.to_owned())
                }
            })
            .transpose()?;
        Ok(ClientMetadata {
            redirect_uris,
            grant_types,
            response_types,
            auth_method,
            scope,
            client_name,
            post_logout_redirect_uris,
            informational: informational(fields)?,
        })
    }
}

/// An update request (RFC 7592 §2.2): the whole new metadata, plus the client's own `client_id`
/// (required, and the one in the path) and, optionally, its current `client_secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    pub metadata: ClientMetadata,
    /// To be checked against the stored hash by the caller: it must match if present.
    pub client_secret: Option<String>,
}

impl UpdateRequest {
    /// Parses the body of `PUT /clients/register/{client_id}` for the client `client_id`.
    pub fn parse(body: &[u8], client_id: &str) -> Result<UpdateRequest, OAuthError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| bad_metadata("the request body is not valid JSON"))?;
        let Value::Object(fields) = value else {
            return Err(bad_metadata("the request body must be a JSON object"));
        };
        if string(&fields, "client_id")? != Some(client_id) {
            return Err(bad_metadata(
                "the request must carry the client's own client_id",
            ));
        }
        Ok(UpdateRequest {
            client_secret: string(&fields, "client_secret")?.map(str::to_owned),
            metadata: ClientMetadata::from_fields(&fields)?,
        })
    }
}

/// A field's value, with `null` read as absent.
fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|v| !v.is_null())
}

/// A string field; an empty string is read as absent.
fn string<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match field(fields, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_metadata(format!("{name} must be a string"))),
    }
}

/// An array-of-strings field, without duplicates, in the order given.
fn string_list<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    error: fn(String) -> OAuthError,
) -> Result<Vec<&'a str>, OAuthError> {
    let Some(value) = field(fields, name) else {
        return Ok(vec![]);
    };
    let Value::Array(items) = value else {
        return Err(error(format!("{name} must be an array of strings")));
    };
    let mut out: Vec<&str> = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(s) = item else {
            return Err(error(format!("{name} must be an array of strings")));
        };
        if !out.contains(&s.as_str()) {
            out.push(s);
        }
    }
    Ok(out)
}

fn uri_list(fields: &Map<String, Value>, name: &str) -> Result<Vec<RedirectUri>, OAuthError> {
    let uris = string_list(fields, name, bad_redirect)?;
    if uris.len() > MAX_URIS {
        return Err(bad_redirect(format!(
            "{name} may hold at most {MAX_URIS} URIs"
        )));
    }
    uris.into_iter()
        .map(|u| {
            RedirectUri::parse(u).map_err(|e| bad_redirect(format!("{name}: {}", e.description)))
        })
        .collect()
}

/// `grant_types` and `response_types`, each derived from the other when omitted, and consistent
/// (RFC 7591 §2.1): the `authorization_code` grant goes with the `code` response type.
fn grant_and_response_types(
    fields: &Map<String, Value>,
) -> Result<(Vec<GrantType>, Vec<ResponseType>), OAuthError> {
    let mut grants = string_list(fields, "grant_types", bad_metadata)?
        .into_iter()
        .map(|g| match g.parse::<GrantType>() {
            Ok(GrantType::Password) => Err(bad_metadata(
                "the password grant is not available to dynamically registered clients",
            )),
            Ok(g) => Ok(g),
            Err(_) => Err(bad_metadata(format!("unsupported grant type '{g}'"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let responses = string_list(fields, "response_types", bad_metadata)?
        .into_iter()
        .map(|r| match r {
            "code" => Ok(ResponseType::Code),
            other => Err(bad_metadata(format!("unsupported response type '{other}'"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if grants.is_empty() {
        // RFC 7591 §2: the default, and the one grant that goes with `code`.
        grants = vec![GrantType::AuthorizationCode];
    }
    let code_grant = grants.contains(&GrantType::AuthorizationCode);
    let responses = match (responses.is_empty(), code_grant) {
        (true, true) => vec![ResponseType::Code],
        (true, false) => vec![],
        (false, true) => responses,
        (false, false) => {
            return Err(bad_metadata(
                "response type 'code' needs the authorization_code grant",
            ));
        }
    };
    if !code_grant && !grants.contains(&GrantType::ClientCredentials) {
        return Err(bad_metadata(
            "refresh_token needs a grant that issues refresh tokens: authorization_code",
        ));
    }
    grants.sort();
    Ok((grants, responses))
}

/// The informational fields: absolute http(s) URLs, an array of contact strings, short texts.
fn informational(fields: &Map<String, Value>) -> Result<Map<String, Value>, OAuthError> {
    let mut out = Map::new();
    for name in URL_FIELDS {
        if let Some(url) = string(fields, name)? {
            check_web_url(name, url)?;
            out.insert(name.to_owned(), Value::String(url.to_owned()));
        }
    }
    let contacts = string_list(fields, "contacts", bad_metadata)?;
    if contacts.len() > MAX_CONTACTS {
        return Err(bad_metadata(format!(
            "contacts may hold at most {MAX_CONTACTS} entries"
        )));
    }
    if contacts.iter().any(|c| {
        c.trim().is_empty() || c.chars().count() > MAX_CONTACT || c.chars().any(char::is_control)
    }) {
        return Err(bad_metadata(format!(
            "each contact must be 1 to {MAX_CONTACT} characters, none of them control characters"
        )));
    }
    if !contacts.is_empty() {
        out.insert(
            "contacts".to_owned(),
            Value::Array(
                contacts
                    .into_iter()
                    .map(|c| Value::String(c.to_owned()))
                    .collect(),
            ),
        );
    }
    for name in TEXT_FIELDS {
        if let Some(text) = string(fields, name)? {
            if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) {
                return Err(bad_metadata(format!(
                    "{name} must be at most {MAX_TEXT} characters, none of them control characters"
                )));
            }
            out.insert(name.to_owned(), Value::String(text.to_owned()));
        }
    }
    Ok(out)
}

/// An absolute `https://` or `http://` URL with a host: the informational URLs are shown to
/// users as links, so no other scheme (`javascript:`, `data:`) may slip through.
fn check_web_url(name: &str, url: &str) -> Result<(), OAuthError> {
    let bad = || bad_metadata(format!("{name} must be an absolute http or https URL"));
    if url.len() > MAX_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    Ok(())
}

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1): the scheme in any
/// case, one space, then a b64token. `None` for anything else (another scheme, no header).
pub fn bearer_token(authorization: Option<&[u8]>) -> Option<&str> {
    let header = std::str::from_utf8(authorization?).ok()?;
    let (scheme, token) = header.split_once(' ')?;
    let b64token =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/');
    let body = token.trim_end_matches('=');
    (scheme.eq_ignore_ascii_case("bearer") && !body.is_empty() && body.chars().all(b64token))
        .then_some(token)
}

/// The metadata of a registered client with RFC 7591 field names: what the registration response
/// (RFC 7591 §3.2.1) and the client information response (RFC 7592 §3) carry besides the
/// credentials. Never a secret or a hash.
pub fn registered_metadata(client: &Client) -> Map<String, Value> {
    let strings = |items: Vec<&str>| {
        Value::Array(
            items
                .into_iter()
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )
    };
    let mut out = Map::new();
    out.insert("client_id".into(), Value::String(client.client_id.clone()));
    out.insert("client_id_issued_at".into(), Value::from(client.created_at));
    out.insert("client_name".into(), Value::String(client.name.clone()));
    out.insert(
        "redirect_uris".into(),
        strings(
            client
                .redirect_uris
                .iter()
                .map(RedirectUri::as_str)
                .collect(),
        ),
    );
    out.insert(
        "grant_types".into(),
        strings(client.grant_types.iter().map(|g| g.as_str()).collect()),
    );
    let response_types = if client.allows_grant(GrantType::AuthorizationCode) {
        vec![ResponseType::Code.as_str()]
    } else {
        vec![]
    };
    out.insert("response_types".into(), strings(response_types));
    out.insert(
        "token_endpoint_auth_method".into(),
        Value::String(client.auth_method.as_str().to_owned()),
    );
    if !client.scope.is_empty() {
        out.insert("scope".into(), Value::String(client.scope.to_string()));
    }
    if !client.post_logout_redirect_uris.is_empty() {
        out.insert(
            "post_logout_redirect_uris".into(),
            strings(
                client
                    .post_logout_redirect_uris
                    .iter()
                    .map(RedirectUri::as_str)
                    .collect(),
            ),
        );
    }
    for (name, value) in &client.metadata {
        out.entry(name.clone()).or_insert_with(|| value.clone());
    }
    if client.auth_method.is_confidential() {
        // RFC 7591 §3.2.1: required with a secret; 0, it does not expire.
        out.insert("client_secret_expires_at".into(), Value::from(0));
    }
    out
}

/// The registration response (RFC 7591 §3.2.1) and client information response (RFC 7592 §3):
/// the registered metadata, the secret when it was just issued, and the means to manage the
/// registration at `{issuer}/clients/register/{client_id}`.
pub fn client_information(
    client: &Client,
    client_secret: Option<&str>,
    registration_access_token: &str,
    issuer: &str,
) -> Map<String, Value> {
    let mut out = registered_metadata(client);
    if let Some(secret) = client_secret {
        out.insert("client_secret".into(), Value::String(secret.to_owned()));
    }
    out.insert(
        "registration_access_token".into(),
        Value::String(registration_access_token.to_owned()),
    );
    out.insert(
        "registration_client_uri".into(),
        Value::String(format!(
            "{}/clients/register/{}",
            issuer.trim_end_matches('/'),
            client.client_id
        )),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ClientMetadata, OAuthError> {
        ClientMetadata::parse(v.to_string().as_bytes())
    }

    fn code_of(v: Value) -> ErrorCode {
        parse(v).unwrap_err().code
    }

    #[test]
    fn a_bare_request_gets_the_rfc_defaults() {
        let m = parse(json!({ "redirect_uris": ["https://app.example/cb"] })).unwrap();
        assert_eq!(m.grant_types, [GrantType::AuthorizationCode]);
        assert_eq!(m.response_types, [ResponseType::Code]);
        assert_eq!(m.auth_method, AuthMethod::ClientSecretBasic);
        assert!(m.scope.is_empty());
        assert_eq!(m.client_name, None);
        assert!(m.informational.is_empty());
    }

    #[test]
    fn a_native_public_client_registers_loopback_and_private_use_redirects() {
        let m = parse(json!({
            "client_name": "  Native App ",
            "redirect_uris": ["http://127.0.0.1:8765/cb", "com.example.app:/oauth2redirect"],
            "grant_types": ["authorization_code", "refresh_token", "authorization_code"],
            "token_endpoint_auth_method": "none",
            "scope": "openid profile api:read",
        }))
        .unwrap();
        assert_eq!(m.client_name.as_deref(), Some("Native App"));
        assert_eq!(m.redirect_uris.len(), 2);
        assert_eq!(
            m.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert_eq!(m.auth_method, AuthMethod::None);
        assert_eq!(m.scope.to_string(), "openid profile api:read");
    }

    #[test]
    fn a_service_client_needs_no_redirect_uri_and_has_no_response_type() {
        let m = parse(json!({ "grant_types": ["client_credentials"] })).unwrap();
        assert_eq!(m.grant_types, [GrantType::ClientCredentials]);
        assert!(m.response_types.is_empty());
    }

    #[test]
    fn response_types_alone_imply_the_code_grant() {
        let m = parse(json!({
            "response_types": ["code"],
            "redirect_uris": ["https://app.example/cb"],
        }))
        .unwrap();
        assert_eq!(m.grant_types, [GrantType::AuthorizationCode]);
    }

    #[test]
    fn bad_redirect_uris_are_invalid_redirect_uri() {
        for uris in [
            json!(["https://app.example/cb#frag"]),
            json!(["http://app.example/cb"]),
            json!(["javascript:alert(1)"]),
            json!(["data:text/html,hi"]),
            json!(["/relative"]),
            json!("https://app.example/cb"),
            json!([42]),
        ] {
            assert_eq!(
                code_of(json!({ "redirect_uris": uris })),
                ErrorCode::InvalidRedirectUri,
                "{uris}"
            );
        }
        assert_eq!(
            code_of(json!({ "grant_types": ["authorization_code"] })),
            ErrorCode::InvalidRedirectUri,
            "the code grant needs a redirect URI"
        );
        assert_eq!(
            code_of(json!({
                "grant_types": ["client_credentials"],
                "post_logout_redirect_uris": ["http://evil.example/"],
            })),
            ErrorCode::InvalidRedirectUri
        );
    }

    #[test]
    fn inconsistent_or_unsupported_grants_are_invalid_client_metadata() {
        let cb = json!(["https://app.example/cb"]);
        for body in [
            json!({ "grant_types": ["client_credentials"], "response_types": ["code"] }),
            json!({ "grant_types": ["implicit"], "redirect_uris": cb }),
            json!({ "grant_types": ["password"] }),
            json!({ "grant_types": ["refresh_token"] }),
            json!({ "response_types": ["token"], "redirect_uris": cb }),
            json!({ "response_types": ["code id_token"], "redirect_uris": cb }),
            json!({ "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none" }),
            json!({ "redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt" }),
            json!({ "redirect_uris": cb, "grant_types": "authorization_code" }),
        ] {
            assert_eq!(
                code_of(body.clone()),
                ErrorCode::InvalidClientMetadata,
                "{body}"
            );
        }
    }

    #[test]
    fn scopes_follow_rfc_6749_and_never_include_admin() {
        let cb = json!(["https://app.example/cb"]);
        for scope in [
            json!("a \"b\""),
            json!("caf\u{e9}"),
            json!(["a"]),
            json!("openid admin"),
        ] {
            assert_eq!(
                code_of(json!({ "redirect_uris": cb, "scope": scope })),
                ErrorCode::InvalidClientMetadata,
                "{scope}"
            );
        }
    }

    #[test]
    fn informational_fields_are_kept_when_they_are_web_urls_and_strings() {
        let m = parse(json!({
            "grant_types": ["client_credentials"],
            "client_uri": "https://app.example/",
            "logo_uri": "http://localhost:8080/logo.png",
            "tos_uri": "",
            "policy_uri": null,
            "contacts": ["ops@app.example", "ops@app.example", "Zoë"],
            "software_id": "4NRB1-0XZABZI9E6-5SM3R",
            "software_version": "2.1",
            "jwks_uri": "https://app.example/jwks",
            "skip_consent": true,
            "admin": true,
        }))
        .unwrap();
        assert_eq!(
            Value::Object(m.informational),
            json!({
                "client_uri": "https://app.example/",
                "logo_uri": "http://localhost:8080/logo.png",
                "contacts": ["ops@app.example", "Zoë"],
                "software_id": "4NRB1-0XZABZI9E6-5SM3R",
                "software_version": "2.1",
            })
        );
    }

    #[test]
    fn informational_fields_of_the_wrong_shape_are_invalid_client_metadata() {
        for (name, value) in [
            ("client_uri", json!("javascript:alert(1)")),
            ("logo_uri", json!("data:image/png;base64,AAAA")),
            ("tos_uri", json!("//app.example/tos")),
            ("policy_uri", json!("https://user@app.example/")),
            ("client_uri", json!(42)),
            ("contacts", json!("ops@app.example")),
            ("contacts", json!([1, 2])),
            ("software_id", json!({ "a": 1 })),
            ("client_name", json!(["x"])),
            ("client_name", json!("x".repeat(201))),
        ] {
            let mut body = json!({ "grant_types": ["client_credentials"] });
            body[name] = value.clone();
            assert_eq!(
                code_of(body),
                ErrorCode::InvalidClientMetadata,
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_one_json_object_is_invalid_client_metadata() {
        for body in [
            &b"not json"[..],
            b"[]",
            b"\"x\"",
            b"null",
            b"",
            b"{\"a\":1} {}",
        ] {
            let err = ClientMetadata::parse(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidClientMetadata);
        }
    }

    #[test]
    fn an_update_must_name_the_client_and_is_validated_like_a_registration() {
        let ok = json!({
            "client_id": "c1",
            "client_secret": "s",
            "grant_types": ["client_credentials"],
            "registration_access_token": "ignored",
            "client_id_issued_at": 1,
        });
        let update = UpdateRequest::parse(ok.to_string().as_bytes(), "c1").unwrap();
        assert_eq!(update.client_secret.as_deref(), Some("s"));
        assert_eq!(update.metadata.grant_types, [GrantType::ClientCredentials]);

        for body in [
            json!({ "grant_types": ["client_credentials"] }),
            json!({ "client_id": "c2", "grant_types": ["client_credentials"] }),
            json!({ "client_id": "c1", "grant_types": ["password"] }),
            json!([{ "client_id": "c1" }]),
        ] {
            let err = UpdateRequest::parse(body.to_string().as_bytes(), "c1").unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidClientMetadata, "{body}");
        }
    }

    #[test]
    fn only_a_well_formed_bearer_header_yields_a_token() {
        assert_eq!(
            bearer_token(Some(b"Bearer abc-DEF_1.2~3+/==")),
            Some("abc-DEF_1.2~3+/==")
        );
        assert_eq!(bearer_token(Some(b"bearer abc")), Some("abc"));
        for bad in [
            &b"Basic abc"[..],
            b"Bearer",
            b"Bearer ",
            b"Bearer  abc",
            b"Bearer a b",
            b"Bearer ==",
            b"\xff",
        ] {
            assert_eq!(bearer_token(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn the_registered_metadata_uses_rfc_names_and_never_a_secret() {
        let client = Client {
            client_id: "c1".into(),
            secret_hash: Some("hash".into()),
            name: "App".into(),
            redirect_uris: vec![RedirectUri::parse("https://app.example/cb").unwrap()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scope: Scope::parse("openid").unwrap(),
            auth_method: AuthMethod::ClientSecretPost,
            skip_consent: false,
            post_logout_redirect_uris: vec![],
            metadata: json!({ "client_uri": "https://app.example/" })
                .as_object()
                .unwrap()
                .clone(),
            registration_token_hash: Some("rat-hash".into()),
            admin: false,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
        };
        let v = Value::Object(registered_metadata(&client));
        assert_eq!(
            v,
            json!({
                "client_id": "c1",
                "client_id_issued_at": 1_700_000_000,
                "client_name": "App",
                "redirect_uris": ["https://app.example/cb"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
                "scope": "openid",
                "client_uri": "https://app.example/",
                "client_secret_expires_at": 0,
            })
        );
    }
}
