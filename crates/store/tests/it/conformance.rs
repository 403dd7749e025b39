//! The conformance suite: what every backend must do, written once against `Arc<dyn Storage>`.
//!
//! Each case takes a fresh, not yet migrated database. `conformance_suite!` turns the list of
//! cases into one `#[tokio::test]` per case in the module of each backend, so a case added here
//! runs everywhere.

use crate::fixtures::{
    NOW, access, client, code, consent, initial_token, key, public_client, refresh,
    registered_client, scope, session, user,
};
use oauth2_core::client::{AuthMethod, GrantType, RedirectUri};
use oauth2_core::jose::Algorithm;
use oauth2_core::ports::{
    CodeRedemption, InitialAccessToken, RefreshRotation, Storage, StoreError,
};
use std::sync::Arc;
use tokio::sync::Barrier;

mod admin;
mod events;
mod housekeeping;
pub use admin::*;
pub use events::*;
pub use housekeeping::*;

type Db = Arc<dyn Storage>;

/// One `#[tokio::test]` per conformance case, each on a database from `$fresh` (an async fn
/// returning `Option<TestDb>`; `None` skips the case).
macro_rules! conformance_suite {
    ($fresh:path) => {
        conformance_suite!(@cases $fresh;
            migrating_twice_applies_nothing_the_second_time,
            concurrent_migrations_apply_each_version_once,
            a_client_reads_back_exactly_as_created,
            a_registered_clients_logout_uris_metadata_token_hash_and_admin_flag_read_back_exactly,
            creating_a_client_with_a_taken_id_is_a_conflict,
            updating_a_client_replaces_all_but_its_id_and_creation_time,
            updating_a_client_sets_and_clears_its_registration_metadata,
            listing_clients_pages_in_id_order_without_gaps_or_repeats,
            deleting_a_client_removes_its_codes_tokens_and_consents,
            a_user_reads_back_by_id_and_by_username,
            a_taken_user_id_or_username_is_a_conflict,
            updating_a_user_replaces_all_but_its_id_and_creation_time,
            listing_users_pages_in_username_order,
            a_code_is_redeemed_once_and_then_reported_as_already_used,
            inserting_a_code_twice_is_a_conflict,
            eight_concurrent_redemptions_of_one_code_yield_exactly_one_redeemed,
            purging_codes_deletes_only_expired_ones_used_or_not,
            revoking_an_access_token_is_idempotent,
            a_batch_lookup_returns_exactly_the_revoked_ones,
            revoking_a_family_denies_each_of_its_recorded_access_tokens,
            purging_access_tokens_deletes_only_expired_entries,
            a_refresh_token_reads_back_exactly_as_inserted,
            rotating_a_refresh_token_stores_its_successor_and_marks_it_rotated,
            a_rotated_out_refresh_token_presented_again_is_reuse,
            rotating_an_unknown_refresh_token_is_not_found,
            eight_concurrent_rotations_of_one_refresh_token_yield_exactly_one_rotated,
            a_rotation_whose_successor_cannot_be_stored_leaves_the_old_token_live,
            revoking_a_family_revokes_its_refresh_tokens_and_denies_its_access_tokens,
            purging_refresh_tokens_deletes_only_expired_ones,
            a_saved_consent_reads_back_and_saving_again_replaces_its_scope,
            consents_are_listed_per_user_in_client_order_and_deleted_one_by_one,
            signing_keys_read_back_oldest_first_with_their_exact_bytes,
            retiring_keys_spares_the_current_key_other_algorithms_and_earlier_retirements,
            purging_retired_keys_deletes_only_keys_retired_before_now,
            a_session_reads_back_exactly_as_created,
            creating_a_session_with_a_taken_id_or_for_an_unknown_user_fails,
            touching_a_session_updates_its_last_seen_time_and_nothing_else,
            touching_an_unknown_session_is_false,
            deleting_a_session_ends_that_session_only,
            deleting_a_users_sessions_ends_all_of_theirs_and_no_one_elses,
            purging_sessions_removes_idle_and_ended_ones_and_keeps_live_ones,
            login_failures_are_counted_per_key_from_since_on,
            clearing_login_failures_forgets_that_key_only,
            purging_login_failures_deletes_only_those_before_the_cutoff,
            the_first_secret_stored_under_a_name_is_returned_to_every_later_caller,
            eight_concurrent_first_calls_for_a_secret_all_get_the_same_bytes,
            initial_tokens_read_back_exactly_and_are_listed_in_creation_order,
            creating_an_initial_token_with_a_taken_hash_is_a_conflict,
            an_initial_token_is_accepted_until_its_expiry_and_refused_from_then_on,
            an_initial_token_is_refused_once_its_uses_are_spent_and_counts_each_use,
            an_unknown_initial_token_is_refused,
            eight_concurrent_uses_of_a_three_use_token_give_exactly_three_successes,
            a_deleted_initial_token_is_refused_and_others_are_kept,
            searching_clients_matches_name_or_id_ignoring_ascii_case_and_pages_by_id,
            search_terms_are_literal_text_not_patterns,
            searching_users_matches_username_or_email_and_pages_by_username,
            listing_refresh_tokens_shows_the_owners_live_ones_newest_first,
            listing_access_tokens_shows_the_owners_unexpired_undenied_records,
            a_refresh_token_is_found_by_a_prefix_of_its_hash,
            token_families_are_those_with_a_live_refresh_or_access_token_of_the_owner,
            events_get_increasing_ids_and_are_listed_newest_first_page_by_page,
            purging_events_deletes_only_older_ones,
            outbox_items_are_claimed_once_until_their_lease_runs_out,
            concurrent_claims_never_share_an_outbox_item,
            a_failed_delivery_is_retried_later_or_given_up_on,
            released_outbox_items_are_due_at_once,
            counts_are_the_clients_the_users_and_the_live_sessions,
            every_purge_deletes_at_most_its_limit_per_call_and_keeps_live_rows,
            access_token_purges_count_deny_list_entries_and_records_against_one_limit,
            concurrent_batched_purges_delete_each_expired_row_once_and_no_live_one,
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(db) = $fresh().await else { return };
                crate::conformance::$case(db.storage.clone()).await;
            }
        )*
    };
}
pub(crate) use conformance_suite;

async fn migrated(db: &Db) {
    db.migrate().await.unwrap();
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

// Migrations and health.

pub async fn migrating_twice_applies_nothing_the_second_time(db: Db) {
    assert_eq!(db.migrate().await.unwrap(), vec![1, 2, 3, 4, 5]);
    assert_eq!(db.migrate().await.unwrap(), Vec::<i64>::new());
    db.ping().await.unwrap();
    assert!(matches!(db.backend(), "sqlite" | "postgres"));
}

pub async fn concurrent_migrations_apply_each_version_once(db: Db) {
    let barrier = Arc::new(Barrier::new(4));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                db.migrate().await.unwrap()
            })
        })
        .collect();
    let mut applied = Vec::new();
    for task in tasks {
        applied.extend(task.await.unwrap());
    }
    applied.sort_unstable();
    assert_eq!(applied, vec![1, 2, 3, 4, 5]);
}

