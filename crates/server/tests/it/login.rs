//! The login page, sessions, logout and CSRF protection.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::TestApp;
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, standard_request};

const CB: &str = "https://app.example/cb";

both!(
    pages_carry_the_security_headers_and_no_script,
    &[],
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        let page = browser.get("/auth/login").await;
        assert_eq!(page.status, 200);
        let h = |n: &str| {
            page.headers
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert!(h("content-security-policy").contains("default-src 'none'"));
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("referrer-policy"), "no-referrer");
        assert_eq!(h("cache-control"), "no-store");
        assert!(!page.body.contains("<script"), "no script at all");
        assert!(page.body.contains("name=\"username\"") && page.body.contains("name=\"password\""));
        assert!(
            page.body.contains("<label for=\"username\">"),
            "labelled inputs"
        );
        let css = browser.get("/static/style.css").await;
        assert_eq!(css.status, 200);
    }
);

both!(
    a_failed_sign_in_says_the_same_for_unknown_users_and_wrong_passwords,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let browser = Browser::new(&app);
        let wrong = browser.login("alice", "wrong horse", "").await;
        let unknown = browser.login("mallory", "wrong horse", "").await;
        assert_eq!((wrong.status, unknown.status), (401, 401));
        let msg = |b: &str| {
            b.split("role=\"alert\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(msg(&wrong.body), msg(&unknown.body));
        assert!(browser.cookie("oauth2_session").is_none());
    }
);

both!(
    sign_in_without_the_csrf_token_is_refused,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let browser = Browser::new(&app);
        browser.get("/auth/login").await;
        let page = browser
            .post(
                "/auth/login",
                &[
                    ("username".into(), "alice".into()),
                    ("password".into(), "correct horse".into()),
                ],
            )
            .await;
        assert_eq!(page.status, 403);
        assert!(browser.cookie("oauth2_session").is_none());
        // A token from another browser does not fit this browser's cookie.
        let other = Browser::new(&app);
        let theirs = other.get("/auth/login").await.input("csrf_token").unwrap();
        let page = browser
            .post(
                "/auth/login",
                &[
                    ("csrf_token".into(), theirs),
                    ("username".into(), "alice".into()),
                    ("password".into(), "correct horse".into()),
                ],
            )
            .await;
        assert_eq!(page.status, 403);
        assert!(browser.cookie("oauth2_session").is_none());
    }
);

both!(
    consent_without_the_csrf_token_gives_no_code,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = app
            .create_client(
                &[GrantType::AuthorizationCode],
                "api.read",
                AuthMethod::ClientSecretBasic,
                &[CB],
            )
            .await;
        let browser = Browser::new(&app);
        let (_, challenge) = pkce_pair();
        let authorize = standard_request(&client.id, CB, "api.read", &challenge);
        browser.login("alice", "correct horse", &authorize).await;
        let consent = browser.get(&authorize).await;
        let mut fields: Vec<(String, String)> = consent
            .hidden_inputs()
            .into_iter()
            .filter(|(k, _)| k != "csrf_token")
            .collect();
        fields.push(("decision".into(), "allow".into()));
        let page = browser.post("/oauth/authorize", &fields).await;
        assert_eq!(page.status, 403);
        assert!(page.location.is_none());
    }
);

both!(logout_ends_the_session, &[], |app: TestApp| async move {
    app.create_user("alice", "correct horse").await;
    let client = app
        .create_client(
            &[GrantType::AuthorizationCode],
            "api.read",
            AuthMethod::ClientSecretBasic,
            &[CB],
        )
        .await;
    let browser = Browser::new(&app);
    browser.login("alice", "correct horse", "").await;
    let session = browser.cookie("oauth2_session").unwrap();
    let page = browser.get("/auth/login").await;
    assert!(page.body.contains("signed in as alice"), "{}", page.body);
    let csrf = page.input("csrf_token").unwrap();
    let out = browser
        .post("/auth/logout", &[("csrf_token".into(), csrf)])
        .await;
    assert_eq!(out.status, 303);
    assert!(browser.cookie("oauth2_session").is_none(), "cookie removed");
    // Even a copy of the old cookie no longer works: the session is gone on the server.
    let thief = Browser::new(&app);
    thief.set_cookie("oauth2_session", &session);
    let (_, challenge) = pkce_pair();
    let page = thief
        .get(&standard_request(&client.id, CB, "api.read", &challenge))
        .await;
    assert!(page.location.unwrap().starts_with("/auth/login"));
});

both!(
    sessions_survive_a_restart_and_work_on_every_instance,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let client = app
            .create_client(
                &[GrantType::AuthorizationCode],
                "api.read",
                AuthMethod::ClientSecretBasic,
                &[CB],
            )
            .await;
        let browser = Browser::new(&app);
        browser.login("alice", "correct horse", "").await;
        let second = oauth2_testkit::spawn_app_env(app.env.clone()).await;
        let same_browser = Browser::with_cookies_of(&second, &browser);
        let (_, challenge) = pkce_pair();
        let page = same_browser
            .get(&standard_request(&client.id, CB, "api.read", &challenge))
            .await;
        assert_eq!(
            page.status, 200,
            "the consent page, not the login page: {:?}",
            page.location
        );
    }
);

both!(
    an_idle_session_ends,
    &[("OAUTH2_SESSION_IDLE_TIMEOUT", "1")],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let browser = Browser::new(&app);
        browser.login("alice", "correct horse", "").await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
        let page = browser.get("/auth/login").await;
        assert!(
            page.body.contains("name=\"password\""),
            "signed out after the idle timeout"
        );
    }
);

both!(
    session_cookies_are_secure_behind_https,
    &[("OAUTH2_ISSUER", "https://auth.example.com")],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let browser = Browser::new(&app);
        let page = browser.login("alice", "correct horse", "").await;
        let cookie = page
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("oauth2_session="))
            .unwrap();
        assert!(
            cookie.contains("Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
    }
);

both!(
    the_login_page_never_redirects_off_site,
    &[],
    |app: TestApp| async move {
        app.create_user("alice", "correct horse").await;
        let browser = Browser::new(&app);
        for target in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
        ] {
            let page = browser.login("alice", "correct horse", target).await;
            assert_eq!(page.status, 303);
            assert_eq!(page.location.as_deref(), Some("/auth/login"), "{target}");
        }
    }
);
