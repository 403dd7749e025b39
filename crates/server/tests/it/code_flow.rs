//! The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636), driven as a browser would,
//! and each RFC 9700 rule it must keep.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{authorize_path, pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{TestApp, TestClient, jwt_parts};

const CB: &str = "https://app.example/cb";

async fn web_client(app: &TestApp, method: AuthMethod) -> TestClient {
    app.create_client(
        &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        "openid profile api.read api.write",
        method,
        &[CB, "http://127.0.0.1:9999/other"],
    )
    .await
}

/// Signs `user` in through the pages and returns (code, verifier).
async fn get_code(
    app: &TestApp,
    browser: &Browser<'_>,
    client: &TestClient,
    scope: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let page = sign_in_and_allow(
        browser,
        &standard_request(&client.id, CB, scope, &challenge),
        "alice",
        "correct horse",
    )
    .await;
    assert_eq!(page.location_param("state").as_deref(), Some("st-123"));
    assert_eq!(page.location_param("iss").as_deref(), Some(app.issuer()));
    (page.location_param("code").expect("a code"), verifier)
}

both!(
    a_confidential_client_signs_a_user_in_with_code_and_pkce,
    &[],
    |app: TestApp| async move {
        let user = app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (verifier, challenge) = pkce_pair();
        let authorize = standard_request(&client.id, CB, "api.read profile", &challenge);
        // Not signed in: to the login page, which will come back to this very request.
        let first = browser.get(&authorize).await;
        assert!(matches!(first.status, 302 | 303));
        assert!(
            first
                .location
                .as_deref()
                .unwrap()
                .starts_with("/auth/login?return_to=")
        );
        let login = browser.login("alice", "correct horse", &authorize).await;
        assert_eq!(login.status, 303);
        assert_eq!(login.location.as_deref(), Some(authorize.as_str()));
        let cookie = login
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("oauth2_session="))
            .unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Secure"),
            "plain-http issuer: no Secure flag"
        );
        let consent = browser.get(&authorize).await;
        assert_eq!(consent.status, 200);
        assert!(
            consent.body.contains("test client"),
            "the consent page names the client"
        );
        assert!(
            consent.body.contains("See your name and basic profile"),
            "scopes in words"
        );
        assert!(consent.body.contains("name=\"decision\" value=\"allow\""));
        assert!(consent.body.contains("name=\"decision\" value=\"deny\""));
        let done = browser.decide(&consent, "allow").await;
        assert_eq!(done.status, 303);
        assert!(
            done.location
                .as_deref()
                .unwrap()
                .starts_with(&format!("{CB}?code="))
        );
        assert_eq!(done.location_param("state").as_deref(), Some("st-123"));
        assert_eq!(done.location_param("iss").as_deref(), Some(app.issuer()));
        let code = done.location_param("code").unwrap();
        let (s, body) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["scope"], "api.read profile");
        assert!(
            body["refresh_token"].is_string(),
            "registered for refresh_token: gets one"
        );
        let claims = jwt_parts(body["access_token"].as_str().unwrap()).1;
        assert_eq!(claims["sub"], user.id.as_str());
        assert_eq!(claims["client_id"], client.id.as_str());
        let (_, v) = app
            .introspect(&client, body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(
            (v["active"].as_bool(), v["sub"].as_str()),
            (Some(true), Some(user.id.as_str()))
        );
    }
);

both!(
    a_public_client_uses_pkce_and_no_secret,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::None).await;
        assert!(client.secret.is_none());
        let browser = Browser::new(&app);
        let (code, verifier) = get_code(&app, &browser, &client, "api.read").await;
        let (s, body) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!(s, 200, "{body}");
        // Without PKCE a public client gets an error redirect, not a code.
        let page = browser
            .get(&authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", CB),
                ("state", "s"),
            ]))
            .await;
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(page.location_param("state").as_deref(), Some("s"));
        assert_eq!(page.location_param("iss").as_deref(), Some(app.issuer()));
        assert!(page.location_param("code").is_none());
    }
);

