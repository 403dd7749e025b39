//! Configuration: defaults, file, environment, validation.
