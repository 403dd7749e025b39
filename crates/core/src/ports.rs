//! The storage ports: one narrow async trait per aggregate. `oauth2-store` implements each of them
//! once per backend (SQLite, PostgreSQL), and one conformance suite checks every implementation.
//!
//! Secrets never cross this boundary in clear: codes, refresh tokens and client secrets arrive
//! already hashed ([`crate::secret::hash_secret`]).

use crate::UnixTime;
use crate::client::Client;
use crate::jose::Algorithm;
use crate::scope::Scope;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (client id, username, ...).
    #[error("already exists: {0}")]
    Conflict(String),
    /// Stored data that cannot be read back into the domain (a corrupt row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The backend failed: connection, timeout, SQL error. The text is for the log only.
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl From<StoreError> for crate::OAuthError {
    fn from(e: StoreError) -> Self {
        crate::OAuthError::server_error(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Largest batch [`AccessTokenStore::revoked_among`] is asked for.
pub const MAX_DENY_BATCH: usize = 256;

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] if the client id exists.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// Clients ordered by `client_id`, starting after `after`, at most `limit`.
    async fn list_clients(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Client>>;
    /// Replaces every field but `client_id` and `created_at`; false if there is no such client.
    async fn update_client(&self, client: &Client) -> StoreResult<bool>;
    /// Deletes the client and everything issued to it (codes, refresh tokens, consents).
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
    /// Clients whose name or id contains `query`, ignoring the case of ASCII letters (on every
    /// backend alike), ordered by `client_id`, starting after `after`, at most `limit`.
    async fn search_clients(
        &self,
        query: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Client>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable subject identifier, never reused.
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    /// Argon2id PHC string; `None` for users who only sign in through an upstream provider.
    pub password_hash: Option<String>,
    pub enabled: bool,
    pub admin: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] if the id or username exists.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, id: &str) -> StoreResult<Option<User>>;
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    /// Users ordered by username, starting after `after`, at most `limit`.
    async fn list_users(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>>;
    /// Replaces every field but `id` and `created_at`; false if there is no such user.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// Users whose username or email contains `query`, ignoring the case of ASCII letters (on
    /// every backend alike), ordered by username, starting after `after`, at most `limit`.
    async fn search_users(
        &self,
        query: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
}

/// An authorization code, stored by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: Scope,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: UnixTime,
    /// The grant (token family) the code starts; tokens issued from it carry the same id.
    pub family_id: String,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now marked used and its data returned.
    Redeemed(AuthorizationCode),
    /// The code was used before: a replay. The caller revokes the family.
    AlreadyUsed {
        family_id: String,
        client_id: String,
    },
    NotFound,
}

#[async_trait]
pub trait AuthorizationCodeStore: Send + Sync {
    async fn insert_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Marks the code used and returns it, in one atomic step: of any number of concurrent
    /// redemptions, on any number of instances, exactly one gets `Redeemed`. Expiry is the
    /// caller's decision (the record is returned even when expired).
    async fn redeem_code(&self, code_hash: &str, now: UnixTime) -> StoreResult<CodeRedemption>;
    /// Deletes codes that expired before `now` (used or not); returns how many.
    /// One batch: at most `limit` rows in one statement, so a backlog never holds a long lock;
    /// fewer than `limit` means nothing more was found (the caller loops until then).
    async fn purge_expired_codes(&self, now: UnixTime, limit: u32) -> StoreResult<u64>;
}

/// The record of an access token issued on behalf of a user, so that revoking its family can
/// revoke it too. client_credentials tokens have no record: nothing revokes them in bulk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: Scope,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
}

/// Whose tokens a listing or a bulk revocation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOwner {
    /// Every token issued to the client.
    Client(String),
    /// Every token issued on behalf of the user, at any client.
    User(String),
    /// The tokens of one user at one client (what one consent led to).
    UserAtClient { user_id: String, client_id: String },
}

impl TokenOwner {
    /// The `(client_id, user_id)` filter: `None` matches any.
    pub fn filter(&self) -> (Option<&str>, Option<&str>) {
        match self {
            TokenOwner::Client(c) => (Some(c), None),
            TokenOwner::User(u) => (None, Some(u)),
            TokenOwner::UserAtClient { user_id, client_id } => (Some(client_id), Some(user_id)),
        }
    }
}

