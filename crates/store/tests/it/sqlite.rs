//! The conformance suite on SQLite, and what is particular to SQLite: the file, its pragmas,
//! in-memory databases, durability.

use crate::conformance::{self, conformance_suite};
use crate::fixtures::{NOW, TempDbFile, client, fresh_sqlite, key, refresh};
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{ClientStore, RefreshTokenStore, Storage, StoreError};
use oauth2_store::SqliteStore;
use std::sync::Arc;

conformance_suite!(fresh_sqlite);

#[tokio::test]
async fn a_sqlite_file_reopened_after_close_still_has_its_data() {
    let file = TempDbFile::new();
    let store = SqliteStore::connect(&file.url(), 2).await.unwrap();
    store.migrate().await.unwrap();
    store.create_client(&client("app")).await.unwrap();
    store
        .insert_refresh_token(&refresh("rt-1", "fam-1", "app"))
        .await
        .unwrap();
    store.close().await;
    drop(store);

    let reopened = oauth2_store::open(&file.url(), 2).await.unwrap();

    assert_eq!(reopened.migrate().await.unwrap(), Vec::<i64>::new());
    assert_eq!(
        reopened.get_client("app").await.unwrap(),
        Some(client("app"))
    );
    assert!(reopened.get_refresh_token("rt-1").await.unwrap().is_some());
}

#[tokio::test]
async fn opening_a_missing_sqlite_file_creates_it_with_wal_foreign_keys_and_a_busy_timeout() {
    let file = TempDbFile::new();
    assert!(!file.path().exists());

    let store = SqliteStore::connect(&file.url(), 1).await.unwrap();

    assert!(file.path().exists());
    let pragma = |name: &'static str| {
        let pool = store.pool().clone();
        async move {
            let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(({name}) AS TEXT)"
            )))
            .fetch_one(&pool)
            .await
            .unwrap();
            value
        }
    };
    assert_eq!(
        pragma("SELECT journal_mode FROM pragma_journal_mode").await,
        "wal"
    );
    assert_eq!(
        pragma("SELECT foreign_keys FROM pragma_foreign_keys").await,
        "1"
    );
    // 1 is NORMAL.
    assert_eq!(
        pragma("SELECT synchronous FROM pragma_synchronous").await,
        "1"
    );
    assert_eq!(
        pragma("SELECT timeout FROM pragma_busy_timeout").await,
        "5000"
    );
}

#[tokio::test]
async fn both_sqlite_url_forms_open_the_same_file() {
    let file = TempDbFile::new();
    let path = file.path().display().to_string();
    let short = oauth2_store::open(&format!("sqlite:{path}"), 1)
        .await
        .unwrap();
    short.migrate().await.unwrap();
    short.create_client(&client("app")).await.unwrap();

    let long = oauth2_store::open(&format!("sqlite://{path}"), 1)
        .await
        .unwrap();

    assert_eq!(long.backend(), "sqlite");
    assert!(long.get_client("app").await.unwrap().is_some());
}

#[tokio::test]
async fn an_in_memory_sqlite_database_lives_as_long_as_its_store() {
    let store = oauth2_store::open("sqlite::memory:", 8).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), vec![1, 2, 3, 4, 5]);
    store.create_client(&client("app")).await.unwrap();

    // Several operations at once share the one connection rather than fail.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.get_client("app").await.unwrap() })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_some());
    }
    // Another in-memory store is another database.
    let other = oauth2_store::open("sqlite::memory:", 1).await.unwrap();
    other.migrate().await.unwrap();
    assert_eq!(other.get_client("app").await.unwrap(), None);
}

#[tokio::test]
async fn two_sqlite_instances_migrating_one_file_at_once_apply_each_version_once() {
    let file = TempDbFile::new();
    let a = SqliteStore::connect(&file.url(), 2).await.unwrap();
    let b = SqliteStore::connect(&file.url(), 2).await.unwrap();

    let (from_a, from_b) = tokio::join!(a.migrate(), b.migrate());

    let mut applied = from_a.unwrap();
    applied.extend(from_b.unwrap());
    applied.sort_unstable();
    assert_eq!(applied, vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_sqlite_database_at_version_1_is_migrated_from_version_2_on_and_keeps_its_data() {
    let Some(db) = fresh_sqlite().await else {
        return;
    };
    let store = SqliteStore::connect(&db.url, 1).await.unwrap();
    // What a deployment made before 0002 existed holds: 0001 applied and recorded, as the
    // runner does it, and a client in the columns 0001 made.
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (\
         version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, \
         applied_at INTEGER NOT NULL) STRICT",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../../migrations/sqlite/0001_initial.sql"))
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
async fn deleting_a_sqlite_user_deletes_their_sessions() {
    let Some(db) = fresh_sqlite().await else {
        return;
    };
    // Its own connection, with foreign keys on like every connection of the store.
    let store = SqliteStore::connect(&db.url, 1).await.unwrap();

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
async fn a_sqlite_row_that_does_not_parse_is_reported_as_corrupt() {
    let Some(db) = fresh_sqlite().await else {
        return;
    };
    db.storage.migrate().await.unwrap();
    let store = SqliteStore::connect(&db.url, 1).await.unwrap();
    let storage: Arc<dyn Storage> = Arc::new(store.clone());
    storage.create_client(&client("app")).await.unwrap();
    storage
        .insert_key(&key("k-1", Algorithm::ES256, NOW))
        .await
        .unwrap();

    sqlx::raw_sql(
        "UPDATE clients SET grant_types = '[\"implicit\"]'; \
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
    sqlx::raw_sql("UPDATE clients SET grant_types = '[]', redirect_uris = 'not json'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        storage.get_client("app").await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn an_event_row_the_previous_release_writes_to_sqlite_reads_back() {
    let Some(db) = fresh_sqlite().await else {
        return;
    };
    let store = SqliteStore::connect(&db.url, 1).await.unwrap();
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
