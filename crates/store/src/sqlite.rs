//! The SQLite backend: the embedded default, one file in WAL mode.
//!
//! SQLite has one writer at a time. Every write that must be atomic with a read either is one
//! statement (`UPDATE .. RETURNING`) or runs in a `BEGIN IMMEDIATE` transaction, which takes the
//! write lock up front: a deferred transaction that reads and then writes could fail with
//! `SQLITE_BUSY` at the upgrade, without waiting for `busy_timeout`.

use crate::migrate::{Migration, warn_if_newer};
use crate::redact_url;
use crate::rows::{
    self, client_columns, code_columns, consent_columns, db_err, encode_list, encode_metadata,
    initial_token_columns, key_columns, refresh_columns, session_columns, user_columns,
};
use crate::rows::{Columns, access_columns, encode_detail, event_columns, search_term};
use async_trait::async_trait;
use oauth2_core::UnixTime;
use oauth2_core::client::Client;
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{
    AccessTokenRecord, AccessTokenStore, AuthorizationCode, AuthorizationCodeStore, ClientStore,
    CodeRedemption, Consent, ConsentStore, InitialAccessToken, LoginThrottleStore, PoolStats,
    RefreshRotation, RefreshToken, RefreshTokenStore, RegistrationTokenStore, SecretStore, Session,
    SessionStore, SigningKeyStore, Storage, StoreError, StoreResult, StoredKey, User, UserStore,
};
use oauth2_core::ports::{
    Counts, Event, EventStore, OutboxCounts, OutboxItem, OutboxStore, TokenOwner,
};
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "sessions, login throttling and server secrets",
        sql: include_str!("../migrations/sqlite/0002_sessions.sql"),
    },
    Migration {
        version: 3,
        description: "client metadata, admin clients and initial access tokens",
        sql: include_str!("../migrations/sqlite/0003_client_metadata.sql"),
    },
    Migration {
        version: 4,
        description: "the admin API's event log and token indexes",
        sql: include_str!("../migrations/sqlite/0004_admin.sql"),
    },
    Migration {
        version: 5,
        description: "every kind of event in the audit table; the webhook outbox",
        sql: include_str!("../migrations/sqlite/0005_events.sql"),
    },
];

type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// The ports on a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url` (`sqlite:PATH`, `sqlite://PATH` or
    /// `sqlite::memory:`), in WAL mode with `synchronous=NORMAL`, foreign keys on and a 5 s busy
    /// timeout. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| {
                StoreError::Backend(format!("invalid SQLite URL '{}': {e}", redact_url(url)))
            })?
            .create_if_missing(true)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = if is_in_memory(url) {
            // An in-memory database lives as long as a connection to it, and several
            // shared-cache connections fail with SQLITE_LOCKED instead of waiting: keep exactly
            // one connection, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await
        }
        .map_err(|e| {
            StoreError::Backend(format!(
                "cannot open the SQLite database '{}': {e}",
                redact_url(url)
            ))
        })?;
        Ok(SqliteStore { pool })
    }

    /// The underlying pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, waiting for them to be returned: the WAL is checkpointed and the
    /// file is left clean.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn is_in_memory(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