#[async_trait]
pub trait AccessTokenStore: Send + Sync {
    async fn record_access_token(&self, record: &AccessTokenRecord) -> StoreResult<()>;
    /// Puts one token on the deny list until it expires anyway. Idempotent.
    async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<()>;
    async fn is_access_token_revoked(&self, jti: &str) -> StoreResult<bool>;
    /// Of these `jti`s, the ones on the deny list: one round trip for a batch of concurrent
    /// introspections. At most [`MAX_DENY_BATCH`] at a time.
    async fn revoked_among(&self, jtis: &[String]) -> StoreResult<Vec<String>>;
    /// Puts every recorded access token of the family on the deny list; returns how many.
    async fn revoke_family_access_tokens(&self, family_id: &str, now: UnixTime)
    -> StoreResult<u64>;
    /// Deletes deny-list entries and records of tokens expired before `now`; returns how many.
    /// One batch: at most `limit` rows in all (deny list first, then records), in statements of
    /// at most `limit` rows; fewer than `limit` means nothing more was found.
    async fn purge_expired_access_tokens(&self, now: UnixTime, limit: u32) -> StoreResult<u64>;
    async fn get_access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>>;
    /// The owner's recorded access tokens that are live at `now` (unexpired, not on the deny
    /// list), newest first, at most `limit`.
    async fn list_access_tokens(
        &self,
        owner: &TokenOwner,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<AccessTokenRecord>>;
}

/// A refresh token, stored by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: Scope,
    pub auth_time: Option<UnixTime>,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
    /// Set when the token was exchanged for its successor.
    pub rotated_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The old token was live and is now rotated out; the successor is stored. Carries the old
    /// token (with `rotated_at` set). Expiry is the caller's decision, checked before rotating.
    Rotated(RefreshToken),
    /// The token was rotated out before: reuse. The caller revokes the family.
    Reused {
        family_id: String,
        client_id: String,
    },
    /// The token (or its family) was revoked.
    Revoked,
    NotFound,
}

#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks `old_hash` rotated and stores `successor`, atomically: of concurrent rotations of one
    /// token exactly one gets `Rotated`.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        successor: &RefreshToken,
        now: UnixTime,
    ) -> StoreResult<RefreshRotation>;
    /// Revokes every refresh token of the family; returns how many were live.
    async fn revoke_refresh_family(&self, family_id: &str, now: UnixTime) -> StoreResult<u64>;
    /// Deletes refresh tokens expired before `now`; returns how many.
    /// One batch: at most `limit` rows in one statement, so a backlog never holds a long lock;
    /// fewer than `limit` means nothing more was found (the caller loops until then).
    async fn purge_expired_refresh_tokens(&self, now: UnixTime, limit: u32) -> StoreResult<u64>;
    /// The owner's refresh tokens that are live at `now` (not rotated out, not revoked,
    /// unexpired), newest first, at most `limit`.
    async fn list_refresh_tokens(
        &self,
        owner: &TokenOwner,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<RefreshToken>>;
    /// The refresh tokens whose hash starts with `prefix` (a public id derived from the hash
    /// names one without revealing it), at most two: the caller refuses an ambiguous prefix.
    async fn find_refresh_tokens_by_hash_prefix(
        &self,
        prefix: &str,
    ) -> StoreResult<Vec<RefreshToken>>;
    /// The families the owner holds something live of at `now`: a live refresh token or an
    /// unexpired recorded access token. What revoking "everything of a user" goes through.
    async fn token_families(&self, owner: &TokenOwner, now: UnixTime) -> StoreResult<Vec<String>>;
}

/// What a user has allowed a client to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub user_id: String,
    pub client_id: String,
    pub scope: Scope,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn get_consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Consent>>;
    /// Inserts or replaces the consent of this user for this client.
    async fn save_consent(&self, consent: &Consent) -> StoreResult<()>;
    async fn delete_consent(&self, user_id: &str, client_id: &str) -> StoreResult<bool>;
    async fn list_consents(&self, user_id: &str) -> StoreResult<Vec<Consent>>;
}

