//! Signing keys: generated on first start, persisted so that every instance signs with the same
//! keys, cached in memory (never read from the database per request), and rotated without a
//! resource server ever meeting an unknown `kid`.

use oauth2_core::jose::{Algorithm, JoseError, JwkSet, SigningKey, VerifyingKey};
use oauth2_core::ports::{Storage, StoreError, StoredKey};
use oauth2_core::secret::random_token;
use oauth2_core::{SecureRandom, UnixTime};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key: {0}")]
    Jose(#[from] JoseError),
    #[error("HS256 needs OAUTH2_JWT_SECRET")]
    MissingSecret,
    #[error("the system random number generator failed")]
    Random,
}

impl From<KeyError> for oauth2_core::OAuthError {
    fn from(e: KeyError) -> Self {
        oauth2_core::OAuthError::server_error(e)
    }
}

/// Slack for clocks of resource servers that run a little behind ours.
const CLOCK_SKEW: i64 = 60;

struct Candidate {
    key: Arc<SigningKey>,
    activate_at: UnixTime,
    retire_at: Option<UnixTime>,
}

/// One loaded generation of keys.
pub struct KeySet {
    /// Keys of the configured algorithm that may sign, newest activation first.
    signers: Vec<Candidate>,
    verifiers: HashMap<String, Arc<VerifyingKey>>,
    jwks: JwkSet,
}

