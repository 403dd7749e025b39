//! The authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 9700): validation in the order the
//! RFC demands, so that nothing is ever redirected to a URI the client did not register.

use crate::client::{Client, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::form::Form;
use crate::oidc::Prompt;
use crate::pkce;
use crate::scope::{Scope, check_admin_scope, client_scope};

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// The registered redirect URI the response goes to.
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<pkce::Method>,
    pub nonce: Option<String>,
    /// OIDC `prompt`.
    pub prompt: Prompt,
    /// OIDC `max_age`: the longest time since the user last signed in, in seconds.
    pub max_age: Option<i64>,
    /// OIDC `login_hint`: prefills the username.
    pub login_hint: Option<String>,
}

/// Why a request failed, and therefore where the answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or its redirect URI is unknown or wrong: the user sees an error page and is
    /// never redirected (RFC 6749 §4.1.2.1, an open redirector otherwise).
    Fatal(OAuthError),
    /// Any other error goes back to the client's registered redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizePolicy {
    /// Accept `code_challenge_method=plain` (off by default: RFC 9700 §2.1.1).
    pub allow_plain_pkce: bool,
}

/// Parameters whose values are echoed or stored: bounded so that nobody stores megabytes.
const MAX_PARAM_LEN: usize = 2048;

/// The client id of a request, before anything else is known.
pub fn client_id_of(query: &Form) -> Result<&str, AuthorizeError> {
    query
        .get("client_id")
        .ok_or_else(|| AuthorizeError::Fatal(OAuthError::invalid_request("client_id is missing")))
}

/// Validates an authorization request for a known client (`None`: the client does not exist).
pub fn validate(
    query: &Form,
    client: Option<&Client>,
    policy: AuthorizePolicy,
) -> Result<AuthorizationRequest, AuthorizeError> {
    client_id_of(query)?;
    let Some(client) = client else {
        return Err(AuthorizeError::Fatal(OAuthError::invalid_request(
            "the client is unknown",
        )));
    };
    // 1. The redirect URI, compared exactly with the registered ones.
    let redirect_uri = match query.get("redirect_uri") {
        Some(uri) if client.has_redirect_uri(uri) => uri.to_owned(),
        Some(_) => {
            return Err(AuthorizeError::Fatal(OAuthError::invalid_request(
                "redirect_uri is not registered for this client",
            )));
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].as_str().to_owned(),
        None => {
            return Err(AuthorizeError::Fatal(OAuthError::invalid_request(
                "redirect_uri is required",
            )));
        }
    };
    let state = query.get("state").map(str::to_owned);
    let redirect = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone().filter(|s| s.len() <= MAX_PARAM_LEN),
        error,
    };
    // 2. Everything else is reported to the client.
    if state.as_ref().is_some_and(|s| s.len() > MAX_PARAM_LEN) {
        return Err(redirect(OAuthError::invalid_request("state is too long")));
    }
    match query.get("response_type") {
        None => {
            return Err(redirect(OAuthError::invalid_request(
                "response_type is missing",
            )));
        }
        Some("code") => {}
        Some(_) => {
            return Err(redirect(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            )));
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(redirect(OAuthError::unauthorized_client(
            "the client is not registered for the authorization_code grant",
        )));
    }
    if query.contains("request") {
        return Err(redirect(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        )));
    }
    if query.contains("request_uri") {
        return Err(redirect(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        )));
    }
    let prompt = Prompt::parse(query.get("prompt"))
        .map_err(|why| redirect(OAuthError::invalid_request(why)))?;
    let max_age = match query.get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            redirect(OAuthError::invalid_request(
                "max_age must be a number of seconds",
            ))
        })?),
    };
    let login_hint = query
        .get("login_hint")
        .filter(|h| h.len() <= 256)
        .map(str::to_owned);
    if let Some(mode) = query.get("response_mode")
        && mode != "query"
    {
        return Err(redirect(OAuthError::invalid_request(
            "only response_mode=query is supported",
        )));
    }
    // Who the user is is not known yet: the admin rule is applied once they have signed in
    // (`AuthorizationRequest::check_user`).
    let scope = client_scope(query.get("scope"), &client.scope).map_err(&redirect)?;
    let (code_challenge, code_challenge_method) = match query.get("code_challenge") {
        Some(challenge) => {
            // RFC 7636 §4.3 defaults to plain; we only take that default where plain is allowed.
            let method = match query.get("code_challenge_method") {
                Some(m) => pkce::Method::parse(m).ok_or_else(|| {
                    redirect(OAuthError::invalid_request(
                        "code_challenge_method must be S256",
                    ))
                })?,
                None => pkce::Method::Plain,
            };
            if method == pkce::Method::Plain && !policy.allow_plain_pkce {
                return Err(redirect(OAuthError::invalid_request(
                    "code_challenge_method must be S256",
                )));
            }
            pkce::validate_challenge(challenge, method).map_err(&redirect)?;
            (Some(challenge.to_owned()), Some(method))
        }
        None if query.contains("code_challenge_method") => {
            return Err(redirect(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            )));
        }
        None if client.is_public() => {
            return Err(redirect(OAuthError::invalid_request(
                "public clients must use PKCE (code_challenge with S256)",
            )));
        }
        None => (None, None),
    };
    let nonce = query.get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_PARAM_LEN) {
        return Err(redirect(OAuthError::invalid_request("nonce is too long")));
    }
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state,
        code_challenge,
        code_challenge_method,
        nonce,
        prompt,
        max_age,
        login_hint,
    })
}

