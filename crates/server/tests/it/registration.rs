//! Dynamic client registration (RFC 7591) under each `OAUTH2_REGISTRATION_POLICY`, and the
//! management of a registration with its registration access token (RFC 7592).

use oauth2_actors::registration::{NewInitialToken, create_initial_token};
use oauth2_core::SystemRandom;
use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_core::ports::InitialAccessToken;
use oauth2_core::secret::hash_secret;
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{TestApp, TestClient, basic};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const OPEN: &[(&str, &str)] = &[("OAUTH2_REGISTRATION_POLICY", "open")];

/// A status, the response headers and the JSON body (`Null` if there is none).
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    async fn from(res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Asserts an RFC 6750 error: 401, `invalid_token`, and a Bearer challenge.
    fn assert_invalid_token(&self) {
        assert_eq!(self.status, 401, "{}", self.body);
        assert_eq!(self.body["error"], "invalid_token", "{}", self.body);
        let challenge = self.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }

    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        assert!(self.body["error_description"].is_string(), "{}", self.body);
    }

    fn client(&self) -> TestClient {
        TestClient {
            id: self.body["client_id"].as_str().unwrap().to_owned(),
            secret: self.body["client_secret"].as_str().map(str::to_owned),
        }
    }

    fn registration_token(&self) -> String {
        self.body["registration_access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// `POST /clients/register` with a JSON body and, if given, an initial access token.
async fn register(app: &TestApp, token: Option<&str>, body: &Value) -> Answer {
    register_raw(
        app,
        token,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

async fn register_raw(
    app: &TestApp,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let mut req = app
        .http
        .post(app.url("/clients/register"))
        .header("Content-Type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Answer::from(req.send().await.unwrap()).await
}

/// A request to the client configuration endpoint of `client_id`.
async fn manage(
    app: &TestApp,
    method: Method,
    client_id: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut req = app
        .http
        .request(method, app.url(&format!("/clients/register/{client_id}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    Answer::from(req.send().await.unwrap()).await
}

/// An initial access token issued as the CLI does it.
async fn initial_token(app: &TestApp, expires_in: Option<i64>, max_uses: Option<u32>) -> String {
    let (token, _) = create_initial_token(
        app.services.store.as_ref(),
        &SystemRandom::new(),
        oauth2_actors::now(),
        NewInitialToken {
            description: "test".into(),
            expires_in,
            max_uses,
        },
    )
    .await
    .unwrap();
    token
}

fn service_metadata() -> Value {
    json!({
        "client_name": "Billing service",
        "grant_types": ["client_credentials"],
        "scope": "api.read",
    })
}

async fn client_count(app: &TestApp) -> usize {
    app.services
        .store
        .list_clients(None, 100)
        .await
        .unwrap()
        .len()
}

// --- The registration policies ---------------------------------------------------------------

both!(
    under_the_default_token_policy_registration_needs_a_valid_initial_access_token,
    &[],
    |app: TestApp| async move {
        register(&app, None, &service_metadata())
            .await
            .assert_invalid_token();
        register(&app, Some("not-a-token-we-issued"), &service_metadata())
            .await
            .assert_invalid_token();
        let basic_auth = app
            .http
            .post(app.url("/clients/register"))
            .header("Authorization", basic("someone", "secret"))
            .json(&service_metadata())
            .send()
            .await
            .unwrap();
        Answer::from(basic_auth).await.assert_invalid_token();
        assert_eq!(client_count(&app).await, 0);

        let token = initial_token(&app, Some(3600), None).await;
        let ok = register(&app, Some(&token), &service_metadata()).await;

        assert_eq!(ok.status, 201, "{}", ok.body);
        assert_eq!(client_count(&app).await, 1);
    }
);

both!(
    an_expired_or_used_up_initial_access_token_is_refused,
    &[],
    |app: TestApp| async move {
        let once = initial_token(&app, None, Some(1)).await;
        assert_eq!(
            register(&app, Some(&once), &service_metadata())
                .await
                .status,
            201
        );
        register(&app, Some(&once), &service_metadata())
            .await
            .assert_invalid_token();

        let expired = "an-expired-initial-access-token";
        let now = oauth2_actors::now();
        app.services
            .store
            .create_initial_token(&InitialAccessToken {
                token_hash: hash_secret(expired),
                description: "expired".into(),
                created_at: now - 100,
                expires_at: Some(now - 1),
                max_uses: None,
                uses: 0,
            })
            .await
            .unwrap();
        register(&app, Some(expired), &service_metadata())
            .await
            .assert_invalid_token();
        assert_eq!(client_count(&app).await, 1);
    }
);

both!(
    a_registration_with_bad_metadata_does_not_spend_a_use_of_the_initial_token,
    &[],
    |app: TestApp| async move {
        let once = initial_token(&app, None, Some(1)).await;
        let bad = json!({ "redirect_uris": ["http://evil.example/cb"] });

        register(&app, Some(&once), &bad)
            .await
            .assert_error(400, "invalid_redirect_uri");

        let ok = register(&app, Some(&once), &service_metadata()).await;
        assert_eq!(ok.status, 201, "{}", ok.body);
    }
);

both!(
    eight_concurrent_registrations_with_a_three_use_token_register_exactly_three_clients,
    &[],
    |app: TestApp| async move {
        let token = initial_token(&app, None, Some(3)).await;
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let request = app
                    .http
                    .post(app.url("/clients/register"))
                    .bearer_auth(&token)
                    .json(&service_metadata());
                actix_web::rt::spawn(
                    async move { Answer::from(request.send().await.unwrap()).await },
                )
            })
            .collect();
        let mut answers = Vec::new();
        for attempt in attempts {
            answers.push(attempt.await.unwrap());
        }

        let created = answers.iter().filter(|a| a.status == 201).count();
        assert_eq!(created, 3);
        for refused in answers.iter().filter(|a| a.status != 201) {
            refused.assert_invalid_token();
        }
        assert_eq!(client_count(&app).await, 3);
    }
);

both!(
    under_the_open_policy_anyone_may_register,
    OPEN,
    |app: TestApp| async move {
        let ok = register(&app, None, &service_metadata()).await;
        assert_eq!(ok.status, 201, "{}", ok.body);

        let (_, metadata) = app.get_json("/.well-known/openid-configuration").await;
        assert_eq!(
            metadata["registration_endpoint"],
            format!("{}/clients/register", app.issuer())
        );
    }
);

both!(
    under_the_disabled_policy_registration_is_refused_and_not_advertised,
    &[("OAUTH2_REGISTRATION_POLICY", "disabled")],
    |app: TestApp| async move {
        let token = initial_token(&app, None, None).await;
        for answer in [
            register(&app, None, &service_metadata()).await,
            register(&app, Some(&token), &service_metadata()).await,
        ] {
            answer.assert_error(403, "access_denied");
        }
        assert_eq!(client_count(&app).await, 0);

        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let (_, metadata) = app.get_json(path).await;
            assert!(
                metadata.get("registration_endpoint").is_none(),
                "{metadata}"
            );
        }
    }
);

// --- Good metadata ---------------------------------------------------------------------------

both!(
    a_registered_confidential_client_gets_its_credentials_and_a_client_credentials_token,
    OPEN,
    |app: TestApp| async move {
        let before = oauth2_actors::now();
        let answer = register(
            &app,
            None,
            &json!({
                "client_name": "Billing service",
                "grant_types": ["client_credentials"],
                "scope": "api.read api:write",
                "token_endpoint_auth_method": "client_secret_basic",
                "client_uri": "https://billing.example/",
                "contacts": ["ops@billing.example"],
                "software_version": "1.4",
            }),
        )
        .await;

        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.headers["cache-control"], "no-store");
        let v = &answer.body;
        let client = answer.client();
        assert!(
            client.secret.as_deref().is_some_and(|s| s.len() >= 32),
            "{v}"
        );
        assert!(v["client_id_issued_at"].as_i64().unwrap() >= before);
        assert_eq!(v["client_secret_expires_at"], 0);
        assert_eq!(v["client_name"], "Billing service");
        assert_eq!(v["grant_types"], json!(["client_credentials"]));
        assert_eq!(v["response_types"], json!([]));
        assert_eq!(v["redirect_uris"], json!([]));
        assert_eq!(v["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(v["scope"], "api.read api:write");
        assert_eq!(v["client_uri"], "https://billing.example/");
        assert_eq!(v["contacts"], json!(["ops@billing.example"]));
        assert_eq!(v["software_version"], "1.4");
        assert!(answer.registration_token().len() >= 32);
        assert_eq!(
            v["registration_client_uri"],
            format!("{}/clients/register/{}", app.issuer(), client.id)
        );

        let (status, token) = app.client_credentials(&client, Some("api:write")).await;
        assert_eq!(status, 200, "{token}");
        assert_eq!(token["scope"], "api:write");
    }
);

both!(
    a_registered_native_public_client_runs_the_code_flow_with_pkce,
    OPEN,
    |app: TestApp| async move {
        let cb = "http://127.0.0.1:8765/cb";
        let answer = register(
            &app,
            None,
            &json!({
                "client_name": "Desktop app",
                "redirect_uris": [cb, "com.example.app:/oauth2redirect"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "scope": "openid profile",
            }),
        )
        .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let v = &answer.body;
        assert!(v.get("client_secret").is_none(), "{v}");
        assert!(v.get("client_secret_expires_at").is_none(), "{v}");
        assert_eq!(v["token_endpoint_auth_method"], "none");
        assert_eq!(
            v["redirect_uris"],
            json!([cb, "com.example.app:/oauth2redirect"])
        );
        let client = answer.client();

        app.create_user("alice", "correct horse").await;
        let browser = Browser::new(&app);
        let (verifier, challenge) = pkce_pair();
        let page = sign_in_and_allow(
            &browser,
            &standard_request(&client.id, cb, "openid profile", &challenge),
            "alice",
            "correct horse",
        )
        .await;
        assert!(
            page.location.as_deref().unwrap().starts_with(cb),
            "{:?}",
            page.location
        );
        let code = page.location_param("code").unwrap();
        let (status, tokens) = app.exchange_code(&client, &code, cb, Some(&verifier)).await;
        assert_eq!(status, 200, "{tokens}");
        assert!(tokens["refresh_token"].is_string(), "{tokens}");
    }
);

both!(
    a_registration_with_only_redirect_uris_gets_the_rfc_defaults_and_no_privileges,
    OPEN,
    |app: TestApp| async move {
        let answer = register(
            &app,
            None,
            &json!({
                "redirect_uris": ["https://app.example/cb"],
                // Unknown fields are ignored (RFC 7591 §2), privileged ones included.
                "admin": true,
                "skip_consent": true,
                "application_type": "web",
                "client_name#fr": "Application",
            }),
        )
        .await;

        assert_eq!(answer.status, 201, "{}", answer.body);
        let v = &answer.body;
        assert_eq!(v["grant_types"], json!(["authorization_code"]));
        assert_eq!(v["response_types"], json!(["code"]));
        assert_eq!(v["token_endpoint_auth_method"], "client_secret_basic");
        assert!(v["client_secret"].is_string(), "{v}");
        for ignored in [
            "admin",
            "skip_consent",
            "application_type",
            "client_name#fr",
        ] {
            assert!(v.get(ignored).is_none(), "{ignored}: {v}");
        }
        let stored = app
            .services
            .store
            .get_client(v["client_id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.admin && !stored.skip_consent);
        assert!(stored.metadata.is_empty(), "{:?}", stored.metadata);
    }
);

both!(
    the_registration_access_token_and_the_secret_are_stored_only_hashed,
    OPEN,
    |app: TestApp| async move {
        let answer = register(&app, None, &service_metadata()).await;
        let client = answer.client();
        let token = answer.registration_token();

        let stored = app
            .services
            .store
            .get_client(&client.id)
            .await
            .unwrap()
            .unwrap();

        let stored_token = stored.registration_token_hash.unwrap();
        assert_eq!(stored_token, hash_secret(&token));
        assert_ne!(stored_token, token);
        let secret = client.secret.unwrap();
        assert_eq!(stored.secret_hash.unwrap(), hash_secret(&secret));
    }
);

// --- Bad metadata ----------------------------------------------------------------------------

/// What a case sends, and the error it must get: (what, (content type, body), error code).
type BadRequest = (&'static str, (&'static str, Vec<u8>), &'static str);

both!(
    each_kind_of_bad_metadata_is_refused_with_its_rfc_error_code,
    OPEN,
    |app: TestApp| async move {
        let json_body = |v: Value| ("application/json", v.to_string().into_bytes());
        let cases: Vec<BadRequest> = vec![
            (
                "a fragment",
                json_body(json!({ "redirect_uris": ["https://app.example/cb#x"] })),
                "invalid_redirect_uri",
            ),
            (
                "plain http off loopback",
                json_body(json!({ "redirect_uris": ["http://app.example/cb"] })),
                "invalid_redirect_uri",
            ),
            (
                "a javascript: URI",
                json_body(json!({ "redirect_uris": ["javascript:alert(1)"] })),
                "invalid_redirect_uri",
            ),
            (
                "a data: URI",
                json_body(json!({ "redirect_uris": ["data:text/html,hi"] })),
                "invalid_redirect_uri",
            ),
            (
                "authorization_code without redirect_uris",
                json_body(json!({ "grant_types": ["authorization_code"] })),
                "invalid_redirect_uri",
            ),
            (
                "response type code without the code grant",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "response_types": ["code"],
                })),
                "invalid_client_metadata",
            ),
            (
                "an unsupported response type",
                json_body(json!({
                    "redirect_uris": ["https://app.example/cb"],
                    "response_types": ["token"],
                })),
                "invalid_client_metadata",
            ),
            (
                "an unknown auth method",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "token_endpoint_auth_method": "private_key_jwt",
                })),
                "invalid_client_metadata",
            ),
            (
                "client_credentials for a public client",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "token_endpoint_auth_method": "none",
                })),
                "invalid_client_metadata",
            ),
            (
                "the password grant",
                json_body(json!({ "grant_types": ["password"] })),
                "invalid_client_metadata",
            ),
            (
                "the implicit grant",
                json_body(json!({
                    "redirect_uris": ["https://app.example/cb"],
                    "grant_types": ["implicit"],
                })),
                "invalid_client_metadata",
            ),
            (
                "a scope outside RFC 6749's grammar",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "scope": "api \"read\"",
                })),
                "invalid_client_metadata",
            ),
            (
                "the admin scope",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "scope": "admin",
                })),
                "invalid_client_metadata",
            ),
            (
                "a javascript: logo",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "logo_uri": "javascript:alert(1)",
                })),
                "invalid_client_metadata",
            ),
            (
                "contacts that are not strings",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "contacts": [42],
                })),
                "invalid_client_metadata",
            ),
            (
                "a body that is not JSON",
                ("application/json", b"client_name=x".to_vec()),
                "invalid_client_metadata",
            ),
            (
                "a JSON array",
                json_body(json!([{ "grant_types": ["client_credentials"] }])),
                "invalid_client_metadata",
            ),
            (
                "a form body",
                (
                    "application/x-www-form-urlencoded",
                    b"grant_types=client_credentials".to_vec(),
                ),
                "invalid_request",
            ),
            (
                "a huge body",
                json_body(json!({
                    "grant_types": ["client_credentials"],
                    "client_name": "x".repeat(100 * 1024),
                })),
                "invalid_request",
            ),
        ];
        for (what, (content_type, body), code) in cases {
            let answer = register_raw(&app, None, content_type, body).await;
            assert_eq!(answer.status, 400, "{what}: {}", answer.body);
            assert_eq!(answer.body["error"], code, "{what}: {}", answer.body);
        }
        assert_eq!(client_count(&app).await, 0, "nothing was registered");
    }
);

