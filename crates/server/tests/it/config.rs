//! Configuration: defaults, file, environment, validation.

use crate::cli::{Cli, Output};
use oauth2_actors::settings::RegistrationPolicy;
use oauth2_core::jose::Algorithm;
use oauth2_server::config::{Config, SETTINGS};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn env(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
    vars.iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

/// Writes `text` to a new file in its own temp dir.
fn config_file(text: &str) -> PathBuf {
    let dir = crate::cli::scratch_dir();
    let path = dir.join("oauth2-server.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const FILE: &str = r#"
[server]
host = "0.0.0.0"
port = 9000

[database]
url = "sqlite:/var/lib/oauth2/file.db"

[jwt]
algorithm = "ES256"

[tokens]
access_token_expiration = 600

[registration]
policy = "open"
"#;

#[test]
fn the_defaults_are_127_0_0_1_port_8080_sqlite_oauth2_db_and_rs256() {
    let c = Config::load_from(None, &BTreeMap::new()).unwrap();
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port, 8080);
    assert_eq!(c.database_url, "sqlite:oauth2.db");
    assert_eq!(c.settings.algorithm, Algorithm::RS256);
    assert_eq!(c.settings.issuer, "http://127.0.0.1:8080");
    assert_eq!(c.settings.audience, "http://127.0.0.1:8080");
    assert_eq!(c.settings.access_token_ttl, 3600);
    assert_eq!(c.settings.registration_policy, RegistrationPolicy::Token);
    assert!(c.settings.jwt_secret.is_none());
}

#[test]
fn a_toml_file_overrides_the_defaults() {
    let c = Config::load_from(Some(&config_file(FILE)), &BTreeMap::new()).unwrap();
    assert_eq!(c.host, "0.0.0.0");
    assert_eq!(c.port, 9000);
    assert_eq!(c.database_url, "sqlite:/var/lib/oauth2/file.db");
    assert_eq!(c.settings.algorithm, Algorithm::ES256);
    assert_eq!(c.settings.access_token_ttl, 600);
    assert_eq!(c.settings.registration_policy, RegistrationPolicy::Open);
    assert_eq!(
        c.settings.issuer, "http://0.0.0.0:9000",
        "derived from the file's address"
    );
    assert_eq!(
        c.settings.refresh_token_ttl, 2_592_000,
        "unset keys keep their defaults"
    );
}

#[test]
fn the_environment_overrides_the_file() {
    let vars = env(&[
        ("OAUTH2_SERVER_PORT", "9100"),
        ("OAUTH2_JWT_ALGORITHM", "EdDSA"),
        ("OAUTH2_REGISTRATION_POLICY", "disabled"),
    ]);
    let c = Config::load_from(Some(&config_file(FILE)), &vars).unwrap();
    assert_eq!(c.port, 9100);
    assert_eq!(c.settings.algorithm, Algorithm::EdDSA);
    assert_eq!(c.settings.registration_policy, RegistrationPolicy::Disabled);
    assert_eq!(
        c.host, "0.0.0.0",
        "what the environment leaves alone comes from the file"
    );
    assert_eq!(c.settings.access_token_ttl, 600);
    assert_eq!(c.settings.issuer, "http://0.0.0.0:9100");
}

#[test]
fn small_lifetimes_such_as_3_seconds_are_kept_exactly() {
    let vars = env(&[
        ("OAUTH2_ACCESS_TOKEN_EXPIRATION", "3"),
        ("OAUTH2_REFRESH_TOKEN_EXPIRATION", "3"),
        ("OAUTH2_AUTHORIZATION_CODE_EXPIRATION", "3"),
    ]);
    let c = Config::load_from(None, &vars).unwrap();
    assert_eq!(c.settings.access_token_ttl, 3);
    assert_eq!(c.settings.refresh_token_ttl, 3);
    assert_eq!(c.settings.authorization_code_ttl, 3);
}

// --- Bad values: one line naming the setting and the value, exit code 2 ---------------------

/// A bad configuration and what its one error line must (and must not) say.
#[derive(Default)]
struct Bad<'a> {
    env: &'a [(&'a str, &'a str)],
    /// Extra arguments before the subcommand (`--config FILE`).
    args: &'a [&'a str],
    /// The line names the setting with one of these.
    setting: &'a [&'a str],
    /// The line shows these.
    shows: &'a [&'a str],
    /// A secret the output must not show.
    hides: Option<&'a str>,
}

