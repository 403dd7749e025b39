//! The resource owner password grant (RFC 6749 §4.3) and brute-force protection.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::{TestApp, TestClient};

async fn password_client(app: &TestApp) -> TestClient {
    app.create_client(
        &[GrantType::Password, GrantType::RefreshToken],
        "api.read",
        AuthMethod::ClientSecretBasic,
        &[],
    )
    .await
}

fn body(user: &str, password: &str) -> String {
    format!(
        "grant_type=password&username={}&password={}",
        oauth2_core::authorize::encode(user),
        oauth2_core::authorize::encode(password)
    )
}

both!(
    the_password_grant_issues_tokens_to_registered_clients_only,
    &[],
    |app: TestApp| async move {
        let user = app.create_user("bob", "s3cret-pass").await;
        let client = password_client(&app).await;
        let (s, v) = app
            .token_request(&client, &body("bob", "s3cret-pass"))
            .await;
        assert_eq!(s, 200, "{v}");
        assert!(v["refresh_token"].is_string());
        let claims = oauth2_testkit::jwt_parts(v["access_token"].as_str().unwrap()).1;
        assert_eq!(claims["sub"], user.id.as_str());
        let service = app.service_client("").await;
        let (s, v) = app
            .token_request(&service, &body("bob", "s3cret-pass"))
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("unauthorized_client")));
    }
);

both!(
    wrong_passwords_unknown_and_disabled_users_are_all_invalid_grant,
    &[],
    |app: TestApp| async move {
        let user = app.create_user("bob", "s3cret-pass").await;
        let client = password_client(&app).await;
        let (s, wrong) = app.token_request(&client, &body("bob", "nope-nope")).await;
        assert_eq!((s, wrong["error"].as_str()), (400, Some("invalid_grant")));
        let (_, unknown) = app
            .token_request(&client, &body("nobody", "nope-nope"))
            .await;
        assert_eq!(unknown, wrong, "the same answer: no user enumeration");
        let mut u = user.clone();
        u.enabled = false;
        app.services.store.update_user(&u).await.unwrap();
        let (s, v) = app
            .token_request(&client, &body("bob", "s3cret-pass"))
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "disabled"
        );
        let (s, v) = app
            .token_request(&client, "grant_type=password&username=bob")
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    }
);

both!(
    repeated_failures_lock_the_account_for_a_while,
    &[("OAUTH2_LOGIN_MAX_FAILURES_PER_USER", "3")],
    |app: TestApp| async move {
        app.create_user("bob", "s3cret-pass").await;
        let client = password_client(&app).await;
        for _ in 0..3 {
            let (s, _) = app
                .token_request(&client, &body("bob", "wrong-guess"))
                .await;
            assert_eq!(s, 400);
        }
        let (s, v) = app
            .token_request(&client, &body("bob", "s3cret-pass"))
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "locked even with the right password"
        );
        assert!(
            v["error_description"]
                .as_str()
                .unwrap()
                .contains("too many")
        );
        // Another user is not affected.
        app.create_user("carol", "other-pass").await;
        let (s, _) = app
            .token_request(&client, &body("carol", "other-pass"))
            .await;
        assert_eq!(s, 200);
    }
);

both!(
    repeated_failures_from_one_address_are_locked_out,
    &[("OAUTH2_LOGIN_MAX_FAILURES_PER_ADDRESS", "4")],
    |app: TestApp| async move {
        app.create_user("carol", "other-pass").await;
        let client = password_client(&app).await;
        for i in 0..4 {
            let (s, _) = app
                .token_request(&client, &body(&format!("user{i}"), "guess-guess"))
                .await;
            assert_eq!(s, 400);
        }
        let (s, _) = app
            .token_request(&client, &body("carol", "other-pass"))
            .await;
        assert_eq!(s, 400, "this address is locked out");
    }
);

both!(
    forwarded_addresses_count_only_behind_a_trusted_proxy,
    &[
        ("OAUTH2_LOGIN_MAX_FAILURES_PER_ADDRESS", "2"),
        ("OAUTH2_TRUSTED_PROXIES", "127.0.0.0/8, ::1")
    ],
    |app: TestApp| async move {
        app.create_user("carol", "other-pass").await;
        let client = password_client(&app).await;
        let post = |xff: &'static str, password: &'static str| {
            let c = client.clone();
            let app = &app;
            async move {
                app.http
                    .post(app.url("/oauth/token"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header(
                        "Authorization",
                        oauth2_testkit::basic(&c.id, c.secret.as_deref().unwrap()),
                    )
                    .header("X-Forwarded-For", xff)
                    .body(body("carol", password))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(post("203.0.113.7", "guess-1").await, 400);
        assert_eq!(post("203.0.113.7", "guess-2").await, 400);
        assert_eq!(
            post("203.0.113.7", "other-pass").await,
            400,
            "that address is locked out"
        );
        // Another client behind the same proxy is not.
        assert_eq!(post("198.51.100.9, 127.0.0.1", "other-pass").await, 200);
    }
);

both!(
    forwarded_headers_from_untrusted_peers_are_ignored,
    &[("OAUTH2_LOGIN_MAX_FAILURES_PER_ADDRESS", "2")],
    |app: TestApp| async move {
        app.create_user("carol", "other-pass").await;
        let client = password_client(&app).await;
        for (xff, password) in [
            ("203.0.113.1", "guess-1"),
            ("203.0.113.2", "guess-2"),
            ("203.0.113.3", "other-pass"),
        ] {
            let status = app
                .http
                .post(app.url("/oauth/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header(
                    "Authorization",
                    oauth2_testkit::basic(&client.id, client.secret.as_deref().unwrap()),
                )
                .header("X-Forwarded-For", xff)
                .body(body("carol", password))
                .send()
                .await
                .unwrap()
                .status();
            if password == "other-pass" {
                assert_eq!(
                    status, 400,
                    "a client cannot pick a fresh address to dodge the limit"
                );
            }
        }
    }
);
