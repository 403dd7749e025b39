//! Logs: JSON lines that carry the request id and trace id, and never a secret.

use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Drives every flow with debug logging on, then looks for every secret it used in the logs.
#[actix_web::test]
async fn a_full_flow_logs_no_secret_and_every_request_line_has_its_ids() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,hyper=info,hyper_util=info,reqwest=info,h2=info,mio=info",
        ))
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this is the only test that installs a log subscriber");

    let app = oauth2_testkit::spawn_app(oauth2_testkit::Backend::Sqlite)
        .await
        .unwrap();
    const CB: &str = "https://app.example/cb";
    let password = "Tr0ub4dor&3-unique-pw";
    app.create_user("frank", password).await;
    let client = app
        .create_client(
            &[
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::Password,
            ],
            "openid profile api.read",
            AuthMethod::ClientSecretBasic,
            &[CB],
        )
        .await;
    let mut secrets = vec![password.to_owned(), client.secret.clone().unwrap()];
    let browser = Browser::new(&app);
    // A wrong password first.
    browser.login("frank", "wrong-guess-unique-1", "").await;
    secrets.push("wrong-guess-unique-1".into());
    let (verifier, challenge) = pkce_pair();
    let page = sign_in_and_allow(
        &browser,
        &standard_request(&client.id, CB, "openid api.read", &challenge),
        "frank",
        password,
    )
    .await;
    let code = page.location_param("code").unwrap();
    let (_, tokens) = app.exchange_code(&client, &code, CB, Some(&verifier)).await;
    let (_, refreshed) = app
        .refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
        .await;
    app.refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
        .await; // reuse: family revoked
    let (_, by_password) = app
        .token_request(
            &client,
            &format!(
                "grant_type=password&username=frank&password={}",
                oauth2_core::authorize::encode(password)
            ),
        )
        .await;
    app.introspect(&client, by_password["access_token"].as_str().unwrap())
        .await;
    app.http
        .get(app.url("/oauth/userinfo"))
        .header(
            "Authorization",
            format!("Bearer {}", by_password["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    app.revoke(&client, by_password["refresh_token"].as_str().unwrap())
        .await;
    for t in [&tokens, &refreshed, &by_password] {
        for field in ["access_token", "refresh_token", "id_token"] {
            if let Some(v) = t[field].as_str() {
                secrets.push(v.to_owned());
            }
        }
    }
    secrets.push(code);
    secrets.push(verifier);
    secrets.push(browser.cookie("oauth2_session").unwrap());
    secrets.push(browser.cookie("oauth2_csrf").unwrap());
    // A request with a trace context from upstream.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = app
        .http
        .get(app.url("/health"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .header("x-request-id", "req-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-abc-123");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 20, "debug logging captured the flow");
    for secret in &secrets {
        assert!(secret.len() >= 8);
        assert!(
            !logs.contains(secret.as_str()),
            "a secret appears in the logs: {}…",
            &secret[..8]
        );
    }
    // Every line written while serving a request names the request and the trace: the request
    // span always carries both ids.
    let mut request_lines = 0;
    for line in logs.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        if let Some(spans) = v.get("spans").and_then(|s| s.as_array()) {
            // Start-up and background work log outside any request.
            let Some(request) = spans.iter().find(|s| s["name"] == "request") else {
                continue;
            };
            assert!(
                request["request_id"].is_string() && request["trace_id"].is_string(),
                "{line}"
            );
            request_lines += 1;
        }
    }
    assert!(request_lines > 5, "request lines carry their span");
    // Lines written by the actors (their handlers run as tasks of their own) carry it too.
    let family_line = logs
        .lines()
        .find(|l| l.contains("token family revoked"))
        .expect("the refresh reuse was logged");
    let v: serde_json::Value = serde_json::from_str(family_line).unwrap();
    assert!(
        v["spans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["request_id"].is_string())),
        "actor log line has the request id: {family_line}"
    );
    assert!(
        logs.lines()
            .any(|l| l.contains("req-abc-123") && l.contains(trace)),
        "the upstream request id and trace id are used"
    );
    // The log sink: one line per event under its own target, naming the request that caused it.
    app.services.events.flush().await;
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let events: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["target"] == "oauth2::event")
        .collect();
    let failed = events
        .iter()
        .find(|v| v["fields"]["event_type"] == "login.failed")
        .unwrap_or_else(|| panic!("a login.failed event line among {events:?}"));
    assert_eq!(failed["level"], "INFO");
    assert_eq!(failed["fields"]["outcome"], "failure");
    assert!(failed["fields"]["event_request_id"].is_string(), "{failed}");
    for kind in [
        "login.succeeded",
        "authorization.granted",
        "token.refresh_reuse_detected",
        "token.revoked",
    ] {
        assert!(
            events.iter().any(|v| v["fields"]["event_type"] == kind),
            "{kind} is logged"
        );
    }
}