fn insert_refresh(token: &RefreshToken) -> Query {
    sqlx::query(concat!(
        "INSERT INTO refresh_tokens (",
        refresh_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(token.token_hash.as_str())
    .bind(token.family_id.as_str())
    .bind(token.client_id.as_str())
    .bind(token.user_id.as_deref())
    .bind(token.scope.to_string())
    .bind(token.auth_time)
    .bind(token.expires_at)
    .bind(token.created_at)
    .bind(token.rotated_at)
    .bind(token.revoked_at)
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        timed!("create_client");
        sqlx::query(concat!(
            "INSERT INTO clients (",
            client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(c.client_id.as_str())
        .bind(c.secret_hash.as_deref())
        .bind(c.name.as_str())
        .bind(encode_list(c.redirect_uris.iter().map(|u| u.as_str()))?)
        .bind(encode_list(c.grant_types.iter().map(|g| g.as_str()))?)
        .bind(c.scope.to_string())
        .bind(c.auth_method.as_str())
        .bind(c.skip_consent)
        .bind(encode_list(
            c.post_logout_redirect_uris.iter().map(|u| u.as_str()),
        )?)
        .bind(encode_metadata(&c.metadata)?)
        .bind(c.registration_token_hash.as_deref())
        .bind(c.admin)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.get_client", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        timed!("get_client");
        sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::client(&row))
        .transpose()
    }

    async fn list_clients(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Client>> {
        timed!("list_clients");
        sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE ($1 IS NULL OR client_id > $1) ORDER BY client_id LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::client)
        .collect()
    }

    async fn update_client(&self, c: &Client) -> StoreResult<bool> {
        timed!("update_client");
        let done = sqlx::query(
            "UPDATE clients SET secret_hash = $2, name = $3, redirect_uris = $4, \
             grant_types = $5, scope = $6, auth_method = $7, skip_consent = $8, \
             post_logout_redirect_uris = $9, metadata = $10, registration_token_hash = $11, \
             admin = $12, updated_at = $13 \
             WHERE client_id = $1",
        )
        .bind(c.client_id.as_str())
        .bind(c.secret_hash.as_deref())
        .bind(c.name.as_str())
        .bind(encode_list(c.redirect_uris.iter().map(|u| u.as_str()))?)
        .bind(encode_list(c.grant_types.iter().map(|g| g.as_str()))?)
        .bind(c.scope.to_string())
        .bind(c.auth_method.as_str())
        .bind(c.skip_consent)
        .bind(encode_list(
            c.post_logout_redirect_uris.iter().map(|u| u.as_str()),
        )?)
        .bind(encode_metadata(&c.metadata)?)
        .bind(c.registration_token_hash.as_deref())
        .bind(c.admin)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        timed!("delete_client");
        // Codes, token records and consents go with it: ON DELETE CASCADE (foreign_keys=ON).
        let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn search_clients(
        &self,
        query: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Client>> {
        timed!("search_clients");
        sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE (instr(lower(name), $1) > 0 OR instr(lower(client_id), $1) > 0) \
             AND ($2 IS NULL OR client_id > $2) ORDER BY client_id LIMIT $3"
        ))
        .bind(search_term(query))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::client)
        .collect()
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, u: &User) -> StoreResult<()> {
        timed!("create_user");
        sqlx::query(concat!(
            "INSERT INTO users (",
            user_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(u.id.as_str())
        .bind(u.username.as_str())
        .bind(u.email.as_deref())
        .bind(u.password_hash.as_deref())
        .bind(u.enabled)
        .bind(u.admin)
        .bind(u.created_at)
        .bind(u.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.get_user", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        timed!("get_user");
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::user(&row))
        .transpose()
    }

    #[tracing::instrument(skip_all, name = "db.find_user_by_username", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        timed!("find_user_by_username");
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::user(&row))
        .transpose()
    }

    async fn list_users(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>> {
        timed!("list_users");
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE ($1 IS NULL OR username > $1) ORDER BY username LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::user)
        .collect()
    }

    async fn update_user(&self, u: &User) -> StoreResult<bool> {
        timed!("update_user");
        let done = sqlx::query(
            "UPDATE users SET username = $2, email = $3, password_hash = $4, enabled = $5, \
             admin = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(u.id.as_str())
        .bind(u.username.as_str())
        .bind(u.email.as_deref())
        .bind(u.password_hash.as_deref())
        .bind(u.enabled)
        .bind(u.admin)
        .bind(u.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn search_users(
        &self,
        query: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        timed!("search_users");
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE (instr(lower(username), $1) > 0 OR instr(lower(COALESCE(email, '')), $1) > 0) \
             AND ($2 IS NULL OR username > $2) ORDER BY username LIMIT $3"
        ))
        .bind(search_term(query))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::user)
        .collect()
    }
}

#[async_trait]
impl AuthorizationCodeStore for SqliteStore {
    #[tracing::instrument(skip_all, name = "db.insert_code", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn insert_code(&self, c: &AuthorizationCode) -> StoreResult<()> {
        timed!("insert_code");
        sqlx::query(concat!(
            "INSERT INTO authorization_codes (",
            code_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(c.code_hash.as_str())
        .bind(c.client_id.as_str())
        .bind(c.user_id.as_str())
        .bind(c.redirect_uri.as_str())
        .bind(c.scope.to_string())
        .bind(c.code_challenge.as_deref())
        .bind(c.code_challenge_method.as_deref())
        .bind(c.nonce.as_deref())
        .bind(c.auth_time)
        .bind(c.family_id.as_str())
        .bind(c.expires_at)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.redeem_code", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn redeem_code(&self, code_hash: &str, now: UnixTime) -> StoreResult<CodeRedemption> {
        timed!("redeem_code");
        // One statement, so one atomic step: of concurrent redemptions exactly one sees
        // `used_at IS NULL`.
        let redeemed = sqlx::query(concat!(
            "UPDATE authorization_codes SET used_at = $1 \
             WHERE code_hash = $2 AND used_at IS NULL RETURNING ",
            code_columns!()
        ))
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if let Some(row) = redeemed {
            return Ok(CodeRedemption::Redeemed(rows::code(&row)?));
        }
        let used: Option<(String, String)> = sqlx::query_as(
            "SELECT family_id, client_id FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(match used {
            Some((family_id, client_id)) => CodeRedemption::AlreadyUsed {
                family_id,
                client_id,
            },
            None => CodeRedemption::NotFound,
        })
    }

    async fn purge_expired_codes(&self, now: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_expired_codes");
        let done = sqlx::query(
            "DELETE FROM authorization_codes WHERE rowid IN (SELECT rowid FROM \
             authorization_codes WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl AccessTokenStore for SqliteStore {
    #[tracing::instrument(skip_all, name = "db.record_access_token", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn record_access_token(&self, r: &AccessTokenRecord) -> StoreResult<()> {
        timed!("record_access_token");
        sqlx::query(
            "INSERT INTO access_tokens \
             (jti, family_id, client_id, user_id, scope, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.jti.as_str())
        .bind(r.family_id.as_str())
        .bind(r.client_id.as_str())
        .bind(r.user_id.as_deref())
        .bind(r.scope.to_string())
        .bind(r.expires_at)
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.revoke_access_token", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<()> {
        timed!("revoke_access_token");
        sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) \
             VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.is_access_token_revoked", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn is_access_token_revoked(&self, jti: &str) -> StoreResult<bool> {
        timed!("is_access_token_revoked");
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(n > 0)
    }

    // Batched (actors::deny_list): runs in a task of its own, so its span starts a trace.
    #[tracing::instrument(skip_all, name = "db.revoked_among", fields(db.system = "sqlite", otel.kind = "client", batch = jtis.len()))]
    async fn revoked_among(&self, jtis: &[String]) -> StoreResult<Vec<String>> {
        timed!("revoked_among");
        if jtis.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=jtis.len()).map(|i| format!("${i}")).collect();
        // Only numbered placeholders are formatted in; every value is bound.
        let sql = format!(
            "SELECT jti FROM revoked_access_tokens WHERE jti IN ({})",
            placeholders.join(",")
        );
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for jti in jtis {
            query = query.bind(jti);
        }
        query.fetch_all(&self.pool).await.map_err(db_err)
    }

    #[tracing::instrument(skip_all, name = "db.revoke_family_access_tokens", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn revoke_family_access_tokens(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> StoreResult<u64> {
        timed!("revoke_family_access_tokens");
        // The WHERE clause is required here: it tells SQLite's parser that ON CONFLICT is the
        // upsert clause, not a join constraint.
        let done = sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) \
             SELECT jti, expires_at, $2 FROM access_tokens WHERE family_id = $1 \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(family_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_expired_access_tokens(&self, now: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_expired_access_tokens");
        // Two independent statements: an expired entry is dead whichever goes first, so no
        // transaction has to hold both tables.
        let denied = sqlx::query(
            "DELETE FROM revoked_access_tokens WHERE rowid IN (SELECT rowid FROM \
             revoked_access_tokens WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        let left = u64::from(limit).saturating_sub(denied);
        if left == 0 {
            return Ok(denied);
        }
        let records = sqlx::query(
            "DELETE FROM access_tokens WHERE rowid IN (SELECT rowid FROM access_tokens WHERE \
             expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(left as i64)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(denied + records)
    }

    async fn get_access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>> {
        timed!("get_access_token");
        sqlx::query(concat!(
            "SELECT ",
            access_columns!(),
            " FROM access_tokens WHERE jti = $1"
        ))
        .bind(jti)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::access_token(&row))
        .transpose()
    }

    async fn list_access_tokens(
        &self,
        owner: &TokenOwner,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<AccessTokenRecord>> {
        timed!("list_access_tokens");
        let (client_id, user_id) = owner.filter();
        sqlx::query(concat!(
            "SELECT ",
            access_columns!(),
            " FROM access_tokens a \
             WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR user_id = $2) \
             AND expires_at > $3 \
             AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = a.jti) \
             ORDER BY created_at DESC, jti LIMIT $4"
        ))
        .bind(client_id)
        .bind(user_id)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::access_token)
        .collect()
    }
}

#[async_trait]
impl RefreshTokenStore for SqliteStore {
    #[tracing::instrument(skip_all, name = "db.insert_refresh_token", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
        timed!("insert_refresh_token");
        insert_refresh(token)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.get_refresh_token", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        timed!("get_refresh_token");
        sqlx::query(concat!(
            "SELECT ",
            refresh_columns!(),
            " FROM refresh_tokens WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::refresh_token(&row))
        .transpose()
    }

    /// `Rotated` carries the old token as it now stands (`rotated_at` set): what was consumed,
    /// read in the same atomic step.
    #[tracing::instrument(skip_all, name = "db.rotate_refresh_token", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        successor: &RefreshToken,
        now: UnixTime,
    ) -> StoreResult<RefreshRotation> {
        timed!("rotate_refresh_token");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        let rotated = sqlx::query(concat!(
            "UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE token_hash = $2 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING ",
            refresh_columns!()
        ))
        .bind(now)
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(row) = rotated {
            let old = rows::refresh_token(&row)?;
            insert_refresh(successor)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(RefreshRotation::Rotated(old));
        }
        let found = sqlx::query_as(
            "SELECT family_id, client_id, rotated_at, revoked_at FROM refresh_tokens \
             WHERE token_hash = $1",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.rollback().await.map_err(db_err)?;
        Ok(rows::failed_rotation(found))
    }

    #[tracing::instrument(skip_all, name = "db.revoke_refresh_family", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn revoke_refresh_family(&self, family_id: &str, now: UnixTime) -> StoreResult<u64> {
        timed!("revoke_refresh_family");
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 \
             WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_expired_refresh_tokens(&self, now: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_expired_refresh_tokens");
        let done = sqlx::query(
            "DELETE FROM refresh_tokens WHERE rowid IN (SELECT rowid FROM refresh_tokens WHERE \
             expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn list_refresh_tokens(
        &self,
        owner: &TokenOwner,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<RefreshToken>> {
        timed!("list_refresh_tokens");
        let (client_id, user_id) = owner.filter();
        sqlx::query(concat!(
            "SELECT ",
            refresh_columns!(),
            " FROM refresh_tokens \
             WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR user_id = $2) \
             AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
             ORDER BY created_at DESC, token_hash LIMIT $4"
        ))
        .bind(client_id)
        .bind(user_id)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::refresh_token)
        .collect()
    }

    async fn find_refresh_tokens_by_hash_prefix(
        &self,
        prefix: &str,
    ) -> StoreResult<Vec<RefreshToken>> {
        timed!("find_refresh_tokens_by_hash_prefix");
        sqlx::query(concat!(
            "SELECT ",
            refresh_columns!(),
            " FROM refresh_tokens WHERE substr(token_hash, 1, length($1)) = $1 ORDER BY token_hash LIMIT 2"
        ))
        .bind(prefix)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::refresh_token)
        .collect()
    }

    async fn token_families(&self, owner: &TokenOwner, now: UnixTime) -> StoreResult<Vec<String>> {
        timed!("token_families");
        let (client_id, user_id) = owner.filter();
        sqlx::query_scalar(
            "SELECT family_id FROM refresh_tokens \
             WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR user_id = $2) \
             AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
             UNION \
             SELECT family_id FROM access_tokens a \
             WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR user_id = $2) \
             AND expires_at > $3 \
             AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = a.jti) \
             ORDER BY family_id",
        )
        .bind(client_id)
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn get_consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Consent>> {
        timed!("get_consent");
        sqlx::query(concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE user_id = $1 AND client_id = $2"
        ))
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::consent(&row))
        .transpose()
    }

    /// A replaced consent keeps its first `created_at`.
    async fn save_consent(&self, c: &Consent) -> StoreResult<()> {
        timed!("save_consent");
        sqlx::query(concat!(
            "INSERT INTO consents (",
            consent_columns!(),
            ") VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, client_id) \
             DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at"
        ))
        .bind(c.user_id.as_str())
        .bind(c.client_id.as_str())
        .bind(c.scope.to_string())
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_consent(&self, user_id: &str, client_id: &str) -> StoreResult<bool> {
        timed!("delete_consent");
        let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_consents(&self, user_id: &str) -> StoreResult<Vec<Consent>> {
        timed!("list_consents");
        sqlx::query(concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE user_id = $1 ORDER BY client_id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::consent)
        .collect()
    }
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn insert_key(&self, k: &StoredKey) -> StoreResult<()> {
        timed!("insert_key");
        sqlx::query(concat!(
            "INSERT INTO signing_keys (",
            key_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(k.kid.as_str())
        .bind(k.algorithm.as_str())
        .bind(k.private_der.as_slice())
        .bind(k.created_at)
        .bind(k.activate_at)
        .bind(k.retire_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>> {
        timed!("list_keys");
        sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM signing_keys ORDER BY created_at, kid"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::key)
        .collect()
    }

    async fn retire_keys(
        &self,
        algorithm: Algorithm,
        except_kid: &str,
        retire_at: UnixTime,
    ) -> StoreResult<u64> {
        timed!("retire_keys");
        let done = sqlx::query(
            "UPDATE signing_keys SET retire_at = $1 \
             WHERE algorithm = $2 AND kid <> $3 AND (retire_at IS NULL OR retire_at > $1)",
        )
        .bind(retire_at)
        .bind(algorithm.as_str())
        .bind(except_kid)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_retired_keys(&self, now: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_retired_keys");
        let done = sqlx::query(
            "DELETE FROM signing_keys WHERE rowid IN (SELECT rowid FROM signing_keys WHERE \
             retire_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        timed!("create_session");
        sqlx::query(concat!(
            "INSERT INTO sessions (",
            session_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(s.id_hash.as_str())
        .bind(s.user_id.as_str())
        .bind(s.auth_time)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        timed!("get_session");
        sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id_hash = $1"
        ))
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::session(&row))
        .transpose()
    }

    async fn touch_session(&self, id_hash: &str, now: UnixTime) -> StoreResult<bool> {
        timed!("touch_session");
        let done = sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool> {
        timed!("delete_session");
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<u64> {
        timed!("delete_user_sessions");
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_sessions(
        &self,
        idle_before: UnixTime,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<u64> {
        timed!("purge_sessions");
        let done = sqlx::query(
            "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at <= \
             $1 OR last_seen_at < $2 LIMIT $3)",
        )
        .bind(now)
        .bind(idle_before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl LoginThrottleStore for SqliteStore {
    #[tracing::instrument(skip_all, name = "db.record_login_failure", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn record_login_failure(&self, key: &str, now: UnixTime) -> StoreResult<()> {
        timed!("record_login_failure");
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.count_login_failures", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn count_login_failures(&self, key: &str, since: UnixTime) -> StoreResult<u64> {
        timed!("count_login_failures");
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        rows::count(n)
    }

    #[tracing::instrument(skip_all, name = "db.clear_login_failures", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        timed!("clear_login_failures");
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_login_failures(&self, before: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_login_failures");
        let done = sqlx::query(
            "DELETE FROM login_failures WHERE rowid IN (SELECT rowid FROM login_failures WHERE at \
             < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    /// Two statements, no transaction: the insert either stores `candidate` or finds the name
    /// taken, and a row once stored never changes, so the read that follows sees the winner's
    /// value whoever won. A concurrent insert holds the write lock until it commits; the
    /// others wait for it (`busy_timeout`), then find the name taken.
    #[tracing::instrument(skip_all, fields(backend = "sqlite", name = name))]
    async fn get_or_create_secret(
        &self,
        name: &str,
        candidate: &[u8],
        now: UnixTime,
    ) -> StoreResult<Vec<u8>> {
        timed!("get_or_create_secret");
        let created = sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if created.rows_affected() > 0 {
            tracing::info!("created a server secret");
        }
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl RegistrationTokenStore for SqliteStore {
    async fn create_initial_token(&self, t: &InitialAccessToken) -> StoreResult<()> {
        timed!("create_initial_token");
        sqlx::query(concat!(
            "INSERT INTO initial_access_tokens (",
            initial_token_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(t.token_hash.as_str())
        .bind(t.description.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.max_uses.map(i64::from))
        .bind(i64::from(t.uses))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn use_initial_token(&self, token_hash: &str, now: UnixTime) -> StoreResult<bool> {
        timed!("use_initial_token");
        // One statement, so one atomic step: SQLite has one writer at a time, and each
        // concurrent use sees the count the previous one left.
        let done = sqlx::query(
            "UPDATE initial_access_tokens SET uses = uses + 1 \
             WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2) \
             AND (max_uses IS NULL OR uses < max_uses)",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_initial_tokens(&self) -> StoreResult<Vec<InitialAccessToken>> {
        timed!("list_initial_tokens");
        sqlx::query(concat!(
            "SELECT ",
            initial_token_columns!(),
            " FROM initial_access_tokens ORDER BY created_at, token_hash"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::initial_token)
        .collect()
    }

    async fn delete_initial_token(&self, token_hash: &str) -> StoreResult<bool> {
        timed!("delete_initial_token");
        let done = sqlx::query("DELETE FROM initial_access_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    #[tracing::instrument(skip_all, name = "db.append_events", fields(db.system = "sqlite", otel.kind = "client", count = events.len()))]
    async fn append_events(&self, events: &[oauth2_core::events::Event]) -> StoreResult<()> {
        timed!("append_events");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // 11 parameters a row: 500 rows stay far below either backend's limit.
        for chunk in events.chunks(500) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (event_id, at, kind, actor, subject, client_id, user_id, \
                 address, outcome, request_id, detail) ",
            );
            let mut encoded = Vec::with_capacity(chunk.len());
            for e in chunk {
                encoded.push(encode_detail(&e.detail)?);
            }
            insert.push_values(chunk.iter().zip(encoded), |mut row, (e, detail)| {
                row.push_bind(e.id.clone())
                    .push_bind(e.time)
                    .push_bind(e.kind.as_str())
                    .push_bind(e.actor.clone().unwrap_or_default())
                    .push_bind(e.subject.clone().unwrap_or_default())
                    .push_bind(e.client_id.clone())
                    .push_bind(e.user_id.clone())
                    .push_bind(e.address.clone())
                    .push_bind(e.outcome.as_str())
                    .push_bind(e.request_id.clone())
                    .push_bind(detail);
            });
            insert.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn list_events(&self, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>> {
        timed!("list_events");
        sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn purge_events(&self, before: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_events");
        let done = sqlx::query(
            "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    #[tracing::instrument(skip_all, name = "db.enqueue_webhooks", fields(db.system = "sqlite", otel.kind = "client", count = items.len()))]
    async fn enqueue_webhooks(&self, items: &[(String, String)], now: UnixTime) -> StoreResult<()> {
        timed!("enqueue_webhooks");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for chunk in items.chunks(500) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO webhook_outbox (event_id, payload, created_at, next_attempt_at) ",
            );
            insert.push_values(chunk, |mut row, (id, payload)| {
                row.push_bind(id.clone())
                    .push_bind(payload.clone())
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    #[tracing::instrument(skip_all, name = "db.claim_webhooks", fields(db.system = "sqlite", otel.kind = "client"))]
    async fn claim_webhooks(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>> {
        timed!("claim_webhooks");
        // One statement: two instances claiming at once never get the same item.
        let rows = sqlx::query(
            "UPDATE webhook_outbox SET locked_until = $2 WHERE id IN (\
             SELECT id FROM webhook_outbox WHERE failed_at IS NULL AND next_attempt_at <= $1 \
             AND (locked_until IS NULL OR locked_until <= $1) ORDER BY id LIMIT $3) \
             RETURNING id, event_id, payload, attempts",
        )
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut items = rows
            .iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.int("id")?,
                    event_id: row.text("event_id")?,
                    payload: row.text("payload")?,
                    attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING keeps no order: oldest first, as claimed.
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    async fn webhook_delivered(&self, id: i64, lease_until: UnixTime) -> StoreResult<bool> {
        timed!("webhook_delivered");
        let done = sqlx::query("DELETE FROM webhook_outbox WHERE id = $1 AND locked_until = $2")
            .bind(id)
            .bind(lease_until)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn webhook_failed(
        &self,
        id: i64,
        lease_until: UnixTime,
        retry_at: Option<UnixTime>,
        error: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        timed!("webhook_failed");
        let done = sqlx::query(
            "UPDATE webhook_outbox SET attempts = attempts + 1, locked_until = NULL, \
             last_error = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
             failed_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END \
             WHERE id = $1 AND locked_until = $5",
        )
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(lease_until)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn release_webhooks(&self, ids: &[i64]) -> StoreResult<()> {
        timed!("release_webhooks");
        for id in ids {
            sqlx::query("UPDATE webhook_outbox SET locked_until = NULL WHERE id = $1")
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn outbox_counts(&self) -> StoreResult<OutboxCounts> {
        timed!("outbox_counts");
        let row = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE failed_at IS NULL) AS pending, \
             COUNT(*) FILTER (WHERE failed_at IS NOT NULL) AS failed FROM webhook_outbox",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(OutboxCounts {
            pending: row.int("pending")?.max(0) as u64,
            failed: row.int("failed")?.max(0) as u64,
        })
    }

    async fn purge_failed_webhooks(&self, before: UnixTime, limit: u32) -> StoreResult<u64> {
        timed!("purge_failed_webhooks");
        let done = sqlx::query(
            "DELETE FROM webhook_outbox WHERE rowid IN (SELECT rowid FROM webhook_outbox WHERE \
             failed_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl Storage for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        timed!("ping");
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn counts(&self, idle_before: UnixTime, now: UnixTime) -> StoreResult<Counts> {
        timed!("counts");
        let (clients, users, sessions): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM clients), (SELECT COUNT(*) FROM users), \
             (SELECT COUNT(*) FROM sessions WHERE expires_at > $1 AND last_seen_at >= $2)",
        )
        .bind(now)
        .bind(idle_before)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Counts {
            clients: rows::count(clients)?,
            users: rows::count(users)?,
            active_sessions: rows::count(sessions)?,
        })
    }

    #[tracing::instrument(skip_all, fields(backend = "sqlite"))]
    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        timed!("migrate");
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            // BEGIN IMMEDIATE holds the write lock from the start: a second process migrating the
            // same file waits here (busy_timeout), then finds the version recorded.
            let mut tx = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(db_err)?;
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, \
                 applied_at INTEGER NOT NULL) STRICT",
            )
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            let done: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if done > 0 {
                tx.rollback().await.map_err(db_err)?;
                continue;
            }
            sqlx::raw_sql(m.sql)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            // The bookkeeping time comes from the database's clock: migrate() takes no `now`.
            sqlx::query(
                "INSERT INTO schema_migrations (version, description, applied_at) \
                 VALUES ($1, $2, unixepoch())",
            )
            .bind(m.version)
            .bind(m.description)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            tracing::info!(
                version = m.version,
                description = m.description,
                "applied migration"
            );
            applied.push(m.version);
        }
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        warn_if_newer(MIGRATIONS, newest);
        Ok(applied)
    }
}
