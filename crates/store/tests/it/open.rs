//! `open`: choosing the backend from the URL, and errors that never show a password.

use oauth2_core::ports::StoreError;
use oauth2_store::{open, redact_url};
use std::time::{Duration, Instant};

fn backend_error(result: Result<impl Sized, StoreError>) -> String {
    match result {
        Err(StoreError::Backend(message)) => message,
        Err(other) => panic!("expected a backend error, got {other:?}"),
        Ok(_) => panic!("expected an error"),
    }
}

#[tokio::test]
async fn an_unsupported_url_scheme_is_named_without_the_rest_of_the_url() {
    let message = backend_error(open("mysql://root:hunter2@db.example/app", 4).await);

    assert!(
        message.contains("unsupported database URL scheme 'mysql'"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    let message = backend_error(open("not a url", 4).await);
    assert!(message.contains("unsupported database URL"), "{message}");
}

#[tokio::test]
async fn an_unreachable_postgres_fails_fast_without_showing_the_password() {
    let started = Instant::now();

    let message = backend_error(open("postgres://app:hunter2@127.0.0.1:1/app", 4).await);

    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        message.contains("postgres://app:***@127.0.0.1:1/app"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    let message = backend_error(open("postgresql://app@127.0.0.1:1/app?password=hunter2", 4).await);
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn zero_connections_is_refused() {
    let message = backend_error(open("sqlite::memory:", 0).await);

    assert!(message.contains("max_connections"), "{message}");
}

#[test]
fn redacted_urls_hide_passwords_wherever_they_are() {
    let cases = [
        (
            "postgres://u:secret@h:5432/db",
            "postgres://u:***@h:5432/db",
        ),
        ("postgres://u@h/db", "postgres://u@h/db"),
        (
            "postgres://h/db?password=secret&sslmode=require",
            "postgres://h/db?password=***&sslmode=require",
        ),
        // A password holding unescaped '/' and '@' is hidden whole.
        ("postgres://u:se/cr@et@h/db", "postgres://u:***@h/db"),
        ("sqlite:/var/lib/oauth2.db", "sqlite:/var/lib/oauth2.db"),
    ];
    for (url, redacted) in cases {
        assert_eq!(redact_url(url), redacted, "{url}");
    }
}
