//! Interoperability with a client library written by other people: the `oauth2` crate.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, ClientSecret, HttpRequest, HttpResponse, Scope, TokenResponse, TokenUrl,
};
use oauth2_testkit::TestApp;

/// The `oauth2` crate's HTTP client interface, served by reqwest 0.13.
async fn http(client: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
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