both!(
    first_party_clients_skip_consent_and_consent_is_remembered,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        get_code(&app, &browser, &client, "api.read api.write").await;
        // The same or fewer scopes: straight back with a code.
        let (_, challenge) = pkce_pair();
        let page = browser
            .get(&standard_request(&client.id, CB, "api.read", &challenge))
            .await;
        assert_eq!(page.status, 302);
        assert!(page.location_param("code").is_some());
        // More scopes: asked again.
        let page = browser
            .get(&standard_request(
                &client.id,
                CB,
                "api.read profile",
                &challenge,
            ))
            .await;
        assert_eq!(page.status, 200, "consent asked again for a new scope");
        // A first-party client never asks.
        let store = app.services.store.as_ref();
        let mut c = store.get_client(&client.id).await.unwrap().unwrap();
        c.skip_consent = true;
        let first_party = app
            .create_client(
                &[GrantType::AuthorizationCode],
                "openid profile",
                AuthMethod::ClientSecretBasic,
                &[CB],
            )
            .await;
        let mut fp = store.get_client(&first_party.id).await.unwrap().unwrap();
        fp.skip_consent = true;
        store.update_client(&fp).await.unwrap();
        app.services.clients.invalidate(&first_party.id);
        let page = browser
            .get(&standard_request(
                &first_party.id,
                CB,
                "profile",
                &challenge,
            ))
            .await;
        assert_eq!(page.status, 302, "{}", page.body);
        assert!(page.location_param("code").is_some());
    }
);

both!(
    deny_answers_access_denied_with_state_and_iss,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (_, challenge) = pkce_pair();
        let authorize = standard_request(&client.id, CB, "api.read", &challenge);
        let login = browser.login("alice", "correct horse", &authorize).await;
        let consent = browser.get(login.location.as_deref().unwrap()).await;
        let page = browser.decide(&consent, "deny").await;
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("access_denied")
        );
        assert_eq!(page.location_param("state").as_deref(), Some("st-123"));
        assert_eq!(page.location_param("iss").as_deref(), Some(app.issuer()));
        assert!(page.location_param("code").is_none());
    }
);

both!(
    an_unknown_client_or_redirect_uri_is_never_redirected_to,
    &[],
    |app: TestApp| async move {
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (_, challenge) = pkce_pair();
        for (client_id, uri) in [
            (client.id.as_str(), "https://evil.example/cb"),
            (client.id.as_str(), "https://app.example/cb/../evil"),
            (client.id.as_str(), "https://app.example/cb?x=1"),
            (client.id.as_str(), "https://APP.example/cb"),
            ("no-such-client", CB),
        ] {
            let page = browser
                .get(&standard_request(client_id, uri, "api.read", &challenge))
                .await;
            assert_eq!(page.status, 400, "{uri}");
            assert!(page.location.is_none(), "never redirected: {uri}");
            assert!(
                page.body.contains("not valid"),
                "an error page for the user"
            );
        }
        // Two registered URIs: the request must say which.
        let page = browser
            .get(&authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ]))
            .await;
        assert_eq!(page.status, 400);
        assert!(page.location.is_none());
    }
);

both!(
    other_request_errors_redirect_with_the_rfc_code,
    &[],
    |app: TestApp| async move {
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (_, challenge) = pkce_pair();
        let cases = [
            (
                vec![("response_type", "token")],
                "unsupported_response_type",
            ),
            (vec![], "invalid_request"),
            (
                vec![("response_type", "code"), ("scope", "admin")],
                "invalid_scope",
            ),
            (
                vec![
                    ("response_type", "code"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "plain"),
                ],
                "invalid_request",
            ),
            (
                vec![
                    ("response_type", "code"),
                    ("code_challenge", challenge.as_str()),
                ],
                "invalid_request",
            ),
            (
                vec![
                    ("response_type", "code"),
                    ("code_challenge", "short"),
                    ("code_challenge_method", "S256"),
                ],
                "invalid_request",
            ),
        ];
        for (extra, error) in cases {
            let mut params = vec![
                ("client_id", client.id.as_str()),
                ("redirect_uri", CB),
                ("state", "a b&c=d/é"),
            ];
            params.extend(extra.iter().copied());
            let page = browser.get(&authorize_path(&params)).await;
            assert_eq!(page.status, 302, "{extra:?}");
            assert!(page.location.as_deref().unwrap().starts_with(CB));
            assert_eq!(
                page.location_param("error").as_deref(),
                Some(error),
                "{extra:?}"
            );
            assert_eq!(
                page.location_param("state").as_deref(),
                Some("a b&c=d/é"),
                "state round-trips exactly"
            );
            assert_eq!(page.location_param("iss").as_deref(), Some(app.issuer()));
        }
        // A client not registered for the code flow.
        let service = app.service_client("").await;
        let page = browser
            .get(&authorize_path(&[
                ("response_type", "code"),
                ("client_id", &service.id),
            ]))
            .await;
        assert_eq!(
            page.status, 400,
            "no registered redirect URI: error page, no redirect"
        );
    }
);

