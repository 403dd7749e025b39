//! `grant_type=client_credentials` (RFC 6749 §4.4) with RFC 9068 JWT access tokens.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::{TestApp, TestClient, jwt_parts};
use serde_json::Value;

both!(
    issues_a_signed_rfc9068_jwt_with_every_claim,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("api.read api:write").await;
        let res = app
            .post_form(
                "/oauth/token",
                "grant_type=client_credentials",
                Some(&client),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["pragma"], "no-cache");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "api.read api:write");
        assert!(
            body.get("refresh_token").is_none(),
            "no refresh token for client_credentials"
        );
        let token = body["access_token"].as_str().unwrap();
        let (header, claims) = jwt_parts(token);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "RS256");
        let kid = header["kid"].as_str().unwrap();
        assert_eq!(claims["iss"], app.issuer());
        assert_eq!(claims["aud"], app.issuer());
        assert_eq!(claims["sub"], client.id.as_str());
        assert_eq!(claims["client_id"], client.id.as_str());
        assert_eq!(claims["scope"], "api.read api:write");
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert_eq!(exp - iat, 3600);
        assert!(claims["jti"].as_str().unwrap().len() >= 16);
        // The signature verifies with the published key, independently of the server's own code.
        let (_, jwks) = app.get_json("/.well-known/jwks.json").await;
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .expect("the token's kid is published");
        crate::keys::verify_with_jwk(token, jwk);
    }
);

both!(each_token_has_its_own_jti, &[], |app: TestApp| async move {
    let client = app.service_client("").await;
    let a = jwt_parts(&app.access_token(&client).await).1;
    let b = jwt_parts(&app.access_token(&client).await).1;
    assert_ne!(a["jti"], b["jti"]);
});

both!(
    no_scope_parameter_grants_the_registered_scope_and_a_subset_can_be_asked,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("a b c").await;
        let (s, body) = app.client_credentials(&client, None).await;
        assert_eq!((s, body["scope"].as_str()), (200, Some("a b c")));
        let (s, body) = app.client_credentials(&client, Some("c a")).await;
        assert_eq!((s, body["scope"].as_str()), (200, Some("c a")));
        let claims = jwt_parts(body["access_token"].as_str().unwrap()).1;
        assert_eq!(claims["scope"], "c a");
    }
);

both!(
    a_scope_outside_the_registration_is_invalid_scope,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("a b").await;
        let (s, body) = app.client_credentials(&client, Some("a admin")).await;
        assert_eq!(s, 400);
        assert_eq!(body["error"], "invalid_scope");
        let (s, body) = app.client_credentials(&client, Some("a\"b")).await;
        assert_eq!((s, body["error"].as_str()), (400, Some("invalid_scope")));
    }
);

both!(
    client_secret_post_clients_authenticate_in_the_body_and_only_there,
    &[],
    |app: TestApp| async move {
        let client = app
            .create_client(
                &[GrantType::ClientCredentials],
                "x",
                AuthMethod::ClientSecretPost,
                &[],
            )
            .await;
        let secret = client.secret.clone().unwrap();
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            client.id, secret
        );
        let res = app.post_form("/oauth/token", &body, None).await;
        assert_eq!(res.status(), 200);
        // The same client through Basic: not its registered method.
        let res = app
            .post_form(
                "/oauth/token",
                "grant_type=client_credentials",
                Some(&client),
            )
            .await;
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
    }
);

both!(
    basic_clients_cannot_authenticate_in_the_body,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            client.id,
            client.secret.as_deref().unwrap()
        );
        let res = app.post_form("/oauth/token", &body, None).await;
        assert_eq!(res.status(), 401);
    }
);

both!(
    a_wrong_secret_is_invalid_client_with_www_authenticate,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let wrong = TestClient {
            id: client.id.clone(),
            secret: Some("wrong".into()),
        };
        let res = app
            .post_form(
                "/oauth/token",
                "grant_type=client_credentials",
                Some(&wrong),
            )
            .await;
        assert_eq!(res.status(), 401);
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic"),
            "401 names the Basic scheme"
        );
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        let unknown = TestClient {
            id: "nobody".into(),
            secret: Some("x".into()),
        };
        let (s, body) = app.client_credentials(&unknown, None).await;
        assert_eq!((s, body["error"].as_str()), (401, Some("invalid_client")));
    }
);

both!(
    grant_type_errors_follow_rfc6749_section_5_2,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let cases = [
            ("scope=x", 400, "invalid_request"),
            ("grant_type=urn:example:nope", 400, "unsupported_grant_type"),
            ("grant_type=implicit", 400, "unsupported_grant_type"),
            (
                "grant_type=client_credentials&grant_type=client_credentials",
                400,
                "invalid_request",
            ),
        ];
        for (body, status, error) in cases {
            let res = app.post_form("/oauth/token", body, Some(&client)).await;
            assert_eq!(res.status().as_u16(), status, "{body}");
            let v: Value = res.json().await.unwrap();
            assert_eq!(v["error"], error, "{body}");
            assert!(v["error_description"].is_string());
        }
        // A client registered only for the code flow may not use client_credentials.
        let code_only = app
            .create_client(
                &[GrantType::AuthorizationCode],
                "",
                AuthMethod::ClientSecretBasic,
                &["https://app.example/cb"],
            )
            .await;
        let (s, v) = app.client_credentials(&code_only, None).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("unauthorized_client")));
    }
);

both!(
    two_authentication_methods_at_once_are_invalid_request,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let body = format!(
            "grant_type=client_credentials&client_secret={}",
            client.secret.as_deref().unwrap()
        );
        let res = app.post_form("/oauth/token", &body, Some(&client)).await;
        assert_eq!(res.status(), 400);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"], "invalid_request");
    }
);

both!(
    every_signing_algorithm_issues_tokens_that_introspect_active,
    &[],
    |app: TestApp| async move {
        // The default app is RS256; ES256, EdDSA and HS256 get their own servers on the same database.
        for (alg, extra) in [
            ("ES256", vec![]),
            ("EdDSA", vec![]),
            (
                "HS256",
                vec![("OAUTH2_JWT_SECRET", "0123456789abcdef0123456789abcdef!")],
            ),
        ] {
            let mut env = app.env.clone();
            env.insert("OAUTH2_JWT_ALGORITHM".into(), alg.into());
            for (k, v) in extra {
                env.insert(k.into(), v.into());
            }
            let other = oauth2_testkit::spawn_app_env(env).await;
            let client = other.service_client("s").await;
            let token = other.access_token(&client).await;
            let (header, _) = jwt_parts(&token);
            assert_eq!(header["alg"], alg);
            let (s, v) = other.introspect(&client, &token).await;
            assert_eq!((s, v["active"].as_bool()), (200, Some(true)), "{alg}");
            let (_, jwks) = other.get_json("/.well-known/jwks.json").await;
            let published = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == header["kid"]);
            if alg == "HS256" {
                assert!(!published, "a shared secret is never published");
            } else {
                assert!(published, "{alg} key published");
                let jwk = jwks["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|k| k["kid"] == header["kid"])
                    .unwrap();
                crate::keys::verify_with_jwk(&token, jwk);
            }
        }
    }
);