// Clients.

pub async fn a_client_reads_back_exactly_as_created(db: Db) {
    migrated(&db).await;
    let confidential = client("app");
    let public = public_client("spa");
    db.create_client(&confidential).await.unwrap();
    db.create_client(&public).await.unwrap();

    assert_eq!(db.get_client("app").await.unwrap(), Some(confidential));
    assert_eq!(db.get_client("spa").await.unwrap(), Some(public));
    assert_eq!(db.get_client("nobody").await.unwrap(), None);
}

pub async fn a_registered_clients_logout_uris_metadata_token_hash_and_admin_flag_read_back_exactly(
    db: Db,
) {
    migrated(&db).await;
    let registered = registered_client("dyn");
    db.create_client(&registered).await.unwrap();

    let stored = db.get_client("dyn").await.unwrap().unwrap();

    assert_eq!(stored, registered);
    assert_eq!(stored.metadata["contacts"][1], "Zoë <z@example.com>");
    assert_eq!(
        db.list_clients(None, 10).await.unwrap(),
        vec![registered],
        "listing reads the same columns"
    );
}

pub async fn creating_a_client_with_a_taken_id_is_a_conflict(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();

    let again = db.create_client(&public_client("app")).await;

    assert!(is_conflict(again));
    assert_eq!(db.get_client("app").await.unwrap(), Some(client("app")));
}

pub async fn updating_a_client_replaces_all_but_its_id_and_creation_time(db: Db) {
    migrated(&db).await;
    let original = client("app");
    db.create_client(&original).await.unwrap();
    let mut changed = public_client("app");
    changed.name = "Renamed".to_owned();
    changed.redirect_uris = vec![RedirectUri::parse("http://127.0.0.1:9000/cb").unwrap()];
    changed.grant_types = vec![GrantType::ClientCredentials, GrantType::Password];
    changed.auth_method = AuthMethod::ClientSecretPost;
    changed.secret_hash = Some("new-hash".to_owned());
    changed.created_at = 1;
    changed.updated_at = NOW;

    assert!(db.update_client(&changed).await.unwrap());

    let stored = db.get_client("app").await.unwrap().unwrap();
    assert_eq!(stored.created_at, original.created_at);
    assert_eq!(
        stored,
        oauth2_core::client::Client {
            created_at: original.created_at,
            ..changed
        }
    );
    assert!(!db.update_client(&client("nobody")).await.unwrap());
}

pub async fn updating_a_client_sets_and_clears_its_registration_metadata(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();

    assert!(db.update_client(&registered_client("app")).await.unwrap());
    assert_eq!(
        db.get_client("app").await.unwrap(),
        Some(registered_client("app"))
    );

    assert!(db.update_client(&client("app")).await.unwrap());
    let cleared = db.get_client("app").await.unwrap().unwrap();
    assert_eq!(cleared, client("app"));
    assert!(cleared.post_logout_redirect_uris.is_empty() && cleared.metadata.is_empty());
    assert_eq!(cleared.registration_token_hash, None);
    assert!(!cleared.admin);
}

pub async fn listing_clients_pages_in_id_order_without_gaps_or_repeats(db: Db) {
    migrated(&db).await;
    // Upper case sorts before lower case and "a-1" before "a1": byte order on every backend.
    let mut ids = vec!["m", "B", "a1", "z", "a-1", "A", "b", "a"];
    for id in &ids {
        db.create_client(&client(id)).await.unwrap();
    }
    ids.sort_unstable();

    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = db.list_clients(after.as_deref(), 3).await.unwrap();
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|c| c.client_id.clone());
        listed.extend(page.into_iter().map(|c| c.client_id));
    }

    assert_eq!(listed, ids);
    assert!(db.list_clients(None, 0).await.unwrap().is_empty());
    assert_eq!(db.list_clients(Some("y"), 10).await.unwrap().len(), 1);
}

