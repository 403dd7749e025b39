//! Password hashing for people's passwords: Argon2id, PHC string format.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::rand::SecureRandom;

/// Argon2id cost parameters (RFC 9106). The defaults follow OWASP's recommendation
/// (19 MiB, 2 passes, 1 lane); tests and benchmarks may lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    #[error("the system random number generator failed")]
    Random,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn hasher(p: PasswordParams) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(|e| PasswordError::Params(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=...`).
pub fn hash_password(
    password: &str,
    params: PasswordParams,
    rng: &dyn SecureRandom,
) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| PasswordError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    hasher(params)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Checks a password against a PHC string; the parameters stored in the string are used, so
/// hashes made with older parameters keep working.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let p = PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let h = hash_password("correct horse", p, &SystemRandom::new()).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