// --- RFC 7592: read, update, delete ----------------------------------------------------------

both!(
    the_registration_access_token_reads_updates_and_deletes_its_client,
    // A long cache lifetime: an update and a delete must still take effect at once.
    &[
        ("OAUTH2_REGISTRATION_POLICY", "open"),
        ("OAUTH2_CLIENT_CACHE_TTL", "3600")
    ],
    |app: TestApp| async move {
        let registered = register(&app, None, &service_metadata()).await;
        let client = registered.client();
        let token = registered.registration_token();
        assert_eq!(app.client_credentials(&client, None).await.0, 200);

        let read = manage(&app, Method::GET, &client.id, Some(&token), None).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.headers["cache-control"], "no-store");
        let mut expected = registered.body.clone();
        expected.as_object_mut().unwrap().remove("client_secret");
        assert_eq!(read.body, expected, "the same metadata, without the secret");

        let update = json!({
            "client_id": client.id,
            "client_secret": client.secret,
            "client_name": "Billing service v2",
            "grant_types": ["client_credentials"],
            "scope": "api.read api.write",
            "token_endpoint_auth_method": "client_secret_post",
            "tos_uri": "https://billing.example/tos",
        });
        let updated = manage(&app, Method::PUT, &client.id, Some(&token), Some(&update)).await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        let v = &updated.body;
        assert_eq!(v["client_name"], "Billing service v2");
        assert_eq!(v["scope"], "api.read api.write");
        assert_eq!(v["token_endpoint_auth_method"], "client_secret_post");
        assert_eq!(v["tos_uri"], "https://billing.example/tos");
        assert_eq!(
            v["client_id_issued_at"],
            registered.body["client_id_issued_at"]
        );
        assert_eq!(v["registration_access_token"], token.as_str());
        assert!(v.get("client_secret").is_none(), "the secret is kept: {v}");
        let reread = manage(&app, Method::GET, &client.id, Some(&token), None).await;
        assert_eq!(&reread.body, v);
        // The new registration is in force at once, cache or not: the new scope, and the
        // secret now sent in the body.
        let body = format!(
            "grant_type=client_credentials&scope=api.write&client_id={}&client_secret={}",
            client.id,
            client.secret.as_deref().unwrap()
        );
        let res = app.post_form("/oauth/token", &body, None).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

        let deleted = manage(&app, Method::DELETE, &client.id, Some(&token), None).await;
        assert_eq!(deleted.status, 204);
        manage(&app, Method::GET, &client.id, Some(&token), None)
            .await
            .assert_invalid_token();
        let res = app.post_form("/oauth/token", &body, None).await;
        assert_eq!(res.status(), 401, "a deleted client is refused at once");
        assert!(
            app.services
                .store
                .get_client(&client.id)
                .await
                .unwrap()
                .is_none()
        );
    }
);

