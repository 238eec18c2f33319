//! Gateway tests against a real application (filled in below).
