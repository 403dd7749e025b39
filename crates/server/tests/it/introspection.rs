//! `POST /oauth/introspect` (RFC 7662).

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::{TestApp, TestClient};
use serde_json::Value;

both!(
    a_live_token_is_active_with_its_claims,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("read write").await;
        let token = app.access_token(&client).await;
        let res = app
            .post_form(
                "/oauth/introspect",
                &format!("token={token}&token_type_hint=access_token"),
                Some(&client),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["active"], true);
        assert_eq!(v["client_id"], client.id.as_str());
        assert_eq!(v["sub"], client.id.as_str());
        assert_eq!(v["scope"], "read write");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["iss"], app.issuer());
        assert!(v["exp"].as_i64().unwrap() > v["iat"].as_i64().unwrap());
        assert!(v["jti"].is_string());
    }
);

both!(
    a_resource_server_may_introspect_another_clients_token,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let resource_server = app.service_client("").await;
        let token = app.access_token(&client).await;
        let (s, v) = app.introspect(&resource_server, &token).await;
        assert_eq!((s, v["active"].as_bool()), (200, Some(true)));
    }
);

both!(
    garbage_forged_and_foreign_tokens_are_inactive,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let token = app.access_token(&client).await;
        // A token with its payload swapped keeps its signature: it must not verify.
        let parts: Vec<&str> = token.split('.').collect();
        let other = app.access_token(&app.service_client("").await).await;
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            other.split('.').nth(1).unwrap(),
            parts[2]
        );
        for t in [
            "garbage",
            "a.b.c",
            forged.as_str(),
            "eyJhbGciOiJub25lIn0.e30.",
        ] {
            let (s, v) = app.introspect(&client, t).await;
            assert_eq!(s, 200, "{t}");
            assert_eq!(v, serde_json::json!({"active": false}), "{t}");
        }
        // Signed by another server's key (another database, another key).
        let stranger = oauth2_testkit::spawn_app(oauth2_testkit::Backend::Sqlite)
            .await
            .unwrap();
        let foreign = stranger
            .access_token(&stranger.service_client("").await)
            .await;
        let (_, v) = app.introspect(&client, &foreign).await;
        assert_eq!(v["active"], false);
    }
);

both!(
    an_expired_token_is_inactive,
    &[("OAUTH2_ACCESS_TOKEN_EXPIRATION", "1")],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let (_, body) = app.client_credentials(&client, None).await;
        assert_eq!(
            body["expires_in"], 1,
            "small lifetimes are honoured exactly"
        );
        let token = body["access_token"].as_str().unwrap().to_owned();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
        let (_, v) = app.introspect(&client, &token).await;
        assert_eq!(v["active"], false);
    }
);

both!(
    introspection_requires_an_authenticated_confidential_client,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let token = app.access_token(&client).await;
        let res = app
            .post_form("/oauth/introspect", &format!("token={token}"), None)
            .await;
        assert_eq!(res.status(), 401);
        let wrong = TestClient {
            id: client.id.clone(),
            secret: Some("nope".into()),
        };
        let (s, v) = app.introspect(&wrong, &token).await;
        assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
        let public = app
            .create_client(
                &[GrantType::AuthorizationCode],
                "",
                AuthMethod::None,
                &["https://app.example/cb"],
            )
            .await;
        let res = app
            .post_form(
                "/oauth/introspect",
                &format!("token={token}&client_id={}", public.id),
                None,
            )
            .await;
        assert_eq!(res.status(), 401, "public clients cannot introspect");
        let res = app
            .post_form(
                "/oauth/introspect",
                "token_type_hint=access_token",
                Some(&client),
            )
            .await;
        assert_eq!(res.status(), 400, "token is required");
    }
);

both!(
    concurrent_introspections_each_get_their_own_exact_answer,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let mut tokens = Vec::new();
        for i in 0..12 {
            let t = app.access_token(&client).await;
            if i % 3 == 0 {
                assert_eq!(app.revoke(&client, &t).await, 200);
            }
            tokens.push((t, i % 3 != 0));
        }
        // Many at once, so that the deny-list lookups are batched.
        let mut handles = Vec::new();
        for round in 0..4 {
            for (t, live) in tokens.clone() {
                let http = app.http.clone();
                let url = app.url("/oauth/introspect");
                let auth = oauth2_testkit::basic(&client.id, client.secret.as_deref().unwrap());
                handles.push(actix_web::rt::spawn(async move {
                    let v: serde_json::Value = http
                        .post(url)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .header("Authorization", auth)
                        .body(format!("token={t}"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    (v["active"].as_bool(), live, round)
                }));
            }
        }
        for h in handles {
            let (active, live, round) = h.await.unwrap();
            assert_eq!(active, Some(live), "round {round}");
        }
    }
);
