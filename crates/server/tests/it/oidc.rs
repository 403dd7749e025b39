//! OpenID Connect: a certified-style relying party library (the `openidconnect` crate) signs a user
//! in with discovery, the code flow with PKCE and nonce, ID token validation against the JWKS, and
//! UserInfo; then prompt, max_age, UserInfo errors and RP-initiated logout.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{authorize_path, pkce_pair, sign_in_and_allow};
use oauth2_testkit::{TestApp, TestClient, jwt_parts};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

const CB: &str = "https://rp.example/cb";

async fn rp_client(app: &TestApp) -> TestClient {
    app.create_client(
        &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        "openid profile email offline_access api.read",
        AuthMethod::ClientSecretBasic,
        &[CB],
    )
    .await
}

both!(
    the_openidconnect_crate_signs_a_user_in,
    &[],
    |app: TestApp| async move {
        let user = app.create_user("alice", "correct horse").await;
        let client = rp_client(&app).await;
        let reqwest_client = app.http.clone();
        let http_client =
            |req: openidconnect::HttpRequest| crate::interop::http(reqwest_client.clone(), req);
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(app.issuer().to_owned()).unwrap(),
            &http_client,
        )
        .await
        .expect("discovery and JWKS");
        let rp = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client.id.clone()),
            Some(ClientSecret::new(client.secret.clone().unwrap())),
        )
        .set_redirect_uri(RedirectUrl::new(CB.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = rp
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = Browser::new(&app);
        let page = sign_in_and_allow(
            &browser,
            &url.as_str()[app.address.len()..],
            "alice",
            "correct horse",
        )
        .await;
        assert_eq!(
            page.location_param("state").as_deref(),
            Some(csrf.secret().as_str())
        );
        let token = rp
            .exchange_code(AuthorizationCode::new(page.location_param("code").unwrap()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http_client)
            .await
            .expect("code exchange");
        let id_token = token.id_token().expect("an ID token for scope openid");
        let id_verifier = rp.id_token_verifier();
        let claims = id_token
            .claims(&id_verifier, &nonce)
            .expect("the ID token validates against the JWKS");
        assert_eq!(claims.subject().as_str(), user.id);
        assert!(claims.auth_time().is_some());
        let expected = claims.access_token_hash().expect("at_hash");
        let actual = AccessTokenHash::from_token(
            token.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&id_verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(&actual, expected);
        let info: CoreUserInfoClaims = rp
            .user_info(token.access_token().to_owned(), None)
            .unwrap()
            .request_async(&http_client)
            .await
            .expect("userinfo");
        assert_eq!(info.subject().as_str(), user.id);
        assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
        assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
        // A refresh keeps the user and auth_time, without a nonce.
        let refreshed = rp
            .exchange_refresh_token(token.refresh_token().unwrap())
            .unwrap()
            .request_async(&http_client)
            .await
            .expect("refresh");
        let again = refreshed.id_token().expect("an ID token on refresh");
        let c2 = again
            .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
            .unwrap();
        assert_eq!(c2.subject().as_str(), user.id);
        assert_eq!(c2.auth_time(), claims.auth_time());
    }
);

both!(
    discovery_lists_the_openid_provider_metadata,
    &[],
    |app: TestApp| async move {
        let (_, m) = app.get_json("/.well-known/openid-configuration").await;
        assert_eq!(
            m["userinfo_endpoint"],
            format!("{}/oauth/userinfo", app.issuer())
        );
        assert_eq!(
            m["end_session_endpoint"],
            format!("{}/oauth/logout", app.issuer())
        );
        assert_eq!(m["subject_types_supported"], serde_json::json!(["public"]));
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
        assert_eq!(m["request_uri_parameter_supported"], false);
        for s in ["openid", "profile", "email", "offline_access"] {
            assert!(
                m["scopes_supported"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v == s),
                "{s}"
            );
        }
        for c in ["sub", "email", "preferred_username", "auth_time", "nonce"] {
            assert!(
                m["claims_supported"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v == c),
                "{c}"
            );
        }
        let res = app
            .http
            .get(m["userinfo_endpoint"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
);

/// An ID token for alice through the pages (nonce "n-1").
async fn signed_in_with_id_token(
    app: &TestApp,
    browser: &Browser<'_>,
    client: &TestClient,
) -> serde_json::Value {
    let (verifier, challenge) = pkce_pair();
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.id),
        ("redirect_uri", CB),
        ("scope", "openid profile"),
        ("nonce", "n-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let page = sign_in_and_allow(browser, &path, "alice", "correct horse").await;
    let (s, body) = app
        .exchange_code(
            client,
            &page.location_param("code").unwrap(),
            CB,
            Some(&verifier),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    body
}

both!(
    prompt_none_answers_login_required_or_consent_required,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = rp_client(&app).await;
        let browser = Browser::new(&app);
        let (_, challenge) = pkce_pair();
        let req = |scope: &str| {
            authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", CB),
                ("scope", scope),
                ("state", "s1"),
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
        };
        let page = browser.get(&req("openid")).await;
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("login_required")
        );
        assert_eq!(page.location_param("state").as_deref(), Some("s1"));
        assert_eq!(page.location_param("iss").as_deref(), Some(app.issuer()));
        browser.login("alice", "correct horse", "").await;
        let page = browser.get(&req("openid")).await;
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("consent_required")
        );
        signed_in_with_id_token(&app, &browser, &client).await;
        let page = browser.get(&req("openid profile")).await;
        assert!(
            page.location_param("code").is_some(),
            "silent sign-in once consented: {:?}",
            page.location
        );
        let page = browser
            .get(&authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", CB),
                ("prompt", "none login"),
            ]))
            .await;
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("invalid_request")
        );
    }
);

