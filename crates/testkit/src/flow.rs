//! The authorization code flow, step by step, for tests.

use crate::browser::{Browser, Page};
use crate::{TestApp, TestClient};
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_core::authorize::encode;
use serde_json::Value;

/// A PKCE pair (RFC 7636): a fresh verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier =
        oauth2_core::secret::random_token(&oauth2_core::SystemRandom::new(), 48).unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

/// An authorization request path from parameters.
pub fn authorize_path(params: &[(&str, &str)]) -> String {
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("/oauth/authorize?{}", q.join("&"))
}

/// The standard request of the tests: code, S256, a state.
pub fn standard_request(
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    challenge: &str,
) -> String {
    authorize_path(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", "st-123"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ])
}

/// From an authorization request to the redirect that carries the code: login if asked, consent
/// if asked (allow). Returns the final redirect page.
pub async fn sign_in_and_allow(
    browser: &Browser<'_>,
    authorize: &str,
    user: &str,
    password: &str,
) -> Page {
    let mut page = browser.get(authorize).await;
    if let Some(loc) = page.location.clone()
        && loc.starts_with("/auth/login")
    {
        let login = browser.login(user, password, authorize).await;
        assert_eq!(login.status, 303, "login: {}", login.body);
        page = browser.get(login.location.as_deref().unwrap()).await;
    }
    if page.status == 200 {
        page = browser.decide(&page, "allow").await;
    }
    assert!(
        matches!(page.status, 302 | 303),
        "expected a redirect to the client, got {}: {}",
        page.status,
        page.body
    );
    page
}

impl TestApp {
    /// Exchanges a code at the token endpoint.
    pub async fn exchange_code(
        &self,
        client: &TestClient,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> (u16, Value) {
        let mut body = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}",
            encode(code),
            encode(redirect_uri)
        );
        if let Some(v) = verifier {
            body.push_str(&format!("&code_verifier={}", encode(v)));
        }
        self.token_request(client, &body).await
    }

    /// A token request authenticated as the client registered it (public: `client_id` only).
    pub async fn token_request(&self, client: &TestClient, body: &str) -> (u16, Value) {
        let res = match &client.secret {
            Some(_) => self.post_form("/oauth/token", body, Some(client)).await,
            None => {
                self.post_form(
                    "/oauth/token",
                    &format!("{body}&client_id={}", encode(&client.id)),
                    None,
                )
                .await
            }
        };
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn refresh(
        &self,
        client: &TestClient,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> (u16, Value) {
        let mut body = format!(
            "grant_type=refresh_token&refresh_token={}",
            encode(refresh_token)
        );
        if let Some(s) = scope {
            body.push_str(&format!("&scope={}", encode(s)));
        }
        self.token_request(client, &body).await
    }
}
