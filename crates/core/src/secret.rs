//! Random tokens and secret hashing.
//!
//! Client secrets, refresh tokens and codes are 256-bit random strings made by the server, so a
//! single SHA-256 is as strong as a password KDF against guessing, and costs a microsecond instead of
//! the tens of milliseconds that make bcrypt-hashed client secrets the bottleneck of other servers.
//! Passwords, chosen by people, go through Argon2id instead (see [`crate::password`]).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SecureRandom;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

/// `bytes` random bytes from `rng`, base64url without padding.
pub fn random_token(rng: &dyn SecureRandom, bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf).map_err(|_| RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Lower-case hex of `bytes` (ids in logs, traces and events).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// A 256-bit secret (client secret, refresh token, authorization code).
pub fn new_secret(rng: &dyn SecureRandom) -> Result<String, RandomError> {
    random_token(rng, 32)
}

/// The value stored for a secret: SHA-256, base64url.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn verify_secret(presented: &str, stored_hash: &str) -> bool {
    let presented = hash_secret(presented);
    presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// The system's random source failed; nothing sensible can go on without it.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

impl From<RandomError> for crate::OAuthError {
    fn from(e: RandomError) -> Self {
        crate::OAuthError::server_error(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(to_hex(&[]), "");
    }

    #[test]
    fn secrets_are_256_bits_and_distinct() {
        let rng = SystemRandom::new();
        let a = new_secret(&rng).unwrap();
        let b = new_secret(&rng).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn verify_accepts_only_the_same_secret() {
        let h = hash_secret("s3cret");
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("s3cres", &h));
        assert!(!verify_secret("", &h));
    }
}
