//! The admin command line, run as the real binary.
