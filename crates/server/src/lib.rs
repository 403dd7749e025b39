//! The `oauth2-server` binary's library: configuration, the command line, start-up.

pub mod app;
pub mod cli;
pub mod config;
pub mod telemetry;

pub use app::{Application, StartError};
pub use config::{Config, ConfigError};
