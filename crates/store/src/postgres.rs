//! The PostgreSQL backend, for several instances sharing one database.
//!
//! Atomic steps rely on row locks under READ COMMITTED: a guarded `UPDATE .. WHERE used_at IS
//! NULL` (or `rotated_at IS NULL`) that waits for a concurrent one re-checks its condition once
//! the other commits, so exactly one of them changes the row. Migrations hold a transaction-level
//! advisory lock, so instances starting at once apply each migration once.

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
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// How long to wait for a connection, and so for an unreachable server.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the one extra connection attempt that explains a failure may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The advisory lock key that serialises migrations across instances ("oauth2" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f61_7574_6832;

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "sessions, login throttling and server secrets",
        sql: include_str!("../migrations/postgres/0002_sessions.sql"),
    },
    Migration {
        version: 3,
        description: "client metadata, admin clients and initial access tokens",
        sql: include_str!("../migrations/postgres/0003_client_metadata.sql"),
    },
    Migration {
        version: 4,
        description: "the admin API's event log and token indexes",
        sql: include_str!("../migrations/postgres/0004_admin.sql"),
    },
    Migration {
        version: 5,
        description: "every kind of event in the audit table; the webhook outbox",
        sql: include_str!("../migrations/postgres/0005_events.sql"),
    },
];

type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

/// The ports on a PostgreSQL database (in the schema of the connection's `search_path`).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`), with at most
    /// `max_connections` connections. A connection that cannot be had within 5 s is an error, so
    /// an unreachable database fails fast. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Backend(format!("invalid PostgreSQL URL '{}': {e}", redact_url(url)))
        })?;
        // The pool retries a refused connection until the timeout (the server may be starting
        // next to us), then reports only "pool timed out": probe once more for the cause.
        let pool = match PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            Err(sqlx::Error::PoolTimedOut) => {
                let cause = match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
                    Ok(Err(e)) => e.to_string(),
                    Ok(Ok(_)) | Err(_) => "no connection within the time allowed".to_owned(),
                };
                return Err(StoreError::Backend(format!(
                    "cannot connect to PostgreSQL at '{}' within {} s: {cause}",
                    redact_url(url),
                    ACQUIRE_TIMEOUT.as_secs()
                )));
            }
            Err(e) => {
                return Err(StoreError::Backend(format!(
                    "cannot connect to PostgreSQL at '{}': {e}",
                    redact_url(url)
                )));
            }
        };
        Ok(PgStore { pool })
    }

    /// The underlying pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
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
impl ClientStore for PgStore {
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

    #[tracing::instrument(skip_all, name = "db.get_client", fields(db.system = "postgresql", otel.kind = "client"))]
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
        // Codes, token records and consents go with it: ON DELETE CASCADE.
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
            " FROM clients WHERE (strpos(translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $1) > 0 OR strpos(translate(client_id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $1) > 0) \
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
impl UserStore for PgStore {
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

    #[tracing::instrument(skip_all, name = "db.get_user", fields(db.system = "postgresql", otel.kind = "client"))]
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

    #[tracing::instrument(skip_all, name = "db.find_user_by_username", fields(db.system = "postgresql", otel.kind = "client"))]
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
            " FROM users WHERE (strpos(translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $1) > 0 OR strpos(translate(COALESCE(email, ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $1) > 0) \
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
impl AuthorizationCodeStore for PgStore {
    #[tracing::instrument(skip_all, name = "db.insert_code", fields(db.system = "postgresql", otel.kind = "client"))]
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

    #[tracing::instrument(skip_all, name = "db.redeem_code", fields(db.system = "postgresql", otel.kind = "client"))]
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
            "DELETE FROM authorization_codes WHERE ctid = ANY(ARRAY(SELECT ctid FROM \
             authorization_codes WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
impl AccessTokenStore for PgStore {
    #[tracing::instrument(skip_all, name = "db.record_access_token", fields(db.system = "postgresql", otel.kind = "client"))]
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

    #[tracing::instrument(skip_all, name = "db.revoke_access_token", fields(db.system = "postgresql", otel.kind = "client"))]
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