/// Checks the rejection by `config check`, by `serve`, and by the bare binary (which serves).
fn assert_rejected(bad: Bad) {
    // Port 0 in case a bad value slipped through: a wrongly started server must not take 8080.
    let mut vars = vec![("OAUTH2_SERVER_PORT", "0")];
    vars.extend_from_slice(bad.env);
    let cli = Cli::with_env(&vars);
    let commands: [&[&str]; 3] = [&["config", "check"], &["serve"], &[]];
    for command in commands {
        let args: Vec<&str> = bad.args.iter().chain(command).copied().collect();
        let out: Output = cli.run_now(&args);
        let line = out.error_line(2);
        assert!(
            bad.setting.iter().any(|s| line.contains(s)),
            "{args:?}: the line names the setting ({:?}): {line}",
            bad.setting
        );
        for shown in bad.shows {
            assert!(
                line.contains(shown),
                "{args:?}: the line shows {shown:?}: {line}"
            );
        }
        if let Some(secret) = bad.hides {
            assert!(
                !out.stderr.contains(secret),
                "{args:?}: the secret leaked: {line}"
            );
        }
    }
}

#[test]
fn a_port_that_is_not_a_number_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_SERVER_PORT", "not-a-port")],
        setting: &["OAUTH2_SERVER_PORT"],
        shows: &["not-a-port"],
        ..Bad::default()
    });
}

#[test]
fn an_unknown_jwt_algorithm_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_JWT_ALGORITHM", "NOPE")],
        setting: &["OAUTH2_JWT_ALGORITHM"],
        shows: &["NOPE"],
        ..Bad::default()
    });
}

#[test]
fn a_negative_access_token_lifetime_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_ACCESS_TOKEN_EXPIRATION", "-5")],
        setting: &["OAUTH2_ACCESS_TOKEN_EXPIRATION"],
        shows: &["-5"],
        ..Bad::default()
    });
}

#[test]
fn a_zero_cleanup_batch_size_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_CLEANUP_BATCH_SIZE", "0")],
        setting: &["OAUTH2_CLEANUP_BATCH_SIZE"],
        shows: &["'0'"],
        ..Bad::default()
    });
}

#[test]
fn an_unknown_otlp_protocol_is_rejected() {
    assert_rejected(Bad {
        env: &[
            ("OAUTH2_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OAUTH2_OTLP_PROTOCOL", "http/json"),
        ],
        setting: &["OAUTH2_OTLP_PROTOCOL"],
        shows: &["http/json", "grpc"],
        ..Bad::default()
    });
}

#[test]
fn a_zero_refresh_token_lifetime_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_REFRESH_TOKEN_EXPIRATION", "0")],
        setting: &["OAUTH2_REFRESH_TOKEN_EXPIRATION"],
        // Quoted: a bare "0" would match any number in the explanation.
        shows: &["'0'"],
        ..Bad::default()
    });
}

#[test]
fn hs256_without_a_secret_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_JWT_ALGORITHM", "HS256")],
        setting: &["OAUTH2_JWT_SECRET"],
        shows: &["HS256"],
        ..Bad::default()
    });
}

#[test]
fn hs256_with_a_short_secret_is_rejected_without_showing_the_secret() {
    let secret = "short-hs256-secret-xyz";
    assert_rejected(Bad {
        env: &[
            ("OAUTH2_JWT_ALGORITHM", "HS256"),
            ("OAUTH2_JWT_SECRET", secret),
        ],
        setting: &["OAUTH2_JWT_SECRET"],
        shows: &["32"],
        hides: Some(secret),
        ..Bad::default()
    });
}

