//! The command line: `serve` (the default), `migrate`, `config`, `client`, `user`, `keys`,
//! `registration-token`.
//! Admin commands work on the database directly, whether the server runs or not; they print JSON
//! on stdout and one line on stderr when they fail.

use crate::app::{Application, StartError, open_storage};
use crate::config::{self, Config};
use clap::{Parser, Subcommand};
use oauth2_actors::clients::{NewClient, create_client};
use oauth2_actors::events::EventBus;
use oauth2_actors::keys;
use oauth2_actors::registration::{NewInitialToken, create_initial_token, delete_initial_token};
use oauth2_actors::users::{NewUser, create_user};
use oauth2_core::SystemRandom;
use oauth2_core::client::{AuthMethod, Client, GrantType};
use oauth2_core::events::EventKind;
use oauth2_core::ports::{InitialAccessToken, Storage, StoredKey, User};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "oauth2-server",
    version,
    about = "OAuth 2.0 and OpenID Connect authorization server"
)]
pub struct Cli {
    /// TOML configuration file (settings in the environment win over it).
    #[arg(long, global = true, env = "OAUTH2_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Delete expired codes, tokens, sessions and retired keys once, and exit.
    Cleanup,
    /// Check or print the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage registered clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage initial access tokens for dynamic client registration (RFC 7591 §3).
    #[command(subcommand)]
    RegistrationToken(RegistrationTokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration without starting.
    Check,
    /// Print a commented example file with every setting.
    Example,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and (once) its secret.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// Grant type (repeatable); default: authorization_code and refresh_token with a
        /// redirect URI, client_credentials without.
        #[arg(long = "grant-type", value_name = "GRANT")]
        grant_types: Vec<String>,
        /// Space-separated scopes the client may ask for.
        #[arg(long, default_value = "")]
        scope: String,
        /// A public client (no secret; token_endpoint_auth_method "none").
        #[arg(long)]
        public: bool,
        /// First-party client: never show the consent page.
        #[arg(long)]
        skip_consent: bool,
        #[arg(long, value_name = "METHOD")]
        auth_method: Option<String>,
        /// An admin client: may be granted the `admin` scope (the admin API) through
        /// client_credentials; the scope is added to --scope.
        #[arg(long)]
        admin: bool,
    },
    /// List clients.
    List,
    /// Show one client.
    Show {
        // Ids are base64url: one may start with `-` and must not be taken for an option.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Delete a client and every token issued to it.
    Delete {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (read from the first line of standard input); ends their sessions.
    SetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: no more sign-ins or refreshes, and their sessions end.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key: published at once, used after the activation delay.
    Rotate,
    /// List signing keys.
    List,
}

#[derive(Debug, Subcommand)]
pub enum RegistrationTokenCommand {
    /// Issue a token that lets its holder register clients; prints it (once) and its limits.
    Create {
        #[arg(long, default_value = "")]
        description: String,
        /// Lifetime in seconds; default: no expiry.
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
        expires_in: Option<i64>,
        /// How many registrations it allows; default: any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        max_uses: Option<u32>,
    },
    /// List tokens (their hashes and limits, never their values).
    List,
    /// Delete a token, named by its hash or the first characters of it.
    Delete {
        // Hashes are base64url: one may start with `-`.
        #[arg(value_name = "HASH_PREFIX_OR_HASH", allow_hyphen_values = true)]
        hash: String,
    },
}

/// A failed command: the line to print and the exit code.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    fn usage(m: impl Into<String>) -> Failure {
        Failure {
            message: m.into(),
            code: 2,
        }
    }
    fn runtime(m: impl std::fmt::Display) -> Failure {
        Failure {
            message: m.to_string(),
            code: 1,
        }
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        Failure::runtime(e)
    }
}

