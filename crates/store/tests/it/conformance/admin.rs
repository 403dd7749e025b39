//! Conformance cases for what the admin API needs: searching clients and users, listing and
//! finding a client's or a user's live tokens, and the event log.

use super::{Db, migrated};
use crate::fixtures::{NOW, access, client, refresh, session, user};
use oauth2_core::ports::{AccessTokenRecord, RefreshToken, TokenOwner};

fn ids_of_clients(clients: &[oauth2_core::client::Client]) -> Vec<&str> {
    clients.iter().map(|c| c.client_id.as_str()).collect()
}

pub async fn searching_clients_matches_name_or_id_ignoring_ascii_case_and_pages_by_id(db: Db) {
    migrated(&db).await;
    for (id, name) in [
        ("c-1", "Billing Portal"),
        ("c-2", "billing worker"),
        ("c-3", "Shop"),
        ("portal-4", "Admin"),
        ("c-5", "BILLING batch"),
    ] {
        let mut c = client(id);
        c.name = name.to_owned();
        db.create_client(&c).await.unwrap();
    }

    let billing = db.search_clients("BiLLing", None, 10).await.unwrap();
    let portal = db.search_clients("portal", None, 10).await.unwrap();
    let first = db.search_clients("billing", None, 2).await.unwrap();
    let rest = db.search_clients("billing", Some("c-2"), 2).await.unwrap();
    let none = db
        .search_clients("nothing-like-it", None, 10)
        .await
        .unwrap();

    assert_eq!(ids_of_clients(&billing), ["c-1", "c-2", "c-5"]);
    assert_eq!(
        ids_of_clients(&portal),
        ["c-1", "portal-4"],
        "the name or the id"
    );
    assert_eq!(ids_of_clients(&first), ["c-1", "c-2"]);
    assert_eq!(ids_of_clients(&rest), ["c-5"]);
    assert!(none.is_empty());
    assert_eq!(billing[0], {
        let mut c = client("c-1");
        c.name = "Billing Portal".to_owned();
        c
    });
}

pub async fn search_terms_are_literal_text_not_patterns(db: Db) {
    migrated(&db).await;
    for (id, name) in [
        ("a", "100% sure"),
        ("b", "1000 sure"),
        ("c", "snake_case"),
        ("d", "snakeXcase"),
    ] {
        let mut c = client(id);
        c.name = name.to_owned();
        db.create_client(&c).await.unwrap();
    }

    let percent = db.search_clients("0%", None, 10).await.unwrap();
    let underscore = db.search_clients("e_c", None, 10).await.unwrap();

    assert_eq!(ids_of_clients(&percent), ["a"]);
    assert_eq!(ids_of_clients(&underscore), ["c"]);
}

pub async fn searching_users_matches_username_or_email_and_pages_by_username(db: Db) {
    migrated(&db).await;
    let mut no_email = user("u-4", "dave");
    no_email.email = None;
    let mut other_domain = user("u-3", "carol");
    other_domain.email = Some("Carol@Example.ORG".to_owned());
    for u in [
        user("u-1", "alice"),
        user("u-2", "bob"),
        other_domain,
        no_email,
    ] {
        db.create_user(&u).await.unwrap();
    }
    let names = |users: Vec<oauth2_core::ports::User>| -> Vec<String> {
        users.into_iter().map(|u| u.username).collect()
    };

    let by_email = db.search_users("EXAMPLE.COM", None, 10).await.unwrap();
    let by_name = db.search_users("BO", None, 10).await.unwrap();
    let org = db.search_users("example.org", None, 10).await.unwrap();
    let dave = db.search_users("dav", None, 10).await.unwrap();
    let paged = db.search_users("example", Some("alice"), 1).await.unwrap();

    assert_eq!(names(by_email), ["alice", "bob"]);
    assert_eq!(names(by_name), ["bob"]);
    assert_eq!(names(org), ["carol"]);
    assert_eq!(
        names(dave),
        ["dave"],
        "a user without an email is still found"
    );
    assert_eq!(names(paged), ["bob"]);
}

fn refresh_of(
    hash: &str,
    family: &str,
    client_id: &str,
    user_id: &str,
    created_at: i64,
) -> RefreshToken {
    RefreshToken {
        user_id: Some(user_id.to_owned()),
        created_at,
        ..refresh(hash, family, client_id)
    }
}

