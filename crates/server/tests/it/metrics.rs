//! `GET /metrics`: Prometheus text format, scraped by a real Prometheus.

use oauth2_testkit::TestApp;
use std::process::{Child, Command, Stdio};

/// The value of the first sample of `name` whose line contains every label in `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.text().await.unwrap()
}

both!(
    counters_move_with_traffic_and_labels_stay_low_cardinality,
    &[],
    |app: TestApp| async move {
        let before = scrape(&app).await;
        let issued = |t: &str| {
            sample(
                t,
                "oauth2_tokens_issued_total",
                &[
                    "grant_type=\"client_credentials\"",
                    "client_kind=\"confidential\"",
                ],
            )
            .unwrap_or(0.0)
        };
        let client = app.service_client("a").await;
        let token = app.access_token(&client).await;
        app.introspect(&client, &token).await;
        app.client_credentials(&client, Some("not-registered"))
            .await;
        let after = scrape(&app).await;
        assert!(
            issued(&after) >= issued(&before) + 1.0,
            "tokens issued moved"
        );
        assert!(
            sample(
                &after,
                "oauth2_introspections_total",
                &["result=\"active\""]
            )
            .unwrap()
                >= 1.0
        );
        assert!(
            sample(
                &after,
                "oauth2_token_errors_total",
                &["error=\"invalid_scope\""]
            )
            .unwrap()
                >= 1.0
        );
        assert!(
            sample(
                &after,
                "http_requests_total",
                &[
                    "route=\"/oauth/token\"",
                    "method=\"POST\"",
                    "status=\"2xx\""
                ]
            )
            .unwrap()
                >= 1.0
        );
        assert!(
            after.contains("http_request_duration_seconds_bucket{route=\"/oauth/token\""),
            "latency histogram by route"
        );
        assert!(sample(&after, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
        assert!(sample(&after, "db_pool_max_connections", &[]).unwrap() >= 1.0);
        assert!(after.contains("oauth2_build_info{version="));
        // No client id, user or token ever becomes a label.
        assert!(!after.contains(&client.id), "no client id in labels");
        assert!(!after.contains(&token[..20]));
    }
);

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real Prometheus scrapes the server and sees its counters.
#[actix_web::test]
async fn a_real_prometheus_scrapes_the_counters() {
    let Some(bin) = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is not installed (apt-get install prometheus)"
        );
        eprintln!("skipping: prometheus is not installed (apt-get install prometheus)");
        return;
    };
    let app = oauth2_testkit::spawn_app(oauth2_testkit::Backend::Sqlite)
        .await
        .unwrap();
    let client = app.service_client("").await;
    app.access_token(&client).await;
    let dir = oauth2_testkit::temp_path("prom");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: oauth2\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            app.port
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _prom = Prometheus(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let query = format!(
        "http://127.0.0.1:{port}/api/v1/query?query=sum(oauth2_tokens_issued_total%7Bjob%3D%22oauth2%22%7D)"
    );
    let mut seen = None;
    for _ in 0..60 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
        let Ok(res) = app.http.get(&query).send().await else {
            continue;
        };
        let Ok(v) = res.json::<serde_json::Value>().await else {
            continue;
        };
        if let Some(value) = v["data"]["result"][0]["value"][1].as_str() {
            seen = value.parse::<f64>().ok();
            if seen.is_some_and(|n| n >= 1.0) {
                break;
            }
        }
    }
    assert!(
        seen.is_some_and(|n| n >= 1.0),
        "Prometheus scraped oauth2_tokens_issued_total: {seen:?}"
    );
}

/// `OAUTH2_METRICS_ADDR` moves /metrics off the main port.
#[actix_web::test]
async fn metrics_can_be_served_on_their_own_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let app = oauth2_testkit::spawn_app_with(
        oauth2_testkit::Backend::Sqlite,
        &[("OAUTH2_METRICS_ADDR", &addr)],
    )
    .await
    .unwrap();
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404, "not on the main port");
    let res = app
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("# TYPE"));
}

/// The runbook's metrics table names only metrics that exist, and every exported metric is in it.
#[actix_web::test]
async fn the_runbook_documents_exactly_the_exported_metrics() {
    let app = oauth2_testkit::spawn_app(oauth2_testkit::Backend::Sqlite)
        .await
        .unwrap();
    // Exercise the labelled counters so they appear.
    let client = app.service_client("").await;
    let token = app.access_token(&client).await;
    app.introspect(&client, &token).await;
    app.revoke(&client, &token).await;
    let text = scrape(&app).await;
    let exported: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect();
    let runbook = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operations.md"
    ))
    .unwrap();
    let documented: std::collections::BTreeSet<String> = runbook
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1))
        .map(str::to_owned)
        .collect();
    for name in &exported {
        assert!(
            documented.contains(name),
            "{name} is exported but not in docs/operations.md"
        );
    }
    for name in [
        "http_requests_total",
        "oauth2_tokens_issued_total",
        "oauth2_introspections_total",
        "oauth2_revocations_total",
    ] {
        assert!(
            exported.contains(name),
            "{name} is documented but not exported"
        );
    }
}

both!(
    a_running_server_reports_the_live_sessions_of_the_whole_database_and_its_query_latency,
    &[],
    |app: TestApp| async move {
        // A session made through another instance (the in-process app) on the same database:
        // the figure is the database's, the same on every instance.
        app.create_user("erin", "erin-password").await;
        let browser = oauth2_testkit::browser::Browser::new(&app);
        browser.login("erin", "erin-password", "").await;
        let client = app.service_client("").await;

        // The real binary has a metrics recorder of its own (the test process's is shared).
        let server = crate::process::RunningServer::start(&app.env).await;
        let other = TestApp {
            address: server.url(""),
            port: server.port,
            database_url: app.database_url.clone(),
            env: app.env.clone(),
            services: app.services.clone(),
            http: reqwest::Client::new(),
        };
        let token = other.access_token(&client).await;
        let (status, _) = other.introspect(&client, &token).await;
        assert_eq!(status, 200);

        // The gauge is refreshed in the background, first right at start.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let text = loop {
            let text = scrape(&other).await;
            if sample(&text, "oauth2_active_sessions", &[]).is_some() {
                break text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no oauth2_active_sessions after 30 s: {text}"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(sample(&text, "oauth2_active_sessions", &[]), Some(1.0));
        // The client lookup of the token request and the deny-list lookup of the introspection
        // went to the database, each timed under its operation's name.
        for operation in ["get_client", "revoked_among"] {
            let count = sample(
                &text,
                "db_query_duration_seconds_count",
                &[&format!("operation=\"{operation}\"")],
            );
            assert!(
                count.is_some_and(|n| n >= 1.0),
                "{operation} was timed: {count:?}: {text}"
            );
        }
        // One label, `operation`, besides the buckets' `le`: never a value from a query.
        for line in text
            .lines()
            .filter(|l| l.starts_with("db_query_duration_seconds"))
        {
            let labels = line
                .split_once('{')
                .and_then(|(_, r)| r.split_once('}'))
                .map(|(l, _)| l)
                .unwrap_or_default();
            for label in labels.split(',') {
                assert!(
                    label.starts_with("operation=\"") || label.starts_with("le=\""),
                    "{line}"
                );
            }
        }
    }
);
