//! Proof Key for Code Exchange (RFC 7636).

use crate::error::OAuthError;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
    /// Only when the configuration allows it (RFC 9700 §2.1.1 recommends S256).
    Plain,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::S256 => "S256",
            Method::Plain => "plain",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "S256" => Some(Method::S256),
            "plain" => Some(Method::Plain),
            _ => None,
        }
    }
}

/// `code-verifier = 43*128unreserved` and the same grammar for S256 challenges' alphabet.
fn is_unreserved(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks a `code_challenge` as received at the authorization endpoint.
pub fn validate_challenge(challenge: &str, method: Method) -> Result<(), OAuthError> {
    let ok = match method {
        // base64url of a SHA-256 digest: exactly 43 characters.
        Method::S256 => challenge.len() == 43 && is_unreserved(challenge),
        Method::Plain => (43..=128).contains(&challenge.len()) && is_unreserved(challenge),
    };
    if ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_request("code_challenge is malformed"))
    }
}

/// Checks a `code_verifier` against the stored challenge (RFC 7636 §4.6), in constant time.
pub fn verify(verifier: &str, challenge: &str, method: Method) -> bool {
    if !(43..=128).contains(&verifier.len()) || !is_unreserved(verifier) {
        return false;
    }
    let computed = match method {
        Method::S256 => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
        Method::Plain => verifier.to_owned(),
    };
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        validate_challenge(challenge, Method::S256).unwrap();
        assert!(verify(verifier, challenge, Method::S256));
        assert!(!verify(
            &verifier.replace('d', "e"),
            challenge,
            Method::S256
        ));
    }

    #[test]
    fn short_or_strange_verifiers_fail() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(!verify("short", challenge, Method::S256));
        assert!(!verify(&"a".repeat(129), challenge, Method::S256));
        assert!(!verify(
            &format!("{}%", "a".repeat(50)),
            challenge,
            Method::S256
        ));
        assert!(validate_challenge("abc", Method::S256).is_err());
    }
}