fn access_of(
    jti: &str,
    family: &str,
    client_id: &str,
    user_id: &str,
    created_at: i64,
) -> AccessTokenRecord {
    AccessTokenRecord {
        user_id: Some(user_id.to_owned()),
        created_at,
        ..access(jti, family, client_id)
    }
}

pub async fn listing_refresh_tokens_shows_the_owners_live_ones_newest_first(db: Db) {
    migrated(&db).await;
    for id in ["app", "other"] {
        db.create_client(&client(id)).await.unwrap();
    }
    for t in [
        refresh_of("rt-old", "fam-1", "app", "alice", NOW - 20),
        refresh_of("rt-new", "fam-2", "app", "alice", NOW - 10),
        refresh_of("rt-bob", "fam-3", "app", "bob", NOW - 5),
        refresh_of("rt-elsewhere", "fam-4", "other", "alice", NOW - 5),
        RefreshToken {
            expires_at: NOW,
            ..refresh_of("rt-expired", "fam-5", "app", "alice", NOW - 30)
        },
        refresh_of("rt-revoked", "fam-6", "app", "alice", NOW - 30),
        refresh_of("rt-rotated", "fam-7", "app", "alice", NOW - 30),
    ] {
        db.insert_refresh_token(&t).await.unwrap();
    }
    db.revoke_refresh_family("fam-6", NOW - 1).await.unwrap();
    db.rotate_refresh_token(
        "rt-rotated",
        &refresh_of("rt-successor", "fam-7", "app", "alice", NOW - 1),
        NOW - 1,
    )
    .await
    .unwrap();
    let hashes =
        |ts: Vec<RefreshToken>| -> Vec<String> { ts.into_iter().map(|t| t.token_hash).collect() };

    let of_alice_at_app = db
        .list_refresh_tokens(
            &TokenOwner::UserAtClient {
                user_id: "alice".into(),
                client_id: "app".into(),
            },
            NOW,
            10,
        )
        .await
        .unwrap();
    let of_app = db
        .list_refresh_tokens(&TokenOwner::Client("app".into()), NOW, 10)
        .await
        .unwrap();
    let of_alice = db
        .list_refresh_tokens(&TokenOwner::User("alice".into()), NOW, 2)
        .await
        .unwrap();

    assert_eq!(
        hashes(of_alice_at_app),
        ["rt-successor", "rt-new", "rt-old"]
    );
    assert_eq!(
        hashes(of_app),
        ["rt-successor", "rt-bob", "rt-new", "rt-old"]
    );
    assert_eq!(
        hashes(of_alice),
        ["rt-successor", "rt-elsewhere"],
        "at most the limit"
    );
}

pub async fn listing_access_tokens_shows_the_owners_unexpired_undenied_records(db: Db) {
    migrated(&db).await;
    for id in ["app", "other"] {
        db.create_client(&client(id)).await.unwrap();
    }
    for r in [
        access_of("at-old", "fam-1", "app", "alice", NOW - 20),
        access_of("at-new", "fam-1", "app", "alice", NOW - 10),
        access_of("at-bob", "fam-2", "app", "bob", NOW - 5),
        access_of("at-elsewhere", "fam-3", "other", "alice", NOW - 5),
        AccessTokenRecord {
            expires_at: NOW,
            ..access_of("at-expired", "fam-1", "app", "alice", NOW - 30)
        },
        access_of("at-denied", "fam-4", "app", "alice", NOW - 30),
    ] {
        db.record_access_token(&r).await.unwrap();
    }
    db.revoke_access_token("at-denied", NOW + 300, NOW - 1)
        .await
        .unwrap();
    let jtis =
        |rs: Vec<AccessTokenRecord>| -> Vec<String> { rs.into_iter().map(|r| r.jti).collect() };

    let of_alice = db
        .list_access_tokens(&TokenOwner::User("alice".into()), NOW, 10)
        .await
        .unwrap();
    let of_app = db
        .list_access_tokens(&TokenOwner::Client("app".into()), NOW, 10)
        .await
        .unwrap();

    assert_eq!(jtis(of_alice), ["at-elsewhere", "at-new", "at-old"]);
    assert_eq!(jtis(of_app), ["at-bob", "at-new", "at-old"]);
    assert_eq!(
        db.get_access_token("at-new").await.unwrap(),
        Some(access_of("at-new", "fam-1", "app", "alice", NOW - 10))
    );
    assert_eq!(db.get_access_token("nobody").await.unwrap(), None);
}