pub async fn deleting_a_client_removes_its_codes_tokens_and_consents(db: Db) {
    migrated(&db).await;
    for id in ["gone", "kept"] {
        db.create_client(&client(id)).await.unwrap();
        db.insert_code(&code(&format!("code-{id}"), id, &format!("fam-{id}")))
            .await
            .unwrap();
        db.insert_refresh_token(&refresh(&format!("rt-{id}"), &format!("fam-{id}"), id))
            .await
            .unwrap();
        db.record_access_token(&access(&format!("at-{id}"), &format!("fam-{id}"), id))
            .await
            .unwrap();
        db.save_consent(&consent("user-1", id)).await.unwrap();
    }

    assert!(db.delete_client("gone").await.unwrap());

    assert_eq!(db.get_client("gone").await.unwrap(), None);
    assert_eq!(
        db.redeem_code("code-gone", NOW).await.unwrap(),
        CodeRedemption::NotFound
    );
    assert_eq!(db.get_refresh_token("rt-gone").await.unwrap(), None);
    assert_eq!(db.get_consent("user-1", "gone").await.unwrap(), None);
    assert_eq!(
        db.revoke_family_access_tokens("fam-gone", NOW)
            .await
            .unwrap(),
        0
    );
    // The other client keeps everything.
    assert!(matches!(
        db.redeem_code("code-kept", NOW).await.unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    assert!(db.get_refresh_token("rt-kept").await.unwrap().is_some());
    assert!(db.get_consent("user-1", "kept").await.unwrap().is_some());
    assert_eq!(
        db.revoke_family_access_tokens("fam-kept", NOW)
            .await
            .unwrap(),
        1
    );
    assert!(!db.delete_client("gone").await.unwrap());
}

// Users.

pub async fn a_user_reads_back_by_id_and_by_username(db: Db) {
    migrated(&db).await;
    let alice = user("u-1", "alice");
    let upstream_only = oauth2_core::ports::User {
        email: None,
        password_hash: None,
        enabled: false,
        admin: true,
        ..user("u-2", "bob")
    };
    db.create_user(&alice).await.unwrap();
    db.create_user(&upstream_only).await.unwrap();

    assert_eq!(db.get_user("u-1").await.unwrap(), Some(alice.clone()));
    assert_eq!(db.get_user("u-2").await.unwrap(), Some(upstream_only));
    assert_eq!(
        db.find_user_by_username("alice").await.unwrap(),
        Some(alice)
    );
    assert_eq!(db.find_user_by_username("Alice").await.unwrap(), None);
    assert_eq!(db.get_user("u-3").await.unwrap(), None);
}

pub async fn a_taken_user_id_or_username_is_a_conflict(db: Db) {
    migrated(&db).await;
    db.create_user(&user("u-1", "alice")).await.unwrap();
    db.create_user(&user("u-2", "bob")).await.unwrap();

    assert!(is_conflict(db.create_user(&user("u-1", "carol")).await));
    assert!(is_conflict(db.create_user(&user("u-3", "alice")).await));
    assert!(is_conflict(db.update_user(&user("u-2", "alice")).await));
    assert_eq!(
        db.find_user_by_username("bob").await.unwrap().map(|u| u.id),
        Some("u-2".to_owned())
    );
}

pub async fn updating_a_user_replaces_all_but_its_id_and_creation_time(db: Db) {
    migrated(&db).await;
    let original = user("u-1", "alice");
    db.create_user(&original).await.unwrap();
    let changed = oauth2_core::ports::User {
        username: "alice2".to_owned(),
        email: None,
        password_hash: Some("$argon2id$new".to_owned()),
        enabled: false,
        admin: true,
        created_at: 1,
        updated_at: NOW,
        ..original.clone()
    };

    assert!(db.update_user(&changed).await.unwrap());

    let stored = db.get_user("u-1").await.unwrap().unwrap();
    assert_eq!(
        stored,
        oauth2_core::ports::User {
            created_at: original.created_at,
            ..changed
        }
    );
    assert_eq!(db.find_user_by_username("alice").await.unwrap(), None);
    assert!(!db.update_user(&user("u-9", "nobody")).await.unwrap());
}

pub async fn listing_users_pages_in_username_order(db: Db) {
    migrated(&db).await;
    let mut names = vec!["zoe", "Bob", "alice", "bob", "carol", "al"];
    for (i, name) in names.iter().enumerate() {
        db.create_user(&user(&format!("u-{i}"), name))
            .await
            .unwrap();
    }
    names.sort_unstable();

    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = db.list_users(after.as_deref(), 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.username.clone());
        listed.extend(page.into_iter().map(|u| u.username));
    }

    assert_eq!(listed, names);
}

// Authorization codes.

pub async fn a_code_is_redeemed_once_and_then_reported_as_already_used(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    // Expired already: expiry is the caller's decision, the record comes back anyway.
    let issued = oauth2_core::ports::AuthorizationCode {
        expires_at: NOW - 1,
        ..code("code-1", "app", "fam-1")
    };
    db.insert_code(&issued).await.unwrap();
    let bare = oauth2_core::ports::AuthorizationCode {
        code_challenge: None,
        code_challenge_method: None,
        nonce: None,
        scope: scope(""),
        ..code("code-2", "app", "fam-2")
    };
    db.insert_code(&bare).await.unwrap();

    assert_eq!(
        db.redeem_code("code-1", NOW).await.unwrap(),
        CodeRedemption::Redeemed(issued)
    );
    assert_eq!(
        db.redeem_code("code-1", NOW + 1).await.unwrap(),
        CodeRedemption::AlreadyUsed {
            family_id: "fam-1".to_owned(),
            client_id: "app".to_owned()
        }
    );
    assert_eq!(
        db.redeem_code("code-2", NOW).await.unwrap(),
        CodeRedemption::Redeemed(bare)
    );
    assert_eq!(
        db.redeem_code("code-3", NOW).await.unwrap(),
        CodeRedemption::NotFound
    );
}

pub async fn inserting_a_code_twice_is_a_conflict(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.insert_code(&code("code-1", "app", "fam-1"))
        .await
        .unwrap();

    assert!(is_conflict(
        db.insert_code(&code("code-1", "app", "fam-2")).await
    ));
}

pub async fn eight_concurrent_redemptions_of_one_code_yield_exactly_one_redeemed(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.insert_code(&code("code-1", "app", "fam-1"))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(8));

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                db.redeem_code("code-1", NOW).await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }

    let redeemed = outcomes
        .iter()
        .filter(|o| matches!(o, CodeRedemption::Redeemed(_)))
        .count();
    let replays = outcomes
        .iter()
        .filter(|o| {
            **o == CodeRedemption::AlreadyUsed {
                family_id: "fam-1".to_owned(),
                client_id: "app".to_owned(),
            }
        })
        .count();
    assert_eq!((redeemed, replays), (1, 7), "{outcomes:?}");
}

pub async fn purging_codes_deletes_only_expired_ones_used_or_not(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for (hash, expires_at) in [
        ("old", NOW - 1),
        ("old-used", NOW - 1),
        ("edge", NOW),
        ("live", NOW + 1),
    ] {
        let issued = oauth2_core::ports::AuthorizationCode {
            expires_at,
            ..code(hash, "app", &format!("fam-{hash}"))
        };
        db.insert_code(&issued).await.unwrap();
    }
    db.redeem_code("old-used", NOW - 2).await.unwrap();

    assert_eq!(db.purge_expired_codes(NOW, 1000).await.unwrap(), 2);
    assert_eq!(db.purge_expired_codes(NOW, 1000).await.unwrap(), 0);

    for gone in ["old", "old-used"] {
        assert_eq!(
            db.redeem_code(gone, NOW).await.unwrap(),
            CodeRedemption::NotFound,
            "{gone}"
        );
    }
    // "Expired" is strictly before now.
    for kept in ["edge", "live"] {
        assert!(
            matches!(
                db.redeem_code(kept, NOW).await.unwrap(),
                CodeRedemption::Redeemed(_)
            ),
            "{kept}"
        );
    }
}

// Access tokens.

pub async fn revoking_an_access_token_is_idempotent(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.record_access_token(&access("at-1", "fam-1", "app"))
        .await
        .unwrap();
    assert!(!db.is_access_token_revoked("at-1").await.unwrap());

    db.revoke_access_token("at-1", NOW + 300, NOW)
        .await
        .unwrap();
    db.revoke_access_token("at-1", NOW + 300, NOW + 1)
        .await
        .unwrap();
    // A token with no record (client_credentials) can be revoked too.
    db.revoke_access_token("cc-1", NOW + 300, NOW)
        .await
        .unwrap();

    assert!(db.is_access_token_revoked("at-1").await.unwrap());
    assert!(db.is_access_token_revoked("cc-1").await.unwrap());
    assert!(!db.is_access_token_revoked("at-2").await.unwrap());
}

