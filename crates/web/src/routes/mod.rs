//! Route handlers, one module per area.

pub mod auth;
pub mod discovery;
pub mod health;
pub mod registration;
pub mod token;