pub async fn a_refresh_token_is_found_by_a_prefix_of_its_hash(db: Db) {
    migrated(&db).await;
    db.create_client(&client("app")).await.unwrap();
    for hash in ["abc_def-1", "abc_def-2", "abXdef-3", "zzz"] {
        db.insert_refresh_token(&refresh(hash, "fam", "app"))
            .await
            .unwrap();
    }
    let found = |prefix: &'static str| {
        let db = db.clone();
        async move {
            db.find_refresh_tokens_by_hash_prefix(prefix)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.token_hash)
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(found("abc_def-2").await, ["abc_def-2"]);
    assert_eq!(found("zz").await, ["zzz"]);
    assert_eq!(
        found("abc_").await,
        ["abc_def-1", "abc_def-2"],
        "an ambiguous prefix gives both; `_` is no wildcard"
    );
    assert_eq!(found("ab").await.len(), 2, "at most two");
    assert!(found("nothing").await.is_empty());
}

pub async fn token_families_are_those_with_a_live_refresh_or_access_token_of_the_owner(db: Db) {
    migrated(&db).await;
    for id in ["app", "other"] {
        db.create_client(&client(id)).await.unwrap();
    }
    db.insert_refresh_token(&refresh_of("rt-1", "fam-refresh", "app", "alice", NOW))
        .await
        .unwrap();
    db.record_access_token(&access_of("at-1", "fam-access", "app", "alice", NOW))
        .await
        .unwrap();
    db.record_access_token(&access_of("at-2", "fam-refresh", "app", "alice", NOW))
        .await
        .unwrap();
    db.insert_refresh_token(&refresh_of("rt-2", "fam-revoked", "app", "alice", NOW))
        .await
        .unwrap();
    db.revoke_refresh_family("fam-revoked", NOW).await.unwrap();
    db.record_access_token(&AccessTokenRecord {
        expires_at: NOW,
        ..access_of("at-3", "fam-expired", "app", "alice", NOW - 10)
    })
    .await
    .unwrap();
    db.insert_refresh_token(&refresh_of("rt-3", "fam-bob", "app", "bob", NOW))
        .await
        .unwrap();
    db.insert_refresh_token(&refresh_of("rt-4", "fam-other", "other", "alice", NOW))
        .await
        .unwrap();

    let of_alice = db
        .token_families(&TokenOwner::User("alice".into()), NOW)
        .await
        .unwrap();
    let of_app = db
        .token_families(&TokenOwner::Client("app".into()), NOW)
        .await
        .unwrap();
    let of_alice_at_app = db
        .token_families(
            &TokenOwner::UserAtClient {
                user_id: "alice".into(),
                client_id: "app".into(),
            },
            NOW,
        )
        .await
        .unwrap();

    assert_eq!(of_alice, ["fam-access", "fam-other", "fam-refresh"]);
    assert_eq!(of_app, ["fam-access", "fam-bob", "fam-refresh"]);
    assert_eq!(of_alice_at_app, ["fam-access", "fam-refresh"]);
}

/// The dashboard's overview: clients, users, and the sessions live at `now` by the rules the
/// session purge applies (the end inclusive, idleness strict).
pub async fn counts_are_the_clients_the_users_and_the_live_sessions(db: Db) {
    migrated(&db).await;
    let empty = db.counts(NOW - 600, NOW).await.unwrap();
    assert_eq!(
        (empty.clients, empty.users, empty.active_sessions),
        (0, 0, 0)
    );
    for id in ["c-1", "c-2", "c-3"] {
        db.create_client(&client(id)).await.unwrap();
    }
    db.create_user(&user("u-1", "alice")).await.unwrap();
    db.create_user(&user("u-2", "bob")).await.unwrap();
    let idle_before = NOW - 600;
    for (id, last_seen_at, expires_at) in [
        ("ended", NOW, NOW),
        ("idle", idle_before - 1, NOW + 3600),
        ("idle-edge", idle_before, NOW + 3600),
        ("live", NOW, NOW + 3600),
    ] {
        let s = oauth2_core::ports::Session {
            last_seen_at,
            expires_at,
            ..session(id, "u-1")
        };
        db.create_session(&s).await.unwrap();
    }
    let counts = db.counts(idle_before, NOW).await.unwrap();
    assert_eq!(
        (counts.clients, counts.users, counts.active_sessions),
        (3, 2, 2)
    );
}
