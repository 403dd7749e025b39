//! Configuration: defaults, then a TOML file, then `OAUTH2_*` environment variables, then
//! validation into [`Config`]. Every setting is declared once in [`SETTINGS`], which drives the
//! loader, the validation messages and `config example`, so they cannot drift apart.

use oauth2_actors::events::{EventSettings, RedisSettings, WebhookSettings};
use oauth2_actors::settings::{RegistrationPolicy, Secret, Settings};
use oauth2_core::client::GrantType;
use oauth2_core::events::EventFilter;
use oauth2_core::jose::Algorithm;
use oauth2_core::password::PasswordParams;
use std::collections::BTreeMap;
use std::path::Path;

/// One configuration setting.
pub struct Setting {
    /// Dotted key in the TOML file (`server.port` is `port` in `[server]`).
    pub key: &'static str,
    pub env: &'static str,
    /// Default value; `None` means unset.
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

pub const SETTINGS: &[Setting] = &[
    // Top-level keys first: in TOML they must precede the first [section].
    Setting {
        key: "issuer",
        env: "OAUTH2_ISSUER",
        default: None,
        doc: "Public base URL: `iss` of every token and the discovery `issuer`; default http://{host}:{port}.",
    },
    Setting {
        key: "server.host",
        env: "OAUTH2_SERVER_HOST",
        default: Some("127.0.0.1"),
        doc: "Address to listen on.",
    },
    Setting {
        key: "server.port",
        env: "OAUTH2_SERVER_PORT",
        default: Some("8080"),
        doc: "Port to listen on (0 picks a free port).",
    },
    Setting {
        key: "server.workers",
        env: "OAUTH2_SERVER_WORKERS",
        default: None,
        doc: "HTTP worker threads; default: one per CPU core.",
    },
    Setting {
        key: "server.trusted_proxies",
        env: "OAUTH2_TRUSTED_PROXIES",
        default: None,
        doc: "Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client address (for sign-in limits); by default the TCP peer is the client.",
    },
    Setting {
        key: "database.url",
        env: "OAUTH2_DATABASE_URL",
        default: Some("sqlite:oauth2.db"),
        doc: "sqlite:PATH (created and migrated on start) or postgres://user@host/db.",
    },
    Setting {
        key: "database.max_connections",
        env: "OAUTH2_DATABASE_MAX_CONNECTIONS",
        default: Some("10"),
        doc: "Connection pool size.",
    },
    Setting {
        key: "redis.url",
        env: "OAUTH2_REDIS_URL",
        default: None,
        doc: "Optional redis:// or rediss:// URL: the event stream sink (see events.redis).",
    },
    Setting {
        key: "jwt.algorithm",
        env: "OAUTH2_JWT_ALGORITHM",
        default: Some("RS256"),
        doc: "Token signing algorithm: RS256, ES256, EdDSA or HS256.",
    },
    Setting {
        key: "jwt.secret",
        env: "OAUTH2_JWT_SECRET",
        default: None,
        doc: "Shared secret for HS256 (at least 32 bytes); HS256 only.",
    },
    Setting {
        key: "jwt.audience",
        env: "OAUTH2_JWT_AUDIENCE",
        default: None,
        doc: "`aud` of access tokens; default: the issuer.",
    },
    Setting {
        key: "jwt.key_activation_delay",
        env: "OAUTH2_KEY_ACTIVATION_DELAY",
        default: Some("3600"),
        doc: "Seconds between publishing a rotated key and signing with it.",
    },
    Setting {
        key: "tokens.access_token_expiration",
        env: "OAUTH2_ACCESS_TOKEN_EXPIRATION",
        default: Some("3600"),
        doc: "Access token lifetime in seconds.",
    },
    Setting {
        key: "tokens.refresh_token_expiration",
        env: "OAUTH2_REFRESH_TOKEN_EXPIRATION",
        default: Some("2592000"),
        doc: "Refresh token lifetime in seconds.",
    },
    Setting {
        key: "tokens.authorization_code_expiration",
        env: "OAUTH2_AUTHORIZATION_CODE_EXPIRATION",
        default: Some("60"),
        doc: "Authorization code lifetime in seconds.",
    },
    Setting {
        key: "tokens.allow_plain_pkce",
        env: "OAUTH2_ALLOW_PLAIN_PKCE",
        default: Some("false"),
        doc: "Accept PKCE code_challenge_method=plain (S256 only by default, RFC 9700).",
    },
    Setting {
        key: "session.idle_timeout",
        env: "OAUTH2_SESSION_IDLE_TIMEOUT",
        default: Some("3600"),
        doc: "A browser session ends after this many seconds without use.",
    },
    Setting {
        key: "session.max_lifetime",
        env: "OAUTH2_SESSION_MAX_LIFETIME",
        default: Some("43200"),
        doc: "A browser session ends this many seconds after sign-in in any case.",
    },
    Setting {
        key: "login.max_failures_per_user",
        env: "OAUTH2_LOGIN_MAX_FAILURES_PER_USER",
        default: Some("10"),
        doc: "Failed sign-ins for one username within the window before it is locked for the rest of the window.",
    },
    Setting {
        key: "login.max_failures_per_address",
        env: "OAUTH2_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default: Some("50"),
        doc: "Failed sign-ins from one address within the window before it is locked for the rest of the window.",
    },
    Setting {
        key: "login.failure_window",
        env: "OAUTH2_LOGIN_FAILURE_WINDOW",
        default: Some("900"),
        doc: "The brute-force window, in seconds.",
    },
    Setting {
        key: "clients.cache_ttl",
        env: "OAUTH2_CLIENT_CACHE_TTL",
        default: Some("5"),
        doc: "Seconds a client read from the database is served from memory (0 disables the cache).",
    },
    Setting {
        key: "registration.policy",
        env: "OAUTH2_REGISTRATION_POLICY",
        default: Some("token"),
        doc: "Dynamic client registration (RFC 7591): token, open or disabled (the endpoint is not served yet).",
    },
    Setting {
        key: "password.argon2_memory_kib",
        env: "OAUTH2_ARGON2_MEMORY_KIB",
        default: Some("19456"),
        doc: "Argon2id memory cost for user passwords, KiB.",
    },
    Setting {
        key: "password.argon2_iterations",
        env: "OAUTH2_ARGON2_ITERATIONS",
        default: Some("2"),
        doc: "Argon2id passes.",
    },
    Setting {
        key: "password.argon2_parallelism",
        env: "OAUTH2_ARGON2_PARALLELISM",
        default: Some("1"),
        doc: "Argon2id lanes.",
    },
    Setting {
        key: "events.types",
        env: "OAUTH2_EVENTS",
        default: Some("*"),
        doc: "Event types produced at all; each sink picks among them. Comma-separated: a type (`login.failed`), an area (`token.*`) or `*`; `-pattern` leaves it out; `none` for nothing. Types: see docs/operations.md.",
    },
    Setting {
        key: "events.log",
        env: "OAUTH2_EVENTS_LOG",
        default: Some(oauth2_actors::events::DEFAULT_SINK_FILTER),
        doc: "Event types written to the log (target `oauth2::event`, level info); same syntax as OAUTH2_EVENTS.",
    },
    Setting {
        key: "events.ring",
        env: "OAUTH2_EVENTS_RING",
        default: Some(oauth2_actors::events::DEFAULT_SINK_FILTER),
        doc: "Event types kept in this instance's memory ring (admin API /admin/api/events/recent, dashboard).",
    },
    Setting {
        key: "events.ring_size",
        env: "OAUTH2_EVENTS_RING_SIZE",
        default: Some("1000"),
        doc: "Events the memory ring holds (0 to 100000); the oldest make room.",
    },
    Setting {
        key: "events.audit",
        env: "OAUTH2_EVENTS_AUDIT",
        default: Some(oauth2_actors::events::DEFAULT_SINK_FILTER),
        doc: "Event types written to the database audit table (admin API /admin/api/events).",
    },
    Setting {
        key: "events.retention_days",
        env: "OAUTH2_EVENTS_RETENTION_DAYS",
        default: Some("90"),
        doc: "Days the audit table and given-up webhook deliveries are kept (0 keeps them forever); deleted by the cleanup job.",
    },
    Setting {
        key: "events.queue_size",
        env: "OAUTH2_EVENTS_QUEUE_SIZE",
        default: Some("65536"),
        doc: "Events waiting for the sinks in memory; past it new events are dropped and counted (oauth2_events_dropped_total).",
    },
    Setting {
        key: "events.redis",
        env: "OAUTH2_EVENTS_REDIS",
        default: Some(oauth2_actors::events::DEFAULT_SINK_FILTER),
        doc: "Event types added to the Redis stream when OAUTH2_REDIS_URL is set (`none`: no stream).",
    },
    Setting {
        key: "events.redis_stream",
        env: "OAUTH2_EVENTS_REDIS_STREAM",
        default: Some("oauth2:events"),
        doc: "Redis stream key; entries have the fields `type` and `event` (the event as JSON).",
    },
    Setting {
        key: "events.redis_max_len",
        env: "OAUTH2_EVENTS_REDIS_MAX_LEN",
        default: Some("100000"),
        doc: "Approximate length the stream is trimmed to (XADD MAXLEN ~).",
    },
    Setting {
        key: "webhook.url",
        env: "OAUTH2_WEBHOOK_URL",
        default: None,
        doc: "http(s) URL that receives events as signed JSON POSTs (Standard Webhooks headers), at least once, through an outbox in the database; unset: no webhook.",
    },
    Setting {
        key: "webhook.secret",
        env: "OAUTH2_WEBHOOK_SECRET",
        default: None,
        doc: "Signing key of the webhook (required with a URL): `whsec_` + base64 (Standard Webhooks), or any string of at least 32 characters.",
    },
    Setting {
        key: "webhook.events",
        env: "OAUTH2_WEBHOOK_EVENTS",
        default: Some(oauth2_actors::events::DEFAULT_WEBHOOK_FILTER),
        doc: "Event types sent to the webhook; same syntax as OAUTH2_EVENTS.",
    },
    Setting {
        key: "webhook.timeout",
        env: "OAUTH2_WEBHOOK_TIMEOUT",
        default: Some("10"),
        doc: "Seconds one delivery may take (1 to 300); longer counts as a failure.",
    },
    Setting {
        key: "webhook.max_attempts",
        env: "OAUTH2_WEBHOOK_MAX_ATTEMPTS",
        default: Some("20"),
        doc: "Attempts before a delivery is given up on (1 to 100); it stays in the outbox, marked failed, until retention.",
    },
    Setting {
        key: "webhook.backoff",
        env: "OAUTH2_WEBHOOK_BACKOFF",
        default: Some("5"),
        doc: "Seconds before the first retry (1 to 3600); doubles with each failure, at most an hour, with up to 20% jitter.",
    },
    Setting {
        key: "cleanup.interval",
        env: "OAUTH2_CLEANUP_INTERVAL",
        default: Some("300"),
        doc: "Seconds between deletions of expired codes, tokens and sessions (0 turns the job off; `oauth2-server cleanup` runs it once).",
    },
    Setting {
        key: "cleanup.batch_size",
        env: "OAUTH2_CLEANUP_BATCH_SIZE",
        default: Some("1000"),
        doc: "Housekeeping deletes at most this many rows per statement, repeating until none are left, so a large backlog never holds one long lock.",
    },
    Setting {
        key: "metrics.addr",
        env: "OAUTH2_METRICS_ADDR",
        default: None,
        doc: "Serve /metrics on this address (host:port) instead of the main port.",
    },
    Setting {
        key: "log.level",
        env: "OAUTH2_LOG_LEVEL",
        default: Some("info"),
        doc: "Log filter: error, warn, info, debug, trace, or a tracing filter such as info,sqlx=warn.",
    },
    Setting {
        key: "log.format",
        env: "OAUTH2_LOG_FORMAT",
        default: Some("text"),
        doc: "Log format: text or json.",
    },
    Setting {
        key: "otlp.endpoint",
        env: "OAUTH2_OTLP_ENDPOINT",
        default: None,
        doc: "OpenTelemetry collector to export spans to, e.g. http://127.0.0.1:4318 for OTLP/HTTP (`/v1/traces` is added) or http://127.0.0.1:4317 for gRPC; unset: no export.",
    },
    Setting {
        key: "otlp.protocol",
        env: "OAUTH2_OTLP_PROTOCOL",
        default: Some("http/protobuf"),
        doc: "OTLP transport, as OTEL_EXPORTER_OTLP_PROTOCOL names it: http/protobuf or grpc.",
    },
    Setting {
        key: "otlp.service_name",
        env: "OAUTH2_SERVICE_NAME",
        default: Some("oauth2-server"),
        doc: "`service.name` of the exported spans.",
    },
];

/// A configuration error: one line that names the setting and the value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where a raw value came from, to name it in an error.
#[derive(Debug, Clone)]
enum Source {
    Default,
    File(String),
    Env,
}

#[derive(Debug, Clone)]
struct Raw {
    value: String,
    source: Source,
}

/// How spans travel to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`).
    HttpProtobuf,
    /// OTLP/gRPC (`grpc`).
    Grpc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub workers: Option<usize>,
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: Option<String>,
    pub log_level: String,
    pub log_format: LogFormat,
    /// OTLP collector base URL for span export; `None`: no OpenTelemetry at all.
    pub otlp_endpoint: Option<String>,
    pub otlp_protocol: OtlpProtocol,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// Where `/metrics` is served: `None` on the main port.
    pub metrics_addr: Option<String>,
    /// Seconds between housekeeping runs; 0: never.
    pub cleanup_interval: u64,
    /// Whether the issuer was derived from host and port (then a port picked at bind time updates it).
    pub issuer_from_address: bool,
    pub settings: Settings,
}