pub async fn a_batch_lookup_returns_exactly_the_revoked_ones(db: Db) {
    migrated(&db).await;
    for jti in ["r-1", "r-2", "r-3"] {
        db.revoke_access_token(jti, NOW + 300, NOW).await.unwrap();
    }
    assert!(db.revoked_among(&[]).await.unwrap().is_empty());
    let mut asked: Vec<String> = (0..200).map(|i| format!("live-{i}")).collect();
    asked.extend(["r-1", "r-3"].map(String::from));
    let mut found = db.revoked_among(&asked).await.unwrap();
    found.sort();
    assert_eq!(found, vec!["r-1".to_owned(), "r-3".to_owned()]);
    // A value that looks like SQL is only a value.
    let odd = vec!["x') OR 1=1 --".to_owned()];
    assert!(db.revoked_among(&odd).await.unwrap().is_empty());
}

pub async fn revoking_a_family_denies_each_of_its_recorded_access_tokens(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for jti in ["at-1", "at-2", "at-3"] {
        db.record_access_token(&access(jti, "fam-1", "app"))
            .await
            .unwrap();
    }
    db.record_access_token(&access("other", "fam-2", "app"))
        .await
        .unwrap();
    db.revoke_access_token("at-1", NOW + 300, NOW)
        .await
        .unwrap();

    assert_eq!(
        db.revoke_family_access_tokens("fam-1", NOW).await.unwrap(),
        2
    );
    assert_eq!(
        db.revoke_family_access_tokens("fam-1", NOW).await.unwrap(),
        0
    );
    for jti in ["at-1", "at-2", "at-3"] {
        assert!(db.is_access_token_revoked(jti).await.unwrap(), "{jti}");
    }
    assert!(!db.is_access_token_revoked("other").await.unwrap());
    assert_eq!(
        db.revoke_family_access_tokens("fam-9", NOW).await.unwrap(),
        0
    );
}

pub async fn purging_access_tokens_deletes_only_expired_entries(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for (jti, expires_at) in [("old", NOW - 1), ("edge", NOW), ("live", NOW + 1)] {
        let record = oauth2_core::ports::AccessTokenRecord {
            expires_at,
            ..access(&format!("rec-{jti}"), &format!("fam-{jti}"), "app")
        };
        db.record_access_token(&record).await.unwrap();
        db.revoke_access_token(&format!("deny-{jti}"), expires_at, NOW - 10)
            .await
            .unwrap();
    }

    // One expired record and one expired deny-list entry; "expired" is strictly before now.
    assert_eq!(db.purge_expired_access_tokens(NOW, 1000).await.unwrap(), 2);
    assert_eq!(db.purge_expired_access_tokens(NOW, 1000).await.unwrap(), 0);

    assert!(!db.is_access_token_revoked("deny-old").await.unwrap());
    assert!(db.is_access_token_revoked("deny-edge").await.unwrap());
    assert!(db.is_access_token_revoked("deny-live").await.unwrap());
    assert_eq!(
        db.revoke_family_access_tokens("fam-old", NOW)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.revoke_family_access_tokens("fam-edge", NOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.revoke_family_access_tokens("fam-live", NOW)
            .await
            .unwrap(),
        1
    );
}

// Refresh tokens.

pub async fn a_refresh_token_reads_back_exactly_as_inserted(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    let full = refresh("rt-1", "fam-1", "app");
    let sparse = oauth2_core::ports::RefreshToken {
        user_id: None,
        auth_time: None,
        scope: scope(""),
        rotated_at: Some(NOW + 1),
        revoked_at: Some(NOW + 2),
        ..refresh("rt-2", "fam-2", "app")
    };
    db.insert_refresh_token(&full).await.unwrap();
    db.insert_refresh_token(&sparse).await.unwrap();

    assert_eq!(db.get_refresh_token("rt-1").await.unwrap(), Some(full));
    assert_eq!(db.get_refresh_token("rt-2").await.unwrap(), Some(sparse));
    assert_eq!(db.get_refresh_token("rt-3").await.unwrap(), None);
    assert!(is_conflict(
        db.insert_refresh_token(&refresh("rt-1", "fam-3", "app"))
            .await
    ));
}

pub async fn rotating_a_refresh_token_stores_its_successor_and_marks_it_rotated(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    let old = refresh("rt-1", "fam-1", "app");
    db.insert_refresh_token(&old).await.unwrap();
    let successor = refresh("rt-2", "fam-1", "app");

    let outcome = db
        .rotate_refresh_token("rt-1", &successor, NOW + 10)
        .await
        .unwrap();

    let rotated_out = oauth2_core::ports::RefreshToken {
        rotated_at: Some(NOW + 10),
        ..old
    };
    assert_eq!(outcome, RefreshRotation::Rotated(rotated_out.clone()));
    assert_eq!(
        db.get_refresh_token("rt-1").await.unwrap(),
        Some(rotated_out)
    );
    assert_eq!(db.get_refresh_token("rt-2").await.unwrap(), Some(successor));
}

pub async fn a_rotated_out_refresh_token_presented_again_is_reuse(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.insert_refresh_token(&refresh("rt-1", "fam-1", "app"))
        .await
        .unwrap();
    db.rotate_refresh_token("rt-1", &refresh("rt-2", "fam-1", "app"), NOW)
        .await
        .unwrap();

    let again = db
        .rotate_refresh_token("rt-1", &refresh("rt-3", "fam-1", "app"), NOW + 1)
        .await
        .unwrap();

    assert_eq!(
        again,
        RefreshRotation::Reused {
            family_id: "fam-1".to_owned(),
            client_id: "app".to_owned()
        }
    );
    assert_eq!(db.get_refresh_token("rt-3").await.unwrap(), None);
}

pub async fn rotating_an_unknown_refresh_token_is_not_found(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();

    let outcome = db
        .rotate_refresh_token("rt-x", &refresh("rt-2", "fam-1", "app"), NOW)
        .await
        .unwrap();

    assert_eq!(outcome, RefreshRotation::NotFound);
    assert_eq!(db.get_refresh_token("rt-2").await.unwrap(), None);
}

pub async fn eight_concurrent_rotations_of_one_refresh_token_yield_exactly_one_rotated(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.insert_refresh_token(&refresh("rt-0", "fam-1", "app"))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(8));

    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                let successor = refresh(&format!("rt-next-{i}"), "fam-1", "app");
                barrier.wait().await;
                let outcome = db.rotate_refresh_token("rt-0", &successor, NOW).await;
                (i, outcome.unwrap())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }

    let winners: Vec<usize> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, RefreshRotation::Rotated(_)))
        .map(|(i, _)| *i)
        .collect();
    let reused = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, RefreshRotation::Reused { .. }))
        .count();
    assert_eq!((winners.len(), reused), (1, 7), "{outcomes:?}");
    // Only the winner's successor was stored.
    for i in 0..8 {
        let stored = db.get_refresh_token(&format!("rt-next-{i}")).await.unwrap();
        assert_eq!(stored.is_some(), winners.contains(&i), "successor {i}");
    }
}

