//! The event system: what each action emits, the filters, and the sinks (audit table, memory
//! ring, log, webhook with its outbox, Redis stream).

use crate::cli::{run, scratch_dir};
use crate::http_receiver::read_request;
use crate::process::RunningServer;
use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{Backend, TestApp, basic, fresh_database_url, temp_path};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CB: &str = "https://app.example/cb";

/// Every sink takes every event, so the tests see all of them.
const ALL: &[(&str, &str)] = &[
    ("OAUTH2_EVENTS_AUDIT", "*"),
    ("OAUTH2_EVENTS_RING", "*"),
    ("OAUTH2_EVENTS_LOG", "*"),
];

/// The audit table, newest first, once everything emitted so far went through the sinks.
async fn audit(app: &TestApp) -> Vec<oauth2_core::ports::Event> {
    app.services.events.flush().await;
    app.services.store.list_events(None, 500).await.unwrap()
}

fn kinds(events: &[oauth2_core::ports::Event]) -> Vec<&str> {
    events.iter().rev().map(|e| e.kind.as_str()).collect()
}

fn find<'a>(events: &'a [oauth2_core::ports::Event], kind: &str) -> &'a oauth2_core::ports::Event {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} among {:?}", kinds(events)))
}

both!(
    every_step_of_a_sign_in_and_code_flow_is_an_event_with_who_where_and_how,
    ALL,
    |app: TestApp| async move {
        let user = app.create_user("alice", "correct horse").await;
        let client = app
            .create_client(
                &[GrantType::AuthorizationCode, GrantType::RefreshToken],
                "openid profile",
                AuthMethod::ClientSecretBasic,
                &[CB],
            )
            .await;
        let browser = Browser::new(&app);
        let (verifier, challenge) = pkce_pair();
        let authorize = standard_request(&client.id, CB, "openid profile", &challenge);

        // A wrong password first, then the flow.
        let failed = browser.login("alice", "wrong", &authorize).await;
        assert_eq!(failed.status, 401, "{}", failed.body);
        let redirect = sign_in_and_allow(&browser, &authorize, "alice", "correct horse").await;
        let code = redirect.location_param("code").unwrap();
        let (status, tokens) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!(status, 200, "{tokens}");
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let (status, _) = app.refresh(&client, refresh, None).await;
        assert_eq!(status, 200);
        // The rotated-out token again: reuse, the family is revoked.
        let (status, _) = app.refresh(&client, refresh, None).await;
        assert_eq!(status, 400);
        // A replayed code.
        let (status, _) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
        assert_eq!(status, 400);
        // A request naming an unregistered redirect URI: refused without a redirect.
        let bad = browser
            .get(&standard_request(
                &client.id,
                "https://evil.example/cb",
                "openid",
                &challenge,
            ))
            .await;
        assert_eq!(bad.status, 400);

        let events = audit(&app).await;
        let seen = kinds(&events);
        for expected in [
            "login.failed",
            "login.succeeded",
            "authorization.granted",
            "token.issued",
            "token.refresh_reuse_detected",
            "token.refused",
            "token.code_replay_detected",
            "authorization.refused",
        ] {
            assert!(seen.contains(&expected), "{expected} missing from {seen:?}");
        }
        // In order: the failure, the sign-in, the code, then its exchange.
        let at = |k: &str| seen.iter().position(|s| *s == k).unwrap();
        assert!(at("login.failed") < at("login.succeeded"));
        assert!(at("login.succeeded") < at("authorization.granted"));
        assert!(at("authorization.granted") < at("token.issued"));

        let login_failed = find(&events, "login.failed");
        assert_eq!(login_failed.outcome, "failure");
        assert_eq!(login_failed.user_id.as_deref(), Some(user.id.as_str()));
        assert_eq!(login_failed.address.as_deref(), Some("127.0.0.1"));
        assert_eq!(login_failed.detail["reason"], "wrong_password");
        assert_eq!(login_failed.detail["method"], "login_form");
        assert!(
            login_failed
                .request_id
                .as_deref()
                .is_some_and(|r| !r.is_empty())
        );

        let granted = find(&events, "authorization.granted");
        assert_eq!(granted.outcome, "success");
        assert_eq!(granted.client_id.as_deref(), Some(client.id.as_str()));
        assert_eq!(granted.user_id.as_deref(), Some(user.id.as_str()));
        assert_eq!(granted.actor, user.id);

        let issued = events
            .iter()
            .rev()
            .find(|e| e.kind == "token.issued")
            .unwrap();
        assert_eq!(issued.detail["grant_type"], "authorization_code");
        assert_eq!(issued.detail["refresh_token"], true);
        assert_eq!(issued.detail["id_token"], true);
        assert_eq!(issued.user_id.as_deref(), Some(user.id.as_str()));
        assert_eq!(issued.client_id.as_deref(), Some(client.id.as_str()));

        let reuse = find(&events, "token.refresh_reuse_detected");
        assert_eq!(reuse.outcome, "failure");
        assert_eq!(reuse.user_id.as_deref(), Some(user.id.as_str()));
        let refused = find(&events, "token.refused");
        assert_eq!(refused.detail["error"], "invalid_grant");
        assert_eq!(refused.client_id.as_deref(), Some(client.id.as_str()));
        let fatal = find(&events, "authorization.refused");
        assert_eq!(fatal.client_id.as_deref(), Some(client.id.as_str()));

        // Nothing secret in any of them.
        let all = serde_json::to_string(
            &events
                .iter()
                .map(|e| json!([e.detail, e.subject, e.actor]))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        for secret in [
            code.as_str(),
            refresh,
            tokens["access_token"].as_str().unwrap(),
            client.secret.as_deref().unwrap(),
            "correct horse",
            verifier.as_str(),
        ] {
            assert!(!all.contains(secret), "an event carries a secret");
        }
    }
);

both!(
    the_request_id_of_an_event_is_the_one_the_response_named,
    ALL,
    |app: TestApp| async move {
        let client = app.service_client("read").await;
        let res = app
            .post_form(
                "/oauth/token",
                "grant_type=client_credentials",
                Some(&client),
            )
            .await;
        assert_eq!(res.status(), 200);
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let events = audit(&app).await;
        let issued = find(&events, "token.issued");
        assert_eq!(issued.request_id.as_deref(), Some(request_id.as_str()));
        assert_eq!(issued.detail["grant_type"], "client_credentials");
        assert_eq!(issued.actor, client.id);
        assert_eq!(issued.user_id, None);
    }
);

both!(
    by_default_token_issuance_and_introspection_stay_out_of_the_sinks,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("read").await;
        let token = app.access_token(&client).await;
        let (status, _) = app.introspect(&client, &token).await;
        assert_eq!(status, 200);
        assert_eq!(app.revoke(&client, &token).await, 200);
        let bad = app
            .post_form(
                "/oauth/token",
                "grant_type=client_credentials",
                Some(&oauth2_testkit::TestClient {
                    id: client.id.clone(),
                    secret: Some("wrong".into()),
                }),
            )
            .await;
        assert_eq!(bad.status(), 401);
        let guessing = oauth2_testkit::TestClient {
            id: client.id.clone(),
            secret: Some("guess".into()),
        };
        let (status, _) = app.introspect(&guessing, &token).await;
        assert_eq!(status, 401);
        let events = audit(&app).await;
        assert_eq!(
            kinds(&events),
            ["token.revoked", "token.refused", "token.refused"]
        );
        assert_eq!(events[1].detail["endpoint"], "token");
        assert_eq!(events[1].detail["error"], "invalid_client");
        assert_eq!(events[1].client_id.as_deref(), Some(client.id.as_str()));
        assert_eq!(events[0].detail["endpoint"], "introspect");
        assert_eq!(events[0].client_id.as_deref(), Some(client.id.as_str()));
        assert_eq!(app.services.events.recent(10).len(), 3);
    }
);