impl Config {
    /// Defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Config::load_from(file, &env)
    }

    pub fn load_from(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut raw: BTreeMap<&'static str, Raw> = BTreeMap::new();
        for s in SETTINGS {
            if let Some(d) = s.default {
                raw.insert(
                    s.key,
                    Raw {
                        value: d.to_owned(),
                        source: Source::Default,
                    },
                );
            }
        }
        if let Some(path) = file {
            read_file(path, &mut raw)?;
        }
        for s in SETTINGS {
            if let Some(v) = env.get(s.env) {
                raw.insert(
                    s.key,
                    Raw {
                        value: v.clone(),
                        source: Source::Env,
                    },
                );
            }
        }
        for name in env.keys() {
            if name.starts_with("OAUTH2_")
                && !SETTINGS.iter().any(|s| s.env == name)
                && !matches!(
                    name.as_str(),
                    "OAUTH2_CONFIG" | "OAUTH2_TEST_POSTGRES_URL" | "OAUTH2_TEST_POSTGRES"
                )
            {
                eprintln!("warning: ignoring unknown environment variable {name}");
            }
        }
        validate(&raw)
    }
}

fn read_file(path: &Path, raw: &mut BTreeMap<&'static str, Raw>) -> Result<(), ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {shown}: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError(format!(
            "config file {shown} is not valid TOML: {}",
            e.message().replace('\n', " ")
        ))
    })?;
    let mut flat = Vec::new();
    flatten("", &table, &mut flat);
    for (key, value) in flat {
        let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
            return Err(ConfigError(format!("unknown setting '{key}' in {shown}")));
        };
        let value = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(ConfigError(format!(
                    "invalid value for {key} in {shown}: expected a string or a number, found {}",
                    other.type_str()
                )));
            }
        };
        raw.insert(
            setting.key,
            Raw {
                value,
                source: Source::File(shown.clone()),
            },
        );
    }
    Ok(())
}

