//! `--output text|json`: text for people, JSON (stable snake_case fields) for scripts.

use anyhow::{Context, Result};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Prints `v` as one pretty JSON document on stdout.
pub fn print_json<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(v).context("serialising output")?;
    println!("{s}");
    Ok(())
}
