//! Discovery (RFC 8414, OIDC Discovery), JWKS, health and readiness.

use oauth2_testkit::TestApp;

both!(
    both_metadata_documents_describe_what_works,
    &[],
    |app: TestApp| async move {
        for path in [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ] {
            let (s, m) = app.get_json(path).await;
            assert_eq!(s, 200, "{path}");
            assert_eq!(m["issuer"], app.issuer());
            assert_eq!(m["token_endpoint"], format!("{}/oauth/token", app.issuer()));
            assert_eq!(
                m["jwks_uri"],
                format!("{}/.well-known/jwks.json", app.issuer())
            );
            assert_eq!(
                m["introspection_endpoint"],
                format!("{}/oauth/introspect", app.issuer())
            );
            assert_eq!(
                m["revocation_endpoint"],
                format!("{}/oauth/revoke", app.issuer())
            );
            assert_eq!(
                m["grant_types_supported"],
                serde_json::json!([
                    "authorization_code",
                    "client_credentials",
                    "refresh_token",
                    "password"
                ])
            );
            assert_eq!(
                m["token_endpoint_auth_methods_supported"],
                serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
            );
            assert_eq!(
                m["authorization_endpoint"],
                format!("{}/oauth/authorize", app.issuer())
            );
            assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
            assert_eq!(
                m["code_challenge_methods_supported"],
                serde_json::json!(["S256"])
            );
            assert_eq!(m["authorization_response_iss_parameter_supported"], true);
            // The default registration policy is `token`: served, so advertised.
            assert_eq!(
                m["registration_endpoint"],
                format!("{}/clients/register", app.issuer())
            );
            // Every advertised endpoint exists (answers something other than 404).
            for key in [
                "token_endpoint",
                "introspection_endpoint",
                "revocation_endpoint",
                "jwks_uri",
                "authorization_endpoint",
                "registration_endpoint",
            ] {
                let url = m[key].as_str().unwrap();
                let res = app.http.get(url).send().await.unwrap();
                assert_ne!(res.status(), 404, "{key}");
            }
        }
    }
);

both!(
    the_issuer_setting_is_used_everywhere,
    &[("OAUTH2_ISSUER", "https://auth.example.com")],
    |app: TestApp| async move {
        let (_, m) = app
            .get_json("/.well-known/oauth-authorization-server")
            .await;
        assert_eq!(m["issuer"], "https://auth.example.com");
        assert_eq!(m["token_endpoint"], "https://auth.example.com/oauth/token");
        let client = app.service_client("").await;
        let claims = oauth2_testkit::jwt_parts(&app.access_token(&client).await).1;
        assert_eq!(claims["iss"], "https://auth.example.com");
    }
);

both!(
    health_and_readiness_answer,
    &[],
    |app: TestApp| async move {
        let (s, v) = app.get_json("/health").await;
        assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
        let (s, v) = app.get_json("/ready").await;
        assert_eq!((s, v["status"].as_str()), (200, Some("ready")));
        let res = app.http.get(app.url("/health")).send().await.unwrap();
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
);

/// Readiness tells a load balancer the truth: a server whose database is gone answers 503 on
/// `/ready` (and still 200 on `/health`, since the process itself is fine).
#[actix_web::test]
async fn readiness_is_503_while_the_database_is_gone() {
    if oauth2_store::testing::postgres_for_tests().await.is_none() {
        return;
    }
    let base = oauth2_store::testing::postgres_test_url().unwrap();
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    let name = format!(
        "ready_{}",
        oauth2_testkit::temp_path("x")
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace(['-', '.'], "_")
    );
    // The name is made by this test from a temp path: alphanumerics and underscores only.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let (prefix, _) = base.split('?').next().unwrap().rsplit_once('/').unwrap();
    let app =
        oauth2_testkit::spawn_app_env(oauth2_testkit::base_env(&format!("{prefix}/{name}"))).await;
    let (s, _) = app.get_json("/ready").await;
    assert_eq!(s, 200);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    let (s, v) = app.get_json("/ready").await;
    assert_eq!((s, v["status"].as_str()), (503, Some("unavailable")));
    let (s, _) = app.get_json("/health").await;
    assert_eq!(s, 200);
}

both!(
    browser_apps_may_call_the_token_userinfo_and_discovery_endpoints_cross_origin,
    &[],
    |app: TestApp| async move {
        for path in [
            "/oauth/token",
            "/oauth/revoke",
            "/oauth/userinfo",
            "/.well-known/openid-configuration",
            "/.well-known/jwks.json",
        ] {
            let res = app
                .http
                .request(reqwest::Method::OPTIONS, app.url(path))
                .header("Origin", "https://spa.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 204, "{path}");
            assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
            assert!(
                res.headers()["access-control-allow-methods"]
                    .to_str()
                    .unwrap()
                    .contains("POST")
            );
            assert!(
                res.headers()
                    .get("access-control-allow-credentials")
                    .is_none(),
                "never credentials"
            );
        }
        let (_, _) = app.get_json("/health").await;
        let res = app
            .http
            .get(app.url("/.well-known/jwks.json"))
            .header("Origin", "https://spa.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
        // The cookie-bearing pages are not open to other origins.
        let res = app
            .http
            .get(app.url("/auth/login"))
            .header("Origin", "https://spa.example")
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("access-control-allow-origin").is_none());
        let res = app.post_form("/oauth/introspect", "token=x", None).await;
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "introspection is server-to-server"
        );
    }
);