fn flatten<'a>(prefix: &str, table: &'a toml::Table, out: &mut Vec<(String, &'a toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            other => out.push((key, other)),
        }
    }
}

/// Turns raw strings into typed values; the first bad one is the error.
struct Validator<'a> {
    raw: &'a BTreeMap<&'static str, Raw>,
}

impl Validator<'_> {
    fn get(&self, key: &str) -> Option<&Raw> {
        self.raw.get(key)
    }

    fn fail(&self, key: &str, expected: &str) -> ConfigError {
        let setting = SETTINGS.iter().find(|s| s.key == key);
        let env = setting.map_or("", |s| s.env);
        match self.get(key) {
            Some(r) => {
                let shown = match key {
                    "jwt.secret" | "webhook.secret" => "<redacted>".to_owned(),
                    "redis.url" | "webhook.url" => redact_url(&r.value),
                    _ => r.value.clone(),
                };
                let place = match &r.source {
                    Source::Env => env.to_owned(),
                    Source::File(f) => format!("{key} in {f}"),
                    Source::Default => format!("{key} (default)"),
                };
                ConfigError(format!("invalid value for {place}: '{shown}': {expected}"))
            }
            None => ConfigError(format!("missing setting {env} ({key}): {expected}")),
        }
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(|r| r.value.clone())
    }

    fn int(&self, key: &str, min: i64, max: i64, expected: &str) -> Result<i64, ConfigError> {
        let v = self.get(key).ok_or_else(|| self.fail(key, expected))?;
        match v.value.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.fail(key, expected)),
        }
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self
            .get(key)
            .map(|r| r.value.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("true") | Some("1") | Some("yes") | Some("on") => Ok(true),
            Some("false") | Some("0") | Some("no") | Some("off") | None => Ok(false),
            Some(_) => Err(self.fail(key, "expected true or false")),
        }
    }

    fn seconds(&self, key: &str) -> Result<i64, ConfigError> {
        self.int(
            key,
            1,
            10 * 365 * 24 * 3600,
            "expected a whole number of seconds from 1 to 315360000",
        )
    }
}

