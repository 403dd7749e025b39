//! The admin dashboard (`/admin/...`): who gets in, and every kind of change it makes, through a
//! cookie-keeping browser and its forms.

use oauth2_actors::users::{NewUser, create_user};
use oauth2_core::SystemRandom;
use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_core::ports::User;
use oauth2_testkit::browser::{Browser, Page};
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{TestApp, TestClient, jwt_parts};
use serde_json::Value;

const CB: &str = "https://app.example/cb";
const ADMIN_PASSWORD: &str = "root password";
const PASSWORD: &str = "correct horse";

async fn user_with(app: &TestApp, username: &str, password: &str, admin: bool) -> User {
    create_user(
        app.services.store.as_ref(),
        &SystemRandom::new(),
        app.services.settings.password_params,
        oauth2_actors::now(),
        NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            password: password.into(),
            admin,
        },
    )
    .await
    .unwrap()
}

/// An admin user `root`, signed in through the login page in a browser of their own.
async fn admin_browser(app: &TestApp) -> (User, Browser<'_>) {
    let root = user_with(app, "root", ADMIN_PASSWORD, true).await;
    let browser = Browser::new(app);
    let login = browser.login("root", ADMIN_PASSWORD, "/admin").await;
    assert_eq!(
        (login.status, login.location.as_deref()),
        (303, Some("/admin")),
        "{}",
        login.body
    );
    (root, browser)
}

/// A page that must be there: 200, the dashboard's headers, no script.
async fn open(browser: &Browser<'_>, path: &str) -> Page {
    let page = browser.get(path).await;
    assert_eq!(page.status, 200, "GET {path}: {}", page.body);
    assert_page_headers(&page, path);
    page
}

