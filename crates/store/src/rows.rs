//! What both backends share: the column lists, the text encodings of lists and enums, the
//! decoding of rows back into domain types, and the mapping of sqlx errors to [`StoreError`].
//!
//! The SQL itself lives in each backend's module.

use oauth2_core::client::{AuthMethod, Client, GrantType, RedirectUri};
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{
    AccessTokenRecord, AuthorizationCode, Consent, Event, InitialAccessToken, RefreshToken,
    Session, StoreError, StoreResult, StoredKey, User,
};
use oauth2_core::scope::Scope;
use sqlx::{ColumnIndex, Decode, Row, Type};
use std::fmt::Display;
use std::str::FromStr;

/// Maps a sqlx error: a unique violation is a [`StoreError::Conflict`], a value that does not
/// decode is [`StoreError::Corrupt`], anything else is [`StoreError::Backend`] (logged by the
/// caller, never shown to an OAuth client).
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

fn corrupt(column: &str, why: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{column}: {why}"))
}

// Column lists, as macros so that `concat!` can build `&'static str` queries from them.

macro_rules! client_columns {
    () => {
        "client_id, secret_hash, name, redirect_uris, grant_types, scope, auth_method, \
         skip_consent, post_logout_redirect_uris, metadata, registration_token_hash, admin, \
         created_at, updated_at"
    };
}
macro_rules! user_columns {
    () => {
        "id, username, email, password_hash, enabled, admin, created_at, updated_at"
    };
}
macro_rules! code_columns {
    () => {
        "code_hash, client_id, user_id, redirect_uri, scope, code_challenge, \
         code_challenge_method, nonce, auth_time, family_id, expires_at, created_at"
    };
}
macro_rules! refresh_columns {
    () => {
        "token_hash, family_id, client_id, user_id, scope, auth_time, expires_at, created_at, \
         rotated_at, revoked_at"
    };
}
macro_rules! consent_columns {
    () => {
        "user_id, client_id, scope, created_at, updated_at"
    };
}
macro_rules! key_columns {
    () => {
        "kid, algorithm, private_key, created_at, activate_at, retire_at"
    };
}
macro_rules! session_columns {
    () => {
        "id_hash, user_id, auth_time, created_at, last_seen_at, expires_at"
    };
}
macro_rules! initial_token_columns {
    () => {
        "token_hash, description, created_at, expires_at, max_uses, uses"
    };
}
macro_rules! access_columns {
    () => {
        "jti, family_id, client_id, user_id, scope, expires_at, created_at"
    };
}
macro_rules! event_columns {
    () => {
        "id, event_id, at, kind, actor, subject, client_id, user_id, address, outcome, request_id, detail"
    };
}
pub(crate) use {
    access_columns, client_columns, code_columns, consent_columns, event_columns,
    initial_token_columns, key_columns, refresh_columns, session_columns, user_columns,
};

/// Typed, named access to a row's columns, with sqlx's errors already mapped. Implemented once
/// for the rows of every backend whose types cover ours.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, column: &str) -> StoreResult<bool>;
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>>;
}

impl<R> Columns for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> StoreResult<String> {
        self.try_get(column).map_err(db_err)
    }
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column).map_err(db_err)
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        self.try_get(column).map_err(db_err)
    }
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column).map_err(db_err)
    }
    fn flag(&self, column: &str) -> StoreResult<bool> {
        self.try_get(column).map_err(db_err)
    }
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
        self.try_get(column).map_err(db_err)
    }
}

/// Lists are stored as JSON arrays of strings: unambiguous whatever the items contain, and
/// readable with the databases' own JSON functions.
pub(crate) fn encode_list<'a>(items: impl Iterator<Item = &'a str>) -> StoreResult<String> {
    serde_json::to_string(&items.collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(format!("cannot encode a list as JSON: {e}")))
}