    #[tracing::instrument(skip_all, name = "db.is_access_token_revoked", fields(db.system = "postgresql", otel.kind = "client"))]
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
    #[tracing::instrument(skip_all, name = "db.revoked_among", fields(db.system = "postgresql", otel.kind = "client", batch = jtis.len()))]
    async fn revoked_among(&self, jtis: &[String]) -> StoreResult<Vec<String>> {
        timed!("revoked_among");
        if jtis.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT jti FROM revoked_access_tokens WHERE jti = ANY($1)")
            .bind(jtis)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    #[tracing::instrument(skip_all, name = "db.revoke_family_access_tokens", fields(db.system = "postgresql", otel.kind = "client"))]
    async fn revoke_family_access_tokens(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> StoreResult<u64> {
        timed!("revoke_family_access_tokens");
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
            "DELETE FROM revoked_access_tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM \
             revoked_access_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
            "DELETE FROM access_tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM access_tokens \
             WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
impl RefreshTokenStore for PgStore {
    #[tracing::instrument(skip_all, name = "db.insert_refresh_token", fields(db.system = "postgresql", otel.kind = "client"))]
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
        timed!("insert_refresh_token");
        insert_refresh(token)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, name = "db.get_refresh_token", fields(db.system = "postgresql", otel.kind = "client"))]
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
    #[tracing::instrument(skip_all, name = "db.rotate_refresh_token", fields(db.system = "postgresql", otel.kind = "client"))]
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        successor: &RefreshToken,
        now: UnixTime,
    ) -> StoreResult<RefreshRotation> {
        timed!("rotate_refresh_token");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
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

    #[tracing::instrument(skip_all, name = "db.revoke_refresh_family", fields(db.system = "postgresql", otel.kind = "client"))]
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
            "DELETE FROM refresh_tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM refresh_tokens \
             WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
            " FROM refresh_tokens WHERE left(token_hash, char_length($1)) = $1 ORDER BY token_hash LIMIT 2"
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
impl ConsentStore for PgStore {
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
impl SigningKeyStore for PgStore {
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
            "DELETE FROM signing_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM signing_keys WHERE \
             retire_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
impl SessionStore for PgStore {
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
            "DELETE FROM sessions WHERE ctid = ANY(ARRAY(SELECT ctid FROM sessions WHERE \
             expires_at <= $1 OR last_seen_at < $2 LIMIT $3 FOR UPDATE SKIP LOCKED))",
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
impl LoginThrottleStore for PgStore {
    #[tracing::instrument(skip_all, name = "db.record_login_failure", fields(db.system = "postgresql", otel.kind = "client"))]
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

    #[tracing::instrument(skip_all, name = "db.count_login_failures", fields(db.system = "postgresql", otel.kind = "client"))]
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

    #[tracing::instrument(skip_all, name = "db.clear_login_failures", fields(db.system = "postgresql", otel.kind = "client"))]
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
            "DELETE FROM login_failures WHERE ctid = ANY(ARRAY(SELECT ctid FROM login_failures \
             WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
impl SecretStore for PgStore {
    /// Two statements, no transaction: the insert either stores `candidate` or finds the name
    /// taken, and a row once stored never changes, so the read that follows sees the winner's
    /// value whoever won. An insert that meets a concurrent, uncommitted insert of the same name
    /// waits for it to commit, then does nothing; the read, a new statement, sees the committed
    /// row.
    #[tracing::instrument(skip_all, fields(backend = "postgres", name = name))]
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
impl RegistrationTokenStore for PgStore {
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
        // One statement, so one atomic step: a concurrent use waits for the row lock, then
        // re-checks the condition against the count the other one left (READ COMMITTED).
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
impl EventStore for PgStore {
    #[tracing::instrument(skip_all, name = "db.append_events", fields(db.system = "postgres", otel.kind = "client", count = events.len()))]
    async fn append_events(&self, events: &[oauth2_core::events::Event]) -> StoreResult<()> {
        timed!("append_events");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // 11 parameters a row: 500 rows stay far below either backend's limit.
        for chunk in events.chunks(500) {
            let mut insert = sqlx::QueryBuilder::<Postgres>::new(
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
            "DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT ctid FROM events WHERE at < $1 \
             LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
impl OutboxStore for PgStore {
    #[tracing::instrument(skip_all, name = "db.enqueue_webhooks", fields(db.system = "postgres", otel.kind = "client", count = items.len()))]
    async fn enqueue_webhooks(&self, items: &[(String, String)], now: UnixTime) -> StoreResult<()> {
        timed!("enqueue_webhooks");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for chunk in items.chunks(500) {
            let mut insert = sqlx::QueryBuilder::<Postgres>::new(
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

    #[tracing::instrument(skip_all, name = "db.claim_webhooks", fields(db.system = "postgres", otel.kind = "client"))]
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
             AND (locked_until IS NULL OR locked_until <= $1) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
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
            "DELETE FROM webhook_outbox WHERE ctid = ANY(ARRAY(SELECT ctid FROM webhook_outbox \
             WHERE failed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
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
impl Storage for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
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

    #[tracing::instrument(skip_all, fields(backend = "postgres"))]
    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        timed!("migrate");
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            // The lock is held until this transaction ends: a second instance waits here, then
            // finds the version recorded. Taking it before CREATE TABLE IF NOT EXISTS matters
            // too: two concurrent creations of one table can fail on PostgreSQL.
            let mut tx = self.pool.begin().await.map_err(db_err)?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version BIGINT NOT NULL PRIMARY KEY, description TEXT NOT NULL, \
                 applied_at BIGINT NOT NULL)",
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
                 VALUES ($1, $2, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))",
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
