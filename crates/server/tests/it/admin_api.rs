//! The admin REST API (`/admin/api/...`): who gets the `admin` scope, who may call the API, and
//! every endpoint, authorized and not.

use oauth2_actors::clients::{NewClient, create_client};
use oauth2_actors::users::{NewUser, create_user};
use oauth2_core::SystemRandom;
use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_core::ports::User;
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{TestApp, TestClient, basic};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const CB: &str = "https://app.example/cb";

/// A status, the response headers and the JSON body (`Null` if there is none).
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        assert!(self.body["error_description"].is_string(), "{}", self.body);
    }

    /// RFC 6750 §3: 401 `invalid_token` or 403 `insufficient_scope`, with a Bearer challenge.
    fn assert_bearer_error(&self, status: u16, code: &str) {
        self.assert_error(status, code);
        let challenge = self.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
}

/// Calls the admin API with `token` (if any) and a JSON body (if any).
async fn api(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = app
        .http
        .request(method, app.url(&format!("/admin/api{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    Answer {
        status,
        headers,
        body: res.json().await.unwrap_or(Value::Null),
    }
}

/// The admin API as one caller sees it.
struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl Admin<'_> {
    async fn get(&self, path: &str) -> Answer {
        api(self.app, Some(&self.token), Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Answer {
        api(self.app, Some(&self.token), Method::POST, path, Some(body)).await
    }
    async fn post_empty(&self, path: &str) -> Answer {
        api(self.app, Some(&self.token), Method::POST, path, None).await
    }
    async fn put(&self, path: &str, body: Value) -> Answer {
        api(self.app, Some(&self.token), Method::PUT, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> Answer {
        api(self.app, Some(&self.token), Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> Answer {
        api(self.app, Some(&self.token), Method::DELETE, path, None).await
    }

    /// The newest `n` changes made through the admin API (or CLI), newest first: the audit log
    /// also holds what the requests of the tests caused (sign-ins, tokens refused, a client's
    /// own registration changes), which these tests are not about.
    async fn last_events(&self, n: usize) -> Vec<Value> {
        let events = self.get("/events?limit=200").await;
        assert_eq!(events.status, 200, "{}", events.body);
        let admin_change = |e: &&Value| {
            let kind = e["kind"].as_str().unwrap();
            let area = kind.split('.').next().unwrap();
            let by_admin = e["detail"]["by"].is_null() && e["detail"]["via"].is_null();
            match area {
                "client" => kind != "client.registered" && by_admin,
                "user" | "key" | "registration_token" => true,
                "token" => kind == "token.revoked" && by_admin,
                _ => false,
            }
        };
        events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(admin_change)
            .take(n)
            .cloned()
            .collect()
    }
}

/// A client made through the operations layer, as the CLI makes it.
async fn client_with(
    app: &TestApp,
    grants: &[GrantType],
    scope: &str,
    admin: bool,
    redirect_uris: &[&str],
) -> TestClient {
    let mut new = NewClient::new(
        "test client",
        grants.to_vec(),
        scope,
        AuthMethod::ClientSecretBasic,
        redirect_uris.iter().map(|s| s.to_string()).collect(),
    );
    new.admin = admin;
    let created = create_client(
        app.services.store.as_ref(),
        &SystemRandom::new(),
        oauth2_actors::now(),
        new,
    )
    .await
    .unwrap();
    TestClient {
        id: created.client.client_id,
        secret: created.secret,
    }
}

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

fn password_grant(username: &str, password: &str, scope: Option<&str>) -> String {
    let mut body = format!(
        "grant_type=password&username={}&password={}",
        oauth2_core::authorize::encode(username),
        oauth2_core::authorize::encode(password)
    );
    if let Some(s) = scope {
        body.push_str(&format!("&scope={}", oauth2_core::authorize::encode(s)));
    }
    body
}

/// An admin client (client_credentials) and its token with the admin scope.
async fn admin_client(app: &TestApp) -> (TestClient, Admin<'_>) {
    let client = client_with(app, &[GrantType::ClientCredentials], "", true, &[]).await;
    let (s, v) = app.client_credentials(&client, Some("admin")).await;
    assert_eq!(s, 200, "{v}");
    let token = v["access_token"].as_str().unwrap().to_owned();
    (client, Admin { app, token })
}

/// A password client flagged admin, for admin users.
async fn password_client(app: &TestApp) -> TestClient {
    client_with(
        app,
        &[GrantType::Password, GrantType::RefreshToken],
        "api.read admin",
        true,
        &[],
    )
    .await
}

/// An admin user's token through the password grant.
async fn admin_user(app: &TestApp) -> (User, Admin<'_>) {
    let user = user_with(app, "root", "root-password", true).await;
    let client = password_client(app).await;
    let (s, v) = app
        .token_request(
            &client,
            &password_grant("root", "root-password", Some("admin")),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let token = v["access_token"].as_str().unwrap().to_owned();
    (user, Admin { app, token })
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.get("client_id")
                .or_else(|| i.get("username"))
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

both!(
    the_admin_scope_goes_to_admin_clients_and_admin_users_only,
    &[],
    |app: TestApp| async move {
        // client_credentials: the client is the principal.
        let (_, admin) = admin_client(&app).await;
        assert_eq!(admin.get("/keys").await.status, 200);
        let ordinary = client_with(
            &app,
            &[GrantType::ClientCredentials],
            "api.read admin",
            false,
            &[],
        )
        .await;
        let (s, v) = app.client_credentials(&ordinary, Some("admin")).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
        let (s, v) = app.client_credentials(&ordinary, None).await;
        assert_eq!(
            (s, v["scope"].as_str()),
            (200, Some("api.read")),
            "never implied"
        );
        // password: the user is the principal.
        let client = password_client(&app).await;
        user_with(&app, "root", "root-password", true).await;
        user_with(&app, "bob", "bob-password", false).await;
        let (s, v) = app
            .token_request(
                &client,
                &password_grant("bob", "bob-password", Some("admin")),
            )
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
        let (s, v) = app
            .token_request(&client, &password_grant("root", "root-password", None))
            .await;
        assert_eq!(
            (s, v["scope"].as_str()),
            (200, Some("api.read")),
            "an admin gets it only by asking"
        );
        let (s, v) = app
            .token_request(
                &client,
                &password_grant("root", "root-password", Some("api.read admin")),
            )
            .await;
        assert_eq!((s, v["scope"].as_str()), (200, Some("api.read admin")));
    }
);

both!(
    in_the_code_flow_only_an_admin_user_is_granted_the_admin_scope_and_keeps_it_while_admin,
    &[],
    |app: TestApp| async move {
        let (_, api_admin) = admin_client(&app).await;
        let dashboard = client_with(
            &app,
            &[GrantType::AuthorizationCode, GrantType::RefreshToken],
            "openid admin",
            false,
            &[CB],
        )
        .await;
        user_with(&app, "bob", "bob-password", false).await;
        let root = user_with(&app, "root", "root-password", true).await;
        let (verifier, challenge) = pkce_pair();
        let request = standard_request(&dashboard.id, CB, "openid admin", &challenge);

        // A non-admin signs in, and the client hears invalid_scope.
        let bob = Browser::new(&app);
        let login = bob.login("bob", "bob-password", &request).await;
        assert_eq!(login.status, 303, "{}", login.body);
        let page = bob.get(login.location.as_deref().unwrap()).await;
        assert_eq!(page.status, 302, "{}", page.body);
        assert_eq!(
            page.location_param("error").as_deref(),
            Some("invalid_scope")
        );
        assert_eq!(page.location_param("state").as_deref(), Some("st-123"));

        // An admin gets it.
        let browser = Browser::new(&app);
        let page = sign_in_and_allow(&browser, &request, "root", "root-password").await;
        let code = page.location_param("code").unwrap();
        let (s, tokens) = app
            .exchange_code(&dashboard, &code, CB, Some(&verifier))
            .await;
        assert_eq!(
            (s, tokens["scope"].as_str()),
            (200, Some("openid admin")),
            "{tokens}"
        );
        let root_api = Admin {
            app: &app,
            token: tokens["access_token"].as_str().unwrap().to_owned(),
        };
        assert_eq!(root_api.get("/users").await.status, 200);

        // Once no longer an admin, the API refuses the token and a refresh drops the scope.
        let demoted = api_admin
            .patch(&format!("/users/{}", root.id), json!({ "admin": false }))
            .await;
        assert_eq!(
            (demoted.status, &demoted.body["admin"]),
            (200, &json!(false))
        );
        root_api
            .get("/users")
            .await
            .assert_bearer_error(403, "insufficient_scope");
        let rt = tokens["refresh_token"].as_str().unwrap();
        let (s, v) = app.refresh(&dashboard, rt, Some("openid admin")).await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
        let (s, v) = app.refresh(&dashboard, rt, None).await;
        assert_eq!((s, v["scope"].as_str()), (200, Some("openid")), "{v}");
    }
);

/// Every endpoint, with a body where it takes one.
fn endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (
            Method::POST,
            "/clients",
            Some(json!({ "client_name": "x" })),
        ),
        (Method::GET, "/clients", None),
        (Method::GET, "/clients/c1", None),
        (
            Method::PUT,
            "/clients/c1",
            Some(json!({ "client_name": "x" })),
        ),
        (Method::DELETE, "/clients/c1", None),
        (Method::POST, "/clients/c1/secret", None),
        (Method::POST, "/clients/c1/revoke-tokens", None),
        (
            Method::POST,
            "/users",
            Some(json!({ "username": "x", "password": "long enough" })),
        ),
        (Method::GET, "/events/recent", None),
        (Method::GET, "/users", None),
        (Method::GET, "/users/u1", None),
        (Method::PATCH, "/users/u1", Some(json!({ "admin": true }))),
        (Method::POST, "/users/u1/disable", None),
        (
            Method::POST,
            "/users/u1/password",
            Some(json!({ "password": "long enough" })),
        ),
        (Method::POST, "/users/u1/revoke-tokens", None),
        (Method::GET, "/tokens?user_id=u1", None),
        (Method::DELETE, "/tokens/t1", None),
        (Method::GET, "/keys", None),
        (Method::POST, "/keys/rotate", None),
        (Method::GET, "/registration-tokens", None),
        (Method::POST, "/registration-tokens", Some(json!({}))),
        (Method::DELETE, "/registration-tokens/r1", None),
        (Method::GET, "/events", None),
    ]
}

both!(
    every_endpoint_refuses_callers_without_a_live_admin_token,
    &[],
    |app: TestApp| async move {
        let ordinary = app.service_client("api.read").await;
        let ordinary_token = app.access_token(&ordinary).await;
        let (_, admin) = admin_client(&app).await;
        // A revoked admin token is no better than none.
        let (_, revoked) = admin_client(&app).await;
        assert_eq!(revoked.get("/keys").await.status, 200);
        let jti = oauth2_testkit::jwt_parts(&revoked.token).1["jti"]
            .as_str()
            .unwrap()
            .to_owned();
        app.services
            .store
            .revoke_access_token(&jti, oauth2_actors::now() + 3600, oauth2_actors::now())
            .await
            .unwrap();
        // A deleted admin client's token neither.
        let (gone_client, gone) = admin_client(&app).await;
        assert_eq!(
            admin
                .delete(&format!("/clients/{}", gone_client.id))
                .await
                .status,
            204
        );

        for (method, path, body) in endpoints() {
            let what = format!("{method} {path}");
            let none = api(&app, None, method.clone(), path, body.clone()).await;
            none.assert_bearer_error(401, "invalid_token");
            let bad = api(
                &app,
                Some("not-a-token"),
                method.clone(),
                path,
                body.clone(),
            )
            .await;
            bad.assert_bearer_error(401, "invalid_token");
            let res = api(
                &app,
                Some(&revoked.token),
                method.clone(),
                path,
                body.clone(),
            )
            .await;
            res.assert_bearer_error(401, "invalid_token");
            let res = api(&app, Some(&gone.token), method.clone(), path, body.clone()).await;
            res.assert_bearer_error(401, "invalid_token");
            let weak = api(
                &app,
                Some(&ordinary_token),
                method.clone(),
                path,
                body.clone(),
            )
            .await;
            weak.assert_bearer_error(403, "insufficient_scope");
            assert_eq!(
                weak.headers["cache-control"].to_str().unwrap(),
                "no-store",
                "{what}"
            );
        }
        // Basic credentials are not a bearer token.
        let res = app
            .http
            .get(app.url("/admin/api/keys"))
            .header(
                "Authorization",
                basic(&ordinary.id, ordinary.secret.as_deref().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
    }
);

both!(
    clients_are_created_paged_searched_shown_updated_and_deleted,
    &[],
    |app: TestApp| async move {
        let (_, admin) = admin_user(&app).await;
        let mut created = Vec::new();
        for name in ["Billing Portal", "billing worker", "Shop"] {
            let res = admin
                .post(
                    "/clients",
                    json!({
                        "client_name": name,
                        "redirect_uris": [CB],
                        "scope": "openid api.read",
                        "skip_consent": true,
                    }),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            assert!(res.body["client_secret"].is_string(), "shown once");
            assert_eq!(
                res.body["grant_types"],
                json!(["authorization_code", "refresh_token"])
            );
            assert_eq!(res.body["skip_consent"], true);
            created.push(res.body["client_id"].as_str().unwrap().to_owned());
        }
        // The admin user's password client exists too: four clients in all.
        let all = admin.get("/clients").await;
        assert_eq!(all.status, 200);
        assert_eq!(ids(&all.body).len(), 4);
        assert!(all.body["next"].is_null());
        let listing = all.body.to_string();
        assert!(!listing.contains("\"client_secret\"") && !listing.contains("secret_hash"));

        // Paging by client id, without gaps or repeats.
        let mut paged = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let path = match &next {
                Some(after) => format!("/clients?limit=3&after={after}"),
                None => "/clients?limit=3".to_owned(),
            };
            let page = admin.get(&path).await;
            assert_eq!(page.status, 200, "{}", page.body);
            paged.extend(ids(&page.body));
            match page.body["next"].as_str() {
                Some(n) => next = Some(n.to_owned()),
                None => break,
            }
        }
        assert_eq!(paged, ids(&all.body));

        // Search: a case-insensitive substring of the name or the id.
        let found = admin.get("/clients?q=BILLING").await;
        let mut names: Vec<&str> = found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["Billing Portal", "billing worker"]);
        let by_id = admin
            .get(&format!("/clients?q={}", &created[2][2..10]))
            .await;
        assert_eq!(ids(&by_id.body), [created[2].clone()]);

        // Show, update, delete.
        let shop = admin.get(&format!("/clients/{}", created[2])).await;
        assert_eq!(
            (shop.status, &shop.body["client_name"]),
            (200, &json!("Shop"))
        );
        let updated = admin
            .put(
                &format!("/clients/{}", created[2]),
                json!({
                    "client_name": "Shop v2",
                    "redirect_uris": [CB, "https://app.example/cb2"],
                    "grant_types": ["authorization_code"],
                    "scope": "openid",
                }),
            )
            .await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        assert!(
            updated.body["client_secret"].is_null(),
            "the secret is kept, not shown"
        );
        let shop = admin.get(&format!("/clients/{}", created[2])).await;
        assert_eq!(shop.body["client_name"], "Shop v2");
        assert_eq!(shop.body["redirect_uris"].as_array().unwrap().len(), 2);
        assert_eq!(shop.body["skip_consent"], false, "replaced as a whole");
        let bad = admin
            .put(
                &format!("/clients/{}", created[2]),
                json!({ "client_name": "x", "redirect_uris": ["http://evil.example/cb"] }),
            )
            .await;
        bad.assert_error(400, "invalid_redirect_uri");
        let typo = admin
            .post(
                "/clients",
                json!({ "client_name": "x", "skip_consnet": true }),
            )
            .await;
        typo.assert_error(400, "invalid_client_metadata");
        assert_eq!(
            admin
                .delete(&format!("/clients/{}", created[2]))
                .await
                .status,
            204
        );
        admin
            .get(&format!("/clients/{}", created[2]))
            .await
            .assert_error(404, "not_found");
        admin
            .delete(&format!("/clients/{}", created[2]))
            .await
            .assert_error(404, "not_found");
        admin
            .put("/clients/nope", json!({ "client_name": "x" }))
            .await
            .assert_error(404, "not_found");

        let kinds: Vec<Value> = admin
            .last_events(5)
            .await
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            [
                "client.deleted",
                "client.updated",
                "client.created",
                "client.created",
                "client.created"
            ]
        );
    }
);

both!(
    an_admin_client_can_be_created_and_rotating_a_secret_stops_the_old_one_at_once,
    &[],
    |app: TestApp| async move {
        let (_, admin) = admin_client(&app).await;
        let res = admin
            .post(
                "/clients",
                json!({
                    "client_name": "automation",
                    "grant_types": ["client_credentials"],
                    "admin": true,
                }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(
            (&res.body["admin"], &res.body["scope"]),
            (&json!(true), &json!("admin"))
        );
        let old = TestClient {
            id: res.body["client_id"].as_str().unwrap().to_owned(),
            secret: res.body["client_secret"].as_str().map(str::to_owned),
        };
        let (s, v) = app.client_credentials(&old, Some("admin")).await;
        assert_eq!(s, 200, "{v}");

        let rotated = admin
            .post_empty(&format!("/clients/{}/secret", old.id))
            .await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        let new = TestClient {
            id: old.id.clone(),
            secret: rotated.body["client_secret"].as_str().map(str::to_owned),
        };
        assert_ne!(new.secret, old.secret);
        let (s, v) = app.client_credentials(&old, None).await;
        assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
        let (s, _) = app.client_credentials(&new, None).await;
        assert_eq!(s, 200);
        // A public client has no secret to rotate.
        let public = admin
            .post(
                "/clients",
                json!({
                    "client_name": "spa",
                    "redirect_uris": [CB],
                    "token_endpoint_auth_method": "none",
                }),
            )
            .await;
        assert_eq!(public.status, 201, "{}", public.body);
        assert!(public.body["client_secret"].is_null());
        admin
            .post_empty(&format!(
                "/clients/{}/secret",
                public.body["client_id"].as_str().unwrap()
            ))
            .await
            .assert_error(400, "invalid_request");
        let events = admin.last_events(2).await;
        assert_eq!(events[0]["kind"], "client.created");
        assert_eq!(events[1]["kind"], "client.secret_rotated");
        assert_eq!(events[1]["subject"], old.id.as_str());
        assert!(
            !events[1]
                .to_string()
                .contains(new.secret.as_deref().unwrap())
        );
    }
);

both!(
    users_are_created_paged_searched_and_updated_without_ever_showing_a_password_hash,
    &[],
    |app: TestApp| async move {
        let (root, admin) = admin_user(&app).await;
        for (name, email) in [("alice", "alice@corp.example"), ("bob", "bob@home.example")] {
            let res = admin
                .post(
                    "/users",
                    json!({ "username": name, "email": email, "password": format!("{name}-password") }),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            assert_eq!(res.body["admin"], false);
        }
        admin
            .post(
                "/users",
                json!({ "username": "alice", "password": "another-password" }),
            )
            .await
            .assert_error(409, "conflict");
        admin
            .post(
                "/users",
                json!({ "username": "carol", "password": "short" }),
            )
            .await
            .assert_error(400, "invalid_request");
        // The new user can sign in.
        let client = password_client(&app).await;
        let (s, _) = app
            .token_request(&client, &password_grant("alice", "alice-password", None))
            .await;
        assert_eq!(s, 200);

        let all = admin.get("/users").await;
        assert_eq!(ids(&all.body), ["alice", "bob", "root"]);
        let text = all.body.to_string();
        assert!(
            !text.contains("argon2") && !text.contains("password"),
            "{text}"
        );
        let first = admin.get("/users?limit=2").await;
        assert_eq!(ids(&first.body), ["alice", "bob"]);
        let rest = admin
            .get(&format!(
                "/users?limit=2&after={}",
                first.body["next"].as_str().unwrap()
            ))
            .await;
        assert_eq!(ids(&rest.body), ["root"]);
        assert!(rest.body["next"].is_null());
        let corp = admin.get("/users?q=CORP.example").await;
        assert_eq!(ids(&corp.body), ["alice"]);

        let alice_id = all.body["items"][0]["id"].as_str().unwrap().to_owned();
        let shown = admin.get(&format!("/users/{alice_id}")).await;
        assert_eq!(
            (shown.status, &shown.body["username"]),
            (200, &json!("alice"))
        );
        let patched = admin
            .patch(
                &format!("/users/{alice_id}"),
                json!({ "email": null, "admin": true }),
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(
            (&patched.body["email"], &patched.body["admin"]),
            (&Value::Null, &json!(true))
        );
        admin
            .patch(
                &format!("/users/{alice_id}"),
                json!({ "username": "mallory" }),
            )
            .await
            .assert_error(400, "invalid_request");
        admin
            .get("/users/nobody")
            .await
            .assert_error(404, "not_found");
        // Failed changes record nothing; root was made by the test, not through the API.
        let events = admin.last_events(10).await;
        let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["user.updated", "user.created", "user.created"]);
        assert!(
            events.iter().all(|e| e["actor"] == root.id.as_str()),
            "{events:?}"
        );
    }
);

both!(
    disabling_a_user_ends_their_sessions_and_blocks_sign_in_and_a_reset_changes_the_password,
    &[],
    |app: TestApp| async move {
        let (_, admin) = admin_client(&app).await;
        let alice = user_with(&app, "alice", "alice-password", false).await;
        let browser = Browser::new(&app);
        assert_eq!(
            browser.login("alice", "alice-password", "").await.status,
            303
        );
        assert!(
            browser
                .get("/auth/login")
                .await
                .body
                .contains("You are signed in")
        );

        // A password reset ends the session; the new password works, the old one does not.
        let reset = admin
            .post(
                &format!("/users/{}/password", alice.id),
                json!({ "password": "brand-new-password" }),
            )
            .await;
        assert_eq!(reset.status, 200, "{}", reset.body);
        assert_eq!(reset.body["sessions_ended"], 1);
        assert!(
            !browser
                .get("/auth/login")
                .await
                .body
                .contains("You are signed in")
        );
        assert_eq!(
            browser.login("alice", "alice-password", "").await.status,
            401
        );
        assert_eq!(
            browser
                .login("alice", "brand-new-password", "")
                .await
                .status,
            303
        );

        let disabled = admin
            .post_empty(&format!("/users/{}/disable", alice.id))
            .await;
        assert_eq!(disabled.status, 200, "{}", disabled.body);
        assert_eq!(
            (&disabled.body["enabled"], &disabled.body["sessions_ended"]),
            (&json!(false), &json!(1))
        );
        let page = browser.get("/auth/login").await;
        assert!(
            !page.body.contains("You are signed in"),
            "the session ended"
        );
        assert_eq!(
            browser
                .login("alice", "brand-new-password", "")
                .await
                .status,
            401
        );
        // Enabled again through PATCH.
        let enabled = admin
            .patch(&format!("/users/{}", alice.id), json!({ "enabled": true }))
            .await;
        assert_eq!(enabled.body["enabled"], true);
        assert_eq!(
            browser
                .login("alice", "brand-new-password", "")
                .await
                .status,
            303
        );
        let kinds: Vec<Value> = admin
            .last_events(4)
            .await
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        // Enabling through PATCH is a user.updated and a user.enabled.
        assert_eq!(
            kinds,
            [
                "user.enabled",
                "user.updated",
                "user.disabled",
                "user.password_reset"
            ]
        );
    }
);

/// Tokens of `user` at a password client: (client, token response).
async fn user_tokens(app: &TestApp, client: &TestClient, user: &str) -> Value {
    let (s, v) = app
        .token_request(
            client,
            &password_grant(user, &format!("{user}-password"), None),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

both!(
    tokens_are_listed_without_their_values_and_revoked_one_by_one_or_all_at_once,
    &[],
    |app: TestApp| async move {
        let (_, admin) = admin_client(&app).await;
        let alice = user_with(&app, "alice", "alice-password", false).await;
        user_with(&app, "bob", "bob-password", false).await;
        let client = password_client(&app).await;
        let introspector = app.service_client("").await;
        let first = user_tokens(&app, &client, "alice").await;
        let second = user_tokens(&app, &client, "alice").await;
        user_tokens(&app, &client, "bob").await;

        let listed = admin.get(&format!("/tokens?user_id={}", alice.id)).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let items = listed.body["items"].as_array().unwrap();
        let kinds: Vec<&str> = items.iter().map(|t| t["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "refresh_token",
                "refresh_token",
                "access_token",
                "access_token"
            ]
        );
        assert!(items.iter().all(|t| t["user_id"] == alice.id.as_str()
            && t["client_id"] == client.id.as_str()
            && t["scope"] == "api.read"));
        let text = listed.body.to_string();
        for secret in [&first, &second] {
            let rt = secret["refresh_token"].as_str().unwrap();
            assert!(!text.contains(rt));
            assert!(!text.contains(&oauth2_core::secret::hash_secret(rt)));
            assert!(!text.contains(secret["access_token"].as_str().unwrap()));
        }
        let by_client = admin.get(&format!("/tokens?client_id={}", client.id)).await;
        assert_eq!(by_client.body["items"].as_array().unwrap().len(), 6);
        admin
            .get("/tokens")
            .await
            .assert_error(400, "invalid_request");

        // Revoke one access token: its jti goes on the deny list.
        let access = first["access_token"].as_str().unwrap();
        let jti = oauth2_testkit::jwt_parts(access).1["jti"]
            .as_str()
            .unwrap()
            .to_owned();
        let revoked = admin.delete(&format!("/tokens/{jti}")).await;
        assert_eq!(
            (revoked.status, &revoked.body["kind"]),
            (200, &json!("access_token"))
        );
        let (_, v) = app.introspect(&introspector, access).await;
        assert_eq!(v["active"], false);
        // Revoke one refresh token by its listed id: its family cannot refresh.
        let rt_id = items
            .iter()
            .find(|t| {
                t["kind"] == "refresh_token"
                    && oauth2_core::secret::hash_secret(second["refresh_token"].as_str().unwrap())
                        .starts_with(&t["id"].as_str().unwrap()[3..])
            })
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(rt_id.starts_with("rt_"));
        assert_eq!(admin.delete(&format!("/tokens/{rt_id}")).await.status, 200);
        let (s, v) = app
            .refresh(&client, second["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
        let (_, v) = app
            .introspect(&introspector, second["access_token"].as_str().unwrap())
            .await;
        assert_eq!(v["active"], false, "the family's access token too");
        admin
            .delete("/tokens/nope")
            .await
            .assert_error(404, "not_found");
        admin
            .delete("/tokens/rt_AAAAAAAAAAAAAAAAAAAA")
            .await
            .assert_error(404, "not_found");
        // The first refresh token still works: one family only.
        let (s, third) = app
            .refresh(&client, first["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!(s, 200, "{third}");

        // Everything of the user, and their sessions.
        let browser = Browser::new(&app);
        assert_eq!(
            browser.login("alice", "alice-password", "").await.status,
            303
        );
        let all = admin
            .post_empty(&format!("/users/{}/revoke-tokens", alice.id))
            .await;
        assert_eq!(all.status, 200, "{}", all.body);
        assert_eq!(
            (&all.body["revoked_families"], &all.body["sessions_ended"]),
            (&json!(1), &json!(1))
        );
        let (s, _) = app
            .refresh(&client, third["refresh_token"].as_str().unwrap(), None)
            .await;
        assert_eq!(s, 400);
        let (_, v) = app
            .introspect(&introspector, third["access_token"].as_str().unwrap())
            .await;
        assert_eq!(v["active"], false);
        let left = admin.get(&format!("/tokens?user_id={}", alice.id)).await;
        assert!(
            left.body["items"].as_array().unwrap().is_empty(),
            "{}",
            left.body
        );

        // Everything of a client: bob's tokens at it.
        let bobs = admin.get(&format!("/tokens?client_id={}", client.id)).await;
        assert_eq!(bobs.body["items"].as_array().unwrap().len(), 2);
        let all = admin
            .post_empty(&format!("/clients/{}/revoke-tokens", client.id))
            .await;
        assert_eq!(all.body["revoked_families"], 1);
        let left = admin.get(&format!("/tokens?client_id={}", client.id)).await;
        assert!(
            left.body["items"].as_array().unwrap().is_empty(),
            "{}",
            left.body
        );

        let kinds: Vec<Value> = admin
            .last_events(4)
            .await
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            [
                "client.tokens_revoked",
                "user.tokens_revoked",
                "token.revoked",
                "token.revoked"
            ]
        );
    }
);

both!(
    a_rotated_key_is_listed_and_published_in_the_jwks_at_once,
    &[],
    |app: TestApp| async move {
        let (_, admin) = admin_client(&app).await;
        let before = admin.get("/keys").await;
        assert_eq!(before.status, 200);
        let keys = before.body["items"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            (&keys[0]["status"], &keys[0]["algorithm"]),
            (&json!("active"), &json!("RS256"))
        );
        assert!(!before.body.to_string().contains("private"));

        let rotated = admin.post_empty("/keys/rotate").await;
        assert_eq!(rotated.status, 201, "{}", rotated.body);
        assert_eq!(rotated.body["status"], "pending");
        let kid = rotated.body["kid"].as_str().unwrap();
        let (_, jwks) = app.get_json("/.well-known/jwks.json").await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert!(kids.contains(&kid), "{kids:?}");
        let after = admin.get("/keys").await;
        let mut statuses: Vec<&str> = after.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["status"].as_str().unwrap())
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["pending", "retiring"]);
        let event = &admin.last_events(1).await[0];
        assert_eq!(
            (&event["kind"], &event["subject"]),
            (&json!("key.rotated"), &json!(kid))
        );
    }
);

both!(
    registration_tokens_are_issued_listed_used_and_deleted,
    &[],
    |app: TestApp| async move {
        let (_, admin) = admin_client(&app).await;
        let issued = admin
            .post(
                "/registration-tokens",
                json!({ "description": "for the CI", "max_uses": 1, "expires_in": 600 }),
            )
            .await;
        assert_eq!(issued.status, 201, "{}", issued.body);
        let token = issued.body["token"].as_str().unwrap().to_owned();
        let id = issued.body["id"].as_str().unwrap().to_owned();
        let listed = admin.get("/registration-tokens").await;
        assert_eq!(listed.body["items"][0]["id"], id.as_str());
        assert_eq!(listed.body["items"][0]["description"], "for the CI");
        assert!(
            !listed.body.to_string().contains(&token),
            "never the value again"
        );

        // It lets its holder register a client (the default `token` policy).
        let res = app
            .http
            .post(app.url("/clients/register"))
            .bearer_auth(&token)
            .json(&json!({ "redirect_uris": [CB], "client_name": "registered" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let listed = admin.get("/registration-tokens").await;
        assert_eq!(listed.body["items"][0]["uses"], 1);

        admin
            .post("/registration-tokens", json!({ "max_uses": 0 }))
            .await
            .assert_error(400, "invalid_request");
        assert_eq!(
            admin
                .delete(&format!("/registration-tokens/{id}"))
                .await
                .status,
            204
        );
        admin
            .delete(&format!("/registration-tokens/{id}"))
            .await
            .assert_error(404, "not_found");
        let kinds: Vec<Value> = admin
            .last_events(2)
            .await
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            ["registration_token.deleted", "registration_token.created"]
        );
    }
);

both!(
    events_are_listed_newest_first_page_by_page_with_their_actor,
    &[],
    |app: TestApp| async move {
        let (admin_id, admin) = admin_client(&app).await;
        for name in ["one", "two", "three"] {
            let res = admin
                .post(
                    "/users",
                    json!({ "username": name, "password": "long enough" }),
                )
                .await;
            assert_eq!(res.status, 201);
        }
        let first = admin.get("/events?limit=2").await;
        assert_eq!(first.status, 200);
        let items = first.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["detail"]["username"], "three");
        assert_eq!(items[1]["detail"]["username"], "two");
        assert!(
            items
                .iter()
                .all(|e| e["actor"] == admin_id.id.as_str() && e["at"].is_i64())
        );
        let next = first.body["next"].as_str().unwrap();
        let rest = admin.get(&format!("/events?limit=2&after={next}")).await;
        let items = rest.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["detail"]["username"], "one");
        assert!(rest.body["next"].is_null());
        admin
            .get("/events?after=x")
            .await
            .assert_error(400, "invalid_request");
        admin
            .get("/events?limit=0")
            .await
            .assert_error(400, "invalid_request");
    }
);
