//! Discovery (RFC 8414, OIDC Discovery), JWKS, health and readiness.

use oauth2_testkit::TestApp;

both!(
    both_metadata_documents_describe_what_works,
    &[],
    |app: TestApp| async move {
        for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
            let (s, m) = app.get_json(path).await;
            assert_eq!(s, 200, "{path}");
            assert_eq!(m["issuer"], app.issuer());
            assert_eq!(m["token_endpoint"], format!("{}/oauth/token", app.issuer()));
            assert_eq!(m["jwks_uri"], format!("{}/.well-known/jwks.json", app.issuer()));
            assert_eq!(m["introspection_endpoint"], format!("{}/oauth/introspect", app.issuer()));
            assert_eq!(m["revocation_endpoint"], format!("{}/oauth/revoke", app.issuer()));
            assert_eq!(m["grant_types_supported"], serde_json::json!(["client_credentials"]));
            assert_eq!(
                m["token_endpoint_auth_methods_supported"],
                serde_json::json!(["client_secret_basic", "client_secret_post"])
            );
            // Not served yet, so not advertised.
            assert!(m.get("authorization_endpoint").is_none());
            assert!(m.get("registration_endpoint").is_none());
            // Every advertised endpoint exists (answers something other than 404).
            for key in ["token_endpoint", "introspection_endpoint", "revocation_endpoint", "jwks_uri"] {
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
        let (_, m) = app.get_json("/.well-known/oauth-authorization-server").await;
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