fn validate(raw: &BTreeMap<&'static str, Raw>) -> Result<Config, ConfigError> {
    let v = Validator { raw };
    let host = v.string("server.host").unwrap_or_default();
    if host.trim().is_empty() || host.contains(char::is_whitespace) {
        return Err(v.fail("server.host", "expected a host name or IP address"));
    }
    let port = v.int(
        "server.port",
        0,
        65535,
        "expected a port number from 0 to 65535",
    )? as u16;
    let workers = match v.get("server.workers") {
        Some(_) => Some(v.int(
            "server.workers",
            1,
            1024,
            "expected a number of threads from 1 to 1024",
        )? as usize),
        None => None,
    };
    let issuer_from_address = v.get("issuer").is_none();
    let issuer = match v.string("issuer") {
        Some(i) => {
            let ok = (i.starts_with("https://") || i.starts_with("http://"))
                && i.split("://").nth(1).is_some_and(|rest| !rest.is_empty())
                && !i.contains(['?', '#'])
                && !i.contains(char::is_whitespace);
            if !ok {
                return Err(v.fail(
                    "issuer",
                    "expected an absolute http(s) URL without query or fragment",
                ));
            }
            i
        }
        None => format!("http://{}:{port}", bracket_ipv6(&host)),
    };
    let database_url = v.string("database.url").unwrap_or_default();
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(ConfigError(format!(
            "invalid value for database.url: '{}': expected sqlite:PATH or postgres://...",
            redact_url(&database_url)
        )));
    }
    let database_max_connections = v.int(
        "database.max_connections",
        1,
        1000,
        "expected a number from 1 to 1000",
    )? as u32;
    let redis_url = v.string("redis.url");
    if let Some(r) = &redis_url
        && !(r.starts_with("redis://") || r.starts_with("rediss://"))
    {
        return Err(ConfigError(format!(
            "invalid value for redis.url: '{}': expected redis://... or rediss://...",
            redact_url(r)
        )));
    }
    let algorithm: Algorithm = v
        .string("jwt.algorithm")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| v.fail("jwt.algorithm", "expected RS256, ES256, EdDSA or HS256"))?;
    let jwt_secret = v.string("jwt.secret").map(Secret);
    match (&algorithm, &jwt_secret) {
        (Algorithm::HS256, None) => {
            return Err(ConfigError(
                "OAUTH2_JWT_SECRET is required when OAUTH2_JWT_ALGORITHM is HS256".into(),
            ));
        }
        (Algorithm::HS256, Some(s)) if s.0.len() < 32 => {
            return Err(v.fail("jwt.secret", "HS256 needs a secret of at least 32 bytes"));
        }
        _ => {}
    }
    let audience = v.string("jwt.audience").unwrap_or_else(|| issuer.clone());
    if audience.trim().is_empty() {
        return Err(v.fail("jwt.audience", "expected a non-empty audience"));
    }
    let key_activation_delay = v.int(
        "jwt.key_activation_delay",
        0,
        365 * 24 * 3600,
        "expected a whole number of seconds from 0 to 31536000",
    )?;
    let access_token_ttl = v.seconds("tokens.access_token_expiration")?;
    let refresh_token_ttl = v.seconds("tokens.refresh_token_expiration")?;
    let authorization_code_ttl = v.seconds("tokens.authorization_code_expiration")?;
    let allow_plain_pkce = v.boolean("tokens.allow_plain_pkce")?;
    let session_idle_timeout = v.seconds("session.idle_timeout")?;
    let session_max_lifetime = v.seconds("session.max_lifetime")?;
    let login_max_failures_per_user = v.int(
        "login.max_failures_per_user",
        1,
        1_000_000,
        "expected a number from 1 to 1000000",
    )? as u64;
    let login_max_failures_per_address = v.int(
        "login.max_failures_per_address",
        1,
        1_000_000,
        "expected a number from 1 to 1000000",
    )? as u64;
    let login_failure_window = v.seconds("login.failure_window")?;
    let client_cache_ttl = v.int(
        "clients.cache_ttl",
        0,
        3600,
        "expected seconds from 0 to 3600",
    )?;
    let registration_policy = v
        .string("registration.policy")
        .and_then(|p| RegistrationPolicy::parse(&p))
        .ok_or_else(|| v.fail("registration.policy", "expected token, open or disabled"))?;
    let password_params = PasswordParams {
        memory_kib: v.int(
            "password.argon2_memory_kib",
            8,
            4 * 1024 * 1024,
            "expected KiB from 8 to 4194304",
        )? as u32,
        iterations: v.int("password.argon2_iterations", 1, 100, "expected 1 to 100")? as u32,
        parallelism: v.int("password.argon2_parallelism", 1, 64, "expected 1 to 64")? as u32,
    };
    if password_params.memory_kib < 8 * password_params.parallelism {
        return Err(v.fail(
            "password.argon2_memory_kib",
            "must be at least 8 KiB per lane",
        ));
    }
    let trusted_proxies = match v.string("server.trusted_proxies") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(oauth2_actors::settings::IpRange::parse)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                v.fail(
                    "server.trusted_proxies",
                    "expected comma-separated IP addresses or CIDRs",
                )
            })?,
    };
    let cleanup_interval = v.int(
        "cleanup.interval",
        0,
        7 * 24 * 3600,
        "expected seconds from 0 (off) to 604800",
    )? as u64;
    let cleanup_batch_size = v.int(
        "cleanup.batch_size",
        1,
        1_000_000,
        "expected a number of rows from 1 to 1000000",
    )? as u32;
    let metrics_addr = v.string("metrics.addr");
    if let Some(a) = &metrics_addr
        && a.parse::<std::net::SocketAddr>().is_err()
        && !a
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
    {
        return Err(v.fail("metrics.addr", "expected host:port"));
    }
    let log_level = v.string("log.level").unwrap_or_else(|| "info".into());
    if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
        return Err(v.fail(
            "log.level",
            "expected a level (error, warn, info, debug, trace) or a tracing filter",
        ));
    }
    let log_format = match v.string("log.format").as_deref() {
        Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        _ => return Err(v.fail("log.format", "expected text or json")),
    };
    // Empty is unset, so a deployment can turn export off with `OAUTH2_OTLP_ENDPOINT=`.
    let otlp_endpoint = v.string("otlp.endpoint").filter(|e| !e.trim().is_empty());
    if let Some(e) = &otlp_endpoint
        && !e
            .strip_prefix("http://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
    {
        return Err(v.fail(
            "otlp.endpoint",
            "expected an http:// URL such as http://127.0.0.1:4318 (4317 for grpc; the exporter has no TLS: use a local collector)",
        ));
    }
    let otlp_protocol = match v.string("otlp.protocol").as_deref().map(str::trim) {
        Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
        Some("grpc") => OtlpProtocol::Grpc,
        _ => return Err(v.fail("otlp.protocol", "expected http/protobuf or grpc")),
    };
    let service_name = v
        .string("otlp.service_name")
        .unwrap_or_else(|| "oauth2-server".into());
    if service_name.trim().is_empty() {
        return Err(v.fail("otlp.service_name", "expected a non-empty name"));
    }
    let events = events_settings(&v, redis_url.as_deref())?;
    let settings = Settings {
        events,
        issuer,
        audience,
        algorithm,
        jwt_secret,
        access_token_ttl,
        refresh_token_ttl,
        authorization_code_ttl,
        key_activation_delay,
        client_cache_ttl_secs: client_cache_ttl as u64,
        registration_policy,
        password_params,
        grant_types: GrantType::ALL.to_vec(),
        allow_plain_pkce,
        session_idle_timeout,
        session_max_lifetime,
        login_max_failures_per_user,
        login_max_failures_per_address,
        login_failure_window,
        trusted_proxies,
        cleanup_batch_size,
    };
    Ok(Config {
        host,
        port,
        workers,
        database_url,
        database_max_connections,
        redis_url,
        log_level,
        log_format,
        otlp_endpoint,
        otlp_protocol,
        service_name,
        metrics_addr,
        cleanup_interval,
        issuer_from_address,
        settings,
    })
}