/// A persisted asymmetric signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub algorithm: Algorithm,
    /// PKCS#8 DER of the private key.
    pub private_der: Vec<u8>,
    pub created_at: UnixTime,
    /// Signing starts at this time; the key is published from `created_at` on.
    pub activate_at: UnixTime,
    /// After this time the key is neither used nor published.
    pub retire_at: Option<UnixTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("activate_at", &self.activate_at)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    async fn insert_key(&self, key: &StoredKey) -> StoreResult<()>;
    /// Every key, oldest first.
    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Sets `retire_at` of every key of `algorithm` other than `except_kid` that has none yet, or a
    /// later one; returns how many changed.
    async fn retire_keys(
        &self,
        algorithm: Algorithm,
        except_kid: &str,
        retire_at: UnixTime,
    ) -> StoreResult<u64>;
    /// Deletes keys retired before `now`; returns how many.
    /// One batch: at most `limit` rows in one statement, so a backlog never holds a long lock;
    /// fewer than `limit` means nothing more was found (the caller loops until then).
    async fn purge_retired_keys(&self, now: UnixTime, limit: u32) -> StoreResult<u64>;
}

/// A signed-in browser session, stored by the hash of the id its cookie carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    /// When the user last proved who they are (OIDC `auth_time`).
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    /// Absolute end, whatever the activity.
    pub expires_at: UnixTime,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Sets `last_seen_at`; false if there is no such session.
    async fn touch_session(&self, id_hash: &str, now: UnixTime) -> StoreResult<bool>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// Signs a user out everywhere; returns how many sessions ended.
    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<u64>;
    /// Deletes sessions past their absolute end (`expires_at <= now`) or idle since before
    /// `idle_before` (`last_seen_at < idle_before`); returns how many.
    /// One batch: at most `limit` rows in one statement, so a backlog never holds a long lock;
    /// fewer than `limit` means nothing more was found (the caller loops until then).
    async fn purge_sessions(
        &self,
        idle_before: UnixTime,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<u64>;
}

/// Failed sign-in attempts, counted per key (`user:alice`, `ip:192.0.2.1`) so that brute-force
/// protection holds across instances.
#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    async fn record_login_failure(&self, key: &str, now: UnixTime) -> StoreResult<()>;
    /// Failures recorded for `key` at or after `since`.
    async fn count_login_failures(&self, key: &str, since: UnixTime) -> StoreResult<u64>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    /// Deletes failures recorded before `before`; returns how many.
    /// One batch: at most `limit` rows in one statement, so a backlog never holds a long lock;
    /// fewer than `limit` means nothing more was found (the caller loops until then).
    async fn purge_login_failures(&self, before: UnixTime, limit: u32) -> StoreResult<u64>;
}

/// Named server-wide secrets (e.g. the cookie key), made once and shared by every instance.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The stored value of `name`; if there is none, stores `candidate` and returns it. Atomic:
    /// concurrent callers (several instances starting at once) all get the same value.
    async fn get_or_create_secret(
        &self,
        name: &str,
        candidate: &[u8],
        now: UnixTime,
    ) -> StoreResult<Vec<u8>>;
}

/// An initial access token (RFC 7591 §3): lets its holder register clients when the
/// registration policy is `token`. Stored by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialAccessToken {
    pub token_hash: String,
    pub description: String,
    pub created_at: UnixTime,
    /// `None`: never expires.
    pub expires_at: Option<UnixTime>,
    /// `None`: any number of registrations.
    pub max_uses: Option<u32>,
    pub uses: u32,
}

#[async_trait]
pub trait RegistrationTokenStore: Send + Sync {
    async fn create_initial_token(&self, token: &InitialAccessToken) -> StoreResult<()>;
    /// Counts one use of the token, atomically, if it is unexpired at `now` and has uses left;
    /// false otherwise (unknown, expired or used up). Concurrent uses never exceed `max_uses`.
    async fn use_initial_token(&self, token_hash: &str, now: UnixTime) -> StoreResult<bool>;
    async fn list_initial_tokens(&self) -> StoreResult<Vec<InitialAccessToken>>;
    async fn delete_initial_token(&self, token_hash: &str) -> StoreResult<bool>;
}