both!(
    an_update_must_name_the_client_prove_its_secret_and_carry_valid_metadata,
    OPEN,
    |app: TestApp| async move {
        let registered = register(&app, None, &service_metadata()).await;
        let client = registered.client();
        let token = registered.registration_token();
        let put = |body: Value| {
            let (app, id, token) = (&app, client.id.clone(), token.clone());
            async move { manage(app, Method::PUT, &id, Some(&token), Some(&body)).await }
        };

        put(json!({ "grant_types": ["client_credentials"] }))
            .await
            .assert_error(400, "invalid_client_metadata");
        put(json!({ "client_id": "someone-else", "grant_types": ["client_credentials"] }))
            .await
            .assert_error(400, "invalid_client_metadata");
        put(json!({
            "client_id": client.id,
            "client_secret": "not-the-secret",
            "grant_types": ["client_credentials"],
        }))
        .await
        .assert_error(400, "invalid_client_metadata");
        put(json!({
            "client_id": client.id,
            "redirect_uris": ["https://app.example/cb#fragment"],
        }))
        .await
        .assert_error(400, "invalid_redirect_uri");
        put(json!({ "client_id": client.id, "grant_types": ["password"] }))
            .await
            .assert_error(400, "invalid_client_metadata");

        let read = manage(&app, Method::GET, &client.id, Some(&token), None).await;
        let mut expected = registered.body.clone();
        expected.as_object_mut().unwrap().remove("client_secret");
        assert_eq!(read.body, expected, "nothing changed");
    }
);