fn events_settings(v: &Validator, redis_url: Option<&str>) -> Result<EventSettings, ConfigError> {
    let filter = |key: &str| -> Result<EventFilter, ConfigError> {
        EventFilter::parse(&v.string(key).unwrap_or_default()).map_err(|why| {
            v.fail(
                key,
                &format!(
                    "{why}; expected comma-separated event types, `area.*`, `*`, `-type` or `none`"
                ),
            )
        })
    };
    let webhook = match v.string("webhook.url").filter(|u| !u.trim().is_empty()) {
        None => None,
        Some(url) => {
            let parsed = reqwest::Url::parse(&url).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if parsed.is_none() {
                return Err(v.fail(
                    "webhook.url",
                    "expected an absolute http:// or https:// URL",
                ));
            }
            let secret = v.string("webhook.secret").unwrap_or_default();
            let key = oauth2_core::events::webhook_key(&secret);
            let long_enough = if secret.starts_with("whsec_") {
                key.len() >= 16 && key != secret.as_bytes()
            } else {
                secret.chars().count() >= 32
            };
            if !long_enough {
                return Err(v.fail(
                    "webhook.secret",
                    "expected whsec_ followed by base64 of at least 16 bytes, or at least 32 characters (required with webhook.url)",
                ));
            }
            Some(WebhookSettings {
                url,
                secret: Secret(secret),
                events: filter("webhook.events")?,
                timeout: std::time::Duration::from_secs(v.int(
                    "webhook.timeout",
                    1,
                    300,
                    "expected seconds from 1 to 300",
                )? as u64),
                max_attempts: v.int("webhook.max_attempts", 1, 100, "expected 1 to 100")? as u32,
                backoff_secs: v.int(
                    "webhook.backoff",
                    1,
                    3600,
                    "expected seconds from 1 to 3600",
                )? as u64,
            })
        }
    };
    let redis = match redis_url {
        None => None,
        Some(url) => {
            let stream = v.string("events.redis_stream").unwrap_or_default();
            if stream.trim().is_empty() || stream.len() > 256 {
                return Err(v.fail(
                    "events.redis_stream",
                    "expected a key name of 1 to 256 characters",
                ));
            }
            Some(RedisSettings {
                url: Secret(url.to_owned()),
                stream,
                max_len: v.int(
                    "events.redis_max_len",
                    1,
                    1_000_000_000,
                    "expected 1 to 1000000000",
                )? as u64,
                events: filter("events.redis")?,
            })
            .filter(|r| !r.events.is_empty())
        }
    };
    Ok(EventSettings {
        events: filter("events.types")?,
        log: filter("events.log")?,
        ring: filter("events.ring")?,
        ring_size: v.int("events.ring_size", 0, 100_000, "expected 0 to 100000")? as usize,
        audit: filter("events.audit")?,
        retention_secs: v.int(
            "events.retention_days",
            0,
            36_500,
            "expected days from 0 (keep) to 36500",
        )? * 24
            * 3600,
        webhook,
        redis,
        queue_capacity: v.int("events.queue_size", 1, 10_000_000, "expected 1 to 10000000")?
            as usize,
    })
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// A database URL with any password replaced, safe for errors and logs.
///
/// The store's redaction, so there is one: splitting the authority at the first `/` (as this
/// once did) showed a password holding an unescaped `/` in full.
pub fn redact_url(url: &str) -> String {
    oauth2_store::redact_url(url)
}

/// A commented example file with every setting at its default.
pub fn example() -> String {
    let mut out = String::from(
        "# oauth2-server configuration. Every setting can also be given as the environment\n\
         # variable named above it, which wins over this file. Values shown are the defaults.\n",
    );
    let mut section = "";
    for s in SETTINGS {
        let (sec, name) = s.key.split_once('.').unwrap_or(("", s.key));
        if sec != section {
            out.push_str(&format!("\n[{sec}]\n"));
            section = sec;
        }
        out.push_str(&format!("# {}\n# env: {}\n", s.doc, s.env));
        match s.default {
            Some(d) if d.parse::<i64>().is_ok() || d == "true" || d == "false" => {
                out.push_str(&format!("{name} = {d}\n"))
            }
            Some(d) => out.push_str(&format!("{name} = \"{d}\"\n")),
            None => out.push_str(&format!("# {name} = \n")),
        }
    }
    out
}
