//! Fresh databases and domain values for the tests.

use oauth2_core::UnixTime;
use oauth2_core::client::{AuthMethod, Client, GrantType, RedirectUri};
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{
    AccessTokenRecord, AuthorizationCode, Consent, InitialAccessToken, RefreshToken, Session,
    Storage, StoredKey, User,
};
use oauth2_core::scope::Scope;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// "Now" in every test: time is a parameter of the store, never read from a clock.
pub const NOW: UnixTime = 1_700_000_000;

/// A fresh, not yet migrated database, and whatever must be cleaned up once it is dropped.
pub struct TestDb {
    pub storage: Arc<dyn Storage>,
    pub url: String,
    // Declared after `storage`, so dropped after it.
    _file: Option<TempDbFile>,
}

pub async fn fresh_sqlite() -> Option<TestDb> {
    let file = TempDbFile::new();
    let url = file.url();
    let storage = oauth2_store::open(&url, 4).await.unwrap();
    Some(TestDb {
        storage,
        url,
        _file: Some(file),
    })
}

/// `None` (after a line on stderr) when PostgreSQL is unreachable outside CI.
pub async fn fresh_postgres() -> Option<TestDb> {
    let url = oauth2_store::testing::postgres_for_tests().await?;
    let storage = oauth2_store::open(&url, 4).await.unwrap();
    Some(TestDb {
        storage,
        url,
        _file: None,
    })
}

/// A unique SQLite path under the system temp dir, deleted (with its WAL files) on drop.
pub struct TempDbFile {
    path: PathBuf,
}

impl TempDbFile {
    pub fn new() -> TempDbFile {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "oauth2-store-it-{}-{}-{nanos}.db",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        TempDbFile {
            path: std::env::temp_dir().join(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn url(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

impl Drop for TempDbFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

pub fn scope(s: &str) -> Scope {
    Scope::parse(s).unwrap()
}

pub fn client(client_id: &str) -> Client {
    Client {
        client_id: client_id.to_owned(),
        secret_hash: Some(format!("secret-hash-of-{client_id}")),
        name: format!("Client {client_id}"),
        redirect_uris: vec![
            RedirectUri::parse("https://app.example.com/cb?x=1&y=\"2\"").unwrap(),
            RedirectUri::parse("com.example.app:/oauth2redirect").unwrap(),
        ],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scope: scope("openid profile api:read"),
        auth_method: AuthMethod::ClientSecretBasic,
        skip_consent: false,
        post_logout_redirect_uris: vec![],
        metadata: serde_json::Map::new(),
        registration_token_hash: None,
        admin: false,
        created_at: NOW - 100,
        updated_at: NOW - 50,
    }
}

/// A dynamically registered client with every optional field set, unusual characters included.
pub fn registered_client(client_id: &str) -> Client {
    let metadata = serde_json::json!({
        "client_uri": "https://app.example.com/",
        "logo_uri": "https://app.example.com/logo.png?size=\"64\"",
        "contacts": ["ops@example.com", "Zoë <z@example.com>"],
        "software_version": "1.2.3",
    });
    Client {
        post_logout_redirect_uris: vec![
            RedirectUri::parse("https://app.example.com/bye?x=1&y=\"2\"").unwrap(),
            RedirectUri::parse("http://127.0.0.1:9000/bye").unwrap(),
        ],
        metadata: metadata.as_object().unwrap().clone(),
        registration_token_hash: Some(format!("registration-token-hash-of-{client_id}")),
        admin: true,
        ..client(client_id)
    }
}

pub fn public_client(client_id: &str) -> Client {
    Client {
        secret_hash: None,
        redirect_uris: vec![],
        grant_types: vec![GrantType::Password],
        scope: Scope::empty(),
        auth_method: AuthMethod::None,
        skip_consent: true,
        ..client(client_id)
    }
}

pub fn user(id: &str, username: &str) -> User {
    User {
        id: id.to_owned(),
        username: username.to_owned(),
        email: Some(format!("{username}@example.com")),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        enabled: true,
        admin: false,
        created_at: NOW - 100,
        updated_at: NOW - 50,
    }
}

pub fn code(code_hash: &str, client_id: &str, family_id: &str) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: code_hash.to_owned(),
        client_id: client_id.to_owned(),
        user_id: "user-1".to_owned(),
        redirect_uri: "https://app.example.com/cb".to_owned(),
        scope: scope("openid profile"),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
        code_challenge_method: Some("S256".to_owned()),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        auth_time: NOW - 5,
        family_id: family_id.to_owned(),
        expires_at: NOW + 60,
        created_at: NOW,
    }
}

pub fn refresh(token_hash: &str, family_id: &str, client_id: &str) -> RefreshToken {
    RefreshToken {
        token_hash: token_hash.to_owned(),
        family_id: family_id.to_owned(),
        client_id: client_id.to_owned(),
        user_id: Some("user-1".to_owned()),
        scope: scope("openid offline_access"),
        auth_time: Some(NOW - 5),
        expires_at: NOW + 3600,
        created_at: NOW,
        rotated_at: None,
        revoked_at: None,
    }
}

pub fn access(jti: &str, family_id: &str, client_id: &str) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: jti.to_owned(),
        family_id: family_id.to_owned(),
        client_id: client_id.to_owned(),
        user_id: Some("user-1".to_owned()),
        scope: scope("openid"),
        expires_at: NOW + 300,
        created_at: NOW,
    }
}

pub fn consent(user_id: &str, client_id: &str) -> Consent {
    Consent {
        user_id: user_id.to_owned(),
        client_id: client_id.to_owned(),
        scope: scope("openid profile"),
        created_at: NOW,
        updated_at: NOW,
    }
}

pub fn key(kid: &str, algorithm: Algorithm, created_at: UnixTime) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        algorithm,
        // Every byte value, NUL and 0xFF included: the column must be binary-safe.
        private_der: (0..=255u8).rev().chain(kid.bytes()).collect(),
        created_at,
        activate_at: created_at + 60,
        retire_at: None,
    }
}

/// Signed in five seconds ago, seen just now, ending in an hour.
pub fn session(id_hash: &str, user_id: &str) -> Session {
    Session {
        id_hash: id_hash.to_owned(),
        user_id: user_id.to_owned(),
        auth_time: NOW - 5,
        created_at: NOW - 5,
        last_seen_at: NOW,
        expires_at: NOW + 3600,
    }
}

/// An initial access token made at `NOW`, unused.
pub fn initial_token(
    token_hash: &str,
    expires_at: Option<UnixTime>,
    max_uses: Option<u32>,
) -> InitialAccessToken {
    InitialAccessToken {
        token_hash: token_hash.to_owned(),
        description: format!("for {token_hash}, «quoted» \"too\""),
        created_at: NOW,
        expires_at,
        max_uses,
        uses: 0,
    }
}