fn decode_list<T, E: Display>(
    row: &impl Columns,
    column: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> StoreResult<Vec<T>> {
    let text = row.text(column)?;
    let items: Vec<String> = serde_json::from_str(&text).map_err(|e| corrupt(column, e))?;
    items
        .iter()
        .map(|item| parse(item).map_err(|e| corrupt(column, format!("'{item}': {e}"))))
        .collect()
}

/// A client's informational metadata, stored as one JSON object.
pub(crate) fn encode_metadata(
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> StoreResult<String> {
    serde_json::to_string(metadata)
        .map_err(|e| StoreError::Backend(format!("cannot encode client metadata as JSON: {e}")))
}

fn decode_metadata(
    row: &impl Columns,
    column: &str,
) -> StoreResult<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str(&row.text(column)?).map_err(|e| corrupt(column, e))
}

fn scope(row: &impl Columns, column: &str) -> StoreResult<Scope> {
    Scope::parse(&row.text(column)?).map_err(|e| corrupt(column, e))
}

fn parsed<T: FromStr>(row: &impl Columns, column: &str) -> StoreResult<T>
where
    T::Err: Display,
{
    let text = row.text(column)?;
    text.parse()
        .map_err(|e: T::Err| corrupt(column, format!("'{text}': {e}")))
}

pub(crate) fn client(row: &impl Columns) -> StoreResult<Client> {
    Ok(Client {
        client_id: row.text("client_id")?,
        secret_hash: row.opt_text("secret_hash")?,
        name: row.text("name")?,
        redirect_uris: decode_list(row, "redirect_uris", RedirectUri::parse)?,
        grant_types: decode_list(row, "grant_types", GrantType::from_str)?,
        scope: scope(row, "scope")?,
        auth_method: parsed::<AuthMethod>(row, "auth_method")?,
        skip_consent: row.flag("skip_consent")?,
        post_logout_redirect_uris: decode_list(
            row,
            "post_logout_redirect_uris",
            RedirectUri::parse,
        )?,
        metadata: decode_metadata(row, "metadata")?,
        registration_token_hash: row.opt_text("registration_token_hash")?,
        admin: row.flag("admin")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn user(row: &impl Columns) -> StoreResult<User> {
    Ok(User {
        id: row.text("id")?,
        username: row.text("username")?,
        email: row.opt_text("email")?,
        password_hash: row.opt_text("password_hash")?,
        enabled: row.flag("enabled")?,
        admin: row.flag("admin")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn code(row: &impl Columns) -> StoreResult<AuthorizationCode> {
    Ok(AuthorizationCode {
        code_hash: row.text("code_hash")?,
        client_id: row.text("client_id")?,
        user_id: row.text("user_id")?,
        redirect_uri: row.text("redirect_uri")?,
        scope: scope(row, "scope")?,
        code_challenge: row.opt_text("code_challenge")?,
        code_challenge_method: row.opt_text("code_challenge_method")?,
        nonce: row.opt_text("nonce")?,
        auth_time: row.int("auth_time")?,
        family_id: row.text("family_id")?,
        expires_at: row.int("expires_at")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn refresh_token(row: &impl Columns) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: row.text("token_hash")?,
        family_id: row.text("family_id")?,
        client_id: row.text("client_id")?,
        user_id: row.opt_text("user_id")?,
        scope: scope(row, "scope")?,
        auth_time: row.opt_int("auth_time")?,
        expires_at: row.int("expires_at")?,
        created_at: row.int("created_at")?,
        rotated_at: row.opt_int("rotated_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

pub(crate) fn consent(row: &impl Columns) -> StoreResult<Consent> {
    Ok(Consent {
        user_id: row.text("user_id")?,
        client_id: row.text("client_id")?,
        scope: scope(row, "scope")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn key(row: &impl Columns) -> StoreResult<StoredKey> {
    Ok(StoredKey {
        kid: row.text("kid")?,
        algorithm: parsed::<Algorithm>(row, "algorithm")?,
        private_der: row.bytes("private_key")?,
        created_at: row.int("created_at")?,
        activate_at: row.int("activate_at")?,
        retire_at: row.opt_int("retire_at")?,
    })
}

pub(crate) fn session(row: &impl Columns) -> StoreResult<Session> {
    Ok(Session {
        id_hash: row.text("id_hash")?,
        user_id: row.text("user_id")?,
        auth_time: row.int("auth_time")?,
        created_at: row.int("created_at")?,
        last_seen_at: row.int("last_seen_at")?,
        expires_at: row.int("expires_at")?,
    })
}

pub(crate) fn initial_token(row: &impl Columns) -> StoreResult<InitialAccessToken> {
    let count = |column: &str, n: i64| {
        u32::try_from(n).map_err(|_| corrupt(column, format!("{n} is not a count of uses")))
    };
    Ok(InitialAccessToken {
        token_hash: row.text("token_hash")?,
        description: row.text("description")?,
        created_at: row.int("created_at")?,
        expires_at: row.opt_int("expires_at")?,
        max_uses: row
            .opt_int("max_uses")?
            .map(|n| count("max_uses", n))
            .transpose()?,
        uses: count("uses", row.int("uses")?)?,
    })
}

pub(crate) fn access_token(row: &impl Columns) -> StoreResult<AccessTokenRecord> {
    Ok(AccessTokenRecord {
        jti: row.text("jti")?,
        family_id: row.text("family_id")?,
        client_id: row.text("client_id")?,
        user_id: row.opt_text("user_id")?,
        scope: scope(row, "scope")?,
        expires_at: row.int("expires_at")?,
        created_at: row.int("created_at")?,
    })
}

/// An event's detail, stored as JSON text.
pub(crate) fn encode_detail(detail: &serde_json::Value) -> StoreResult<String> {
    serde_json::to_string(detail)
        .map_err(|e| StoreError::Backend(format!("cannot encode an event's detail as JSON: {e}")))
}

pub(crate) fn event(row: &impl Columns) -> StoreResult<Event> {
    let id = row.int("id")?;
    Ok(Event {
        id,
        event_id: row.opt_text("event_id")?.unwrap_or_else(|| id.to_string()),
        at: row.int("at")?,
        kind: row.text("kind")?,
        actor: row.text("actor")?,
        subject: row.text("subject")?,
        client_id: row.opt_text("client_id")?,
        user_id: row.opt_text("user_id")?,
        address: row.opt_text("address")?,
        outcome: row.text("outcome")?,
        request_id: row.opt_text("request_id")?,
        detail: serde_json::from_str(&row.text("detail")?).map_err(|e| corrupt("detail", e))?,
    })
}

/// A search term as both backends compare it: only ASCII letters fold to lower case (SQLite's
/// `lower()` folds nothing else, and PostgreSQL is made to match it).
pub(crate) fn search_term(query: &str) -> String {
    query.to_ascii_lowercase()
}

/// A `COUNT(*)`, which both databases return as a signed 64-bit integer.
pub(crate) fn count(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("a negative count: {n}")))
}

/// What a failed rotation found when it looked the old token up.
pub(crate) fn failed_rotation(
    found: Option<(String, String, Option<i64>, Option<i64>)>,
) -> oauth2_core::ports::RefreshRotation {
    use oauth2_core::ports::RefreshRotation;
    match found {
        // Rotated before (whether or not revoked since): a reuse, which the caller answers by
        // revoking the family.
        Some((family_id, client_id, Some(_), _)) => RefreshRotation::Reused {
            family_id,
            client_id,
        },
        Some((_, _, None, Some(_))) => RefreshRotation::Revoked,
        // Live, yet the guarded update matched nothing: only possible if it changed in between;
        // the caller may retry, but "revoked" is the safe answer.
        Some((_, _, None, None)) => RefreshRotation::Revoked,
        None => RefreshRotation::NotFound,
    }
}
