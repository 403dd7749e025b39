//! The admin command line, run as the real binary.
//!
//! Every run gets an explicit environment (nothing `OAUTH2_*` leaks in from the test runner) and
//! its own working directory, so the embedded `sqlite:oauth2.db` default never touches the repo.

use oauth2_core::password::verify_password;
use oauth2_testkit::{Backend, TestApp, TestClient, fresh_database_url, jwt_parts, temp_path};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one command may run before the test gives up on it: an unreachable PostgreSQL alone
/// costs the store's 5 s connect timeout, and a debug build on two loaded cores is slow.
const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// A new, empty working directory.
pub fn scratch_dir() -> PathBuf {
    let dir = temp_path("dir");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with exactly `env` (plus `PATH` and `HOME`), run in `dir`.
pub fn command(dir: &Path, env: &BTreeMap<String, String>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oauth2-server"));
    cmd.args(args).current_dir(dir).env_clear();
    for var in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd.envs(env);
    cmd
}

/// Kills the child when dropped, so a failed assertion never leaves a server running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The whole of stdout as one JSON value, after a successful run.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "the command succeeds: {self:#?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is one JSON value ({e}): {self:#?}"))
    }

    /// Asserts a failure with exit code `code`, nothing on stdout and exactly one `error: ...`
    /// line on stderr, and returns that line.
    pub fn error_line(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "exit code: {self:#?}");
        assert!(self.stdout.is_empty(), "nothing on stdout: {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "exactly one line on stderr: {self:#?}");
        assert!(lines[0].starts_with("error: "), "an error line: {self:#?}");
        lines[0]
    }

    /// A failure with any non-zero exit code (not a signal) and one line on stderr.
    pub fn failed_with_one_line(&self) -> &str {
        let code = self
            .code
            .unwrap_or_else(|| panic!("exited normally: {self:#?}"));
        assert_ne!(code, 0, "the command fails: {self:#?}");
        self.error_line(code)
    }
}

