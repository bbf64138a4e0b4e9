//! Upshot core.
