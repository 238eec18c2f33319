//! `offering` module (in progress).
