//! Route handlers, one module per area.

pub mod account;
pub mod admin_api;
pub mod admin_pages;
pub mod auth;
pub mod discovery;
pub mod health;
pub mod registration;
pub mod token;