/// Runs the CLI; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    let serving = matches!(command, Command::Serve);
    // Admin commands keep stdout for their JSON and log only warnings.
    let level = if serving {
        config.log_level.as_str()
    } else {
        "warn"
    };
    // Only the server exports spans; admin commands have no requests to trace.
    let otlp = config
        .otlp_endpoint
        .as_deref()
        .filter(|_| serving)
        .map(|endpoint| crate::telemetry::Otlp {
            endpoint,
            protocol: config.otlp_protocol,
            service_name: &config.service_name,
        });
    let telemetry = crate::telemetry::init(level, config.log_format, otlp);
    let result = actix_web::rt::System::new().block_on(run(command, config));
    // The server has stopped (actix returned): send the spans still queued.
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), Failure> {
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run().await.map_err(Failure::runtime)
        }
        Command::Migrate => {
            let store = oauth2_store::open(&config.database_url, config.database_max_connections)
                .await
                .map_err(|e| Failure::runtime(format!("cannot open the database: {e}")))?;
            let applied = store.migrate().await.map_err(Failure::runtime)?;
            print_json(&json!({ "applied": applied }));
            Ok(())
        }
        Command::Cleanup => {
            let store = open_storage(&config).await?;
            let report = oauth2_actors::housekeeping::cleanup(
                store.as_ref(),
                &config.settings,
                oauth2_actors::now(),
            )
            .await
            .map_err(Failure::runtime)?;
            print_json(&serde_json::to_value(report).unwrap_or_default());
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            print_json(&json!({
                "ok": true,
                "issuer": config.settings.issuer,
                "listen": format!("{}:{}", config.host, config.port),
                "database": config::redact_url(&config.database_url),
                "algorithm": config.settings.algorithm.as_str(),
            }));
            Ok(())
        }
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::example());
            Ok(())
        }
        Command::Client(c) => client_command(c, &config).await,
        Command::User(u) => user_command(u, &config).await,
        Command::Keys(k) => keys_command(k, &config).await,
        Command::RegistrationToken(t) => registration_token_command(t, &config).await,
    }
}