impl AuthorizationRequest {
    /// The rules that depend on the signed-in user: only an admin may be granted the `admin`
    /// scope. A refusal goes back to the client, as any other scope error does.
    pub fn check_user(&self, user_is_admin: bool) -> Result<(), AuthorizeError> {
        check_admin_scope(&self.scope, user_is_admin).map_err(|error| AuthorizeError::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error,
        })
    }

    /// The request as query parameters, to carry it through the login and consent pages without
    /// keeping it in server memory. Validated again when it comes back.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        self.params_with_prompt(self.prompt)
    }

    /// The request as query parameters, with `prompt` replaced (after a fresh sign-in, `login` has
    /// been satisfied and must not send the user round again).
    pub fn params_with_prompt(&self, prompt: Prompt) -> Vec<(&'static str, String)> {
        let me = AuthorizationRequest {
            prompt,
            ..self.clone()
        };
        me.params()
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scope.to_string()),
        ];
        if let Some(s) = &self.state {
            p.push(("state", s.clone()));
        }
        if let (Some(c), Some(m)) = (&self.code_challenge, self.code_challenge_method) {
            p.push(("code_challenge", c.clone()));
            p.push(("code_challenge_method", m.as_str().to_owned()));
        }
        if let Some(n) = &self.nonce {
            p.push(("nonce", n.clone()));
        }
        if let Some(v) = self.prompt.to_param() {
            p.push(("prompt", v));
        }
        if let Some(m) = self.max_age {
            p.push(("max_age", m.to_string()));
        }
        if let Some(h) = &self.login_hint {
            p.push(("login_hint", h.clone()));
        }
        p.retain(|(_, v)| !v.is_empty());
        p
    }
}

/// Appends response parameters to a redirect URI, keeping any query it already has
/// (RFC 6749 §3.1.2: the query component "MUST be retained").
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = redirect_uri.to_owned();
    let mut sep = if redirect_uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(&encode(k));
        out.push('=');
        out.push_str(&encode(v));
        sep = '&';
    }
    out
}

/// A local path to come back to after signing in; anything that could leave the site is refused
/// (no open redirector).
pub fn safe_return_to(s: &str) -> Option<&str> {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && !s.contains('\\')
        && !s.chars().any(char::is_control)
        && s.len() <= 8192;
    ok.then_some(s)
}

