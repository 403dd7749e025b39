//! JSON Web Signatures for tokens (RFC 7515, RFC 7519) and public keys as JWKs (RFC 7517, RFC 7518).
//!
//! Built directly on aws-lc-rs rather than a JWT crate: we sign and verify only our own tokens, with
//! one algorithm per key, so the whole of JOSE we need is two base64url segments and a signature.
//! A key verifies only tokens whose header names the key's own algorithm (no algorithm confusion).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Signing algorithms (RFC 7518 §3.1, RFC 8037 for EdDSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RS256,
    ES256,
    EdDSA,
    HS256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::HS256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::HS256 => "HS256",
        }
    }

    /// HS256 keys are shared secrets: never published, never stored in the database.
    pub fn is_symmetric(self) -> bool {
        matches!(self, Algorithm::HS256)
    }
}

impl FromStr for Algorithm {
    type Err = JoseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(JoseError::UnsupportedAlgorithm)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("key generation failed")]
    KeyGeneration,
    #[error("the stored key is not a valid {0} private key")]
    KeyRejected(Algorithm),
    #[error("signing failed")]
    Signing,
    #[error("malformed token")]
    Malformed,
    #[error("the token's algorithm does not match the key")]
    AlgorithmMismatch,
    #[error("bad signature")]
    BadSignature,
    #[error("claims could not be encoded")]
    Encoding,
}

enum Private {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    // Boxed: aws-lc's HMAC key carries its precomputed state inline (over 1 KiB).
    Hmac(Box<hmac::Key>),
}

/// A private key that signs tokens.
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    key: Private,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, {}, ..)", self.alg, self.kid)
    }
}

impl SigningKey {
    /// Generates a new asymmetric key; returns it with its PKCS#8 encoding for storage.
    pub fn generate(alg: Algorithm, kid: String) -> Result<(SigningKey, Vec<u8>), JoseError> {
        let der: Vec<u8> = match alg {
            Algorithm::RS256 => RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map(|d| d.as_ref().to_vec()),
            Algorithm::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
            Algorithm::EdDSA => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
            Algorithm::HS256 => return Err(JoseError::UnsupportedAlgorithm),
        }
        .map_err(|_| JoseError::KeyGeneration)?;
        let key = SigningKey::from_pkcs8(alg, kid, &der)?;
        Ok((key, der))
    }

    /// Loads a stored PKCS#8 private key.
    pub fn from_pkcs8(alg: Algorithm, kid: String, der: &[u8]) -> Result<SigningKey, JoseError> {
        let rejected = |_| JoseError::KeyRejected(alg);
        let key = match alg {
            Algorithm::RS256 => Private::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            Algorithm::ES256 => Private::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            Algorithm::EdDSA => Private::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
            Algorithm::HS256 => return Err(JoseError::UnsupportedAlgorithm),
        };
        Ok(SigningKey { kid, alg, key })
    }

    /// A shared-secret HS256 key.
    pub fn hmac(kid: String, secret: &[u8]) -> SigningKey {
        SigningKey {
            kid,
            alg: Algorithm::HS256,
            key: Private::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, secret))),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Signs `claims` as a compact JWS with header `{"alg","typ","kid"}`.
    pub fn sign_jwt<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, JoseError> {
        let header = JwtHeader {
            alg: self.alg.as_str(),
            typ,
            kid: &self.kid,
        };
        let header = serde_json::to_vec(&header).map_err(|_| JoseError::Encoding)?;
        let claims = serde_json::to_vec(claims).map_err(|_| JoseError::Encoding)?;
        let mut out = String::with_capacity(64 + claims.len() * 4 / 3 + 360);
        URL_SAFE_NO_PAD.encode_string(&header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut out);
        let sig = self.sign(out.as_bytes())?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, JoseError> {
        // aws-lc-rs draws its own randomness for ECDSA; the parameter exists for ring compatibility.
        let rng = SystemRandom::new();
        match &self.key {
            Private::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(|_| JoseError::Signing)?;
                Ok(sig)
            }
            Private::Ec(k) => k
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::Signing),
            Private::Ed(k) => Ok(k.sign(msg).as_ref().to_vec()),
            Private::Hmac(k) => Ok(hmac::sign(k, msg).as_ref().to_vec()),
        }
    }

    /// The key that verifies this key's signatures.
    pub fn verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        let public = |alg: &'static dyn signature::VerificationAlgorithm, bytes: &[u8]| {
            ParsedPublicKey::new(alg, bytes)
                .map(Public::Asymmetric)
                .map_err(|_| JoseError::KeyRejected(self.alg))
        };
        let key = match &self.key {
            Private::Rsa(k) => public(&RSA_PKCS1_2048_8192_SHA256, k.public_key().as_ref())?,
            Private::Ec(k) => public(&ECDSA_P256_SHA256_FIXED, k.public_key().as_ref())?,
            Private::Ed(k) => public(&ED25519, k.public_key().as_ref())?,
            Private::Hmac(k) => Public::Hmac(k.clone()),
        };
        Ok(VerifyingKey {
            kid: self.kid.clone(),
            alg: self.alg,
            key,
        })
    }

    /// The public key as a JWK; `None` for shared secrets, which are never published.
    pub fn public_jwk(&self) -> Option<Jwk> {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let base = |kty: &str| Jwk {
            kty: kty.to_owned(),
            key_use: "sig".to_owned(),
            alg: self.alg.as_str().to_owned(),
            kid: self.kid.clone(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        };
        match &self.key {
            Private::Rsa(k) => {
                let p = k.public_key();
                Some(Jwk {
                    n: Some(b64(p.modulus().big_endian_without_leading_zero())),
                    e: Some(b64(p.exponent().big_endian_without_leading_zero())),
                    ..base("RSA")
                })
            }
            Private::Ec(k) => {
                // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
                let point = k.public_key().as_ref();
                if point.len() != 65 {
                    return None;
                }
                Some(Jwk {
                    crv: Some("P-256".to_owned()),
                    x: Some(b64(&point[1..33])),
                    y: Some(b64(&point[33..65])),
                    ..base("EC")
                })
            }
            Private::Ed(k) => Some(Jwk {
                crv: Some("Ed25519".to_owned()),
                x: Some(b64(k.public_key().as_ref())),
                ..base("OKP")
            }),
            Private::Hmac(_) => None,
        }
    }
}