async fn client_command(cmd: ClientCommand, config: &Config) -> Result<(), Failure> {
    // Validate the arguments before touching the database.
    let new = match &cmd {
        ClientCommand::Create {
            name,
            redirect_uris,
            grant_types,
            scope,
            public,
            skip_consent,
            auth_method,
            admin,
        } => Some(new_client(
            name,
            redirect_uris,
            grant_types,
            scope,
            *public,
            *skip_consent,
            auth_method.as_deref(),
            *admin,
        )?),
        _ => None,
    };
    let store = open_storage(config).await?;
    let now = oauth2_actors::now();
    match cmd {
        ClientCommand::Create { .. } => {
            let Some(new) = new else {
                return Err(Failure::runtime("internal: no client to create"));
            };
            let created = create_client(store.as_ref(), &SystemRandom::new(), now, new)
                .await
                .map_err(|e| Failure::usage(format!("{}: {}", e.code, e.description)))?;
            let c = &created.client;
            let detail = json!({ "client_name": c.name, "admin": c.admin });
            record_change(config, &store, "client.created", &c.client_id, detail).await;
            let mut out = client_json(&created.client);
            if let (Some(secret), Some(obj)) = (created.secret, out.as_object_mut()) {
                obj.insert("client_secret".into(), json!(secret));
                obj.insert("client_secret_expires_at".into(), json!(0));
            }
            print_json(&out);
        }
        ClientCommand::List => {
            let clients = list_all_clients(store.as_ref()).await?;
            print_json(&Value::Array(clients.iter().map(client_json).collect()));
        }
        ClientCommand::Show { client_id } => {
            let client = store
                .get_client(&client_id)
                .await
                .map_err(Failure::runtime)?
                .ok_or_else(|| Failure::runtime(format!("no client with id '{client_id}'")))?;
            print_json(&client_json(&client));
        }
        ClientCommand::Delete { client_id } => {
            let deleted = store
                .delete_client(&client_id)
                .await
                .map_err(Failure::runtime)?;
            if !deleted {
                return Err(Failure::runtime(format!("no client with id '{client_id}'")));
            }
            record_change(config, &store, "client.deleted", &client_id, json!({})).await;
            print_json(&json!({ "deleted": client_id }));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn new_client(
    name: &str,
    redirect_uris: &[String],
    grant_types: &[String],
    scope: &str,
    public: bool,
    skip_consent: bool,
    auth_method: Option<&str>,
    admin: bool,
) -> Result<NewClient, Failure> {
    let auth_method = match (auth_method, public) {
        (Some(m), _) => {
            let m: AuthMethod = m.parse().map_err(|_| {
                Failure::usage(format!(
                    "invalid --auth-method '{m}': expected client_secret_basic, client_secret_post or none"
                ))
            })?;
            if public && m != AuthMethod::None {
                return Err(Failure::usage("--public clients use --auth-method none"));
            }
            m
        }
        (None, true) => AuthMethod::None,
        (None, false) => AuthMethod::ClientSecretBasic,
    };
    let grant_types: Vec<GrantType> = if grant_types.is_empty() {
        if redirect_uris.is_empty() {
            vec![GrantType::ClientCredentials]
        } else {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        }
    } else {
        grant_types
            .iter()
            .map(|g| {
                g.parse().map_err(|_| {
                    Failure::usage(format!(
                        "invalid --grant-type '{g}': expected authorization_code, client_credentials, refresh_token or password"
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut new = NewClient::new(
        name,
        grant_types,
        scope,
        auth_method,
        redirect_uris.to_vec(),
    );
    new.skip_consent = skip_consent;
    new.admin = admin;
    Ok(new)
}

async fn list_all_clients(store: &dyn Storage) -> Result<Vec<Client>, Failure> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_clients(after.as_deref(), 500)
            .await
            .map_err(Failure::runtime)?;
        let done = page.len() < 500;
        after = page.last().map(|c| c.client_id.clone());
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// A client as RFC 7591 names its metadata. Never includes the secret hash.
pub fn client_json(c: &Client) -> Value {
    json!({
        "client_id": c.client_id,
        "client_name": c.name,
        "redirect_uris": c.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scope": c.scope.to_string(),
        "token_endpoint_auth_method": c.auth_method.as_str(),
        "skip_consent": c.skip_consent,
        "admin": c.admin,
        "client_id_issued_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

fn read_password() -> Result<String, Failure> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| {
            Failure::usage(format!("cannot read the password from standard input: {e}"))
        })?;
    Ok(password.trim_end_matches(['\n', '\r']).to_owned())
}

async fn find_user(store: &dyn Storage, username: &str) -> Result<User, Failure> {
    store
        .find_user_by_username(username)
        .await
        .map_err(Failure::runtime)?
        .ok_or_else(|| Failure::runtime(format!("no user named '{username}'")))
}

async fn user_command(cmd: UserCommand, config: &Config) -> Result<(), Failure> {
    let now = oauth2_actors::now();
    match cmd {
        UserCommand::Create {
            username,
            email,
            password_stdin: _,
            admin,
        } => {
            let password = read_password()?;
            let store = open_storage(config).await?;
            let user = create_user(
                store.as_ref(),
                &SystemRandom::new(),
                config.settings.password_params,
                now,
                NewUser {
                    username,
                    email,
                    password,
                    admin,
                },
            )
            .await
            .map_err(|e| match e {
                oauth2_actors::users::UserError::Store(_)
                | oauth2_actors::users::UserError::Internal(_) => Failure::runtime(e),
                _ => Failure::usage(e.to_string()),
            })?;
            let detail = json!({ "username": user.username, "admin": user.admin });
            record_change(config, &store, "user.created", &user.id, detail).await;
            print_json(&user_json(&user));
        }
        UserCommand::List => {
            let store = open_storage(config).await?;
            let mut all = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = store
                    .list_users(after.as_deref(), 500)
                    .await
                    .map_err(Failure::runtime)?;
                let done = page.len() < 500;
                after = page.last().map(|u| u.username.clone());
                all.extend(page.iter().map(user_json));
                if done {
                    break;
                }
            }
            print_json(&Value::Array(all));
        }
        UserCommand::SetPassword { username, .. } => {
            let password = read_password()?;
            if password.chars().count() < 8 {
                return Err(Failure::usage("password must be at least 8 characters"));
            }
            let store = open_storage(config).await?;
            let mut user = find_user(store.as_ref(), &username).await?;
            let hash = oauth2_core::password::hash_password(
                &password,
                config.settings.password_params,
                &SystemRandom::new(),
            )
            .map_err(Failure::runtime)?;
            user.password_hash = Some(hash);
            user.updated_at = now;
            store.update_user(&user).await.map_err(Failure::runtime)?;
            let ended = store
                .delete_user_sessions(&user.id)
                .await
                .map_err(Failure::runtime)?;
            let detail = json!({ "sessions_ended": ended });
            record_change(config, &store, "user.password_reset", &user.id, detail).await;
            print_json(
                &json!({ "username": user.username, "password_changed": true, "sessions_ended": ended }),
            );
        }
        UserCommand::Disable { username } => set_enabled(config, &username, false, now).await?,
        UserCommand::Enable { username } => set_enabled(config, &username, true, now).await?,
    }
    Ok(())
}

async fn set_enabled(
    config: &Config,
    username: &str,
    enabled: bool,
    now: i64,
) -> Result<(), Failure> {
    let store = open_storage(config).await?;
    let mut user = find_user(store.as_ref(), username).await?;
    user.enabled = enabled;
    user.updated_at = now;
    store.update_user(&user).await.map_err(Failure::runtime)?;
    if !enabled {
        store
            .delete_user_sessions(&user.id)
            .await
            .map_err(Failure::runtime)?;
    }
    let kind = if enabled {
        "user.enabled"
    } else {
        "user.disabled"
    };
    record_change(config, &store, kind, &user.id, json!({})).await;
    print_json(&user_json(&user));
    Ok(())
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "enabled": u.enabled,
        "admin": u.admin,
        "created_at": u.created_at,
    })
}

async fn keys_command(cmd: KeysCommand, config: &Config) -> Result<(), Failure> {
    let store: Arc<dyn Storage> = open_storage(config).await?;
    let now = oauth2_actors::now();
    match cmd {
        KeysCommand::Rotate => {
            let key = keys::rotate(store.as_ref(), &config.settings, &SystemRandom::new(), now)
                .await
                .map_err(|e| match e {
                    keys::KeyError::Jose(_) => Failure::usage(
                        "HS256 uses the shared OAUTH2_JWT_SECRET: rotate it by changing the secret",
                    ),
                    other => Failure::runtime(other),
                })?;
            let detail =
                json!({ "algorithm": key.algorithm.as_str(), "activate_at": key.activate_at });
            record_change(config, &store, "key.rotated", &key.kid, detail).await;
            print_json(&key_json(&key, now));
        }
        KeysCommand::List => {
            let keys = store.list_keys().await.map_err(Failure::runtime)?;
            print_json(&Value::Array(
                keys.iter().map(|k| key_json(k, now)).collect(),
            ));
        }
    }
    Ok(())
}

fn key_json(k: &StoredKey, now: i64) -> Value {
    let status = if k.retire_at.is_some_and(|r| r <= now) {
        "retired"
    } else if k.activate_at > now {
        "pending"
    } else if k.retire_at.is_some() {
        "retiring"
    } else {
        "active"
    };
    json!({
        "kid": k.kid,
        "algorithm": k.algorithm.as_str(),
        "status": status,
        "created_at": k.created_at,
        "activate_at": k.activate_at,
        "retire_at": k.retire_at,
    })
}

async fn registration_token_command(
    cmd: RegistrationTokenCommand,
    config: &Config,
) -> Result<(), Failure> {
    let store = open_storage(config).await?;
    let now = oauth2_actors::now();
    match cmd {
        RegistrationTokenCommand::Create {
            description,
            expires_in,
            max_uses,
        } => {
            let new = NewInitialToken {
                description,
                expires_in,
                max_uses,
            };
            let (token, record) =
                create_initial_token(store.as_ref(), &SystemRandom::new(), now, new)
                    .await
                    .map_err(|e| match e.code {
                        oauth2_core::ErrorCode::ServerError => operation_failure(e),
                        _ => Failure::usage(e.description),
                    })?;
            let detail = json!({ "description": record.description, "expires_at": record.expires_at, "max_uses": record.max_uses });
            record_change(
                config,
                &store,
                "registration_token.created",
                &record.token_hash,
                detail,
            )
            .await;
            let mut out = initial_token_json(&record, now);
            if let Some(obj) = out.as_object_mut() {
                obj.insert("token".into(), json!(token));
            }
            print_json(&out);
        }
        RegistrationTokenCommand::List => {
            let tokens = store
                .list_initial_tokens()
                .await
                .map_err(Failure::runtime)?;
            print_json(&Value::Array(
                tokens.iter().map(|t| initial_token_json(t, now)).collect(),
            ));
        }
        RegistrationTokenCommand::Delete { hash } => {
            let deleted = delete_initial_token(store.as_ref(), &hash)
                .await
                .map_err(operation_failure)?;
            record_change(
                config,
                &store,
                "registration_token.deleted",
                &deleted.token_hash,
                json!({}),
            )
            .await;
            print_json(&json!({ "deleted": deleted.token_hash }));
        }
    }
    Ok(())
}

/// A failed operation: its description, or for a server error the cause (the operator runs the
/// command and may see it).
fn operation_failure(e: oauth2_core::OAuthError) -> Failure {
    Failure::runtime(e.cause.unwrap_or_else(|| e.description.into_owned()))
}

/// An initial access token without its value: the stored hash names it.
fn initial_token_json(t: &InitialAccessToken, now: i64) -> Value {
    let status = if t.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else if t.max_uses.is_some_and(|m| t.uses >= m) {
        "used_up"
    } else {
        "active"
    };
    json!({
        "token_hash": t.token_hash,
        "description": t.description,
        "status": status,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "max_uses": t.max_uses,
        "uses": t.uses,
    })
}

/// Records a change as an event, with `cli` as the actor, through the same sinks the server
/// uses (audit table, webhook outbox, Redis stream, log), and waits until they have it. The change
/// is made by then: a failure to record it is a warning, not a failed command.
async fn record_change(
    config: &Config,
    store: &Arc<dyn Storage>,
    kind: &str,
    subject: &str,
    detail: Value,
) {
    let Some(kind) = EventKind::parse(kind) else {
        eprintln!("warning: the change was made but not recorded: unknown event type {kind}");
        return;
    };
    let bus = Arc::new(EventBus::new(config.settings.events.clone()));
    let tasks = bus.start(store.clone(), false);
    bus.record(oauth2_actors::admin::change(kind, "cli", subject, detail))
        .await;
    tasks.shutdown().await;
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}