both!(
    a_public_client_that_becomes_confidential_is_issued_a_secret_once,
    OPEN,
    |app: TestApp| async move {
        let registered = register(
            &app,
            None,
            &json!({
                "redirect_uris": ["http://127.0.0.1:8765/cb"],
                "token_endpoint_auth_method": "none",
            }),
        )
        .await;
        let id = registered.client().id;
        let token = registered.registration_token();

        let update = json!({ "client_id": id, "grant_types": ["client_credentials"] });
        let updated = manage(&app, Method::PUT, &id, Some(&token), Some(&update)).await;

        assert_eq!(updated.status, 200, "{}", updated.body);
        assert_eq!(
            updated.body["token_endpoint_auth_method"],
            "client_secret_basic"
        );
        let client = updated.client();
        assert!(client.secret.is_some(), "{}", updated.body);
        assert_eq!(app.client_credentials(&client, None).await.0, 200);
        let reread = manage(&app, Method::GET, &id, Some(&token), None).await;
        assert!(
            reread.body.get("client_secret").is_none(),
            "shown once only"
        );
    }
);

both!(
    a_missing_wrong_or_foreign_registration_access_token_is_401_and_changes_nothing,
    OPEN,
    |app: TestApp| async move {
        let a = register(&app, None, &service_metadata()).await;
        let b = register(&app, None, &service_metadata()).await;
        let a_id = a.client().id;
        let a_secret = a.client().secret.unwrap();
        let b_token = b.registration_token();
        let update = json!({ "client_id": a_id, "grant_types": ["client_credentials"] });

        for token in [None, Some("wrong"), Some(b_token.as_str())] {
            for method in [Method::GET, Method::PUT, Method::DELETE] {
                manage(&app, method.clone(), &a_id, token, Some(&update))
                    .await
                    .assert_invalid_token();
            }
        }
        // The client's own secret is not its registration access token.
        let res = app
            .http
            .get(app.url(&format!("/clients/register/{a_id}")))
            .header("Authorization", basic(&a_id, &a_secret))
            .send()
            .await
            .unwrap();
        Answer::from(res).await.assert_invalid_token();
        manage(&app, Method::GET, "no-such-client", Some(&b_token), None)
            .await
            .assert_invalid_token();

        let stored = app.services.store.get_client(&a_id).await.unwrap().unwrap();
        assert_eq!(stored.name, "Billing service", "unchanged");
    }
);

both!(
    a_client_made_by_an_operator_cannot_be_managed_through_rfc_7592,
    OPEN,
    |app: TestApp| async move {
        let client = app
            .create_client(
                &[GrantType::ClientCredentials],
                "",
                AuthMethod::ClientSecretBasic,
                &[],
            )
            .await;
        let secret = client.secret.clone().unwrap();

        for token in ["", "anything", secret.as_str()] {
            manage(&app, Method::GET, &client.id, Some(token), None)
                .await
                .assert_invalid_token();
            manage(&app, Method::DELETE, &client.id, Some(token), None)
                .await
                .assert_invalid_token();
        }
        assert!(
            app.services
                .store
                .get_client(&client.id)
                .await
                .unwrap()
                .is_some()
        );
    }
);