/// Runs the binary to completion, feeding `stdin`; kills it past [`COMMAND_DEADLINE`].
pub fn run(
    dir: &Path,
    env: &BTreeMap<String, String>,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = command(dir, env, args);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = KillOnDrop(cmd.spawn().unwrap());
    if let Some(input) = stdin {
        let mut pipe = child.0.stdin.take().unwrap();
        // A command that fails before reading closes the pipe: that is its answer, not ours.
        let _ = pipe.write_all(input.as_bytes());
    }
    // Read both pipes while waiting, so a chatty child never blocks on a full pipe.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let stdout = read(Box::new(child.0.stdout.take().unwrap()));
    let stderr = read(Box::new(child.0.stderr.take().unwrap()));
    let deadline = Instant::now() + COMMAND_DEADLINE;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "oauth2-server {args:?} still running after {COMMAND_DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The command line with one working directory and environment.
pub struct Cli {
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
}

impl Cli {
    /// No configuration at all, in a fresh empty directory.
    pub fn empty() -> Cli {
        Cli::with_env(&[])
    }

    /// Only these settings, in a fresh empty directory.
    pub fn with_env(vars: &[(&str, &str)]) -> Cli {
        Cli {
            dir: scratch_dir(),
            env: vars
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    /// The running app's configuration: same database, same settings.
    pub fn for_app(app: &TestApp) -> Cli {
        Cli {
            dir: scratch_dir(),
            env: app.env.clone(),
        }
    }

    /// Runs on this thread: for tests with no runtime.
    pub fn run_now(&self, args: &[&str]) -> Output {
        run(&self.dir, &self.env, args, None)
    }

    /// Runs off the async runtime, which must keep driving the app's database connections.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None).await
    }

    pub async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let (dir, env) = (self.dir.clone(), self.env.clone());
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let stdin = stdin.map(str::to_owned);
        actix_web::rt::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&dir, &env, &args, stdin.as_deref())
        })
        .await
        .unwrap()
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn client_of(created: &Value) -> TestClient {
    TestClient {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    out.sort_unstable();
    out
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a JSON array: {list}"))
        .iter()
        .map(|c| c[field].as_str().unwrap().to_owned())
        .collect()
}

// --- The embedded default --------------------------------------------------------------------

#[actix_web::test]
async fn with_no_configuration_the_server_creates_oauth2_db_in_the_working_directory_and_serves() {
    let dir = scratch_dir();
    let port = free_port();
    let log = temp_path("log");
    let env = BTreeMap::from([("OAUTH2_SERVER_PORT".to_owned(), port.to_string())]);
    let mut cmd = command(&dir, &env, &[]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut server = KillOnDrop(cmd.spawn().unwrap());

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(res) = http.get(format!("{base}/health")).send().await {
            assert_eq!(res.status(), 200, "/health answers 200");
            break;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!(
                "the server exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 15 s: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let res = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let jwks: Value = res.json().await.unwrap();
    assert!(
        !jwks["keys"].as_array().unwrap().is_empty(),
        "a generated key is published"
    );
    assert!(
        dir.join("oauth2.db").is_file(),
        "sqlite:oauth2.db is created in the working directory"
    );
    drop(server);
}

// --- client create ---------------------------------------------------------------------------

#[test]
fn client_create_prints_one_json_object_with_the_secret_and_the_registered_metadata() {
    let cli = Cli::empty();
    let v = cli
        .run_now(&[
            "client",
            "create",
            "--name",
            "billing",
            "--scope",
            "api.read api:write",
        ])
        .json();
    assert!(v.is_object(), "one JSON object: {v}");
    assert!(!v["client_id"].as_str().unwrap().is_empty());
    assert!(
        v["client_secret"].as_str().unwrap().len() >= 16,
        "a secret: {v}"
    );
    assert_eq!(v["client_name"], "billing");
    assert_eq!(strings(&v["grant_types"]), ["client_credentials"]);
    assert_eq!(v["scope"], "api.read api:write");
    assert_eq!(v["token_endpoint_auth_method"], "client_secret_basic");
}

#[test]
fn client_create_public_has_no_secret_and_auth_method_none() {
    let cli = Cli::empty();
    let v = cli
        .run_now(&[
            "client",
            "create",
            "--name",
            "spa",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:8765/cb",
        ])
        .json();
    assert!(
        v.get("client_secret").is_none(),
        "no secret for a public client: {v}"
    );
    assert_eq!(v["token_endpoint_auth_method"], "none");
}

#[test]
fn client_create_with_a_redirect_uri_registers_authorization_code_and_refresh_token() {
    let cli = Cli::empty();
    let v = cli
        .run_now(&[
            "client",
            "create",
            "--name",
            "web",
            "--redirect-uri",
            "https://app.example.com/cb",
        ])
        .json();
    assert_eq!(
        strings(&v["grant_types"]),
        ["authorization_code", "refresh_token"]
    );
    assert_eq!(strings(&v["redirect_uris"]), ["https://app.example.com/cb"]);
    assert!(
        v["client_secret"].is_string(),
        "confidential by default: {v}"
    );
}

both!(
    a_client_created_by_the_cli_gets_a_token_at_once_from_a_running_server,
    // A long cache lifetime: a client the server has not seen must still be found at once.
    &[("OAUTH2_CLIENT_CACHE_TTL", "3600")],
    |app: TestApp| async move {
        let cli = Cli::for_app(&app);
        let stranger = TestClient {
            id: "not-yet-registered".into(),
            secret: Some("x".into()),
        };
        assert_eq!(app.client_credentials(&stranger, None).await.0, 401);
        let created = cli.run(&["client", "create", "--name", "svc"]).await.json();
        let client = client_of(&created);
        let (status, body) = app.client_credentials(&client, None).await;
        assert_eq!(status, 200, "the new secret works at once: {body}");
    }
);

both!(
    a_client_deleted_by_the_cli_is_refused_once_the_cache_lifetime_has_passed,
    &[("OAUTH2_CLIENT_CACHE_TTL", "1")],
    |app: TestApp| async move {
        let cli = Cli::for_app(&app);
        let created = cli
            .run(&["client", "create", "--name", "doomed"])
            .await
            .json();
        let client = client_of(&created);
        // Authenticate once, so the server holds the client in its cache.
        assert_eq!(app.client_credentials(&client, None).await.0, 200);

        let list = cli.run(&["client", "list"]).await.json();
        assert!(
            ids(&list, "client_id").contains(&client.id),
            "listed: {list}"
        );
        let shown = cli.run(&["client", "show", &client.id]).await.json();
        assert_eq!(shown["client_id"], client.id.as_str());
        assert_eq!(shown["client_name"], "doomed");
        assert!(
            shown.get("client_secret").is_none(),
            "show never prints a secret: {shown}"
        );

        let deleted = cli.run(&["client", "delete", &client.id]).await.json();
        assert_eq!(deleted["deleted"], client.id.as_str());
        // Past the 1 s cache lifetime the server must have gone back to the database.
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        let (status, body) = app.client_credentials(&client, None).await;
        assert_eq!(status, 401, "the deleted client is refused: {body}");

        let list = cli.run(&["client", "list"]).await.json();
        assert!(
            !ids(&list, "client_id").contains(&client.id),
            "no longer listed: {list}"
        );
        let line = cli
            .run(&["client", "show", &client.id])
            .await
            .error_line(1)
            .to_owned();
        assert!(line.contains(&client.id), "{line}");
    }
);

#[test]
fn client_show_of_an_unknown_id_fails_with_exit_code_1_and_one_line() {
    let line = Cli::empty()
        .run_now(&["client", "show", "nope"])
        .error_line(1)
        .to_owned();
    assert!(line.contains("nope"), "{line}");
}

/// Ids and hashes are base64url, so one in 32 starts with `-`: it is a value, not an option.
#[test]
fn ids_and_hashes_that_start_with_a_dash_are_values() {
    let cli = Cli::empty();
    for args in [
        ["client", "show", "-yAbcdef"],
        ["client", "delete", "-yAbcdef"],
        ["registration-token", "delete", "-yAbcdef"],
    ] {
        let out = cli.run_now(&args);
        let line = out.error_line(1);
        assert!(line.contains("-yAbc"), "{args:?}: {line}");
    }
}

#[test]
fn client_delete_of_an_unknown_id_fails_with_exit_code_1_and_one_line() {
    let line = Cli::empty()
        .run_now(&["client", "delete", "nope"])
        .error_line(1)
        .to_owned();
    assert!(line.contains("nope"), "{line}");
}

// --- Bad arguments ---------------------------------------------------------------------------

#[test]
fn an_unknown_grant_type_is_a_usage_error() {
    let cli = Cli::empty();
    let line = cli
        .run_now(&["client", "create", "--name", "x", "--grant-type", "nope"])
        .error_line(2)
        .to_owned();
    assert!(line.contains("nope"), "{line}");
}

#[test]
fn a_public_client_with_a_secret_auth_method_is_a_usage_error() {
    let cli = Cli::empty();
    let out = cli.run_now(&[
        "client",
        "create",
        "--name",
        "x",
        "--public",
        "--auth-method",
        "client_secret_basic",
    ]);
    out.error_line(2);
}

#[test]
fn a_plain_http_redirect_uri_off_loopback_is_invalid_redirect_uri() {
    let cli = Cli::empty();
    let out = cli.run_now(&[
        "client",
        "create",
        "--name",
        "x",
        "--redirect-uri",
        "http://evil.example/cb",
    ]);
    let line = out.failed_with_one_line();
    assert!(line.contains("invalid_redirect_uri"), "{line}");
    let list = cli.run_now(&["client", "list"]).json();
    assert_eq!(list, Value::Array(vec![]), "nothing was registered");
}

#[test]
fn client_create_without_a_name_is_a_clap_usage_error() {
    let out = Cli::empty().run_now(&["client", "create"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(
        out.stderr.contains("--name"),
        "the message names the missing flag: {out:#?}"
    );
}

// --- user create -----------------------------------------------------------------------------

both!(
    user_create_reads_the_password_from_stdin_and_stores_only_an_argon2id_hash,
    &[],
    |app: TestApp| async move {
        let cli = Cli::for_app(&app);
        let password = "correct horse battery staple";
        let args = [
            "user",
            "create",
            "--username",
            "alice",
            "--email",
            "a@example.com",
            "--password-stdin",
        ];
        let out = cli
            .run_with_stdin(&args, Some(&format!("{password}\n")))
            .await;
        let v = out.json();
        assert!(v.is_object(), "one JSON object: {v}");
        assert_eq!(v["username"], "alice");
        assert_eq!(v["email"], "a@example.com");
        assert!(!v["id"].as_str().unwrap().is_empty());
        assert!(!out.stdout.contains(password) && !out.stderr.contains(password));

        let user = app
            .services
            .store
            .find_user_by_username("alice")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v["id"], user.id.as_str());
        let hash = user.password_hash.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify_password(password, &hash),
            "the stored hash accepts the password"
        );
        assert!(!verify_password("wrong password", &hash));

        let again = cli.run_with_stdin(&args, Some("another password\n")).await;
        let line = again.failed_with_one_line();
        assert!(line.contains("alice"), "{line}");

        let short = ["user", "create", "--username", "bob", "--password-stdin"];
        cli.run_with_stdin(&short, Some("abc\n"))
            .await
            .failed_with_one_line();
        let bob = app
            .services
            .store
            .find_user_by_username("bob")
            .await
            .unwrap();
        assert!(bob.is_none(), "no user with a 3-character password");
    }
);

// --- keys ------------------------------------------------------------------------------------

both!(
    keys_rotate_adds_a_pending_key_the_running_server_publishes_at_once,
    &[],
    |app: TestApp| async move {
        let cli = Cli::for_app(&app);
        let client = app.service_client("").await;
        let old_kid = jwt_parts(&app.access_token(&client).await).0["kid"]
            .as_str()
            .unwrap()
            .to_owned();

        let rotated = cli.run(&["keys", "rotate"]).await.json();
        let new_kid = rotated["kid"].as_str().unwrap().to_owned();
        assert_ne!(new_kid, old_kid);
        assert_eq!(
            rotated["status"], "pending",
            "the default delay is 3600 s: {rotated}"
        );
        assert_eq!(
            rotated["activate_at"].as_i64().unwrap() - rotated["created_at"].as_i64().unwrap(),
            3600
        );

        let (status, jwks) = app.get_json("/.well-known/jwks.json").await;
        assert_eq!(status, 200);
        let published = ids(&jwks["keys"], "kid");
        assert!(published.contains(&new_kid), "published at once: {jwks}");
        assert!(
            published.contains(&old_kid),
            "the signing key stays published: {jwks}"
        );
        let kid = jwt_parts(&app.access_token(&client).await).0["kid"].clone();
        assert_eq!(kid, old_kid.as_str(), "the pending key does not sign yet");

        let list = cli.run(&["keys", "list"]).await.json();
        let listed = ids(&list, "kid");
        assert!(
            listed.contains(&old_kid) && listed.contains(&new_kid),
            "{list}"
        );
    }
);

#[test]
fn keys_rotate_with_hs256_is_a_usage_error() {
    let secret = "0123456789abcdef0123456789abcdef-hs256";
    let cli = Cli::with_env(&[
        ("OAUTH2_JWT_ALGORITHM", "HS256"),
        ("OAUTH2_JWT_SECRET", secret),
    ]);
    let out = cli.run_now(&["keys", "rotate"]);
    let line = out.error_line(2);
    assert!(!line.contains(secret), "{line}");
}

// --- migrate ---------------------------------------------------------------------------------

async fn migrate_applies_every_version_once(backend: Backend) {
    let Some(url) = fresh_database_url(backend).await else {
        return;
    };
    let cli = Cli::with_env(&[("OAUTH2_DATABASE_URL", &url)]);
    let first = cli.run(&["migrate"]).await.json();
    let applied: Vec<i64> = first["applied"]
        .as_array()
        .unwrap_or_else(|| panic!("{first}"))
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(
        !applied.is_empty(),
        "a fresh database gets every migration: {first}"
    );
    assert!(applied.windows(2).all(|w| w[0] < w[1]), "in order: {first}");
    let second = cli.run(&["migrate"]).await.json();
    assert_eq!(
        second["applied"],
        Value::Array(vec![]),
        "nothing left to apply"
    );
}

mod migrate_on_a_fresh_database_applies_every_version_then_nothing {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        migrate_applies_every_version_once(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        migrate_applies_every_version_once(Backend::Postgres).await;
    }
}

// --- An unreachable database -----------------------------------------------------------------

#[test]
fn an_unreachable_database_is_exit_code_1_and_one_line_without_a_panic() {
    let cli = Cli::with_env(&[
        ("OAUTH2_DATABASE_URL", "postgres://postgres@127.0.0.1:1/x"),
        ("OAUTH2_SERVER_PORT", "0"),
        // Were there a panic, its backtrace would show.
        ("RUST_BACKTRACE", "1"),
    ]);
    // Each waits out the connect timeout: run them side by side.
    let (list, serve) = std::thread::scope(|s| {
        let list = s.spawn(|| cli.run_now(&["client", "list"]));
        let serve = s.spawn(|| cli.run_now(&["serve"]));
        (list.join().unwrap(), serve.join().unwrap())
    });
    for out in [&list, &serve] {
        let line = out.error_line(1);
        assert!(
            line.contains("127.0.0.1:1"),
            "the line names the database: {line}"
        );
        let lower = out.stderr.to_lowercase();
        assert!(
            !lower.contains("panicked") && !lower.contains("backtrace"),
            "{out:#?}"
        );
    }
}

both!(
    user_list_set_password_and_disable_change_who_can_sign_in,
    &[],
    |app: TestApp| async move {
        use oauth2_core::client::{AuthMethod, GrantType};
        let cli = Cli::for_app(&app);
        app.create_user("dave", "first-password").await;
        let client = app
            .create_client(
                &[GrantType::Password],
                "",
                AuthMethod::ClientSecretBasic,
                &[],
            )
            .await;
        let grant = |pw: &str| format!("grant_type=password&username=dave&password={pw}");
        let list = cli.run(&["user", "list"]).await.json();
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|u| u["username"] == "dave")
        );
        assert!(!list.to_string().contains("argon2"), "never the hash");

        let out = cli
            .run_with_stdin(
                &[
                    "user",
                    "set-password",
                    "--username",
                    "dave",
                    "--password-stdin",
                ],
                Some("second-password\n"),
            )
            .await;
        assert_eq!(out.json()["password_changed"], true);
        let (s, _) = app.token_request(&client, &grant("first-password")).await;
        assert_eq!(s, 400, "the old password no longer works");
        let (s, _) = app.token_request(&client, &grant("second-password")).await;
        assert_eq!(s, 200, "the new one does");

        let out = cli.run(&["user", "disable", "--username", "dave"]).await;
        assert_eq!(out.json()["enabled"], false);
        let (s, _) = app.token_request(&client, &grant("second-password")).await;
        assert_eq!(s, 400, "a disabled user cannot sign in");
        cli.run(&["user", "enable", "--username", "dave"]).await;
        let (s, _) = app.token_request(&client, &grant("second-password")).await;
        assert_eq!(s, 200);

        let out = cli.run(&["user", "disable", "--username", "nobody"]).await;
        assert_eq!(out.code, Some(1));
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
);

// --- registration-token ----------------------------------------------------------------------

both!(
    registration_token_create_list_and_delete_control_who_may_register,
    &[],
    |app: TestApp| async move {
        let cli = Cli::for_app(&app);
        let register = |token: String| {
            let request = app
                .http
                .post(app.url("/clients/register"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "grant_types": ["client_credentials"] }));
            async move { request.send().await.unwrap().status().as_u16() }
        };
        let created = cli
            .run(&[
                "registration-token",
                "create",
                "--description",
                "partner onboarding",
                "--expires-in",
                "3600",
                "--max-uses",
                "2",
            ])
            .await
            .json();
        let token = created["token"].as_str().unwrap().to_owned();
        let hash = created["token_hash"].as_str().unwrap().to_owned();
        assert!(token.len() >= 32, "{created}");
        assert_ne!(token, hash);
        assert_eq!(created["description"], "partner onboarding");
        assert_eq!(created["max_uses"], 2);
        assert_eq!(created["uses"], 0);
        assert_eq!(
            created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap(),
            3600
        );

        assert_eq!(
            register(token.clone()).await,
            201,
            "the server takes it at once"
        );

        let list = cli.run(&["registration-token", "list"]).await.json();
        assert_eq!(ids(&list, "token_hash"), [hash.as_str()]);
        assert_eq!(list[0]["uses"], 1);
        assert_eq!(list[0]["status"], "active");
        assert!(
            !list.to_string().contains(&token),
            "never the value: {list}"
        );

        let deleted = cli
            .run(&["registration-token", "delete", &hash[..8]])
            .await
            .json();
        assert_eq!(deleted["deleted"], hash.as_str());
        assert_eq!(register(token).await, 401, "a deleted token is refused");
        let list = cli.run(&["registration-token", "list"]).await.json();
        assert_eq!(list, Value::Array(vec![]));
        let line = cli
            .run(&["registration-token", "delete", &hash])
            .await
            .error_line(1)
            .to_owned();
        assert!(line.contains(&hash), "{line}");
    }
);

#[test]
fn registration_token_create_with_zero_uses_or_no_lifetime_is_a_usage_error() {
    let cli = Cli::empty();
    for args in [
        &["registration-token", "create", "--max-uses", "0"][..],
        &["registration-token", "create", "--expires-in", "0"],
        &["registration-token", "create", "--expires-in", "soon"],
    ] {
        let out = cli.run_now(args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:#?}");
        assert!(out.stdout.is_empty(), "{out:#?}");
    }
    assert_eq!(
        cli.run_now(&["registration-token", "list"]).json(),
        Value::Array(vec![]),
        "nothing was created"
    );
}

both!(
    cleanup_deletes_what_has_expired_and_keeps_what_lives,
    &[
        ("OAUTH2_ACCESS_TOKEN_EXPIRATION", "1"),
        ("OAUTH2_REFRESH_TOKEN_EXPIRATION", "1")
    ],
    |app: TestApp| async move {
        use oauth2_core::client::{AuthMethod, GrantType};
        let cli = Cli::for_app(&app);
        app.create_user("erin", "erin-password").await;
        let client = app
            .create_client(
                &[GrantType::Password, GrantType::RefreshToken],
                "",
                AuthMethod::ClientSecretBasic,
                &[],
            )
            .await;
        let (s, tokens) = app
            .token_request(
                &client,
                "grant_type=password&username=erin&password=erin-password",
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            app.revoke(&client, tokens["access_token"].as_str().unwrap())
                .await,
            200
        );
        let browser = oauth2_testkit::browser::Browser::new(&app);
        browser.login("erin", "erin-password", "").await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
        let report = cli.run(&["cleanup"]).await.json();
        assert!(report["refresh_tokens"].as_u64().unwrap() >= 1, "{report}");
        assert!(report["access_tokens"].as_u64().unwrap() >= 1, "{report}");
        assert_eq!(report["sessions"], 0, "a live session stays");
        let again = cli.run(&["cleanup"]).await.json();
        assert_eq!(again["refresh_tokens"], 0, "idempotent: {again}");
        assert_eq!(again["access_tokens"], 0);
        let page = browser.get("/auth/login").await;
        assert!(page.body.contains("signed in as erin"), "still signed in");
    }
);

both!(
    cleanup_works_through_a_backlog_larger_than_one_batch,
    // The server's own job is off: only the command deletes here.
    &[
        ("OAUTH2_CLEANUP_BATCH_SIZE", "2"),
        ("OAUTH2_CLEANUP_INTERVAL", "0")
    ],
    |app: TestApp| async move {
        let store = &app.services.store;
        let now = oauth2_actors::now();
        // Five failures older than the window (900 s by default), in three batches of at most
        // two, and one recent failure that stays.
        for i in 0..5 {
            store
                .record_login_failure("user:erin", now - 2000 - i)
                .await
                .unwrap();
        }
        store.record_login_failure("user:erin", now).await.unwrap();

        let report = Cli::for_app(&app).run(&["cleanup"]).await.json();

        assert_eq!(report["login_failures"], 5, "{report}");
        assert_eq!(
            store.count_login_failures("user:erin", 0).await.unwrap(),
            1,
            "the recent failure stays"
        );
    }
);

both!(
    an_admin_client_made_by_the_cli_is_granted_the_admin_scope_and_the_change_is_an_event,
    &[],
    |app: TestApp| async move {
        let cli = Cli::for_app(&app);
        let created = cli
            .run(&["client", "create", "--name", "ops", "--admin"])
            .await
            .json();
        assert_eq!(
            (&created["admin"], &created["scope"]),
            (&Value::Bool(true), &Value::String("admin".into())),
            "--admin registers the admin scope: {created}"
        );
        let admin = client_of(&created);
        let (status, body) = app.client_credentials(&admin, Some("admin")).await;
        assert_eq!(status, 200, "{body}");
        // The scope alone is not enough: the client must be an admin.
        let plain = cli
            .run(&["client", "create", "--name", "plain", "--scope", "admin"])
            .await
            .json();
        assert_eq!(plain["admin"], false);
        let (status, body) = app
            .client_credentials(&client_of(&plain), Some("admin"))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope"))
        );

        let mut events = app.services.store.list_events(None, 10).await.unwrap();
        // The refused token request is an event too; the CLI's changes are these two.
        events.retain(|e| e.kind == "client.created");
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(
            (
                events[1].kind.as_str(),
                events[1].actor.as_str(),
                events[1].subject.as_str()
            ),
            ("client.created", "cli", admin.id.as_str())
        );
    }
);
