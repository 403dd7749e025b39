//! OAuth 2.0 / OpenID Connect protocol and domain logic, free of I/O.
//!
//! Nothing here touches a socket, a database or the clock: callers pass `now` and a random source in,
//! so every protocol rule (expiry, replay, scope narrowing) is testable without sleeping or mocking.
//! The storage traits (the "ports") live in [`ports`]; `oauth2-store` implements them per backend.

pub mod authorize;
pub mod client;
pub mod client_auth;
pub mod csrf;
pub mod discovery;
pub mod error;
pub mod events;
pub mod form;
pub mod jose;
pub mod oidc;
pub mod password;
pub mod pkce;
pub mod ports;
pub mod registration;
pub mod scope;
pub mod secret;
pub mod time;
pub mod token;

pub use aws_lc_rs::rand::{SecureRandom, SystemRandom};
pub use error::{ErrorCode, OAuthError};

/// Seconds since the Unix epoch. Every timestamp in the domain is one of these.
pub type UnixTime = i64;
