//! Black-box test support: [`spawn_app`] starts the real server on a free port with a fresh
//! database (SQLite file or PostgreSQL schema) and returns a [`TestApp`] with typed helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod browser;
pub mod flow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oauth2_actors::Services;
use oauth2_actors::clients::{NewClient, create_client};
use oauth2_core::SystemRandom;
use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_server::{Application, Config};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one test: a new SQLite file, or a new PostgreSQL schema.
/// `None` when PostgreSQL is unreachable outside CI (the helper has said it skipped).
pub async fn fresh_database_url(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite:{}", temp_path("db").display())),
        Backend::Postgres => oauth2_store::testing::postgres_for_tests().await,
    }
}

/// A unique path in the temp dir (not created).
pub fn temp_path(ext: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "oauth2-test-{}-{}-{}.{ext}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    ))
}

/// The environment a test server starts with: port 0, cheap Argon2, two workers.
pub fn base_env(database_url: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("OAUTH2_SERVER_PORT".into(), "0".into());
    env.insert("OAUTH2_SERVER_WORKERS".into(), "2".into());
    env.insert("OAUTH2_DATABASE_URL".into(), database_url.into());
    env.insert("OAUTH2_DATABASE_MAX_CONNECTIONS".into(), "5".into());
    env.insert("OAUTH2_ARGON2_MEMORY_KIB".into(), "64".into());
    env.insert("OAUTH2_ARGON2_ITERATIONS".into(), "1".into());
    env.insert("OAUTH2_LOG_LEVEL".into(), "warn".into());
    env
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub database_url: String,
    pub env: BTreeMap<String, String>,
    pub services: Arc<Services>,
    pub http: reqwest::Client,
}

/// Starts the server with defaults; `None` only for PostgreSQL when it is skipped outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// Starts the server with extra environment settings (`("OAUTH2_JWT_ALGORITHM", "ES256")`).
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    let url = fresh_database_url(backend).await?;
    let mut env = base_env(&url);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    Some(spawn_app_env(env).await)
}

/// Starts the server with exactly this environment (see [`base_env`]).
pub async fn spawn_app_env(env: BTreeMap<String, String>) -> TestApp {
    let config = Config::load_from(None, &env).expect("test configuration is valid");
    let database_url = config.database_url.clone();
    let app = Application::build(config).await.expect("the app starts");
    let port = app.port();
    let services = app.services().clone();
    actix_web::rt::spawn(app.run());
    // Instances started from this environment later (scale-out tests) share this issuer, as
    // instances behind one load balancer do.
    let mut env = env;
    env.insert("OAUTH2_ISSUER".into(), services.settings.issuer.clone());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        database_url,
        env,
        services,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client"),
    }
}

/// A client as the tests create it.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
}

pub fn basic(id: &str, secret: &str) -> String {
    fn enc(s: &str) -> String {
        // RFC 6749 §2.3.1: form-urlencode each part before base64.
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn issuer(&self) -> &str {
        &self.services.settings.issuer
    }

    /// Creates a client directly through the operations layer (as the CLI does).
    pub async fn create_client(
        &self,
        grant_types: &[GrantType],
        scope: &str,
        auth_method: AuthMethod,
        redirect_uris: &[&str],
    ) -> TestClient {
        let created = create_client(
            self.services.store.as_ref(),
            &SystemRandom::new(),
            oauth2_actors::now(),
            NewClient::new(
                "test client",
                grant_types.to_vec(),
                scope,
                auth_method,
                redirect_uris.iter().map(|s| s.to_string()).collect(),
            ),
        )
        .await
        .expect("client created");
        TestClient {
            id: created.client.client_id,
            secret: created.secret,
        }
    }

    /// Creates an enabled user with this password.
    pub async fn create_user(&self, username: &str, password: &str) -> oauth2_core::ports::User {
        oauth2_actors::users::create_user(
            self.services.store.as_ref(),
            &SystemRandom::new(),
            self.services.settings.password_params,
            oauth2_actors::now(),
            oauth2_actors::users::NewUser {
                username: username.into(),
                email: Some(format!("{username}@example.com")),
                password: password.into(),
                admin: false,
            },
        )
        .await
        .expect("user created")
    }

    /// A confidential client_credentials client using client_secret_basic.
    pub async fn service_client(&self, scope: &str) -> TestClient {
        self.create_client(
            &[GrantType::ClientCredentials],
            scope,
            AuthMethod::ClientSecretBasic,
            &[],
        )
        .await
    }

    /// POSTs a form, optionally with `Authorization: Basic`.
    pub async fn post_form(
        &self,
        path: &str,
        body: &str,
        client: Option<&TestClient>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(c) = client {
            req = req.header(
                "Authorization",
                basic(&c.id, c.secret.as_deref().unwrap_or_default()),
            );
        }
        req.send().await.expect("request sent")
    }

    /// A client_credentials token request; returns status and JSON body.
    pub async fn client_credentials(
        &self,
        client: &TestClient,
        scope: Option<&str>,
    ) -> (u16, Value) {
        let body = match scope {
            Some(s) => format!(
                "grant_type=client_credentials&scope={}",
                s.replace(' ', "+")
            ),
            None => "grant_type=client_credentials".into(),
        };
        let res = self.post_form("/oauth/token", &body, Some(client)).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// An access token for `client`, panicking if the server refuses.
    pub async fn access_token(&self, client: &TestClient) -> String {
        let (status, body) = self.client_credentials(client, None).await;
        assert_eq!(status, 200, "token request failed: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn introspect(&self, caller: &TestClient, token: &str) -> (u16, Value) {
        let res = self
            .post_form("/oauth/introspect", &format!("token={token}"), Some(caller))
            .await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn revoke(&self, caller: &TestClient, token: &str) -> u16 {
        self.post_form("/oauth/revoke", &format!("token={token}"), Some(caller))
            .await
            .status()
            .as_u16()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// Decodes the header and claims of a JWT without verifying it.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut it = token.split('.');
    let h = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    let c = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&h).unwrap(),
        serde_json::from_slice(&c).unwrap(),
    )
}