pub async fn a_rotation_whose_successor_cannot_be_stored_leaves_the_old_token_live(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.insert_refresh_token(&refresh("rt-1", "fam-1", "app"))
        .await
        .unwrap();
    db.insert_refresh_token(&refresh("taken", "fam-2", "app"))
        .await
        .unwrap();

    let clash = db
        .rotate_refresh_token("rt-1", &refresh("taken", "fam-1", "app"), NOW)
        .await;

    assert!(is_conflict(clash));
    let old = db.get_refresh_token("rt-1").await.unwrap().unwrap();
    assert_eq!(old.rotated_at, None, "the rotation was rolled back");
    assert!(matches!(
        db.rotate_refresh_token("rt-1", &refresh("rt-2", "fam-1", "app"), NOW)
            .await
            .unwrap(),
        RefreshRotation::Rotated(_)
    ));
}

pub async fn revoking_a_family_revokes_its_refresh_tokens_and_denies_its_access_tokens(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    db.insert_refresh_token(&refresh("rt-1", "fam-1", "app"))
        .await
        .unwrap();
    db.rotate_refresh_token("rt-1", &refresh("rt-2", "fam-1", "app"), NOW)
        .await
        .unwrap();
    db.insert_refresh_token(&refresh("other", "fam-2", "app"))
        .await
        .unwrap();
    for jti in ["at-1", "at-2"] {
        db.record_access_token(&access(jti, "fam-1", "app"))
            .await
            .unwrap();
    }
    db.record_access_token(&access("at-other", "fam-2", "app"))
        .await
        .unwrap();

    // What the token actor does on reuse: both halves of the family.
    let refresh_revoked = db.revoke_refresh_family("fam-1", NOW + 5).await.unwrap();
    let access_denied = db
        .revoke_family_access_tokens("fam-1", NOW + 5)
        .await
        .unwrap();

    assert_eq!((refresh_revoked, access_denied), (2, 2));
    assert_eq!(
        db.get_refresh_token("rt-2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(NOW + 5)
    );
    assert_eq!(
        db.rotate_refresh_token("rt-2", &refresh("rt-3", "fam-1", "app"), NOW + 6)
            .await
            .unwrap(),
        RefreshRotation::Revoked
    );
    assert!(matches!(
        db.rotate_refresh_token("rt-1", &refresh("rt-4", "fam-1", "app"), NOW + 6)
            .await
            .unwrap(),
        RefreshRotation::Reused { .. }
    ));
    assert!(db.is_access_token_revoked("at-1").await.unwrap());
    assert!(db.is_access_token_revoked("at-2").await.unwrap());
    // Another family is untouched, and a second revocation changes nothing.
    assert!(!db.is_access_token_revoked("at-other").await.unwrap());
    assert_eq!(
        db.get_refresh_token("other")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
    assert_eq!(db.revoke_refresh_family("fam-1", NOW + 7).await.unwrap(), 0);
    assert_eq!(
        db.get_refresh_token("rt-2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(NOW + 5)
    );
}

pub async fn purging_refresh_tokens_deletes_only_expired_ones(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for (hash, expires_at) in [("old", NOW - 1), ("edge", NOW), ("live", NOW + 1)] {
        let token = oauth2_core::ports::RefreshToken {
            expires_at,
            ..refresh(hash, "fam-1", "app")
        };
        db.insert_refresh_token(&token).await.unwrap();
    }

    assert_eq!(db.purge_expired_refresh_tokens(NOW, 1000).await.unwrap(), 1);

    assert_eq!(db.get_refresh_token("old").await.unwrap(), None);
    assert!(db.get_refresh_token("edge").await.unwrap().is_some());
    assert!(db.get_refresh_token("live").await.unwrap().is_some());
}

// Consents.

pub async fn a_saved_consent_reads_back_and_saving_again_replaces_its_scope(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    let first = consent("user-1", "app");
    db.save_consent(&first).await.unwrap();
    assert_eq!(
        db.get_consent("user-1", "app").await.unwrap(),
        Some(first.clone())
    );

    let wider = oauth2_core::ports::Consent {
        scope: scope("openid profile email"),
        created_at: NOW + 100,
        updated_at: NOW + 100,
        ..first.clone()
    };
    db.save_consent(&wider).await.unwrap();

    // The first grant's time stays: the consent was replaced, not created again.
    assert_eq!(
        db.get_consent("user-1", "app").await.unwrap(),
        Some(oauth2_core::ports::Consent {
            created_at: first.created_at,
            ..wider
        })
    );
    assert_eq!(db.get_consent("user-2", "app").await.unwrap(), None);
}

pub async fn consents_are_listed_per_user_in_client_order_and_deleted_one_by_one(db: Db) {
    migrated(&db).await;
    for id in ["b", "a", "c"] {
        db.create_client(&client(id)).await.unwrap();
    }
    for id in ["c", "a"] {
        db.save_consent(&consent("user-1", id)).await.unwrap();
    }
    db.save_consent(&consent("user-2", "b")).await.unwrap();

    let listed: Vec<String> = db
        .list_consents("user-1")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(listed, ["a", "c"]);

    assert!(db.delete_consent("user-1", "a").await.unwrap());
    assert!(!db.delete_consent("user-1", "a").await.unwrap());
    assert!(!db.delete_consent("user-1", "b").await.unwrap());
    assert_eq!(db.list_consents("user-1").await.unwrap().len(), 1);
    assert_eq!(db.list_consents("user-2").await.unwrap().len(), 1);
    assert!(db.list_consents("user-3").await.unwrap().is_empty());
}

// Signing keys.

pub async fn signing_keys_read_back_oldest_first_with_their_exact_bytes(db: Db) {
    migrated(&db).await;
    let newest = key("k-3", Algorithm::EdDSA, NOW + 300);
    let oldest = oauth2_core::ports::StoredKey {
        retire_at: Some(NOW + 1000),
        ..key("k-1", Algorithm::RS256, NOW + 100)
    };
    let middle = key("k-2", Algorithm::ES256, NOW + 200);
    for k in [&newest, &oldest, &middle] {
        db.insert_key(k).await.unwrap();
    }

    assert_eq!(db.list_keys().await.unwrap(), vec![oldest, middle, newest]);
    assert!(is_conflict(
        db.insert_key(&key("k-1", Algorithm::ES256, NOW)).await
    ));
}

pub async fn retiring_keys_spares_the_current_key_other_algorithms_and_earlier_retirements(db: Db) {
    migrated(&db).await;
    let retiring = |kid: &str, retire_at| oauth2_core::ports::StoredKey {
        retire_at,
        ..key(kid, Algorithm::ES256, NOW)
    };
    for k in [
        retiring("es-old", None),
        retiring("es-current", None),
        retiring("es-later", Some(NOW + 1000)),
        retiring("es-earlier", Some(NOW - 5)),
        key("rs-old", Algorithm::RS256, NOW),
    ] {
        db.insert_key(&k).await.unwrap();
    }

    assert_eq!(
        db.retire_keys(Algorithm::ES256, "es-current", NOW + 100)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db.retire_keys(Algorithm::ES256, "es-current", NOW + 100)
            .await
            .unwrap(),
        0
    );

    let retire_at: Vec<(String, Option<i64>)> = db
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.retire_at))
        .collect();
    let expected = [
        ("es-current", None),
        ("es-earlier", Some(NOW - 5)),
        ("es-later", Some(NOW + 100)),
        ("es-old", Some(NOW + 100)),
        ("rs-old", None),
    ];
    assert_eq!(
        retire_at,
        expected.map(|(kid, at)| (kid.to_owned(), at)).to_vec()
    );
}

pub async fn purging_retired_keys_deletes_only_keys_retired_before_now(db: Db) {
    migrated(&db).await;
    for (kid, retire_at) in [
        ("gone", Some(NOW - 1)),
        ("edge", Some(NOW)),
        ("later", Some(NOW + 1)),
        ("current", None),
    ] {
        let k = oauth2_core::ports::StoredKey {
            retire_at,
            ..key(kid, Algorithm::EdDSA, NOW - 100)
        };
        db.insert_key(&k).await.unwrap();
    }

    assert_eq!(db.purge_retired_keys(NOW, 1000).await.unwrap(), 1);

    let kids: Vec<String> = db
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["current", "edge", "later"]);
}

