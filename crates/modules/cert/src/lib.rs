//! `cert` module (in progress).
