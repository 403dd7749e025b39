//! Black-box tests of the whole server: real HTTP, real SQLite and PostgreSQL, the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs one async test body against SQLite and against PostgreSQL:
/// `both!(name, |app| async move { ... })` makes `name::sqlite` and `name::postgres`.
macro_rules! both {
    ($name:ident, $extra:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let app = oauth2_testkit::spawn_app_with(oauth2_testkit::Backend::Sqlite, $extra)
                    .await
                    .expect("SQLite is always available");
                ($body)(app).await;
            }
            #[actix_web::test]
            async fn postgres() {
                if let Some(app) =
                    oauth2_testkit::spawn_app_with(oauth2_testkit::Backend::Postgres, $extra).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
}

mod account;
mod admin_api;
mod browser;
mod cli;
mod client_credentials;
mod code_flow;
mod config;
mod dashboard;
mod deploy;
mod discovery;
mod events;
mod http_receiver;
mod interop;
mod introspection;
mod keys;
mod login;
mod logs;
mod malformed;
mod metrics;
mod oidc;
mod openapi;
mod otlp;
mod password;
mod process;
mod refresh;
mod registration;
mod revocation;
mod shutdown;
