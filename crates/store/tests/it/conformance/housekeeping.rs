//! Conformance cases for batched housekeeping: each purge call is one batch of at most `limit`
//! rows, fewer meaning nothing is left, and batches running at once on several connections (as
//! several instances do) delete each expired row once and never a live one.

use super::{Db, migrated};
use crate::fixtures::{NOW, access, client, code, key, refresh, session, user};
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{AccessTokenRecord, AuthorizationCode, RefreshToken, Session, StoredKey};
use std::sync::Arc;
use tokio::sync::Barrier;

/// Calls `purge` until it returns fewer than `limit`; returns what each call deleted.
async fn batches<F, Fut>(limit: u64, mut purge: F) -> Vec<u64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let mut counts = Vec::new();
    loop {
        let n = purge().await;
        counts.push(n);
        assert!(n <= limit, "a batch deleted {n} rows, more than {limit}");
        if n < limit {
            return counts;
        }
        assert!(
            counts.len() < 100,
            "the batches never ran short: {counts:?}"
        );
    }
}

pub async fn every_purge_deletes_at_most_its_limit_per_call_and_keeps_live_rows(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.create_user(&user("u-1", "alice")).await.unwrap();
    // Seven expired and three live rows in every table.
    for i in 0..10 {
        let expired = i < 7;
        let expires_at = if expired { NOW - 1 } else { NOW + 60 };
        db.insert_code(&AuthorizationCode {
            expires_at,
            ..code(&format!("code-{i}"), "app", &format!("fam-c{i}"))
        })
        .await
        .unwrap();
        db.insert_refresh_token(&RefreshToken {
            expires_at,
            ..refresh(&format!("rt-{i}"), &format!("fam-r{i}"), "app")
        })
        .await
        .unwrap();
        db.create_session(&Session {
            expires_at: if expired { NOW } else { NOW + 3600 },
            ..session(&format!("s-{i}"), "u-1")
        })
        .await
        .unwrap();
        db.record_login_failure("user:alice", if expired { NOW - 10 } else { NOW })
            .await
            .unwrap();
        db.insert_key(&StoredKey {
            retire_at: Some(if expired { NOW - 1 } else { NOW + 60 }),
            ..key(&format!("k-{i}"), Algorithm::EdDSA, NOW - 100)
        })
        .await
        .unwrap();
    }

    assert_eq!(
        batches(3, || async {
            db.purge_expired_codes(NOW, 3).await.unwrap()
        })
        .await,
        [3, 3, 1]
    );
    assert_eq!(
        batches(3, || async {
            db.purge_expired_refresh_tokens(NOW, 3).await.unwrap()
        })
        .await,
        [3, 3, 1]
    );
    assert_eq!(
        batches(3, || async {
            db.purge_sessions(NOW - 600, NOW, 3).await.unwrap()
        })
        .await,
        [3, 3, 1]
    );
    assert_eq!(
        batches(3, || async {
            db.purge_login_failures(NOW - 5, 3).await.unwrap()
        })
        .await,
        [3, 3, 1]
    );
    assert_eq!(
        batches(3, || async { db.purge_retired_keys(NOW, 3).await.unwrap() }).await,
        [3, 3, 1]
    );

    for i in 0..10 {
        let live = i >= 7;
        assert_eq!(
            db.get_refresh_token(&format!("rt-{i}"))
                .await
                .unwrap()
                .is_some(),
            live,
            "rt-{i}"
        );
        assert_eq!(
            db.get_session(&format!("s-{i}")).await.unwrap().is_some(),
            live,
            "s-{i}"
        );
    }
    assert_eq!(db.count_login_failures("user:alice", 0).await.unwrap(), 3);
    assert_eq!(db.list_keys().await.unwrap().len(), 3);
    // A live code is still there to redeem; a purged one is unknown.
    assert!(matches!(
        db.redeem_code("code-9", NOW).await.unwrap(),
        oauth2_core::ports::CodeRedemption::Redeemed(_)
    ));
    assert!(matches!(
        db.redeem_code("code-0", NOW).await.unwrap(),
        oauth2_core::ports::CodeRedemption::NotFound
    ));
}

pub async fn access_token_purges_count_deny_list_entries_and_records_against_one_limit(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for i in 0..6 {
        let expires_at = if i < 4 { NOW - 1 } else { NOW + 60 };
        db.record_access_token(&AccessTokenRecord {
            expires_at,
            ..access(&format!("rec-{i}"), &format!("fam-{i}"), "app")
        })
        .await
        .unwrap();
        db.revoke_access_token(&format!("deny-{i}"), expires_at, NOW - 10)
            .await
            .unwrap();
    }

    // Four expired deny-list entries, then four expired records, three at a time.
    assert_eq!(
        batches(3, || async {
            db.purge_expired_access_tokens(NOW, 3).await.unwrap()
        })
        .await,
        [3, 3, 2]
    );

    for i in 0..6 {
        let live = i >= 4;
        assert_eq!(
            db.is_access_token_revoked(&format!("deny-{i}"))
                .await
                .unwrap(),
            live,
            "deny-{i}"
        );
        assert_eq!(
            db.get_access_token(&format!("rec-{i}"))
                .await
                .unwrap()
                .is_some(),
            live,
            "rec-{i}"
        );
    }
}

pub async fn concurrent_batched_purges_delete_each_expired_row_once_and_no_live_one(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for i in 0..60 {
        let expires_at = if i < 50 { NOW - 1 } else { NOW + 60 };
        db.insert_refresh_token(&RefreshToken {
            expires_at,
            ..refresh(&format!("rt-{i:02}"), &format!("fam-{i}"), "app")
        })
        .await
        .unwrap();
    }

    let barrier = Arc::new(Barrier::new(4));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                batches(7, || async {
                    db.purge_expired_refresh_tokens(NOW, 7).await.unwrap()
                })
                .await
                .iter()
                .sum::<u64>()
            })
        })
        .collect();
    let mut deleted = 0;
    for t in tasks {
        deleted += t.await.unwrap();
    }

    assert_eq!(deleted, 50, "each expired row deleted once");
    for i in 0..60 {
        assert_eq!(
            db.get_refresh_token(&format!("rt-{i:02}"))
                .await
                .unwrap()
                .is_some(),
            i >= 50,
            "rt-{i:02}"
        );
    }
}
