//! The audit table and the webhook outbox.

use super::Db;
use crate::fixtures::NOW;
use oauth2_core::events::{Event, EventKind};
use oauth2_core::ports::OutboxCounts;
use serde_json::json;
use std::collections::HashSet;

async fn migrated(db: &Db) {
    db.migrate().await.unwrap();
}

fn event(n: i64) -> Event {
    let kind = if n % 2 == 0 {
        EventKind::ClientCreated
    } else {
        EventKind::LoginFailed
    };
    Event {
        id: format!("ev-{n}"),
        kind,
        time: NOW + n,
        actor: Some("admin-1".to_owned()),
        client_id: Some(format!("c-{n}")),
        user_id: (n % 2 == 1).then(|| format!("u-{n}")),
        subject: Some(format!("c-{n}")),
        address: Some("203.0.113.9".to_owned()),
        outcome: kind.outcome(),
        request_id: Some(format!("req-{n}")),
        detail: json!({ "n": n, "name": "Zoë \"quoted\"", "list": [1, null, true] }),
    }
}

pub async fn events_get_increasing_ids_and_are_listed_newest_first_page_by_page(db: Db) {
    migrated(&db).await;
    // Two batches: ids keep increasing across them.
    db.append_events(&[event(0), event(1), event(2)])
        .await
        .unwrap();
    db.append_events(&[event(3), event(4)]).await.unwrap();
    db.append_events(&[]).await.unwrap();

    let first = db.list_events(None, 2).await.unwrap();
    let second = db.list_events(first.last().map(|e| e.id), 2).await.unwrap();
    let last = db
        .list_events(second.last().map(|e| e.id), 10)
        .await
        .unwrap();

    let ids = |es: &[oauth2_core::ports::Event]| -> Vec<String> {
        es.iter().map(|e| e.event_id.clone()).collect()
    };
    assert_eq!(ids(&first), ["ev-4", "ev-3"]);
    assert_eq!(ids(&second), ["ev-2", "ev-1"]);
    assert_eq!(ids(&last), ["ev-0"]);
    assert!(first[0].id > first[1].id && second[1].id > last[0].id);
    let e = &second[1];
    assert_eq!(
        (
            e.at,
            e.kind.as_str(),
            e.actor.as_str(),
            e.subject.as_str(),
            e.client_id.as_deref(),
            e.user_id.as_deref(),
            e.address.as_deref(),
            e.outcome.as_str(),
            e.request_id.as_deref(),
        ),
        (
            NOW + 1,
            "login.failed",
            "admin-1",
            "c-1",
            Some("c-1"),
            Some("u-1"),
            Some("203.0.113.9"),
            "failure",
            Some("req-1")
        )
    );
    assert_eq!(e.detail, event(1).detail);
    assert_eq!(last[0].user_id, None);
}

pub async fn purging_events_deletes_only_older_ones(db: Db) {
    migrated(&db).await;
    db.append_events(&(0..5).map(event).collect::<Vec<_>>())
        .await
        .unwrap();
    // At most `limit` a call: 2, then the 1 left.
    assert_eq!(db.purge_events(NOW + 3, 2).await.unwrap(), 2);
    assert_eq!(db.purge_events(NOW + 3, 100).await.unwrap(), 1);
    let left: Vec<String> = db
        .list_events(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(left, ["ev-4", "ev-3"]);
    assert_eq!(db.purge_events(NOW + 3, 100).await.unwrap(), 0);
}

fn items(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("ev-{i}"), format!("{{\"n\":{i}}}")))
        .collect()
}