/// application/x-www-form-urlencoded encoding of one value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{AuthMethod, RedirectUri};

    fn client(method: AuthMethod, uris: &[&str]) -> Client {
        Client {
            client_id: "c".into(),
            secret_hash: None,
            name: "App".into(),
            redirect_uris: uris
                .iter()
                .map(|u| RedirectUri::parse(u).unwrap())
                .collect(),
            grant_types: vec![GrantType::AuthorizationCode],
            scope: Scope::parse("read write").unwrap(),
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

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn q(s: &str) -> Form {
        Form::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn a_wrong_redirect_uri_is_never_redirected_to() {
        let c = client(AuthMethod::ClientSecretBasic, &["https://a.example/cb"]);
        for uri in [
            "https://evil.example/cb",
            "https://a.example/cb/x",
            "https://a.example/cb?x=1",
        ] {
            let query = q(&format!(
                "client_id=c&response_type=code&redirect_uri={}",
                encode(uri)
            ));
            assert!(
                matches!(
                    validate(&query, Some(&c), AuthorizePolicy::default()),
                    Err(AuthorizeError::Fatal(_))
                ),
                "{uri}"
            );
        }
        let unknown = q("client_id=x&response_type=code&redirect_uri=https%3A%2F%2Fevil");
        assert!(matches!(
            validate(&unknown, None, AuthorizePolicy::default()),
            Err(AuthorizeError::Fatal(_))
        ));
    }

    #[test]
    fn other_errors_redirect_with_state() {
        let c = client(AuthMethod::ClientSecretBasic, &["https://a.example/cb"]);
        let query = q("client_id=c&response_type=token&state=xyz");
        match validate(&query, Some(&c), AuthorizePolicy::default()) {
            Err(AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
            }) => {
                assert_eq!(redirect_uri, "https://a.example/cb");
                assert_eq!(state.as_deref(), Some("xyz"));
                assert_eq!(error.code, ErrorCode::UnsupportedResponseType);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn public_clients_must_use_s256() {
        let c = client(AuthMethod::None, &["https://a.example/cb"]);
        let no_pkce = q("client_id=c&response_type=code");
        assert!(matches!(
            validate(&no_pkce, Some(&c), AuthorizePolicy::default()),
            Err(AuthorizeError::Redirect { .. })
        ));
        let plain = q(&format!(
            "client_id=c&response_type=code&code_challenge={CHALLENGE}"
        ));
        assert!(
            validate(&plain, Some(&c), AuthorizePolicy::default()).is_err(),
            "plain is off by default"
        );
        assert!(
            validate(
                &plain,
                Some(&c),
                AuthorizePolicy {
                    allow_plain_pkce: true
                }
            )
            .is_ok()
        );
        let s256 = q(&format!(
            "client_id=c&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256"
        ));
        let req = validate(&s256, Some(&c), AuthorizePolicy::default()).unwrap();
        assert_eq!(req.code_challenge_method, Some(pkce::Method::S256));
        assert_eq!(req.scope.to_string(), "read write");
    }

    #[test]
    fn the_request_survives_a_round_trip_through_parameters() {
        let c = client(
            AuthMethod::ClientSecretBasic,
            &["https://a.example/cb", "https://a.example/cb2"],
        );
        let query = q(
            "client_id=c&response_type=code&redirect_uri=https%3A%2F%2Fa.example%2Fcb2&scope=read&state=s%20t&nonce=n",
        );
        let req = validate(&query, Some(&c), AuthorizePolicy::default()).unwrap();
        let encoded: Vec<String> = req
            .to_params()
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let again = validate(&q(&encoded.join("&")), Some(&c), AuthorizePolicy::default()).unwrap();
        assert_eq!(req, again);
    }

    #[test]
    fn the_admin_scope_waits_for_an_admin_user_and_is_never_implied() {
        let mut c = client(AuthMethod::ClientSecretBasic, &["https://a.example/cb"]);
        c.scope = Scope::parse("read admin").unwrap();
        let implied = validate(
            &q("client_id=c&response_type=code"),
            Some(&c),
            AuthorizePolicy::default(),
        )
        .unwrap();
        assert_eq!(implied.scope.to_string(), "read");
        let asked = validate(
            &q("client_id=c&response_type=code&scope=read%20admin&state=s"),
            Some(&c),
            AuthorizePolicy::default(),
        )
        .unwrap();
        assert!(asked.check_user(true).is_ok());
        match asked.check_user(false) {
            Err(AuthorizeError::Redirect { state, error, .. }) => {
                assert_eq!(error.code, ErrorCode::InvalidScope);
                assert_eq!(state.as_deref(), Some("s"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert!(safe_return_to("/oauth/authorize?client_id=x").is_some());
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/a\nb",
        ] {
            assert!(safe_return_to(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn redirect_parameters_are_encoded_and_keep_the_existing_query() {
        assert_eq!(
            redirect_with("https://a/cb?x=1", &[("code", "a b&c"), ("state", "é")]),
            "https://a/cb?x=1&code=a%20b%26c&state=%C3%A9"
        );
    }
}