both!(
    refused_admin_and_registration_credentials_are_events,
    &[],
    |app: TestApp| async move {
        let admin = app
            .http
            .get(app.url("/admin/api/clients"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(admin.status(), 401);
        let register = app
            .http
            .post(app.url("/clients/register"))
            .bearer_auth("not-an-initial-access-token")
            .json(&json!({ "redirect_uris": [CB] }))
            .send()
            .await
            .unwrap();
        assert_eq!(register.status(), 401);
        let events = audit(&app).await;
        assert_eq!(kinds(&events), ["token.refused", "token.refused"]);
        assert_eq!(events[1].detail["endpoint"], "admin_api");
        assert_eq!(events[1].detail["error"], "invalid_token");
        assert_eq!(events[1].address.as_deref(), Some("127.0.0.1"));
        assert_eq!(events[0].detail["endpoint"], "registration");
        // No token value in either.
        let text = format!("{events:?}");
        assert!(!text.contains("not-a-token") && !text.contains("not-an-initial"));
    }
);

both!(
    types_can_be_included_and_excluded,
    &[
        ("OAUTH2_EVENTS", "*,-login.failed"),
        ("OAUTH2_EVENTS_AUDIT", "login.*,token.revoked"),
        ("OAUTH2_EVENTS_RING", "token.*"),
    ],
    |app: TestApp| async move {
        app.create_user("bob", "pw-bob-123").await;
        let browser = Browser::new(&app);
        assert_eq!(browser.login("bob", "nope", "/").await.status, 401);
        assert_eq!(browser.login("bob", "pw-bob-123", "/").await.status, 303);
        let client = app.service_client("read").await;
        let token = app.access_token(&client).await;
        assert_eq!(app.revoke(&client, &token).await, 200);

        // login.failed is produced nowhere; the audit table takes logins and revocations.
        assert_eq!(
            kinds(&audit(&app).await),
            ["login.succeeded", "token.revoked"]
        );
        let ring: Vec<&str> = app
            .services
            .events
            .recent(10)
            .iter()
            .map(|e| e.kind.as_str())
            .collect();
        assert_eq!(ring, ["token.revoked", "token.issued"]);
    }
);

/// A token of an admin client, for the admin API.
async fn admin_token(app: &TestApp) -> String {
    let created = oauth2_actors::clients::create_client(
        app.services.store.as_ref(),
        &oauth2_core::SystemRandom::new(),
        oauth2_actors::now(),
        oauth2_actors::clients::NewClient {
            admin: true,
            ..oauth2_actors::clients::NewClient::new(
                "ops",
                vec![GrantType::ClientCredentials],
                "admin",
                AuthMethod::ClientSecretBasic,
                vec![],
            )
        },
    )
    .await
    .unwrap();
    let res = app
        .http
        .post(app.url("/oauth/token"))
        .header(
            "Authorization",
            basic(
                &created.client.client_id,
                created.secret.as_deref().unwrap(),
            ),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

both!(
    the_admin_api_reads_the_ring_and_the_audit_table_with_every_field,
    &[],
    |app: TestApp| async move {
        let token = admin_token(&app).await;
        let get = |path: &'static str| {
            let req = app.http.get(app.url(path)).bearer_auth(&token);
            async move {
                let res = req.send().await.unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            }
        };
        let created = app
            .http
            .post(app.url("/admin/api/clients"))
            .bearer_auth(&token)
            .json(&json!({ "client_name": "shop", "grant_types": ["client_credentials"], "scope": "read" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let client_id = created.json::<Value>().await.unwrap()["client_id"]
            .as_str()
            .unwrap()
            .to_owned();

        // The change is in the audit table as soon as the call returned (no flush here).
        let (status, page) = get("/admin/api/events?limit=5").await;
        assert_eq!(status, 200, "{page}");
        let e = &page["items"][0];
        assert_eq!(e["kind"], "client.created", "{page}");
        assert_eq!(e["client_id"], client_id.as_str());
        assert_eq!(e["outcome"], "success");
        assert_eq!(e["address"], "127.0.0.1");
        assert!(e["event_id"].as_str().is_some_and(|id| id.len() == 32));
        assert!(e["request_id"].is_string());

        let (status, recent) = get("/admin/api/events/recent?limit=1").await;
        assert_eq!(status, 200, "{recent}");
        let items = recent["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["type"], "client.created");
        assert_eq!(items[0]["id"], e["event_id"]);
        assert_eq!(items[0]["client_id"], client_id.as_str());

        let (status, bad) = get("/admin/api/events/recent?limit=0").await;
        assert_eq!(
            (status, bad["error"].as_str()),
            (400, Some("invalid_request"))
        );
        let anonymous = app
            .http
            .get(app.url("/admin/api/events/recent"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
    }
);

both!(
    retention_deletes_old_audit_events_in_the_cleanup_job,
    // No background cleanup: this test runs it, and counts what it deleted.
    &[
        ("OAUTH2_EVENTS_RETENTION_DAYS", "1"),
        ("OAUTH2_CLEANUP_INTERVAL", "0")
    ],
    |app: TestApp| async move {
        let old = oauth2_core::events::Event {
            id: "old".into(),
            kind: oauth2_core::events::EventKind::KeyRotated,
            time: oauth2_actors::now() - 2 * 24 * 3600,
            actor: Some("cli".into()),
            client_id: None,
            user_id: None,
            subject: None,
            address: None,
            outcome: oauth2_core::events::Outcome::Success,
            request_id: None,
            detail: json!({}),
        };
        let recent = oauth2_core::events::Event {
            id: "recent".into(),
            time: oauth2_actors::now() - 3600,
            ..old.clone()
        };
        app.services
            .store
            .append_events(&[old, recent])
            .await
            .unwrap();
        let report = oauth2_actors::housekeeping::cleanup(
            app.services.store.as_ref(),
            &app.services.settings,
            oauth2_actors::now(),
        )
        .await
        .unwrap();
        assert_eq!(report.events, 1);
        let left: Vec<String> = audit(&app).await.into_iter().map(|e| e.event_id).collect();
        assert_eq!(left, ["recent"]);
    }
);

// Webhooks.

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Delivery {
    /// The request line.
    line: String,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Delivery {
    fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }
}

/// How the receiver answers the next request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Accept,
    Fail,
    /// Reads the request, then never answers.
    Hang,
}

#[derive(Default)]
struct Inbox {
    deliveries: Vec<Delivery>,
    /// Answers for the next requests, in order; `Accept` after they run out.
    script: Vec<Mode>,
}

/// A webhook receiver on a free loopback port.
struct Receiver {
    port: u16,
    state: Arc<Mutex<Inbox>>,
}

impl Receiver {
    fn start(script: &[Mode]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(Inbox {
            deliveries: Vec::new(),
            script: script.iter().rev().copied().collect(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Receiver { port, state }
    }

    /// Waits (at most a minute: the test fails then) until `done` holds for the deliveries,
    /// without blocking the thread: an in-process server runs on it.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = self.state.lock().unwrap().deliveries.clone();
            if done(&seen) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "waited a minute for {what}; got {seen:#?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/oauth2", self.port)
    }
}

fn serve(stream: TcpStream, state: &Mutex<Inbox>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let (line, headers, body) = (request.line, request.headers, request.body);
        let mode = {
            let mut inbox = state.lock().unwrap();
            inbox.deliveries.push(Delivery {
                line,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            inbox.script.pop().unwrap_or(Mode::Accept)
        };
        let status = match mode {
            Mode::Accept => "204 No Content",
            Mode::Fail => "503 Service Unavailable",
            Mode::Hang => {
                // Holds the connection until the sender goes away.
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                return;
            }
        };
        let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Checks a delivery the way a receiver following Standard Webhooks does, with our own HMAC.
fn assert_signed(d: &Delivery) {
    use aws_lc_rs::hmac;
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let signed = format!(
        "{}.{}.{}",
        d.headers["webhook-id"], d.headers["webhook-timestamp"], d.body
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), signed.as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    );
    assert!(d.line.starts_with("POST /hooks/oauth2 HTTP/1.1"), "{d:#?}");
    assert_eq!(d.headers["webhook-signature"], expected, "{d:#?}");
    assert_eq!(d.headers["content-type"], "application/json");
    let ts: i64 = d.headers["webhook-timestamp"].parse().unwrap();
    assert!(
        (ts - oauth2_actors::now()).abs() < 600,
        "a current timestamp"
    );
    assert_eq!(d.event()["id"], d.id(), "the header names the event");
}

fn webhook_env(receiver: &Receiver) -> Vec<(&'static str, String)> {
    vec![
        ("OAUTH2_WEBHOOK_URL", receiver.url()),
        ("OAUTH2_WEBHOOK_SECRET", SECRET.to_owned()),
        ("OAUTH2_WEBHOOK_EVENTS", "login.*".to_owned()),
        ("OAUTH2_WEBHOOK_BACKOFF", "1".to_owned()),
        ("OAUTH2_WEBHOOK_TIMEOUT", "2".to_owned()),
    ]
}

async fn app_with_webhook(backend: Backend, receiver: &Receiver) -> Option<TestApp> {
    let env = webhook_env(receiver);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    oauth2_testkit::spawn_app_with(backend, &pairs).await
}

async fn signed_and_retried_until_accepted(backend: Backend) {
    let receiver = Receiver::start(&[Mode::Fail, Mode::Fail]);
    let Some(app) = app_with_webhook(backend, &receiver).await else {
        return;
    };
    app.create_user("carol", "pw-carol-123").await;
    let browser = Browser::new(&app);
    assert_eq!(browser.login("carol", "wrong", "/").await.status, 401);
    // Not subscribed: a token issued never reaches the webhook.
    let client = app.service_client("read").await;
    app.access_token(&client).await;

    let got = receiver.wait_for("three attempts", |d| d.len() >= 3).await;
    let ids: Vec<&str> = got.iter().map(Delivery::id).collect();
    assert_eq!(ids[0], ids[1], "a retry carries the same event id");
    assert_eq!(ids[1], ids[2]);
    for d in &got {
        assert_signed(d);
        assert_eq!(d.event()["type"], "login.failed");
        assert_eq!(d.event()["outcome"], "failure");
        assert_eq!(d.event()["address"], "127.0.0.1");
    }
    // Accepted on the third attempt: the outbox lets go of it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = app.services.store.outbox_counts().await.unwrap();
        if counts.pending == 0 {
            assert_eq!(counts.failed, 0);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox still holds {counts:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // The next event goes out at once and only once.
    assert_eq!(
        browser.login("carol", "pw-carol-123", "/").await.status,
        303
    );
    let got = receiver.wait_for("the sign-in", |d| d.len() >= 4).await;
    assert_eq!(got[3].event()["type"], "login.succeeded");
    assert_signed(&got[3]);
    assert_eq!(got.len(), 4);
}

async fn given_up_after_the_last_attempt(backend: Backend) {
    let receiver = Receiver::start(&[Mode::Fail; 5]);
    let mut env = webhook_env(&receiver);
    env.push(("OAUTH2_WEBHOOK_MAX_ATTEMPTS", "2".to_owned()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Some(app) = oauth2_testkit::spawn_app_with(backend, &pairs).await else {
        return;
    };
    app.create_user("gina", "pw-gina-123").await;
    let browser = Browser::new(&app);
    assert_eq!(browser.login("gina", "wrong", "/").await.status, 401);
    receiver.wait_for("two attempts", |d| d.len() >= 2).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = app.services.store.outbox_counts().await.unwrap();
        if counts.failed == 1 {
            assert_eq!(counts.pending, 0);
            break;
        }
        assert!(Instant::now() < deadline, "not given up: {counts:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // Given up means no third attempt (the backoff would have allowed several by now).
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.state.lock().unwrap().deliveries.len(), 2);
}

mod webhook_gives_up {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        given_up_after_the_last_attempt(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        given_up_after_the_last_attempt(Backend::Postgres).await;
    }
}

mod webhook_retries {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        signed_and_retried_until_accepted(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        signed_and_retried_until_accepted(Backend::Postgres).await;
    }
}

/// The real binary: delivery begins, the process is killed while the receiver holds the request,
/// and the next start delivers the same event (and one the CLI recorded meanwhile).
#[actix_web::test]
async fn a_webhook_delivery_cut_off_by_a_crash_is_made_after_the_restart() {
    let receiver = Receiver::start(&[Mode::Hang]);
    let dir = scratch_dir();
    let db = temp_path("db");
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert(
        "OAUTH2_DATABASE_URL".into(),
        format!("sqlite:{}", db.display()),
    );
    env.insert("OAUTH2_ARGON2_MEMORY_KIB".into(), "64".into());
    env.insert("OAUTH2_ARGON2_ITERATIONS".into(), "1".into());
    env.insert("OAUTH2_LOG_LEVEL".into(), "warn".into());
    for (k, v) in webhook_env(&receiver) {
        env.insert(k.into(), v);
    }
    env.insert("OAUTH2_WEBHOOK_EVENTS".into(), "login.*,client.*".into());
    // Long enough that the attempt is still in flight when the process is killed.
    env.insert("OAUTH2_WEBHOOK_TIMEOUT".into(), "5".into());

    let created = run(
        &dir,
        &env,
        &["user", "create", "--username", "dave", "--password-stdin"],
        Some("pw-dave-123\n"),
    );
    assert_eq!(created.code, Some(0), "{created:#?}");

    let first = RunningServer::start(&env).await;
    sign_in_fails(first.port, "dave");
    let held = receiver
        .wait_for("the first attempt", |d| !d.is_empty())
        .await;
    assert_signed(&held[0]);
    let event_id = held[0].id().to_owned();
    assert_eq!(held[0].event()["type"], "login.failed");
    // A crash (SIGKILL) in the middle of the delivery.
    drop(first);

    // Meanwhile the CLI makes a change: its event waits in the outbox (the CLI does not deliver).
    let client = run(
        &dir,
        &env,
        &["client", "create", "--name", "from-cli"],
        None,
    );
    let client_id = client.json()["client_id"].as_str().unwrap().to_owned();

    let _second = RunningServer::start(&env).await;
    let got = receiver
        .wait_for("the event again, and the CLI's", |d| {
            d.iter().skip(1).any(|x| x.id() == event_id)
                && d.iter().any(|x| x.event()["type"] == "client.created")
        })
        .await;
    for d in &got {
        assert_signed(d);
    }
    let cli = got
        .iter()
        .find(|d| d.event()["type"] == "client.created")
        .unwrap();
    assert_eq!(cli.event()["actor"], "cli");
    assert_eq!(cli.event()["client_id"], client_id.as_str());
}

fn http(port: u16, request: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn sign_in_fails(port: u16, username: &str) {
    // The login form wants its CSRF cookie and field: take them from the form page.
    let page = http(
        port,
        "GET /auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let cookie = page
        .lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("a CSRF field in {page}"));
    let body = format!("username={username}&password=wrong&csrf_token={csrf}&return_to=%2F");
    let answer = http(
        port,
        &format!(
            "POST /auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

// Redis.

async fn redis_connection() -> Option<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    match client.get_multiplexed_async_connection().await {
        Ok(c) => Some(c),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("Redis must run in CI (127.0.0.1:6379): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: Redis is not reachable at 127.0.0.1:6379 ({e})");
            None
        }
    }
}

async fn events_reach_the_redis_stream(backend: Backend) {
    let Some(mut redis) = redis_connection().await else {
        return;
    };
    let stream = format!(
        "test:events:{}",
        oauth2_core::secret::random_token(&oauth2_core::SystemRandom::new(), 8).unwrap()
    );
    let Some(app) = oauth2_testkit::spawn_app_with(
        backend,
        &[
            ("OAUTH2_REDIS_URL", "redis://127.0.0.1:6379"),
            ("OAUTH2_EVENTS_REDIS_STREAM", &stream),
            ("OAUTH2_EVENTS_REDIS", "login.*,token.revoked"),
        ],
    )
    .await
    else {
        return;
    };
    app.create_user("erin", "pw-erin-123").await;
    let browser = Browser::new(&app);
    assert_eq!(browser.login("erin", "wrong", "/").await.status, 401);
    let client = app.service_client("read").await;
    let token = app.access_token(&client).await;
    assert_eq!(app.revoke(&client, &token).await, 200);
    app.services.events.flush().await;

    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(&stream)
        .arg("-")
        .arg("+")
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
    let types: Vec<&str> = entries
        .iter()
        .map(|(_, fields)| fields.iter().find(|(k, _)| k == "type").unwrap().1.as_str())
        .collect();
    assert_eq!(types, ["login.failed", "token.revoked"], "{entries:?}");
    let event: Value =
        serde_json::from_str(&entries[1].1.iter().find(|(k, _)| k == "event").unwrap().1).unwrap();
    assert_eq!(event["type"], "token.revoked");
    assert_eq!(event["client_id"], client.id.as_str());
}

mod redis_stream {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        events_reach_the_redis_stream(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        if fresh_database_url(Backend::Postgres).await.is_some() {
            events_reach_the_redis_stream(Backend::Postgres).await;
        }
    }
}

/// SIGTERM with events still on their way to a sink: the server writes them before it exits.
/// The test holds SQLite's write lock, so the dispatcher's insert of the event is stuck when the
/// signal comes; a server that exited without draining its queue would lose the event.
#[actix_web::test]
async fn sigterm_writes_the_queued_events_before_the_process_ends() {
    use sqlx::Connection;
    let dir = scratch_dir();
    let db = temp_path("db");
    let url = format!("sqlite:{}", db.display());
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("OAUTH2_DATABASE_URL".into(), url.clone());
    env.insert("OAUTH2_LOG_LEVEL".into(), "warn".into());
    env.insert("OAUTH2_CLEANUP_INTERVAL".into(), "0".into());
    let created = run(&dir, &env, &["client", "create", "--name", "svc"], None);
    let client_id = created.json()["client_id"].as_str().unwrap().to_owned();

    let mut server = RunningServer::start(&env).await;
    let mut lock = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();

    // A refused token request (a wrong secret): answered without writing, its event queued.
    let body = "grant_type=client_credentials";
    let answer = http(
        server.port,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Authorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            basic(&client_id, "not-the-secret"),
            body.len()
        ),
    )
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // Give the dispatcher time to take the event and block on the lock.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;

    server.sigterm();
    actix_web::rt::time::sleep(Duration::from_millis(1000)).await;
    // Still there: it is waiting to write the event.
    assert!(
        server.child.0.try_wait().unwrap().is_none(),
        "exited before writing: {}",
        server.logs()
    );
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    let status = server.exit_status().await;
    assert!(status.success(), "{status:?}: {}", server.logs());
    let kinds: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT kind, client_id FROM events ORDER BY id")
            .fetch_all(&mut lock)
            .await
            .unwrap();
    assert!(
        kinds.contains(&("token.refused".to_owned(), Some(client_id.clone()))),
        "{kinds:?}"
    );
}
