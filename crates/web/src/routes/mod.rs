//! Route handlers, one module per area.

pub mod discovery;
pub mod health;
pub mod token;