/// The headers every page carries, and no script of any kind in it.
fn assert_page_headers(page: &Page, what: &str) {
    let h = |n: &str| {
        page.headers
            .get(n)
            .unwrap_or_else(|| panic!("{what}: no {n} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(
        !csp.contains("script-src"),
        "{what}: no script allowed at all: {csp}"
    );
    assert_eq!(h("cache-control"), "no-store", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    let body = page.body.to_ascii_lowercase();
    assert!(!body.contains("<script"), "{what}: a script element");
    assert!(!body.contains(" onclick="), "{what}: an inline handler");
    assert!(!body.contains("javascript:"), "{what}: a javascript: URL");
}

/// The text of the element with this `id` (up to its first child element or its end).
fn text_of(page: &Page, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let start = page.body.find(&marker)?;
    let rest = &page.body[start..];
    let open_end = rest.find('>')? + 1;
    let rest = &rest[open_end..];
    let end = rest.find('<')?;
    Some(rest[..end].trim().to_owned())
}

fn csrf(page: &Page) -> (String, String) {
    (
        "csrf_token".into(),
        page.input("csrf_token").expect("a CSRF token on the page"),
    )
}

fn field(name: &str, value: &str) -> (String, String) {
    (name.into(), value.into())
}

/// `location` followed, which must be `expected` (a 303 after a change).
async fn follow(browser: &Browser<'_>, done: &Page, expected: &str) -> Page {
    assert_eq!(
        (done.status, done.location.as_deref()),
        (303, Some(expected)),
        "{}",
        done.body
    );
    open(browser, expected).await
}

/// A web client; alice signs in and consents; the client gets her tokens.
async fn alice_tokens(app: &TestApp) -> (TestClient, User, Value) {
    let alice = user_with(app, "alice", PASSWORD, false).await;
    let client = app
        .create_client(
            &[GrantType::AuthorizationCode, GrantType::RefreshToken],
            "openid api.read",
            AuthMethod::ClientSecretBasic,
            &[CB],
        )
        .await;
    let browser = Browser::new(app);
    let (verifier, challenge) = pkce_pair();
    let page = sign_in_and_allow(
        &browser,
        &standard_request(&client.id, CB, "openid api.read", &challenge),
        "alice",
        PASSWORD,
    )
    .await;
    let code = page.location_param("code").unwrap();
    let (s, tokens) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
    assert_eq!(s, 200, "{tokens}");
    (client, alice, tokens)
}

both!(
    a_stranger_is_sent_to_sign_in_and_a_signed_in_user_who_is_not_an_admin_is_refused,
    &[],
    |app: TestApp| async move {
        let stranger = Browser::new(&app);
        for (path, back) in [
            ("/admin", "%2Fadmin"),
            ("/admin/clients", "%2Fadmin%2Fclients"),
            ("/admin/users?q=al", "%2Fadmin%2Fusers%3Fq%3Dal"),
            ("/admin/keys", "%2Fadmin%2Fkeys"),
            ("/admin/events", "%2Fadmin%2Fevents"),
        ] {
            let page = stranger.get(path).await;
            assert_eq!(page.status, 303, "{path}: {}", page.body);
            assert_eq!(
                page.location.as_deref(),
                Some(format!("/auth/login?return_to={back}").as_str()),
                "{path}"
            );
        }

        // Signed in, but not an admin: a 403 page that says why and offers to sign out.
        let alice = user_with(&app, "alice", PASSWORD, false).await;
        let browser = Browser::new(&app);
        let login = browser.login("alice", PASSWORD, "/admin").await;
        assert_eq!(login.location.as_deref(), Some("/admin"));
        for path in [
            "/admin",
            "/admin/clients",
            "/admin/clients/new",
            "/admin/keys",
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.status, 403, "{path}: {}", page.body);
            assert_page_headers(&page, path);
            assert!(page.body.contains("Admins only"), "{}", page.body);
            assert!(page.body.contains("not as an admin user"), "{}", page.body);
            assert!(page.body.contains("action=\"/auth/logout\""), "sign out");
        }
        // Her forms, with a valid CSRF token, change nothing either.
        let refused = browser.get("/admin").await;
        let disable = browser
            .post(
                &format!("/admin/users/{}/disable", alice.id),
                &[csrf(&refused)],
            )
            .await;
        assert_eq!(disable.status, 403, "{}", disable.body);
        let still = app
            .services
            .store
            .get_user(&alice.id)
            .await
            .unwrap()
            .unwrap();
        assert!(still.enabled);

        // The admin gets in, through the same login page and back to the dashboard.
        let (_, admin) = admin_browser(&app).await;
        let page = open(&admin, "/admin").await;
        assert!(page.body.contains("<h1>Overview</h1>"), "{}", page.body);
        assert_eq!(text_of(&page, "admin-username").as_deref(), Some("root"));
        assert_eq!(text_of(&page, "count-users").as_deref(), Some("2"));
        // alice's session and root's.
        assert_eq!(text_of(&page, "count-sessions").as_deref(), Some("2"));
    }
);

both!(
    an_admin_creates_a_client_and_sees_its_secret_exactly_once,
    &[],
    |app: TestApp| async move {
        let (root, browser) = admin_browser(&app).await;
        let form = open(&browser, "/admin/clients/new").await;
        assert!(
            form.body
                .contains("<label for=\"client_name\">Name</label>")
        );

        let created = browser
            .post(
                "/admin/clients/new",
                &[
                    csrf(&form),
                    field("client_name", "Billing service"),
                    field("redirect_uris", ""),
                    field("grant_client_credentials", "on"),
                    field("scope", "api.read api.write"),
                ],
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert_page_headers(&created, "the secret page");
        assert!(created.body.contains("Copy the client secret now"));
        assert!(created.body.contains("only time the secret is shown"));
        let id = text_of(&created, "client-id").unwrap();
        let secret = text_of(&created, "client-secret").unwrap();
        assert!(secret.len() >= 32, "{secret}");

        // The secret is real.
        let client = TestClient {
            id: id.clone(),
            secret: Some(secret.clone()),
        };
        let (s, v) = app.client_credentials(&client, Some("api.read")).await;
        assert_eq!(s, 200, "{v}");

        // It is never shown again: not on the client's page, the list, nor the events.
        let page = open(&browser, &format!("/admin/clients/{id}")).await;
        assert_eq!(
            text_of(&page, "client-name").as_deref(),
            Some("Billing service")
        );
        assert!(page.body.contains("client_credentials"));
        assert!(page.body.contains("api.read api.write"));
        assert!(!page.body.contains("client-secret"));
        let list = open(&browser, "/admin/clients").await;
        assert!(list.body.contains("Billing service"), "{}", list.body);
        let events = open(&browser, "/admin/events").await;
        assert!(events.body.contains("client.created"), "{}", events.body);
        assert!(events.body.contains(&root.id), "the admin is the actor");
        for page in [&page, &list, &events] {
            assert!(!page.body.contains(&secret), "the secret is shown again");
        }
        // Nor in any URL: the create answered the POST itself.
        assert!(created.location.is_none());

        // Search and paging.
        let found = open(&browser, "/admin/clients?q=billing").await;
        assert!(found.body.contains(&id), "{}", found.body);
        let none = open(&browser, "/admin/clients?q=nothing-like-it").await;
        assert!(none.body.contains("id=\"no-clients\""), "{}", none.body);
        for n in 0..3 {
            app.service_client(&format!("s{n}")).await;
        }
        let first = open(&browser, "/admin/clients?limit=2").await;
        let next = first.body.split("rel=\"next\"").next().unwrap();
        let href_at = next.rfind("href=\"").unwrap() + 6;
        let href = next[href_at..]
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        assert!(href.starts_with("/admin/clients?limit=2&after="), "{href}");
        let second = open(&browser, &href).await;
        assert!(second.body.contains("First page"), "{}", second.body);

        // A public client has no secret to show.
        let public = browser
            .post(
                "/admin/clients/new",
                &[
                    csrf(&form),
                    field("client_name", "Single-page app"),
                    field("redirect_uris", "https://spa.example/cb"),
                    field("grant_authorization_code", "on"),
                    field("scope", "openid"),
                    field("public", "on"),
                ],
            )
            .await;
        assert_eq!(public.status, 200, "{}", public.body);
        assert!(public.body.contains("id=\"no-secret\""), "{}", public.body);
        assert!(!public.body.contains("client-secret"));

        // Bad metadata: the form again, with the error and what was typed.
        let bad = browser
            .post(
                "/admin/clients/new",
                &[
                    csrf(&form),
                    field("client_name", "Broken app"),
                    field("redirect_uris", "javascript:alert(1)"),
                    field("grant_authorization_code", "on"),
                ],
            )
            .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains("id=\"form-error\""), "{}", bad.body);
        assert!(bad.body.contains("value=\"Broken app\""), "{}", bad.body);
    }
);

both!(
    rotating_a_secret_shows_the_new_one_once_and_the_old_one_stops_working,
    &[],
    |app: TestApp| async move {
        let (_, browser) = admin_browser(&app).await;
        let client = app.service_client("api.read").await;
        let page = open(&browser, &format!("/admin/clients/{}", client.id)).await;
        assert!(page.body.contains("Rotate secret"));

        let rotated = browser
            .post(
                &format!("/admin/clients/{}/secret", client.id),
                &[csrf(&page)],
            )
            .await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        assert_page_headers(&rotated, "the rotated secret page");
        assert!(rotated.body.contains("Secret rotated"));
        assert!(rotated.body.contains("Copy the client secret now"));
        let secret = text_of(&rotated, "client-secret").unwrap();
        assert_ne!(Some(&secret), client.secret.as_ref());

        let (s, v) = app.client_credentials(&client, None).await;
        assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
        let fresh = TestClient {
            id: client.id.clone(),
            secret: Some(secret.clone()),
        };
        let (s, v) = app.client_credentials(&fresh, None).await;
        assert_eq!(s, 200, "{v}");

        let again = open(&browser, &format!("/admin/clients/{}", client.id)).await;
        assert!(!again.body.contains(&secret));
        let events = open(&browser, "/admin/events").await;
        assert!(events.body.contains("client.secret_rotated"));

        // Deleting asks for the confirmation box, then deletes.
        let unconfirmed = browser
            .post(
                &format!("/admin/clients/{}/delete", client.id),
                &[csrf(&page)],
            )
            .await;
        assert_eq!(unconfirmed.status, 400, "{}", unconfirmed.body);
        assert!(unconfirmed.body.contains("Tick the confirmation box"));
        let deleted = browser
            .post(
                &format!("/admin/clients/{}/delete", client.id),
                &[csrf(&page), field("confirm", "yes")],
            )
            .await;
        let list = follow(&browser, &deleted, "/admin/clients?done=client-deleted").await;
        assert!(
            list.body.contains("The client was deleted"),
            "{}",
            list.body
        );
        assert!(!list.body.contains(&client.id));
        let gone = browser.get(&format!("/admin/clients/{}", client.id)).await;
        assert_eq!(gone.status, 404, "{}", gone.body);
    }
);

both!(
    a_token_revoked_from_the_dashboard_introspects_inactive,
    &[],
    |app: TestApp| async move {
        let (client, alice, tokens) = alice_tokens(&app).await;
        let access = tokens["access_token"].as_str().unwrap();
        let jti = jwt_parts(access).1["jti"].as_str().unwrap().to_owned();
        let (_, browser) = admin_browser(&app).await;

        // The user's page lists both tokens, each with a revoke button.
        let user_page = open(&browser, &format!("/admin/users/{}", alice.id)).await;
        assert!(user_page.body.contains(&jti), "{}", user_page.body);
        assert!(user_page.body.contains("Refresh token"));
        assert!(
            user_page
                .body
                .contains(&format!("aria-label=\"Revoke token {jti}\""))
        );
        assert!(!user_page.body.contains(access), "never a token's value");

        let introspector = app.service_client("").await;
        let (_, v) = app.introspect(&introspector, access).await;
        assert_eq!(v["active"], true);
        let done = browser
            .post(
                &format!("/admin/users/{}/tokens/revoke", alice.id),
                &[csrf(&user_page), field("token_id", &jti)],
            )
            .await;
        let back = format!("/admin/users/{}?done=token-revoked", alice.id);
        let page = follow(&browser, &done, &back).await;
        assert!(
            page.body.contains("The token was revoked."),
            "{}",
            page.body
        );
        assert!(!page.body.contains(&jti), "no longer listed");
        let (_, v) = app.introspect(&introspector, access).await;
        assert_eq!(v["active"], false, "{v}");

        // The refresh token, from the client's page: its whole family goes.
        let client_page = open(&browser, &format!("/admin/clients/{}", client.id)).await;
        let rt_at = client_page.body.find("<code>rt_").unwrap() + 6;
        let rt_id = client_page.body[rt_at..]
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            client_page
                .body
                .contains(&format!("/admin/users/{}", alice.id))
        );
        let done = browser
            .post(
                &format!("/admin/clients/{}/tokens/revoke", client.id),
                &[csrf(&client_page), field("token_id", &rt_id)],
            )
            .await;
        follow(
            &browser,
            &done,
            &format!("/admin/clients/{}?done=token-revoked", client.id),
        )
        .await;
        let (s, v) = app
            .refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        let events = open(&browser, "/admin/events").await;
        assert!(events.body.contains("token.revoked"));
    }
);

both!(
    an_admin_creates_disables_enables_and_resets_users,
    &[],
    |app: TestApp| async move {
        let (_, browser) = admin_browser(&app).await;
        let form = open(&browser, "/admin/users/new").await;
        let created = browser
            .post(
                "/admin/users/new",
                &[
                    csrf(&form),
                    field("username", "dora"),
                    field("email", "dora@example.com"),
                    field("password", PASSWORD),
                ],
            )
            .await;
        let location = created.location.clone().unwrap_or_default();
        assert!(
            location.starts_with("/admin/users/") && location.ends_with("?done=user-created"),
            "{location}"
        );
        let page = follow(&browser, &created, &location).await;
        assert_eq!(text_of(&page, "user-name").as_deref(), Some("dora"));
        assert_eq!(text_of(&page, "user-status").as_deref(), Some("Enabled"));
        let user_path = location.split('?').next().unwrap().to_owned();

        // Taken usernames and short passwords: the form again, with the reason.
        let taken = browser
            .post(
                "/admin/users/new",
                &[
                    csrf(&form),
                    field("username", "dora"),
                    field("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(taken.status, 409, "{}", taken.body);
        assert!(taken.body.contains("id=\"form-error\""));

        // dora signs in; disabling her ends her session and stops her signing in.
        let dora = Browser::new(&app);
        let login = dora.login("dora", PASSWORD, "/account/applications").await;
        assert_eq!(login.status, 303);
        assert_eq!(dora.get("/account/applications").await.status, 200);
        let list = open(&browser, "/admin/users?q=dor").await;
        assert!(list.body.contains(&user_path), "{}", list.body);
        let done = browser
            .post(&format!("{user_path}/disable"), &[csrf(&page)])
            .await;
        let page = follow(&browser, &done, &format!("{user_path}?done=user-disabled")).await;
        assert_eq!(text_of(&page, "user-status").as_deref(), Some("Disabled"));
        assert!(page.body.contains("Enable user"));
        assert_eq!(
            dora.get("/account/applications").await.status,
            303,
            "signed out"
        );
        let refused = Browser::new(&app).login("dora", PASSWORD, "/").await;
        assert_eq!(refused.status, 401);

        let done = browser
            .post(&format!("{user_path}/enable"), &[csrf(&page)])
            .await;
        let page = follow(&browser, &done, &format!("{user_path}?done=user-enabled")).await;
        assert_eq!(text_of(&page, "user-status").as_deref(), Some("Enabled"));

        // A new password.
        let short = browser
            .post(
                &format!("{user_path}/password"),
                &[csrf(&page), field("password", "short")],
            )
            .await;
        assert_eq!(short.status, 400, "{}", short.body);
        assert!(
            short.body.contains("at least 8 characters"),
            "{}",
            short.body
        );
        let done = browser
            .post(
                &format!("{user_path}/password"),
                &[csrf(&page), field("password", "a brand new password")],
            )
            .await;
        follow(&browser, &done, &format!("{user_path}?done=password-reset")).await;
        let old = Browser::new(&app).login("dora", PASSWORD, "/").await;
        assert_eq!(old.status, 401);
        let new = Browser::new(&app)
            .login("dora", "a brand new password", "/")
            .await;
        assert_eq!(new.status, 303);

        let done = browser
            .post(&format!("{user_path}/revoke-tokens"), &[csrf(&page)])
            .await;
        follow(&browser, &done, &format!("{user_path}?done=tokens-revoked")).await;
        let events = open(&browser, "/admin/events").await;
        for kind in [
            "user.created",
            "user.disabled",
            "user.enabled",
            "user.updated",
            "user.password_reset",
            "user.tokens_revoked",
        ] {
            assert!(events.body.contains(kind), "{kind}: {}", events.body);
        }
        // Newest first.
        let at = |kind: &str| events.body.find(kind).unwrap();
        assert!(at("user.tokens_revoked") < at("user.created"));
    }
);

both!(
    a_form_without_its_csrf_token_is_refused_and_changes_nothing,
    &[],
    |app: TestApp| async move {
        let (_, browser) = admin_browser(&app).await;
        let alice = user_with(&app, "alice", PASSWORD, false).await;
        let client = app.service_client("").await;
        let page = open(&browser, "/admin/clients/new").await;
        let (_, token) = csrf(&page);
        for (path, fields) in [
            (
                "/admin/clients/new".to_owned(),
                vec![field("client_name", "Sneaky")],
            ),
            (format!("/admin/users/{}/disable", alice.id), vec![]),
            (format!("/admin/clients/{}/secret", client.id), vec![]),
            (
                format!("/admin/clients/{}/delete", client.id),
                vec![field("confirm", "yes")],
            ),
            ("/admin/keys/rotate".to_owned(), vec![]),
        ] {
            let missing = browser.post(&path, &fields).await;
            assert_eq!(missing.status, 403, "{path}: {}", missing.body);
            assert_page_headers(&missing, &path);
            let mut wrong = fields.clone();
            wrong.push(field("csrf_token", &format!("{token}x")));
            let wrong = browser.post(&path, &wrong).await;
            assert_eq!(wrong.status, 403, "{path}: {}", wrong.body);
        }
        let list = open(&browser, "/admin/clients").await;
        assert!(!list.body.contains("Sneaky"));
        assert!(list.body.contains(&client.id), "not deleted");
        let (s, _) = app.client_credentials(&client, None).await;
        assert_eq!(s, 200, "the secret was not rotated");
        let alice = app
            .services
            .store
            .get_user(&alice.id)
            .await
            .unwrap()
            .unwrap();
        assert!(alice.enabled);
        // Nothing changed, so no change was recorded (signing in was, and is on the page once
        // the queue has been written).
        app.services.events.flush().await;
        let events = open(&browser, "/admin/events").await;
        assert!(events.body.contains("login.succeeded"), "{}", events.body);
        for change in [
            "client.updated",
            "client.deleted",
            "client.secret_rotated",
            "client.tokens_revoked",
            "user.updated",
            "user.disabled",
            "user.password_reset",
            "key.rotated",
        ] {
            assert!(!events.body.contains(change), "{change}: {}", events.body);
        }
    }
);

both!(
    the_overview_counts_and_shows_this_instance_token_activity,
    &[],
    |app: TestApp| async move {
        let (_, browser) = admin_browser(&app).await;
        let client = app.service_client("").await;
        for _ in 0..3 {
            app.access_token(&client).await;
        }
        let wrong = TestClient {
            id: client.id.clone(),
            secret: Some("not the secret".into()),
        };
        let (s, _) = app.client_credentials(&wrong, None).await;
        assert_eq!(s, 401);

        let page = open(&browser, "/admin").await;
        assert!(
            page.body
                .contains("<meta http-equiv=\"refresh\" content=\"10\">"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("this server instance"),
            "says whose view"
        );
        assert_eq!(text_of(&page, "count-clients").as_deref(), Some("1"));
        assert_eq!(text_of(&page, "count-users").as_deref(), Some("1"));
        assert_eq!(text_of(&page, "count-sessions").as_deref(), Some("1"));
        assert_eq!(text_of(&page, "issued-recent").as_deref(), Some("3"));
        assert_eq!(text_of(&page, "issued-hour").as_deref(), Some("3"));
        assert_eq!(text_of(&page, "errors-recent").as_deref(), Some("1"));
        assert!(
            page.body.contains("<code>invalid_client</code>: 1"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("<th scope=\"col\" class=\"num\">client_credentials</th>")
        );

        // Signing keys: listed, and rotated from the page.
        let keys = open(&browser, "/admin/keys").await;
        let before = keys.body.matches("<tr><td><code>").count();
        assert!(before >= 1, "{}", keys.body);
        let done = browser.post("/admin/keys/rotate", &[csrf(&keys)]).await;
        let keys = follow(&browser, &done, "/admin/keys?done=key-rotated").await;
        assert_eq!(keys.body.matches("<tr><td><code>").count(), before + 1);
        let events = open(&browser, "/admin/events").await;
        assert!(events.body.contains("key.rotated"));
    }
);

both!(
    the_events_page_shows_the_audit_log_and_this_instance_recent_events,
    &[],
    |app: TestApp| async move {
        let (admin, browser) = admin_browser(&app).await;
        // A failed sign-in by someone else, from this address.
        user_with(&app, "mallory-target", "pw-target-123", false).await;
        let other = Browser::new(&app);
        assert_eq!(
            other.login("mallory-target", "guess", "/").await.status,
            401
        );
        app.services.events.flush().await;

        let audit = open(&browser, "/admin/events").await;
        assert!(audit.body.contains("login.failed"), "{}", audit.body);
        assert!(
            audit.body.contains("class=\"bad\">failure"),
            "{}",
            audit.body
        );
        assert!(audit.body.contains("127.0.0.1"), "{}", audit.body);
        assert!(audit.body.contains("id=\"recent-link\""), "{}", audit.body);

        let recent = open(&browser, "/admin/events?view=recent").await;
        assert_page_headers(&recent, "recent events");
        assert!(
            recent.body.contains("Recent on this instance"),
            "{}",
            recent.body
        );
        assert!(recent.body.contains("login.failed"), "{}", recent.body);
        // The admin's own sign-in is there too, naming the admin.
        assert!(recent.body.contains("login.succeeded"), "{}", recent.body);
        assert!(recent.body.contains(&admin.id), "{}", recent.body);
        assert!(
            !recent.body.contains("rel=\"next\""),
            "the ring has no pages"
        );
    }
);