impl KeySet {
    /// The key that signs at `now`: the most recently activated live key of the configured algorithm.
    pub fn signing_key(&self, now: UnixTime) -> Option<&Arc<SigningKey>> {
        self.signers
            .iter()
            .find(|c| c.activate_at <= now && c.retire_at.is_none_or(|r| r > now))
            .map(|c| &c.key)
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.verifiers.get(kid)
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    fn build(stored: &[StoredKey], settings: &Settings, now: UnixTime) -> Result<KeySet, KeyError> {
        let mut signers = Vec::new();
        let mut verifiers = HashMap::new();
        let mut jwks = JwkSet::default();
        for s in stored {
            if s.retire_at.is_some_and(|r| r <= now) {
                continue;
            }
            let key = SigningKey::from_pkcs8(s.algorithm, s.kid.clone(), &s.private_der)?;
            verifiers.insert(s.kid.clone(), Arc::new(key.verifying_key()?));
            if let Some(jwk) = key.public_jwk() {
                jwks.keys.push(jwk);
            }
            if s.algorithm == settings.algorithm {
                signers.push(Candidate {
                    key: Arc::new(key),
                    activate_at: s.activate_at,
                    retire_at: s.retire_at,
                });
            }
        }
        if settings.algorithm == Algorithm::HS256 {
            let secret = settings
                .jwt_secret
                .as_ref()
                .ok_or(KeyError::MissingSecret)?;
            let key = hmac_key(secret.0.as_bytes());
            verifiers.insert(key.kid().to_owned(), Arc::new(key.verifying_key()?));
            signers.push(Candidate {
                key: Arc::new(key),
                activate_at: 0,
                retire_at: None,
            });
        }
        signers.sort_by_key(|c| std::cmp::Reverse(c.activate_at));
        Ok(KeySet {
            signers,
            verifiers,
            jwks,
        })
    }
}

/// The shared secret's `kid`: a short digest, so tokens name the secret they were signed with
/// without revealing anything usable about it.
fn hmac_key(secret: &[u8]) -> SigningKey {
    let digest = oauth2_core::secret::hash_secret(&String::from_utf8_lossy(secret));
    SigningKey::hmac(format!("hs256-{}", &digest[..12]), secret)
}

/// The in-memory key cache of one instance.
pub struct KeyRing {
    current: RwLock<Arc<KeySet>>,
}

impl KeyRing {
    /// Loads the keys, generating the first key of the configured algorithm if there is none.
    pub async fn load(
        store: &dyn Storage,
        settings: &Settings,
        rng: &dyn SecureRandom,
        now: UnixTime,
    ) -> Result<KeyRing, KeyError> {
        let mut stored = store.list_keys().await?;
        let has_signer = stored.iter().any(|k| {
            k.algorithm == settings.algorithm
                && k.activate_at <= now
                && k.retire_at.is_none_or(|r| r > now)
        });
        if !settings.algorithm.is_symmetric() && !has_signer {
            // First start, or the algorithm changed: sign with a new key at once. Two instances
            // starting together may both do this; both keys are then published and either signs.
            let key = new_stored_key(settings.algorithm, rng, now, now)?;
            store.insert_key(&key).await?;
            tracing::info!(kid = %key.kid, alg = %key.algorithm, "generated a signing key");
            // Keys of another algorithm (a changed configuration) stay published until the tokens
            // they signed have expired, then retire.
            let retire_at = now + settings.access_token_ttl + CLOCK_SKEW;
            let mut others: Vec<Algorithm> = stored
                .iter()
                .filter(|k| k.algorithm != settings.algorithm && k.retire_at.is_none())
                .map(|k| k.algorithm)
                .collect();
            others.sort_by_key(|a| a.as_str());
            others.dedup();
            for alg in others {
                store.retire_keys(alg, &key.kid, retire_at).await?;
            }
            stored = store.list_keys().await?;
        }
        let set = KeySet::build(&stored, settings, now)?;
        Ok(KeyRing {
            current: RwLock::new(Arc::new(set)),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the keys from the database (to pick up keys rotated by another instance or the CLI).
    pub async fn reload(
        &self,
        store: &dyn Storage,
        settings: &Settings,
        now: UnixTime,
    ) -> Result<Arc<KeySet>, KeyError> {
        let stored = store.list_keys().await?;
        let set = Arc::new(KeySet::build(&stored, settings, now)?);
        match self.current.write() {
            Ok(mut g) => *g = set.clone(),
            Err(poisoned) => *poisoned.into_inner() = set.clone(),
        }
        Ok(set)
    }
}

fn new_stored_key(
    alg: Algorithm,
    rng: &dyn SecureRandom,
    now: UnixTime,
    activate_at: UnixTime,
) -> Result<StoredKey, KeyError> {
    let kid = random_token(rng, 12).map_err(|_| KeyError::Random)?;
    let (_, der) = SigningKey::generate(alg, kid.clone())?;
    Ok(StoredKey {
        kid,
        algorithm: alg,
        private_der: der,
        created_at: now,
        activate_at,
        retire_at: None,
    })
}

/// Adds a key that is published now and signs after `settings.key_activation_delay`; the keys it
/// replaces stop signing then and stay published until every token they signed has expired.
pub async fn rotate(
    store: &dyn Storage,
    settings: &Settings,
    rng: &dyn SecureRandom,
    now: UnixTime,
) -> Result<StoredKey, KeyError> {
    if settings.algorithm.is_symmetric() {
        return Err(KeyError::Jose(JoseError::UnsupportedAlgorithm));
    }
    // Strictly after every existing key, so "the most recently activated key signs" has exactly
    // one answer even when two rotations fall within one second.
    let latest = store
        .list_keys()
        .await?
        .iter()
        .filter(|k| k.algorithm == settings.algorithm)
        .map(|k| k.activate_at)
        .max()
        .unwrap_or(i64::MIN);
    let activate_at = (now + settings.key_activation_delay).max(latest.saturating_add(1));
    let key = new_stored_key(settings.algorithm, rng, now, activate_at)?;
    store.insert_key(&key).await?;
    // The old keys sign until `activate_at`; their last tokens expire one lifetime later.
    let retire_at = activate_at + settings.access_token_ttl + CLOCK_SKEW;
    store
        .retire_keys(settings.algorithm, &key.kid, retire_at)
        .await?;
    tracing::info!(kid = %key.kid, activate_at, "rotated signing key");
    Ok(key)
}
