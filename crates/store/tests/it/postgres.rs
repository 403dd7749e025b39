//! The conformance suite on PostgreSQL (each case in a fresh schema), and what is particular to
//! PostgreSQL: several instances sharing one database, schema isolation.

use crate::conformance::{self, conformance_suite};
use crate::fixtures::{NOW, client, fresh_postgres, key};
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{Storage, StoreError};
use oauth2_store::PgStore;
use std::sync::Arc;

conformance_suite!(fresh_postgres);

#[tokio::test]
async fn two_postgres_instances_migrating_one_database_at_once_apply_each_version_once() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let a = PgStore::connect(&db.url, 2).await.unwrap();
    let b = PgStore::connect(&db.url, 2).await.unwrap();

    let (from_a, from_b) = tokio::join!(a.migrate(), b.migrate());

    let mut applied = from_a.unwrap();
    applied.extend(from_b.unwrap());
    applied.sort_unstable();
    assert_eq!(applied, vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn fresh_postgres_schemas_do_not_see_each_other() {
    let (Some(one), Some(two)) = (fresh_postgres().await, fresh_postgres().await) else {
        return;
    };
    one.storage.migrate().await.unwrap();
    two.storage.migrate().await.unwrap();

    one.storage.create_client(&client("app")).await.unwrap();

    assert_eq!(two.storage.get_client("app").await.unwrap(), None);
    two.storage.create_client(&client("app")).await.unwrap();
}

#[tokio::test]
async fn a_postgres_database_at_version_1_is_migrated_from_version_2_on_and_keeps_its_data() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let store = PgStore::connect(&db.url, 1).await.unwrap();
    // What a deployment made before 0002 existed holds: 0001 applied and recorded, as the
    // runner does it, and a client in the columns 0001 made.
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (\
         version BIGINT NOT NULL PRIMARY KEY, description TEXT NOT NULL, \
         applied_at BIGINT NOT NULL)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../../migrations/postgres/0001_initial.sql"))
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO schema_migrations (version, description, applied_at) \
         VALUES (1, 'initial schema', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::raw_sql(conformance::VERSION_1_CLIENT_ROW)
        .execute(store.pool())
        .await
        .unwrap();

    conformance::a_database_at_version_1_is_migrated_from_version_2_on_and_keeps_its_data(
        db.storage.clone(),
    )
    .await;
}

#[tokio::test]
async fn deleting_a_postgres_user_deletes_their_sessions() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let store = PgStore::connect(&db.url, 1).await.unwrap();

    conformance::deleting_a_user_deletes_their_sessions(db.storage.clone(), async |id| {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_postgres_row_that_does_not_parse_is_reported_as_corrupt() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    db.storage.migrate().await.unwrap();
    let store = PgStore::connect(&db.url, 1).await.unwrap();
    let storage: Arc<dyn Storage> = Arc::new(store.clone());
    storage.create_client(&client("app")).await.unwrap();
    storage
        .insert_key(&key("k-1", Algorithm::ES256, NOW))
        .await
        .unwrap();

    sqlx::raw_sql(
        "UPDATE clients SET auth_method = 'private_key_jwt'; \
         UPDATE signing_keys SET algorithm = 'none'",
    )
    .execute(store.pool())
    .await
    .unwrap();

    assert!(matches!(
        storage.get_client("app").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        storage.list_keys().await,
        Err(StoreError::Corrupt(_))
    ));
    sqlx::raw_sql("UPDATE clients SET auth_method = 'none', scope = 'a\"b'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        storage.get_client("app").await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn an_event_row_the_previous_release_writes_to_postgres_reads_back() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let store = PgStore::connect(&db.url, 1).await.unwrap();
    conformance::an_event_row_the_previous_release_writes_reads_back(
        db.storage.clone(),
        async || {
            sqlx::raw_sql(conformance::PREVIOUS_RELEASE_EVENT_INSERT)
                .execute(store.pool())
                .await
                .unwrap();
        },
    )
    .await;
}