// Sessions.

/// A database with the users `u-1` and `u-2`.
async fn with_users(db: &Db) {
    migrated(db).await;
    db.create_user(&user("u-1", "alice")).await.unwrap();
    db.create_user(&user("u-2", "bob")).await.unwrap();
}

pub async fn a_session_reads_back_exactly_as_created(db: Db) {
    with_users(&db).await;
    let first = session("s-1", "u-1");
    let reauthenticated = oauth2_core::ports::Session {
        auth_time: NOW - 1,
        created_at: NOW - 7200,
        last_seen_at: NOW - 2,
        expires_at: NOW + 1,
        ..session("s-2", "u-1")
    };

    db.create_session(&first).await.unwrap();
    db.create_session(&reauthenticated).await.unwrap();

    assert_eq!(db.get_session("s-1").await.unwrap(), Some(first));
    assert_eq!(db.get_session("s-2").await.unwrap(), Some(reauthenticated));
    assert_eq!(db.get_session("s-3").await.unwrap(), None);
}

pub async fn creating_a_session_with_a_taken_id_or_for_an_unknown_user_fails(db: Db) {
    with_users(&db).await;
    db.create_session(&session("s-1", "u-1")).await.unwrap();

    let taken = db.create_session(&session("s-1", "u-2")).await;
    let orphan = db.create_session(&session("s-2", "nobody")).await;

    assert!(is_conflict(taken));
    assert!(orphan.is_err(), "{orphan:?}");
    assert_eq!(
        db.get_session("s-1").await.unwrap().map(|s| s.user_id),
        Some("u-1".to_owned())
    );
    assert_eq!(db.get_session("s-2").await.unwrap(), None);
}

pub async fn touching_a_session_updates_its_last_seen_time_and_nothing_else(db: Db) {
    with_users(&db).await;
    let created = session("s-1", "u-1");
    db.create_session(&created).await.unwrap();
    db.create_session(&session("s-2", "u-1")).await.unwrap();

    assert!(db.touch_session("s-1", NOW + 30).await.unwrap());

    assert_eq!(
        db.get_session("s-1").await.unwrap(),
        Some(oauth2_core::ports::Session {
            last_seen_at: NOW + 30,
            ..created
        })
    );
    assert_eq!(
        db.get_session("s-2").await.unwrap(),
        Some(session("s-2", "u-1"))
    );
}

pub async fn touching_an_unknown_session_is_false(db: Db) {
    with_users(&db).await;
    db.create_session(&session("s-1", "u-1")).await.unwrap();

    assert!(!db.touch_session("s-x", NOW + 30).await.unwrap());

    assert_eq!(db.get_session("s-x").await.unwrap(), None);
    assert_eq!(
        db.get_session("s-1").await.unwrap(),
        Some(session("s-1", "u-1"))
    );
}

pub async fn deleting_a_session_ends_that_session_only(db: Db) {
    with_users(&db).await;
    db.create_session(&session("s-1", "u-1")).await.unwrap();
    db.create_session(&session("s-2", "u-1")).await.unwrap();

    assert!(db.delete_session("s-1").await.unwrap());

    assert_eq!(db.get_session("s-1").await.unwrap(), None);
    assert!(db.get_session("s-2").await.unwrap().is_some());
    assert!(!db.delete_session("s-1").await.unwrap());
    assert!(!db.touch_session("s-1", NOW).await.unwrap());
}

pub async fn deleting_a_users_sessions_ends_all_of_theirs_and_no_one_elses(db: Db) {
    with_users(&db).await;
    for id in ["a-1", "a-2", "a-3"] {
        db.create_session(&session(id, "u-1")).await.unwrap();
    }
    db.create_session(&session("b-1", "u-2")).await.unwrap();

    assert_eq!(db.delete_user_sessions("u-1").await.unwrap(), 3);

    for id in ["a-1", "a-2", "a-3"] {
        assert_eq!(db.get_session(id).await.unwrap(), None, "{id}");
    }
    assert!(db.get_session("b-1").await.unwrap().is_some());
    assert_eq!(db.delete_user_sessions("u-1").await.unwrap(), 0);
    assert_eq!(db.delete_user_sessions("nobody").await.unwrap(), 0);
    // The user stays: signing out everywhere is not deleting the account.
    assert!(db.get_user("u-1").await.unwrap().is_some());
}

