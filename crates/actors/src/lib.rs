//! The actor layer of the seed's architecture: [`TokenActor`], [`ClientActor`] and [`AuthActor`] own
//! the operations. They ask `oauth2-core` for every protocol decision and the storage ports for data.
//!
//! Each actix-web worker starts its own set of actors (see [`Actors::start`]), so the actors run on
//! the worker's thread and never become a single queue that serializes the whole server; every
//! handler returns a future, so one actor also serves many requests at once.

pub mod account;
pub mod activity;
pub mod admin;
pub mod auth;
pub mod clients;
pub mod deny_list;
pub mod events;
pub mod grants;
pub mod housekeeping;
pub mod keys;
pub mod messages;
pub mod oidc;
pub mod registration;
pub mod services;
pub mod settings;
pub mod tokens;
pub mod users;

pub use messages::{Actors, AuthActor, ClientActor, TokenActor};
pub use services::Services;
pub use settings::{RegistrationPolicy, Settings};

use oauth2_core::UnixTime;

/// The one place the server reads the wall clock; everything below it takes `now` as a parameter.
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as UnixTime)
        .unwrap_or(0)
}
