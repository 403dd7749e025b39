//! `POST /oauth/revoke` (RFC 7009).

use oauth2_testkit::TestApp;
use serde_json::Value;

both!(
    a_revoked_access_token_is_inactive_at_once_on_every_instance,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let token = app.access_token(&client).await;
        let second = oauth2_testkit::spawn_app_env(app.env.clone()).await;
        let (_, v) = second.introspect(&client, &token).await;
        assert_eq!(v["active"], true);
        assert_eq!(app.revoke(&client, &token).await, 200);
        let (_, v) = app.introspect(&client, &token).await;
        assert_eq!(v["active"], false);
        let (_, v) = second.introspect(&client, &token).await;
        assert_eq!(
            v["active"], false,
            "the other instance sees the revocation too"
        );
        assert_eq!(
            app.revoke(&client, &token).await,
            200,
            "revoking twice is fine"
        );
    }
);

both!(
    revoking_an_unknown_token_answers_200,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        assert_eq!(app.revoke(&client, "no-such-token").await, 200);
        assert_eq!(app.revoke(&client, "a.b.c").await, 200);
    }
);

both!(
    a_client_cannot_revoke_another_clients_token,
    &[],
    |app: TestApp| async move {
        let owner = app.service_client("").await;
        let other = app.service_client("").await;
        let token = app.access_token(&owner).await;
        let res = app
            .post_form("/oauth/revoke", &format!("token={token}"), Some(&other))
            .await;
        assert_eq!(res.status(), 400);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"], "unauthorized_client");
        let (_, v) = app.introspect(&owner, &token).await;
        assert_eq!(v["active"], true, "the token is untouched");
    }
);

both!(
    revocation_requires_client_authentication,
    &[],
    |app: TestApp| async move {
        let client = app.service_client("").await;
        let token = app.access_token(&client).await;
        let res = app
            .post_form("/oauth/revoke", &format!("token={token}"), None)
            .await;
        assert_eq!(res.status(), 401);
        let (_, v) = app.introspect(&client, &token).await;
        assert_eq!(v["active"], true);
        let res = app.post_form("/oauth/revoke", "", Some(&client)).await;
        assert_eq!(res.status(), 400, "token is required");
    }
);