pub async fn purging_sessions_removes_idle_and_ended_ones_and_keeps_live_ones(db: Db) {
    with_users(&db).await;
    let idle_before = NOW - 600;
    let cases = [
        // (id, last_seen_at, expires_at, kept)
        ("ended", NOW, NOW - 1, false),
        // The absolute end is inclusive: a session ending now has ended.
        ("ends-now", NOW, NOW, false),
        ("ends-next-second", NOW, NOW + 1, true),
        ("idle", idle_before - 1, NOW + 3600, false),
        // Idleness is strict: seen exactly at the cut-off is still live.
        ("idle-edge", idle_before, NOW + 3600, true),
        ("idle-and-ended", idle_before - 1, NOW - 1, false),
        ("live", NOW, NOW + 3600, true),
    ];
    for (id, last_seen_at, expires_at, _) in cases {
        let s = oauth2_core::ports::Session {
            last_seen_at,
            expires_at,
            ..session(id, "u-1")
        };
        db.create_session(&s).await.unwrap();
    }

    assert_eq!(db.purge_sessions(idle_before, NOW, 1000).await.unwrap(), 4);
    assert_eq!(db.purge_sessions(idle_before, NOW, 1000).await.unwrap(), 0);

    for (id, _, _, kept) in cases {
        let found = db.get_session(id).await.unwrap().is_some();
        assert_eq!(found, kept, "{id}");
    }
}

/// Not in the list: the ports cannot delete a user, so each backend calls this with its own raw
/// `DELETE FROM users`.
pub async fn deleting_a_user_deletes_their_sessions(
    db: Db,
    delete_user: impl AsyncFnOnce(&'static str),
) {
    with_users(&db).await;
    db.create_session(&session("a-1", "u-1")).await.unwrap();
    db.create_session(&session("a-2", "u-1")).await.unwrap();
    db.create_session(&session("b-1", "u-2")).await.unwrap();

    delete_user("u-1").await;

    assert_eq!(db.get_user("u-1").await.unwrap(), None);
    assert_eq!(db.get_session("a-1").await.unwrap(), None);
    assert_eq!(db.get_session("a-2").await.unwrap(), None);
    assert!(db.get_session("b-1").await.unwrap().is_some());
}

// Login throttling.

pub async fn login_failures_are_counted_per_key_from_since_on(db: Db) {
    migrated(&db).await;
    for at in [NOW - 100, NOW - 10, NOW, NOW] {
        db.record_login_failure("user:alice", at).await.unwrap();
    }
    db.record_login_failure("user:bob", NOW).await.unwrap();
    db.record_login_failure("ip:192.0.2.1", NOW - 10)
        .await
        .unwrap();

    let count = |key: &'static str, since| {
        let db = db.clone();
        async move { db.count_login_failures(key, since).await.unwrap() }
    };
    // `since` is inclusive, and two failures in one second are two.
    assert_eq!(count("user:alice", NOW - 10).await, 3);
    assert_eq!(count("user:alice", NOW - 9).await, 2);
    assert_eq!(count("user:alice", NOW - 100).await, 4);
    assert_eq!(count("user:alice", NOW + 1).await, 0);
    assert_eq!(count("user:bob", NOW - 100).await, 1);
    assert_eq!(count("ip:192.0.2.1", NOW - 100).await, 1);
    assert_eq!(count("user:Alice", NOW - 100).await, 0);
    assert_eq!(count("user:carol", NOW - 100).await, 0);
}

pub async fn clearing_login_failures_forgets_that_key_only(db: Db) {
    migrated(&db).await;
    for at in [NOW - 1, NOW] {
        db.record_login_failure("user:alice", at).await.unwrap();
        db.record_login_failure("user:bob", at).await.unwrap();
    }

    db.clear_login_failures("user:alice").await.unwrap();
    db.clear_login_failures("user:nobody").await.unwrap();

    assert_eq!(db.count_login_failures("user:alice", 0).await.unwrap(), 0);
    assert_eq!(db.count_login_failures("user:bob", 0).await.unwrap(), 2);
    // Counting starts again from nothing.
    db.record_login_failure("user:alice", NOW + 1)
        .await
        .unwrap();
    assert_eq!(db.count_login_failures("user:alice", 0).await.unwrap(), 1);
}

pub async fn purging_login_failures_deletes_only_those_before_the_cutoff(db: Db) {
    migrated(&db).await;
    for at in [NOW - 2, NOW - 1, NOW, NOW + 1] {
        db.record_login_failure("user:alice", at).await.unwrap();
    }
    db.record_login_failure("ip:192.0.2.1", NOW - 5)
        .await
        .unwrap();
    db.record_login_failure("ip:192.0.2.1", NOW).await.unwrap();

    assert_eq!(db.purge_login_failures(NOW, 1000).await.unwrap(), 3);
    assert_eq!(db.purge_login_failures(NOW, 1000).await.unwrap(), 0);

    assert_eq!(db.count_login_failures("user:alice", 0).await.unwrap(), 2);
    assert_eq!(db.count_login_failures("user:alice", NOW).await.unwrap(), 2);
    assert_eq!(db.count_login_failures("ip:192.0.2.1", 0).await.unwrap(), 1);
}

// Server secrets.

pub async fn the_first_secret_stored_under_a_name_is_returned_to_every_later_caller(db: Db) {
    migrated(&db).await;
    // Every byte value, NUL and 0xFF included: the column must be binary-safe.
    let first: Vec<u8> = (0..=255u8).collect();
    let other: Vec<u8> = (0..=255u8).rev().collect();

    let created = db
        .get_or_create_secret("cookie_key", &first, NOW)
        .await
        .unwrap();
    let later = db
        .get_or_create_secret("cookie_key", &other, NOW + 10)
        .await
        .unwrap();
    let empty_candidate = db
        .get_or_create_secret("cookie_key", &[], NOW + 20)
        .await
        .unwrap();

    assert_eq!(created, first);
    assert_eq!(later, first);
    assert_eq!(empty_candidate, first);
    // Another name is another secret.
    assert_eq!(
        db.get_or_create_secret("csrf_key", &other, NOW)
            .await
            .unwrap(),
        other
    );
}

pub async fn eight_concurrent_first_calls_for_a_secret_all_get_the_same_bytes(db: Db) {
    migrated(&db).await;
    let barrier = Arc::new(Barrier::new(8));

    let tasks: Vec<_> = (0..8u8)
        .map(|i| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                let candidate = vec![i; 32];
                barrier.wait().await;
                db.get_or_create_secret("cookie_key", &candidate, NOW)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.unwrap());
    }

    let winner = values[0].clone();
    assert!(values.iter().all(|v| *v == winner), "{values:?}");
    assert!((0..8u8).any(|i| winner == vec![i; 32]), "{winner:?}");
    assert_eq!(
        db.get_or_create_secret("cookie_key", &[9; 32], NOW + 1)
            .await
            .unwrap(),
        winner
    );
}

// Initial access tokens (RFC 7591 §3).