pub async fn outbox_items_are_claimed_once_until_their_lease_runs_out(db: Db) {
    migrated(&db).await;
    db.enqueue_webhooks(&items(3), NOW).await.unwrap();
    assert_eq!(
        db.outbox_counts().await.unwrap(),
        OutboxCounts {
            pending: 3,
            failed: 0
        }
    );

    let first = db.claim_webhooks(NOW, NOW + 30, 2).await.unwrap();
    assert_eq!(
        first
            .iter()
            .map(|i| i.event_id.as_str())
            .collect::<Vec<_>>(),
        ["ev-0", "ev-1"],
        "oldest first"
    );
    assert_eq!(first[0].payload, "{\"n\":0}");
    assert_eq!(first[0].attempts, 0);
    // Claimed items are nobody else's until the lease runs out.
    let rest = db.claim_webhooks(NOW + 1, NOW + 31, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event_id, "ev-2");
    assert!(
        db.claim_webhooks(NOW + 29, NOW + 59, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A crashed claimer's items come back once its lease is over.
    let again = db.claim_webhooks(NOW + 30, NOW + 60, 10).await.unwrap();
    assert_eq!(again.len(), 2);

    // The first claim ran out: its outcome is no longer its to record.
    assert!(!db.webhook_delivered(again[0].id, NOW + 30).await.unwrap());
    assert!(
        !db.webhook_failed(again[1].id, NOW + 30, Some(NOW + 40), "late", NOW + 35)
            .await
            .unwrap()
    );
    assert!(db.webhook_delivered(again[0].id, NOW + 60).await.unwrap());
    assert_eq!(db.outbox_counts().await.unwrap().pending, 2);
    let still = db.claim_webhooks(NOW + 60, NOW + 90, 10).await.unwrap();
    assert_eq!(
        still.iter().map(|i| i.attempts).collect::<Vec<_>>(),
        [0, 0],
        "the late failure counted nothing"
    );
}

pub async fn concurrent_claims_never_share_an_outbox_item(db: Db) {
    migrated(&db).await;
    db.enqueue_webhooks(&items(40), NOW).await.unwrap();
    let claims = (0..8).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { db.claim_webhooks(NOW, NOW + 30, 7).await.unwrap() })
    });
    let mut seen = HashSet::new();
    let mut total = 0;
    for c in claims {
        for item in c.await.unwrap() {
            total += 1;
            assert!(seen.insert(item.id), "item {} claimed twice", item.id);
        }
    }
    assert_eq!(total, 40);
}

pub async fn a_failed_delivery_is_retried_later_or_given_up_on(db: Db) {
    migrated(&db).await;
    db.enqueue_webhooks(&items(2), NOW).await.unwrap();
    let claimed = db.claim_webhooks(NOW, NOW + 30, 10).await.unwrap();
    assert!(
        db.webhook_failed(claimed[0].id, NOW + 30, Some(NOW + 5), "HTTP 500", NOW)
            .await
            .unwrap()
    );
    assert!(
        db.webhook_failed(claimed[1].id, NOW + 30, None, "HTTP 410", NOW)
            .await
            .unwrap()
    );
    assert_eq!(
        db.outbox_counts().await.unwrap(),
        OutboxCounts {
            pending: 1,
            failed: 1
        }
    );
    // Not before its time, and released from the lease at once.
    assert!(
        db.claim_webhooks(NOW + 4, NOW + 34, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = db.claim_webhooks(NOW + 5, NOW + 35, 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].event_id, claimed[0].event_id);
    assert_eq!(retried[0].attempts, 1);
    // Given-up items stay for inspection until retention.
    assert_eq!(db.purge_failed_webhooks(NOW, 100).await.unwrap(), 0);
    assert_eq!(db.purge_failed_webhooks(NOW + 1, 100).await.unwrap(), 1);
    assert_eq!(db.outbox_counts().await.unwrap().failed, 0);
}

pub async fn released_outbox_items_are_due_at_once(db: Db) {
    migrated(&db).await;
    db.enqueue_webhooks(&items(2), NOW).await.unwrap();
    let claimed = db.claim_webhooks(NOW, NOW + 30, 10).await.unwrap();
    db.release_webhooks(&[claimed[1].id]).await.unwrap();
    let again = db.claim_webhooks(NOW + 1, NOW + 31, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, claimed[1].id);
}

/// What the release before the event system wrote to `events` (admin changes): during a rolling
/// upgrade its instances keep doing so on the migrated schema.
pub const PREVIOUS_RELEASE_EVENT_INSERT: &str = "INSERT INTO events (at, kind, actor, subject, \
     detail) VALUES (1699999999, 'client.created', 'admin-1', 'app', '{\"client_name\":\"App\"}')";

/// Not in the list: each backend writes [`PREVIOUS_RELEASE_EVENT_INSERT`] with its own
/// connection through `write_old`.
pub async fn an_event_row_the_previous_release_writes_reads_back(
    db: Db,
    write_old: impl AsyncFnOnce(),
) {
    migrated(&db).await;
    write_old().await;
    db.append_events(&[event(1)]).await.unwrap();
    let events = db.list_events(None, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    let old = &events[1];
    assert_eq!(old.event_id, old.id.to_string(), "named by its row");
    assert_eq!(
        (
            old.kind.as_str(),
            old.actor.as_str(),
            old.subject.as_str(),
            old.outcome.as_str()
        ),
        ("client.created", "admin-1", "app", "success")
    );
    assert_eq!(
        (&old.client_id, &old.user_id, &old.address, &old.request_id),
        (&None, &None, &None, &None)
    );
    assert_eq!(old.detail, json!({ "client_name": "App" }));
    assert_eq!(events[0].event_id, "ev-1");
}
