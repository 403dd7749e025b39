//! CSRF tokens for the browser forms: the form carries an HMAC of a random value that only the
//! browser's own cookie holds, so another site can neither read nor forge it. Stateless, so it works
//! across instances that share the key.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn key(secret: &[u8]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret)
}

/// The token a form must carry for the CSRF cookie value `nonce`.
pub fn token(secret: &[u8], nonce: &str) -> String {
    let tag = hmac::sign(&key(secret), format!("csrf:{nonce}").as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// Checks a submitted token against the cookie value, in constant time.
pub fn verify(secret: &[u8], nonce: &str, submitted: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(submitted) else {
        return false;
    };
    !nonce.is_empty()
        && hmac::verify(&key(secret), format!("csrf:{nonce}").as_bytes(), &tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_its_own_cookie_and_key() {
        let t = token(b"k1", "n1");
        assert!(verify(b"k1", "n1", &t));
        assert!(!verify(b"k1", "n2", &t));
        assert!(!verify(b"k2", "n1", &t));
        assert!(!verify(b"k1", "", &token(b"k1", "")));
        assert!(!verify(b"k1", "n1", "garbage!"));
    }
}
