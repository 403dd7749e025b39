//! Malformed input gets the RFC's error code and never a 500 or a hang.

use oauth2_testkit::TestApp;
use serde_json::Value;

const ENDPOINTS: [&str; 3] = ["/oauth/token", "/oauth/introspect", "/oauth/revoke"];

async fn expect_error(res: reqwest::Response, status: u16, error: &str, what: &str) {
    assert_eq!(res.status().as_u16(), status, "{what}");
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(v["error"], error, "{what}");
}

both!(
    wrong_content_types_and_bodies_are_invalid_request,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let auth = oauth2_testkit::basic(&client.id, client.secret.as_deref().unwrap());
        for path in ENDPOINTS {
            let res = app
                .http
                .post(app.url(path))
                .header("Authorization", &auth)
                .json(&serde_json::json!({"grant_type": "client_credentials", "token": "x"}))
                .send()
                .await
                .unwrap();
            expect_error(res, 400, "invalid_request", &format!("JSON body to {path}")).await;
            let res = app
                .http
                .post(app.url(path))
                .header("Authorization", &auth)
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            expect_error(
                res,
                400,
                "invalid_request",
                &format!("no content type to {path}"),
            )
            .await;
            let huge = format!(
                "grant_type=client_credentials&token={}",
                "a".repeat(200_000)
            );
            let res = app.post_form(path, &huge, Some(&client)).await;
            expect_error(res, 400, "invalid_request", &format!("huge body to {path}")).await;
            let res = app
                .post_form(path, "grant_type=%FF%FE&token=%C3%28", Some(&client))
                .await;
            expect_error(
                res,
                400,
                "invalid_request",
                &format!("invalid UTF-8 to {path}"),
            )
            .await;
            let res = app
                .post_form(path, "token=a&token=b&grant_type=x", Some(&client))
                .await;
            expect_error(
                res,
                400,
                "invalid_request",
                &format!("repeated parameter to {path}"),
            )
            .await;
            let many: Vec<String> = (0..500).map(|i| format!("p{i}=v")).collect();
            let res = app.post_form(path, &many.join("&"), Some(&client)).await;
            expect_error(
                res,
                400,
                "invalid_request",
                &format!("many parameters to {path}"),
            )
            .await;
            let res = app.http.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 405, "GET {path}");
        }
    }
);

both!(
    garbage_credentials_are_invalid_client,
    &[],
    |app: TestApp| async move {
        let headers = [
            "Basic",
            "Basic !!!not-base64!!!",
            "Basic dXNlcg==",
            "Bearer abc.def.ghi",
            "Basic OnNlY3JldA==",
        ];
        for path in ENDPOINTS {
            for h in headers {
                let res = app
                    .http
                    .post(app.url(path))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Authorization", h)
                    .body("grant_type=client_credentials&token=x")
                    .send()
                    .await
                    .unwrap();
                expect_error(res, 401, "invalid_client", &format!("{h} to {path}")).await;
            }
            // Identifiers no database would accept (a NUL byte breaks PostgreSQL text) are refused
            // before any lookup.
            for id in ["%00", "a%00b", &"x".repeat(300), "%0A"] {
                let body =
                    format!("grant_type=client_credentials&token=x&client_id={id}&client_secret=s");
                let res = app.post_form(path, &body, None).await;
                expect_error(
                    res,
                    401,
                    "invalid_client",
                    &format!("client_id {id} to {path}"),
                )
                .await;
            }
        }
    }
);

both!(
    repeated_authorization_headers_are_invalid_request,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let auth = oauth2_testkit::basic(&client.id, client.secret.as_deref().unwrap());
        let res = app
            .http
            .post(app.url("/oauth/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", &auth)
            .header("Authorization", &auth)
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        expect_error(res, 400, "invalid_request", "two Authorization headers").await;
    }
);

both!(
    garbage_tokens_never_cause_a_server_error,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let tokens = [
            "%00",
            "a%00b.c.d",
            "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJcdTAwMDAifQ.x",
            "eyJ.eyJ.eyJ",
            "....",
            "%E2%80%AE",
        ];
        for t in tokens {
            let long = "x".repeat(9000);
            for token in [t, long.as_str()] {
                let body = format!("token={token}");
                let res = app
                    .post_form("/oauth/introspect", &body, Some(&client))
                    .await;
                assert_eq!(res.status(), 200, "introspect {token}");
                let v: Value = res.json().await.unwrap();
                assert_eq!(v["active"], false);
                let res = app.post_form("/oauth/revoke", &body, Some(&client)).await;
                assert_eq!(res.status(), 200, "revoke {token}");
            }
        }
    }
);