both!(
    a_replayed_code_is_refused_and_revokes_what_it_gave,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (code, verifier) = get_code(&app, &browser, &client, "api.read").await;
        let (s, first) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!(s, 200);
        let (s, again) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!((s, again["error"].as_str()), (400, Some("invalid_grant")));
        let (_, v) = app
            .introspect(&client, first["access_token"].as_str().unwrap())
            .await;
        assert_eq!(
            v["active"], false,
            "the access token from the code is revoked"
        );
        let (s, r) = app
            .refresh(&client, first["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!(
            (s, r["error"].as_str()),
            (400, Some("invalid_grant")),
            "and the refresh token"
        );
    }
);

both!(
    concurrent_redemptions_of_one_code_give_tokens_once_and_revoke_them,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (code, verifier) = get_code(&app, &browser, &client, "api.read").await;
        let attempts = (0..8).map(|_| app.exchange_code(&client, &code, CB, Some(&verifier)));
        let results = futures_join_all(attempts).await;
        let winners: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
        assert!(winners.len() <= 1, "at most one redemption succeeds");
        assert!(results.iter().filter(|(s, _)| *s == 400).count() >= 7);
        for (_, body) in winners {
            let (_, v) = app
                .introspect(&client, body["access_token"].as_str().unwrap())
                .await;
            assert_eq!(
                v["active"], false,
                "the replays revoked the winner's tokens"
            );
        }
    }
);

/// Runs futures concurrently on the current thread (no extra crate for join_all).
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futs.map(|f| Box::pin(f)).collect();
    let mut out = Vec::new();
    let set = handles;
    // Start them all before awaiting any: each request is sent when first polled.
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    for r in results {
        out.push(r.unwrap());
    }
    out
}

both!(
    pkce_is_enforced_at_the_token_endpoint,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        // Wrong verifier.
        let (code, _) = get_code(&app, &browser, &client, "api.read").await;
        let (other_verifier, _) = pkce_pair();
        let (s, v) = app
            .exchange_code(&client, &code, CB, Some(&other_verifier))
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        // Missing verifier.
        let (code, _) = get_code(&app, &browser, &client, "api.read").await;
        let (s, v) = app.exchange_code(&client, &code, CB, None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        // Downgrade: a code issued without a challenge, redeemed with a verifier.
        let page = browser
            .get(&authorize_path(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", CB),
                ("scope", "api.read"),
            ]))
            .await;
        let code = page
            .location_param("code")
            .expect("confidential clients may skip PKCE");
        let (verifier, _) = pkce_pair();
        let (s, v) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "PKCE downgrade"
        );
    }
);

both!(
    a_code_is_bound_to_its_client_and_redirect_uri,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let thief = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (code, verifier) = get_code(&app, &browser, &client, "api.read").await;
        let (s, v) = app.exchange_code(&thief, &code, CB, Some(&verifier)).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "another client"
        );
        let (code, verifier) = get_code(&app, &browser, &client, "api.read").await;
        let (s, v) = app
            .exchange_code(
                &client,
                &code,
                "http://127.0.0.1:9999/other",
                Some(&verifier),
            )
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "another redirect URI"
        );
        let (s, v) = app
            .token_request(
                &client,
                &format!("grant_type=authorization_code&code={code}&code_verifier={verifier}"),
            )
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "redirect_uri required with two registered"
        );
        let (s, v) = app
            .exchange_code(&client, "made-up-code", CB, Some(&verifier))
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    }
);

both!(
    an_expired_code_is_invalid_grant,
    &[("OAUTH2_AUTHORIZATION_CODE_EXPIRATION", "1")],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app, AuthMethod::ClientSecretBasic).await;
        let browser = Browser::new(&app);
        let (code, verifier) = get_code(&app, &browser, &client, "api.read").await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
        let (s, v) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    }
);
