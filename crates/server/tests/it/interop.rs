//! Interoperability with a client library written by other people: the `oauth2` crate.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, ClientSecret, HttpRequest, HttpResponse, Scope, TokenResponse, TokenUrl,
};
use oauth2_testkit::TestApp;

/// The `oauth2` crate's HTTP client interface, served by reqwest 0.13.
pub async fn http(
    client: reqwest::Client,
    req: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = req.into_parts();
    let mut builder = client
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let res = builder.send().await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let mut out = HttpResponse::new(res.bytes().await?.to_vec());
    *out.status_mut() = oauth2::http::StatusCode::from_u16(status).unwrap();
    for (name, value) in &headers {
        out.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(out)
}

both!(
    the_oauth2_crate_gets_a_client_credentials_token,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("api.read api.write").await;
        let oauth = BasicClient::new(ClientId::new(client.id.clone()))
            .set_client_secret(ClientSecret::new(client.secret.clone().unwrap()))
            .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
            .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap());
        let reqwest_client = app.http.clone();
        let http_client = |req: HttpRequest| http(reqwest_client.clone(), req);
        let token = oauth
            .exchange_client_credentials()
            .add_scope(Scope::new("api.read".into()))
            .request_async(&http_client)
            .await
            .expect("the oauth2 crate accepts our token response");
        assert_eq!(
            token
                .scopes()
                .unwrap()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
            vec!["api.read"]
        );
        assert!(token.refresh_token().is_none());
        let (_, v) = app.introspect(&client, token.access_token().secret()).await;
        assert_eq!(v["active"], true);
        // And the crate sees our errors as RFC 6749 errors.
        let err = oauth
            .exchange_client_credentials()
            .add_scope(Scope::new("admin".into()))
            .request_async(&http_client)
            .await
            .unwrap_err();
        match err {
            oauth2::RequestTokenError::ServerResponse(r) => {
                assert_eq!(r.error().as_ref(), "invalid_scope");
            }
            other => panic!("expected an RFC 6749 error response, got {other:?}"),
        }
    }
);

both!(
    the_oauth2_crate_runs_the_code_flow_with_pkce_and_refreshes,
    &[],
    |app: TestApp| async move {
        use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl};
        use oauth2_core::client::{AuthMethod, GrantType};
        const CB: &str = "https://app.example/cb";
        app.create_user("alice", "correct horse").await;
        let client = app
            .create_client(
                &[GrantType::AuthorizationCode, GrantType::RefreshToken],
                "api.read api.write",
                AuthMethod::ClientSecretBasic,
                &[CB],
            )
            .await;
        let oauth = BasicClient::new(ClientId::new(client.id.clone()))
            .set_client_secret(ClientSecret::new(client.secret.clone().unwrap()))
            .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
            .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
            .set_redirect_uri(RedirectUrl::new(CB.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("api.read".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = oauth2_testkit::browser::Browser::new(&app);
        let path = &url.as_str()[app.address.len()..];
        let page =
            oauth2_testkit::flow::sign_in_and_allow(&browser, path, "alice", "correct horse").await;
        assert_eq!(
            page.location_param("state").as_deref(),
            Some(csrf.secret().as_str())
        );
        let code = page.location_param("code").unwrap();
        let reqwest_client = app.http.clone();
        let http_client = |req: HttpRequest| http(reqwest_client.clone(), req);
        let token = oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http_client)
            .await
            .expect("the oauth2 crate exchanges the code");
        assert_eq!(token.scopes().unwrap()[0].as_str(), "api.read");
        let refreshed = oauth
            .exchange_refresh_token(token.refresh_token().unwrap())
            .request_async(&http_client)
            .await
            .expect("and refreshes");
        assert_ne!(
            refreshed.refresh_token().unwrap().secret(),
            token.refresh_token().unwrap().secret()
        );
        let (_, v) = app
            .introspect(&client, refreshed.access_token().secret())
            .await;
        assert_eq!(v["active"], true);
    }
);
