//! Signing keys: persisted, published, rotated without an unknown `kid`.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_core::SystemRandom;
use oauth2_testkit::{TestApp, jwt_parts, spawn_app_env};
use serde_json::Value;

/// Verifies a JWS with a JWK using aws-lc-rs directly (not the server's JOSE code).
pub fn verify_with_jwk(token: &str, jwk: &Value) {
    let (signed, sig) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let b = |f: &str| URL_SAFE_NO_PAD.decode(jwk[f].as_str().unwrap()).unwrap();
    let ok = match jwk["kty"].as_str().unwrap() {
        "RSA" => RsaPublicKeyComponents {
            n: b("n"),
            e: b("e"),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &sig)
        .is_ok(),
        "EC" => {
            let mut point = vec![4u8];
            point.extend(b("x"));
            point.extend(b("y"));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &sig)
                .is_ok()
        }
        "OKP" => UnparsedPublicKey::new(&ED25519, b("x"))
            .verify(signed.as_bytes(), &sig)
            .is_ok(),
        other => panic!("unexpected kty {other}"),
    };
    assert!(ok, "signature verifies with the published JWK");
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

both!(
    keys_survive_a_restart_and_are_shared_by_instances,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let token = app.access_token(&client).await;
        let kid = jwt_parts(&token).0["kid"].clone();
        // A second instance on the same database signs with the same key and accepts the token.
        let second = spawn_app_env(app.env.clone()).await;
        let token2 = second.access_token(&client).await;
        assert_eq!(jwt_parts(&token2).0["kid"], kid);
        let (_, v) = second.introspect(&client, &token).await;
        assert_eq!(v["active"], true);
    }
);

both!(
    a_rotated_key_is_published_at_once_but_signs_only_after_the_delay,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let old_kid = jwt_parts(&app.access_token(&client).await).0["kid"].clone();
        let svc = &app.services;
        let new = oauth2_actors::keys::rotate(
            svc.store.as_ref(),
            &svc.settings,
            &SystemRandom::new(),
            oauth2_actors::now(),
        )
        .await
        .unwrap();
        let (_, jwks) = app.get_json("/.well-known/jwks.json").await;
        let published = kids(&jwks);
        assert!(published.contains(&new.kid), "new key published at once");
        assert!(published.contains(&old_kid.as_str().unwrap().to_owned()));
        svc.reload_keys().await.unwrap();
        let kid = jwt_parts(&app.access_token(&client).await).0["kid"].clone();
        assert_eq!(
            kid, old_kid,
            "the new key does not sign before its activation delay"
        );
    }
);

both!(
    with_no_activation_delay_the_rotated_key_signs_and_old_tokens_stay_valid,
    &[("OAUTH2_KEY_ACTIVATION_DELAY", "0")],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let old = app.access_token(&client).await;
        let svc = &app.services;
        let new = oauth2_actors::keys::rotate(
            svc.store.as_ref(),
            &svc.settings,
            &SystemRandom::new(),
            oauth2_actors::now(),
        )
        .await
        .unwrap();
        // Activation has one-second resolution and a rotated key activates strictly after the
        // key it replaces, so "no delay" means "from the next second".
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
        svc.reload_keys().await.unwrap();
        let fresh = app.access_token(&client).await;
        assert_eq!(jwt_parts(&fresh).0["kid"], new.kid.as_str());
        let (_, v) = app.introspect(&client, &old).await;
        assert_eq!(
            v["active"], true,
            "tokens of the previous key stay valid until they expire"
        );
        let (_, jwks) = app.get_json("/.well-known/jwks.json").await;
        assert_eq!(kids(&jwks).len(), 2);
    }
);