/// Connection pool figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections, idle or in use.
    pub size: u32,
    pub idle: u32,
    /// The configured maximum.
    pub max: u32,
}

/// An event as the audit table keeps it (see [`crate::events::Event`] for the fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Assigned by the store on append, increasing: later events have larger ids. What pages of
    /// the audit log are cut by.
    pub id: i64,
    /// The event's own id ([`crate::events::Event::id`]); for rows written before events had
    /// one, the row id.
    pub event_id: String,
    pub at: UnixTime,
    /// What happened, `area.verb`: `client.created`, `login.failed`, ...
    pub kind: String,
    /// Who did it: a user id, a client id, `cli`; empty for an anonymous caller.
    pub actor: String,
    /// What it was done to: a client id, a user id, a token id, a key id; may be empty.
    pub subject: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub address: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    pub request_id: Option<String>,
    /// What else is worth knowing (never a secret), as a JSON value.
    pub detail: serde_json::Value,
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends events in one transaction (the event pipeline writes in batches).
    async fn append_events(&self, events: &[crate::events::Event]) -> StoreResult<()>;
    /// Events newest first, starting after (that is, older than) the event `after`, at most
    /// `limit`.
    async fn list_events(&self, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>>;
    /// Deletes at most `limit` events older than `before` (retention); returns how many.
    async fn purge_events(&self, before: UnixTime, limit: u32) -> StoreResult<u64>;
}

/// One event waiting in the webhook outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub event_id: String,
    /// The JSON body to send.
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// How many events the webhook outbox holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Still to be delivered.
    pub pending: u64,
    /// Given up on after the last attempt.
    pub failed: u64,
}

/// The webhook outbox: events are delivered at least once, across restarts and instances.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Adds `(event_id, payload)` pairs, due at once.
    async fn enqueue_webhooks(&self, items: &[(String, String)], now: UnixTime) -> StoreResult<()>;
    /// Claims up to `limit` due items (oldest first) until `lease_until`: no other caller gets
    /// them until then, on any instance, unless they are released.
    async fn claim_webhooks(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>>;
    /// Delivered: the item goes. Only while the claim that ends at `lease_until` still holds
    /// it (a claim that ran out belongs to whoever claimed the item since); returns whether.
    async fn webhook_delivered(&self, id: i64, lease_until: UnixTime) -> StoreResult<bool>;
    /// An attempt failed: due again at `retry_at`, or given up on (`None`); only under the
    /// claim that ends at `lease_until`, so an attempt is never counted twice. Returns whether.
    async fn webhook_failed(
        &self,
        id: i64,
        lease_until: UnixTime,
        retry_at: Option<UnixTime>,
        error: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Gives claimed items back (at shutdown), due at once.
    async fn release_webhooks(&self, ids: &[i64]) -> StoreResult<()>;
    async fn outbox_counts(&self) -> StoreResult<OutboxCounts>;
    /// Deletes at most `limit` given-up items that failed before `before`; returns how many.
    async fn purge_failed_webhooks(&self, before: UnixTime, limit: u32) -> StoreResult<u64>;
}

/// How many there are of what the admin dashboard's overview counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub clients: u64,
    pub users: u64,
    /// Sessions neither past their absolute end nor idle too long.
    pub active_sessions: u64,
}

/// Every port together: what the actors hold (as `Arc<dyn Storage>`).
#[async_trait]
pub trait Storage:
    ClientStore
    + UserStore
    + AuthorizationCodeStore
    + AccessTokenStore
    + RefreshTokenStore
    + ConsentStore
    + SigningKeyStore
    + SessionStore
    + LoginThrottleStore
    + SecretStore
    + RegistrationTokenStore
    + EventStore
    + OutboxStore
{
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Connection pool figures, for metrics.
    fn pool_stats(&self) -> PoolStats;
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
    /// Clients, users, and sessions that are live: not past their absolute end
    /// (`expires_at > now`) and seen since `idle_before` (`last_seen_at >= idle_before`).
    async fn counts(&self, idle_before: UnixTime, now: UnixTime) -> StoreResult<Counts>;
    /// Applies the migrations not applied yet, safely when several instances start at once;
    /// returns the versions it applied.
    async fn migrate(&self) -> StoreResult<Vec<i64>>;
}