#[test]
fn an_unknown_registration_policy_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_REGISTRATION_POLICY", "bogus")],
        setting: &["OAUTH2_REGISTRATION_POLICY"],
        shows: &["bogus"],
        ..Bad::default()
    });
}

#[test]
fn an_unsupported_database_url_is_rejected_without_showing_its_password() {
    assert_rejected(Bad {
        env: &[("OAUTH2_DATABASE_URL", "mysql://u:pw@h/db")],
        setting: &["OAUTH2_DATABASE_URL", "database.url"],
        shows: &["mysql://u:", "@h/db"],
        hides: Some(":pw@"),
        ..Bad::default()
    });
    // A password holding a `/` (unescaped, as people do write them) must not leak either.
    assert_rejected(Bad {
        env: &[("OAUTH2_DATABASE_URL", "mysql://u:hunter2/x@h/db")],
        setting: &["OAUTH2_DATABASE_URL", "database.url"],
        shows: &["mysql://u:"],
        hides: Some("hunter2"),
        ..Bad::default()
    });
}

#[test]
fn config_check_never_shows_the_database_password() {
    let url = "postgres://app:s3cr3t/pw@db.example.com/oauth2";
    let out = Cli::with_env(&[("OAUTH2_DATABASE_URL", url)]).run_now(&["config", "check"]);
    let v = out.json();
    assert_eq!(v["ok"], true);
    let shown = v["database"].as_str().unwrap();
    assert!(shown.starts_with("postgres://app:"), "{shown}");
    assert!(!out.stdout.contains("s3cr3t"), "{}", out.stdout);
}

#[test]
fn an_issuer_with_a_fragment_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_ISSUER", "https://auth.example.com/#frag")],
        setting: &["OAUTH2_ISSUER"],
        shows: &["https://auth.example.com/#frag"],
        ..Bad::default()
    });
}

#[test]
fn an_unknown_key_in_the_file_is_rejected() {
    let file = config_file("[server]\nport = 8080\nbogus_key = 1\n");
    let path = file.to_str().unwrap();
    assert_rejected(Bad {
        args: &["--config", path],
        setting: &["server.bogus_key"],
        shows: &[path],
        ..Bad::default()
    });
}

#[test]
fn a_bad_value_in_the_file_names_the_key_and_the_file() {
    let file = config_file("[tokens]\naccess_token_expiration = \"soon\"\n");
    let path = file.to_str().unwrap();
    assert_rejected(Bad {
        args: &["--config", path],
        setting: &["tokens.access_token_expiration"],
        shows: &["soon", path],
        ..Bad::default()
    });
}

#[test]
fn a_file_that_is_not_toml_is_rejected() {
    let file = config_file("[server\nport = = 8080\n");
    let path = file.to_str().unwrap();
    assert_rejected(Bad {
        args: &["--config", path],
        setting: &[path],
        shows: &["TOML"],
        ..Bad::default()
    });
}

#[test]
fn a_missing_config_file_given_with_dash_dash_config_is_rejected() {
    let path = crate::cli::scratch_dir().join("missing.toml");
    let path = path.to_str().unwrap();
    assert_rejected(Bad {
        args: &["--config", path],
        setting: &[path],
        ..Bad::default()
    });
}

#[test]
fn a_missing_config_file_given_in_oauth2_config_is_rejected() {
    let path = crate::cli::scratch_dir().join("missing.toml");
    let path = path.to_str().unwrap();
    assert_rejected(Bad {
        env: &[("OAUTH2_CONFIG", path)],
        setting: &[path],
        ..Bad::default()
    });
}

// --- config example --------------------------------------------------------------------------

