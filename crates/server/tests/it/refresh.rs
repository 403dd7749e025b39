//! Refresh tokens (RFC 6749 §6): rotation, reuse detection, narrowing, revocation.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{TestApp, TestClient};
use serde_json::Value;

const CB: &str = "https://app.example/cb";

async fn tokens(app: &TestApp) -> (TestClient, Value) {
    app.create_user("alice", "correct horse").await;
    let client = app
        .create_client(
            &[GrantType::AuthorizationCode, GrantType::RefreshToken],
            "api.read api.write",
            AuthMethod::ClientSecretBasic,
            &[CB],
        )
        .await;
    let browser = Browser::new(app);
    let (verifier, challenge) = pkce_pair();
    let page = sign_in_and_allow(
        &browser,
        &standard_request(&client.id, CB, "api.read api.write", &challenge),
        "alice",
        "correct horse",
    )
    .await;
    let code = page.location_param("code").unwrap();
    let (s, body) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
    assert_eq!(s, 200, "{body}");
    (client, body)
}

fn rt(v: &Value) -> &str {
    v["refresh_token"].as_str().unwrap()
}

both!(
    refresh_tokens_rotate_on_every_use,
    &[],
    |app: TestApp| async move {
        let (client, first) = tokens(&app).await;
        let (s, second) = app.refresh(&client, rt(&first), None).await;
        assert_eq!(s, 200, "{second}");
        assert_ne!(rt(&second), rt(&first), "a new refresh token each time");
        assert_eq!(second["scope"], "api.read api.write");
        let (s, third) = app.refresh(&client, rt(&second), Some("api.read")).await;
        assert_eq!(s, 200);
        assert_eq!(
            third["scope"], "api.read",
            "a narrower scope may be asked for"
        );
        let claims = oauth2_testkit::jwt_parts(third["access_token"].as_str().unwrap()).1;
        assert_eq!(claims["scope"], "api.read");
        // The narrowing is for that access token only: the family keeps its scope.
        let (s, fourth) = app.refresh(&client, rt(&third), None).await;
        assert_eq!(
            (s, fourth["scope"].as_str()),
            (200, Some("api.read api.write"))
        );
        let (s, v) = app
            .refresh(&client, rt(&fourth), Some("api.read admin"))
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
    }
);

both!(
    a_rotated_out_refresh_token_revokes_the_whole_family,
    &[],
    |app: TestApp| async move {
        let (client, first) = tokens(&app).await;
        let (_, second) = app.refresh(&client, rt(&first), None).await;
        let access = second["access_token"].as_str().unwrap().to_owned();
        let (_, v) = app.introspect(&client, &access).await;
        assert_eq!(v["active"], true);
        // An attacker replays the old token.
        let (s, v) = app.refresh(&client, rt(&first), None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        // The legitimate current token is dead too, and so is its access token.
        let (s, v) = app.refresh(&client, rt(&second), None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        let (_, v) = app.introspect(&client, &access).await;
        assert_eq!(v["active"], false);
        let (_, v) = app
            .introspect(&client, first["access_token"].as_str().unwrap())
            .await;
        assert_eq!(v["active"], false);
    }
);

both!(
    another_clients_refresh_token_is_invalid_grant,
    &[],
    |app: TestApp| async move {
        let (_, first) = tokens(&app).await;
        let other = app
            .create_client(
                &[GrantType::AuthorizationCode, GrantType::RefreshToken],
                "api.read",
                AuthMethod::ClientSecretBasic,
                &[CB],
            )
            .await;
        let (s, v) = app.refresh(&other, rt(&first), None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        let (s, v) = app.refresh(&other, "garbage", None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    }
);

both!(
    revoking_a_refresh_token_revokes_its_access_tokens,
    &[],
    |app: TestApp| async move {
        let (client, first) = tokens(&app).await;
        let access = first["access_token"].as_str().unwrap();
        let (_, v) = app.introspect(&client, rt(&first)).await;
        assert_eq!(v["active"], true, "refresh tokens introspect too");
        assert_eq!(app.revoke(&client, rt(&first)).await, 200);
        let (_, v) = app.introspect(&client, access).await;
        assert_eq!(v["active"], false);
        let (_, v) = app.introspect(&client, rt(&first)).await;
        assert_eq!(v["active"], false);
        let (s, _) = app.refresh(&client, rt(&first), None).await;
        assert_eq!(s, 400);
    }
);

both!(
    an_expired_refresh_token_is_invalid_grant,
    &[("OAUTH2_REFRESH_TOKEN_EXPIRATION", "1")],
    |app: TestApp| async move {
        let (client, first) = tokens(&app).await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
        let (s, v) = app.refresh(&client, rt(&first), None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    }
);
