//! enclave module (being built).