#[test]
fn config_example_is_valid_toml_listing_every_setting_that_config_check_accepts() {
    let cli = Cli::empty();
    let out = cli.run_now(&["config", "example"]);
    assert_eq!(out.code, Some(0), "{out:#?}");
    let table: toml::Table = out
        .stdout
        .parse()
        .unwrap_or_else(|e| panic!("{e}\n{}", out.stdout));
    for s in SETTINGS {
        assert!(out.stdout.contains(s.env), "{} is documented", s.env);
        let (section, name) = s.key.split_once('.').unwrap_or(("", s.key));
        let value = if section.is_empty() {
            table.get(name)
        } else {
            table.get(section).and_then(|t| t.get(name))
        };
        match (s.default, value) {
            (Some(d), Some(v)) => {
                let shown = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => panic!("{}: unexpected {other:?}", s.key),
                };
                assert_eq!(shown, d, "{} shows its default", s.key);
            }
            (None, None) => {}
            (d, v) => panic!("{}: default {d:?} but the example sets {v:?}", s.key),
        }
    }

    let file = cli.dir.join("example.toml");
    std::fs::write(&file, &out.stdout).unwrap();
    let v = cli
        .run_now(&["config", "check", "--config", file.to_str().unwrap()])
        .json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["issuer"], "http://127.0.0.1:8080");
}

#[test]
fn an_event_filter_that_matches_no_type_is_rejected() {
    assert_rejected(Bad {
        env: &[("OAUTH2_EVENTS_AUDIT", "*,-token.isued")],
        setting: &["OAUTH2_EVENTS_AUDIT"],
        shows: &["token.isued"],
        ..Bad::default()
    });
}

#[test]
fn a_webhook_without_a_long_enough_secret_is_rejected_without_showing_it() {
    assert_rejected(Bad {
        env: &[
            ("OAUTH2_WEBHOOK_URL", "https://hooks.example/oauth2"),
            ("OAUTH2_WEBHOOK_SECRET", "short-secret"),
        ],
        setting: &["OAUTH2_WEBHOOK_SECRET"],
        hides: Some("short-secret"),
        ..Bad::default()
    });
    assert_rejected(Bad {
        env: &[("OAUTH2_WEBHOOK_URL", "https://hooks.example/oauth2")],
        setting: &["OAUTH2_WEBHOOK_SECRET"],
        ..Bad::default()
    });
}

#[test]
fn a_webhook_url_that_is_not_http_is_rejected() {
    assert_rejected(Bad {
        env: &[
            ("OAUTH2_WEBHOOK_URL", "ftp://hooks.example/x"),
            ("OAUTH2_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef"),
        ],
        setting: &["OAUTH2_WEBHOOK_URL"],
        shows: &["ftp://hooks.example/x"],
        ..Bad::default()
    });
}

#[test]
fn event_settings_are_read_from_the_environment() {
    let vars = env(&[
        ("OAUTH2_EVENTS", "-token.introspected"),
        ("OAUTH2_EVENTS_AUDIT", "login.*"),
        ("OAUTH2_EVENTS_RING_SIZE", "5"),
        ("OAUTH2_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        (
            "OAUTH2_WEBHOOK_SECRET",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
        ("OAUTH2_WEBHOOK_MAX_ATTEMPTS", "3"),
    ]);
    let c = Config::load_from(None, &vars).unwrap();
    let e = &c.settings.events;
    use oauth2_core::events::EventKind;
    assert!(!e.events.allows(EventKind::TokenIntrospected));
    assert!(e.events.allows(EventKind::TokenIssued));
    assert!(e.audit.allows(EventKind::LoginFailed));
    assert!(!e.audit.allows(EventKind::ClientCreated));
    assert_eq!(e.ring_size, 5);
    let hook = e.webhook.as_ref().unwrap();
    assert_eq!(hook.max_attempts, 3);
    assert_eq!(hook.url, "http://127.0.0.1:9/hook");
    // Without OAUTH2_REDIS_URL there is no stream.
    assert!(e.redis.is_none());
}