pub async fn initial_tokens_read_back_exactly_and_are_listed_in_creation_order(db: Db) {
    migrated(&db).await;
    let later = InitialAccessToken {
        created_at: NOW + 5,
        ..initial_token("b-later", Some(NOW + 3600), Some(10))
    };
    let unlimited = initial_token("c-unlimited", None, None);
    let first = InitialAccessToken {
        created_at: NOW - 5,
        ..initial_token("z-first", Some(NOW + 60), Some(1))
    };
    for t in [&later, &unlimited, &first] {
        db.create_initial_token(t).await.unwrap();
    }

    assert_eq!(
        db.list_initial_tokens().await.unwrap(),
        vec![first, unlimited.clone(), later]
    );
    assert!(db.use_initial_token("c-unlimited", NOW).await.unwrap());
    let listed = db.list_initial_tokens().await.unwrap();
    assert_eq!(
        listed[1],
        InitialAccessToken {
            uses: 1,
            ..unlimited
        }
    );
}

pub async fn creating_an_initial_token_with_a_taken_hash_is_a_conflict(db: Db) {
    migrated(&db).await;
    let original = initial_token("t", None, Some(3));
    db.create_initial_token(&original).await.unwrap();

    let again = db
        .create_initial_token(&initial_token("t", Some(NOW), None))
        .await;

    assert!(is_conflict(again));
    assert_eq!(db.list_initial_tokens().await.unwrap(), vec![original]);
}

pub async fn an_initial_token_is_accepted_until_its_expiry_and_refused_from_then_on(db: Db) {
    migrated(&db).await;
    db.create_initial_token(&initial_token("t", Some(NOW + 10), None))
        .await
        .unwrap();

    assert!(db.use_initial_token("t", NOW).await.unwrap());
    assert!(db.use_initial_token("t", NOW + 9).await.unwrap());
    // `expires_at` is the first second it no longer works.
    assert!(!db.use_initial_token("t", NOW + 10).await.unwrap());
    assert!(!db.use_initial_token("t", NOW + 1000).await.unwrap());

    let listed = db.list_initial_tokens().await.unwrap();
    assert_eq!(listed[0].uses, 2, "refused uses are not counted");
}

pub async fn an_initial_token_is_refused_once_its_uses_are_spent_and_counts_each_use(db: Db) {
    migrated(&db).await;
    db.create_initial_token(&initial_token("two", None, Some(2)))
        .await
        .unwrap();
    db.create_initial_token(&initial_token("unlimited", None, None))
        .await
        .unwrap();
    db.create_initial_token(&initial_token("none", None, Some(0)))
        .await
        .unwrap();

    assert!(db.use_initial_token("two", NOW).await.unwrap());
    assert!(db.use_initial_token("two", NOW).await.unwrap());
    assert!(!db.use_initial_token("two", NOW).await.unwrap());
    assert!(!db.use_initial_token("none", NOW).await.unwrap());
    for _ in 0..5 {
        assert!(db.use_initial_token("unlimited", NOW).await.unwrap());
    }

    let uses: Vec<(String, u32)> = db
        .list_initial_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.token_hash, t.uses))
        .collect();
    assert_eq!(
        uses,
        vec![
            ("none".to_owned(), 0),
            ("two".to_owned(), 2),
            ("unlimited".to_owned(), 5)
        ]
    );
}

pub async fn an_unknown_initial_token_is_refused(db: Db) {
    migrated(&db).await;
    db.create_initial_token(&initial_token("t", None, None))
        .await
        .unwrap();

    assert!(!db.use_initial_token("T", NOW).await.unwrap());
    assert!(!db.use_initial_token("", NOW).await.unwrap());
    assert!(!db.use_initial_token("t%", NOW).await.unwrap());
}

pub async fn eight_concurrent_uses_of_a_three_use_token_give_exactly_three_successes(db: Db) {
    migrated(&db).await;
    db.create_initial_token(&initial_token("t", Some(NOW + 60), Some(3)))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(8));

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                db.use_initial_token("t", NOW).await.unwrap()
            })
        })
        .collect();
    let mut successes = 0;
    for task in tasks {
        if task.await.unwrap() {
            successes += 1;
        }
    }

    assert_eq!(successes, 3);
    assert_eq!(db.list_initial_tokens().await.unwrap()[0].uses, 3);
}

pub async fn a_deleted_initial_token_is_refused_and_others_are_kept(db: Db) {
    migrated(&db).await;
    db.create_initial_token(&initial_token("gone", None, None))
        .await
        .unwrap();
    db.create_initial_token(&initial_token("kept", None, None))
        .await
        .unwrap();

    assert!(db.delete_initial_token("gone").await.unwrap());
    assert!(!db.delete_initial_token("gone").await.unwrap());

    assert!(!db.use_initial_token("gone", NOW).await.unwrap());
    assert!(db.use_initial_token("kept", NOW).await.unwrap());
    let listed = db.list_initial_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token_hash, "kept");
}

// Upgrades.

/// The row of `client("app")` as a deployment at version 1 holds it (written with the columns
/// 0001 made, so valid SQL on both backends).
pub const VERSION_1_CLIENT_ROW: &str = r#"INSERT INTO clients (client_id, secret_hash, name,
    redirect_uris, grant_types, scope, auth_method, skip_consent, created_at, updated_at)
    VALUES ('app', 'secret-hash-of-app', 'Client app',
    '["https://app.example.com/cb?x=1&y=\"2\"","com.example.app:/oauth2redirect"]',
    '["authorization_code","refresh_token"]', 'openid profile api:read', 'client_secret_basic',
    FALSE, 1699999900, 1699999950)"#;

/// Not in the list: each backend brings the database to version 1 with raw SQL (the state of a
/// deployment made before 0002 existed) and inserts [`VERSION_1_CLIENT_ROW`], then calls this.
pub async fn a_database_at_version_1_is_migrated_from_version_2_on_and_keeps_its_data(db: Db) {
    db.create_user(&user("u-1", "alice")).await.unwrap();

    assert_eq!(db.migrate().await.unwrap(), vec![2, 3, 4, 5]);
    assert_eq!(db.migrate().await.unwrap(), Vec::<i64>::new());

    // The columns 0003 added hold their defaults.
    assert_eq!(db.get_client("app").await.unwrap(), Some(client("app")));
    db.create_session(&session("s-1", "u-1")).await.unwrap();
    assert_eq!(
        db.get_session("s-1").await.unwrap(),
        Some(session("s-1", "u-1"))
    );
    db.record_login_failure("user:alice", NOW).await.unwrap();
    assert_eq!(db.count_login_failures("user:alice", NOW).await.unwrap(), 1);
    assert_eq!(
        db.get_or_create_secret("cookie_key", b"k", NOW)
            .await
            .unwrap(),
        b"k"
    );
    db.create_initial_token(&initial_token("t", None, Some(1)))
        .await
        .unwrap();
    assert!(db.use_initial_token("t", NOW).await.unwrap());
}