#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// The parts of a JOSE header we read.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
}

enum Public {
    Asymmetric(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

/// A key that verifies signatures made by one [`SigningKey`].
pub struct VerifyingKey {
    kid: String,
    alg: Algorithm,
    key: Public,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({}, {})", self.alg, self.kid)
    }
}

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 8192;

/// Reads the header of a compact JWS without verifying anything.
pub fn peek_header(token: &str) -> Result<Header, JoseError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JoseError::Malformed);
    }
    let header = token.split('.').next().ok_or(JoseError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| JoseError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JoseError::Malformed)
}

/// Whether a string has the shape of a compact JWS (three base64url segments).
pub fn looks_like_jwt(token: &str) -> bool {
    token.len() <= MAX_TOKEN_LEN
        && token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl VerifyingKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Verifies a compact JWS and returns its header and decoded claims.
    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<(Header, T), JoseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JoseError::Malformed);
        }
        let mut parts = token.splitn(3, '.');
        let (Some(h), Some(c), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(JoseError::Malformed);
        };
        if s.contains('.') {
            return Err(JoseError::Malformed);
        }
        let header: Header = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(JoseError::Malformed)?;
        if header.alg != self.alg.as_str() {
            return Err(JoseError::AlgorithmMismatch);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| JoseError::Malformed)?;
        let signed = &token.as_bytes()[..h.len() + 1 + c.len()];
        let ok = match &self.key {
            Public::Asymmetric(k) => k.verify_sig(signed, &sig).is_ok(),
            Public::Hmac(k) => hmac::verify(k, signed, &sig).is_ok(),
        };
        if !ok {
            return Err(JoseError::BadSignature);
        }
        let claims = URL_SAFE_NO_PAD
            .decode(c)
            .map_err(|_| JoseError::Malformed)?;
        let claims = serde_json::from_slice(&claims).map_err(|_| JoseError::Malformed)?;
        Ok((header, claims))
    }
}

/// A public key in JWK form (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub alg: String,
    pub kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn roundtrip(alg: Algorithm) {
        let (key, der) = SigningKey::generate(alg, format!("k-{alg}")).unwrap();
        let reloaded = SigningKey::from_pkcs8(alg, key.kid().to_owned(), &der).unwrap();
        let token = reloaded.sign_jwt("at+jwt", &json!({"sub": "x"})).unwrap();
        let (header, claims): (Header, Value) =
            key.verifying_key().unwrap().verify(&token).unwrap();
        assert_eq!(header.alg, alg.as_str());
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(claims["sub"], "x");
        assert!(key.public_jwk().is_some());
    }

    #[test]
    fn every_asymmetric_algorithm_signs_and_verifies() {
        roundtrip(Algorithm::RS256);
        roundtrip(Algorithm::ES256);
        roundtrip(Algorithm::EdDSA);
    }

    #[test]
    fn hs256_signs_and_verifies_and_is_never_published() {
        let key = SigningKey::hmac("h".into(), &[7u8; 32]);
        let token = key.sign_jwt("at+jwt", &json!({"a": 1})).unwrap();
        let (_, c): (Header, Value) = key.verifying_key().unwrap().verify(&token).unwrap();
        assert_eq!(c["a"], 1);
        assert!(key.public_jwk().is_none());
    }

    #[test]
    fn a_tampered_token_fails() {
        let (key, _) = SigningKey::generate(Algorithm::ES256, "k".into()).unwrap();
        let token = key.sign_jwt("at+jwt", &json!({"sub": "a"})).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"b"}"#);
        parts[1] = &forged;
        let err = key
            .verifying_key()
            .unwrap()
            .verify::<Value>(&parts.join("."))
            .unwrap_err();
        assert_eq!(err, JoseError::BadSignature);
    }

    #[test]
    fn a_token_claiming_another_algorithm_is_refused() {
        // The classic confusion attack: HS256 "signed" with a public key as the secret.
        let (key, _) = SigningKey::generate(Algorithm::RS256, "k".into()).unwrap();
        let hs = SigningKey::hmac("k".into(), b"whatever-public-key-bytes-00000000");
        let token = hs.sign_jwt("at+jwt", &json!({"sub": "a"})).unwrap();
        let err = key
            .verifying_key()
            .unwrap()
            .verify::<Value>(&token)
            .unwrap_err();
        assert_eq!(err, JoseError::AlgorithmMismatch);
    }

    #[test]
    fn rsa_jwk_has_modulus_and_exponent() {
        let (key, _) = SigningKey::generate(Algorithm::RS256, "k".into()).unwrap();
        let jwk = key.public_jwk().unwrap();
        assert_eq!(jwk.kty, "RSA");
        assert_eq!(jwk.e.as_deref(), Some("AQAB"));
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk.n.unwrap()).unwrap().len(), 256);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let (key, _) = SigningKey::generate(Algorithm::EdDSA, "k".into()).unwrap();
        let v = key.verifying_key().unwrap();
        for t in ["", "a.b", "a.b.c.d", "!!.!!.!!", "eyJ9.eyJ9.xx"] {
            assert!(v.verify::<Value>(t).is_err(), "{t}");
        }
        assert!(peek_header("x").is_err());
    }
}