both!(
    prompt_login_and_max_age_ask_for_the_password_again,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = rp_client(&app).await;
        let browser = Browser::new(&app);
        let first = signed_in_with_id_token(&app, &browser, &client).await;
        let mut last_auth = jwt_parts(first["id_token"].as_str().unwrap()).1["auth_time"]
            .as_i64()
            .unwrap();
        let (_, challenge) = pkce_pair();
        for extra in [("prompt", "login"), ("max_age", "0")] {
            let path = authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", CB),
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                extra,
                ("login_hint", "alice"),
            ]);
            actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
            let page = browser.get(&path).await;
            let to = page.location.clone().unwrap();
            assert!(to.starts_with("/auth/login?"), "{extra:?}: {to}");
            let login_page = browser.get(&to).await;
            assert!(
                login_page.body.contains("name=\"password\""),
                "{extra:?}: the form, though signed in"
            );
            assert_eq!(
                login_page.input("username").as_deref(),
                Some("alice"),
                "login_hint prefills"
            );
            let return_to = login_page.input("return_to").unwrap();
            assert!(
                !return_to.contains("prompt=login"),
                "no second round after signing in"
            );
            let done = browser
                .post(
                    "/auth/login",
                    &[
                        ("csrf_token".into(), login_page.input("csrf_token").unwrap()),
                        ("return_to".into(), return_to),
                        ("username".into(), "alice".into()),
                        ("password".into(), "correct horse".into()),
                    ],
                )
                .await;
            assert_eq!(done.status, 303, "{}", done.body);
            let page = browser.get(done.location.as_deref().unwrap()).await;
            let code = page
                .location_param("code")
                .unwrap_or_else(|| panic!("{extra:?}: {:?} {}", page.location, page.body));
            // The fresh sign-in shows in auth_time (the code was issued without PKCE verifier use here).
            let row = app
                .services
                .store
                .redeem_code(
                    &oauth2_core::secret::hash_secret(&code),
                    oauth2_actors::now(),
                )
                .await
                .unwrap();
            let oauth2_core::ports::CodeRedemption::Redeemed(c) = row else {
                panic!("code not found")
            };
            assert!(c.auth_time > last_auth, "{extra:?}: a new auth_time");
            last_auth = c.auth_time;
        }
    }
);

both!(
    userinfo_needs_a_live_token_with_openid,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = rp_client(&app).await;
        let browser = Browser::new(&app);
        let tokens = signed_in_with_id_token(&app, &browser, &client).await;
        let at = tokens["access_token"].as_str().unwrap();
        let get = |auth: Option<String>| {
            let mut r = app.http.get(app.url("/oauth/userinfo"));
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.send()
        };
        let res = get(Some(format!("Bearer {at}"))).await.unwrap();
        assert_eq!(res.status(), 200);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["preferred_username"], "alice");
        assert!(v.get("email").is_none(), "no email scope, no email");
        // POST with the token in the body (RFC 6750 §2.2).
        let res = app
            .post_form("/oauth/userinfo", &format!("access_token={at}"), None)
            .await;
        assert_eq!(res.status(), 200);
        let res = get(Some("Bearer garbage".into())).await.unwrap();
        assert_eq!(res.status(), 401);
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
        let res = get(None).await.unwrap();
        assert_eq!(res.status(), 401);
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        // A machine token has no openid scope and no user.
        let service = app.service_client("api.read").await;
        let machine = app.access_token(&service).await;
        let res = get(Some(format!("Bearer {machine}"))).await.unwrap();
        assert_eq!(res.status(), 403);
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("insufficient_scope")
        );
        assert_eq!(app.revoke(&client, at).await, 200);
        let res = get(Some(format!("Bearer {at}"))).await.unwrap();
        assert_eq!(res.status(), 401, "revoked");
    }
);

both!(
    rp_initiated_logout_ends_the_session_and_returns_to_a_registered_uri_only,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = rp_client(&app).await;
        let store = app.services.store.as_ref();
        let mut c = store.get_client(&client.id).await.unwrap().unwrap();
        c.post_logout_redirect_uris =
            vec![oauth2_core::client::RedirectUri::parse("https://rp.example/bye").unwrap()];
        store.update_client(&c).await.unwrap();
        app.services.clients.invalidate(&client.id);
        let browser = Browser::new(&app);
        let tokens = signed_in_with_id_token(&app, &browser, &client).await;
        let hint = tokens["id_token"].as_str().unwrap();
        // An unregistered target is an error page, not a redirect.
        let page = browser.get(&format!("/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")).await;
        assert_eq!(page.status, 400);
        assert!(page.location.is_none());
        assert!(
            browser.cookie("oauth2_session").is_some(),
            "still signed in"
        );
        // Without a hint the user confirms (CSRF-protected form).
        let page = browser.get(&format!("/oauth/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=z", client.id)).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Sign out?"));
        // With a hint for the signed-in user: signed out at once, back to the RP with state.
        let page = browser.get(&format!("/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=xyz")).await;
        assert_eq!(page.status, 303);
        assert_eq!(
            page.location.as_deref(),
            Some("https://rp.example/bye?state=xyz")
        );
        assert!(browser.cookie("oauth2_session").is_none());
        let (_, challenge) = pkce_pair();
        let again = browser
            .get(&authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", CB),
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ]))
            .await;
        assert!(
            again.location.unwrap().starts_with("/auth/login"),
            "the session is over"
        );
        let page = browser.get("/oauth/logout?id_token_hint=not-a-token").await;
        assert_eq!(page.status, 400);
    }
);
