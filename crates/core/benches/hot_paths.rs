//! Microbenchmarks of the token endpoint's and the introspection endpoint's hot paths:
//! `cargo bench -p oauth2-core` (add `-- sign` etc. to run one group).
//!
//! - `sign/{alg}`: one RFC 9068 access token, claims encoding included;
//! - `introspect_verify/{alg}`: what introspection does with a JWT before any lookup: shape check,
//!   header peek, signature verification, claims decoding, liveness;
//! - `secret_check`: the client secret check (SHA-256 and a constant-time compare);
//! - `client_auth`: Basic header and form parsing plus the secret check, as a request does;
//! - `scope/parse`: parsing a scope string; `scope/check`: parsing it and checking it against the
//!   registered scope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use oauth2_core::client_auth::{Credentials, extract};
use oauth2_core::form::Form;
use oauth2_core::jose::{Algorithm, SigningKey, looks_like_jwt, peek_header};
use oauth2_core::scope::Scope;
use oauth2_core::secret::{hash_secret, verify_secret};
use oauth2_core::token::{ACCESS_TOKEN_TYP, AccessTokenClaims, AccessTokenGrant, is_live};
use std::hint::black_box;

const ISSUER: &str = "http://127.0.0.1:8080";
const NOW: i64 = 1_800_000_000;

fn key(alg: Algorithm) -> SigningKey {
    match alg {
        Algorithm::HS256 => {
            SigningKey::hmac("hs".into(), b"bench-secret-bench-secret-bench-secret")
        }
        _ => SigningKey::generate(alg, "k1".into()).unwrap().0,
    }
}

fn claims(scope: &Scope) -> AccessTokenClaims {
    AccessTokenGrant {
        issuer: ISSUER,
        audience: ISSUER,
        subject: "Xq3bZ7kP2mN8vR4tY6wA1c",
        client_id: "Xq3bZ7kP2mN8vR4tY6wA1c",
        scope,
        jti: "b5Jk2LmN8pQ4rS6tU1vW3x".into(),
        now: NOW,
        lifetime: 3600,
    }
    .claims()
}

fn sign(c: &mut Criterion) {
    let scope = Scope::parse("api.read api.write").unwrap();
    let mut g = c.benchmark_group("sign");
    for alg in Algorithm::ALL {
        let k = key(alg);
        let claims = claims(&scope);
        g.bench_function(alg.as_str(), |b| {
            b.iter(|| k.sign_jwt(ACCESS_TOKEN_TYP, black_box(&claims)).unwrap())
        });
    }
    g.finish();
}

fn introspect_verify(c: &mut Criterion) {
    let scope = Scope::parse("api.read api.write").unwrap();
    let mut g = c.benchmark_group("introspect_verify");
    for alg in Algorithm::ALL {
        let k = key(alg);
        let v = k.verifying_key().unwrap();
        let token = k.sign_jwt(ACCESS_TOKEN_TYP, &claims(&scope)).unwrap();
        g.bench_function(alg.as_str(), |b| {
            b.iter(|| {
                let token = black_box(token.as_str());
                assert!(looks_like_jwt(token));
                let header = peek_header(token).unwrap();
                assert_eq!(header.kid.as_deref(), Some(v.kid()));
                let (_, claims) = v.verify::<AccessTokenClaims>(token).unwrap();
                assert!(is_live(&claims, ISSUER, NOW + 10));
                claims
            })
        });
    }
    g.finish();
}

fn secrets(c: &mut Criterion) {
    let secret = "kP2mN8vR4tY6wA1cXq3bZ7b5Jk2LmN8pQ4rS6tU1vW3";
    let stored = hash_secret(secret);
    c.bench_function("secret_check", |b| {
        b.iter(|| verify_secret(black_box(secret), black_box(&stored)))
    });
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!("Xq3bZ7kP2mN8vR4tY6wA1c:{secret}"))
    );
    let body = b"grant_type=client_credentials&scope=api.read+api.write";
    c.bench_function("client_auth", |b| {
        b.iter(|| {
            let form = Form::parse(black_box(body)).unwrap();
            let creds = extract(Some(black_box(header.as_bytes())), &form).unwrap();
            let Credentials::Basic { secret, .. } = creds else {
                unreachable!("Basic credentials")
            };
            assert!(verify_secret(&secret, &stored));
        })
    });
}

fn scopes(c: &mut Criterion) {
    let registered = Scope::parse("openid profile email api.read api.write").unwrap();
    let mut g = c.benchmark_group("scope");
    g.bench_function("parse", |b| {
        b.iter(|| Scope::parse(black_box("openid profile api.read api.write")).unwrap())
    });
    g.bench_function("check", |b| {
        b.iter(|| {
            let s = Scope::parse(black_box("api.read api.write")).unwrap();
            assert!(s.is_subset_of(&registered));
            s
        })
    });
    g.finish();
}

criterion_group!(benches, sign, introspect_verify, secrets, scopes);
criterion_main!(benches);
