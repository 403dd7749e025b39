//! `/account/applications`: the applications a user has authorized, and taking that back.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::{Browser, Page};
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{TestApp, TestClient};
use serde_json::Value;

const CB: &str = "https://app.example/cb";
const PAGE: &str = "/account/applications";

async fn web_client(app: &TestApp) -> TestClient {
    app.create_client(
        &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        "openid profile api.read",
        AuthMethod::ClientSecretBasic,
        &[CB],
    )
    .await
}

/// Alice signs in, consents to `client`, and the client gets its tokens.
async fn authorize(app: &TestApp, browser: &Browser<'_>, client: &TestClient) -> Value {
    let (verifier, challenge) = pkce_pair();
    let page = sign_in_and_allow(
        browser,
        &standard_request(&client.id, CB, "openid api.read", &challenge),
        "alice",
        "correct horse",
    )
    .await;
    let code = page.location_param("code").unwrap();
    let (s, tokens) = app.exchange_code(client, &code, CB, Some(&verifier)).await;
    assert_eq!(s, 200, "{tokens}");
    tokens
}

/// The revoke form of the application `client_id` on the page: its fields.
fn revoke_form(page: &Page, client_id: &str) -> Vec<(String, String)> {
    let marker = format!("name=\"client_id\" value=\"{client_id}\"");
    assert!(page.body.contains(&marker), "{}", page.body);
    vec![
        ("csrf_token".into(), page.input("csrf_token").unwrap()),
        ("client_id".into(), client_id.to_owned()),
    ]
}

both!(
    the_applications_page_sends_a_stranger_to_sign_in_first,
    &[],
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        let page = browser.get(PAGE).await;
        assert_eq!(page.status, 303);
        assert_eq!(
            page.location.as_deref(),
            Some("/auth/login?return_to=%2Faccount%2Fapplications")
        );
        app.create_user("alice", "correct horse").await;
        let login = browser.login("alice", "correct horse", PAGE).await;
        assert_eq!(login.location.as_deref(), Some(PAGE));
        let page = browser.get(PAGE).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("id=\"no-applications\""),
            "{}",
            page.body
        );
    }
);

both!(
    an_authorized_application_is_listed_and_revoking_it_ends_its_tokens_and_its_consent,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app).await;
        let other = web_client(&app).await;
        let browser = Browser::new(&app);
        let tokens = authorize(&app, &browser, &client).await;
        let kept = authorize(&app, &browser, &other).await;

        let page = browser.get(PAGE).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let h = |n: &str| page.headers[n].to_str().unwrap().to_owned();
        assert!(h("content-security-policy").contains("default-src 'none'"));
        assert_eq!(h("cache-control"), "no-store");
        assert!(!page.body.contains("<script"));
        assert!(page.body.contains("test client"));
        assert!(
            page.body.contains("Sign you in with your account"),
            "scopes in words"
        );
        assert!(page.body.contains("api.read"));
        assert!(page.body.contains("Authorized on 20"), "when");

        let done = browser
            .post(
                "/account/applications/revoke",
                &revoke_form(&page, &client.id),
            )
            .await;
        assert_eq!((done.status, done.location.as_deref()), (303, Some(PAGE)));
        let page = browser.get(PAGE).await;
        assert!(!page.body.contains(&client.id), "no longer listed");
        assert!(page.body.contains(&other.id), "the other one stays");

        // The client's refresh token and access token stop working...
        let (s, v) = app
            .refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        let introspector = app.service_client("").await;
        let (_, v) = app
            .introspect(&introspector, tokens["access_token"].as_str().unwrap())
            .await;
        assert_eq!(v["active"], false);
        // ...the other client's do not...
        let (s, _) = app
            .refresh(&other, kept["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!(s, 200);
        // ...and the next authorization asks for consent again.
        let (_, challenge) = pkce_pair();
        let again = browser
            .get(&standard_request(
                &client.id,
                CB,
                "openid api.read",
                &challenge,
            ))
            .await;
        assert_eq!(again.status, 200, "the consent page: {}", again.body);
        assert!(again.body.contains("name=\"decision\""));
        let skipped = browser
            .get(&standard_request(
                &other.id,
                CB,
                "openid api.read",
                &challenge,
            ))
            .await;
        assert_eq!(skipped.status, 302, "still consented");
        // The user's change is in the event log.
        let events = app.services.store.list_events(None, 20).await.unwrap();
        let revoked = events
            .iter()
            .find(|e| e.kind == "consent.revoked")
            .unwrap_or_else(|| panic!("{events:?}"));
        assert_eq!(revoked.subject, client.id);
        assert_eq!(revoked.user_id, revoked.actor.clone().into());
    }
);

both!(
    revoking_without_the_csrf_token_or_session_changes_nothing,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = web_client(&app).await;
        let browser = Browser::new(&app);
        let tokens = authorize(&app, &browser, &client).await;
        let page = browser.get(PAGE).await;
        let mut form = revoke_form(&page, &client.id);

        let no_token = browser
            .post(
                "/account/applications/revoke",
                &[("client_id".into(), client.id.clone())],
            )
            .await;
        assert_eq!(no_token.status, 403);
        form[0].1 = "forged".into();
        let forged = browser.post("/account/applications/revoke", &form).await;
        assert_eq!(forged.status, 403);
        // Another browser (no session) with this one's form: sent to sign in.
        let stranger = Browser::new(&app);
        stranger.set_cookie("oauth2_csrf", &browser.cookie("oauth2_csrf").unwrap());
        let res = stranger
            .post(
                "/account/applications/revoke",
                &revoke_form(&page, &client.id),
            )
            .await;
        assert_eq!(res.status, 303);
        assert!(res.location.unwrap().starts_with("/auth/login"));

        assert!(
            browser.get(PAGE).await.body.contains(&client.id),
            "still listed"
        );
        let (s, _) = app
            .refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!(s, 200, "still working");
    }
);
