//! Parsers for SLURM's value formats: durations, memory sizes and TRES lists.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SlurmError};

/// A duration as SLURM prints it, in milliseconds: `[D-]HH:MM:SS`, `MM:SS.mmm` (TotalCPU),
/// `MM:SS`, `SS`. `UNLIMITED`, `INVALID`, `Partition_Limit` and empty are `None`.
pub fn parse_duration_ms(s: &str) -> Result<Option<u64>> {
    let s = s.trim();
    if s.is_empty()
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "unlimited" | "infinite" | "invalid" | "partition_limit"
        )
    {
        return Ok(None);
    }
    let bad = |reason: &str| SlurmError::parse("duration", s, reason);
    let (days, clock) = match s.split_once('-') {
        Some((d, rest)) => (
            d.parse::<u64>().map_err(|_| bad("days are not a number"))?,
            rest,
        ),
        None => (0, s),
    };
    let (clock, millis) = match clock.split_once('.') {
        Some((c, frac)) => {
            if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("fraction must be 1-3 digits"));
            }
            let padded = format!("{frac:0<3}");
            (
                c,
                padded
                    .parse::<u64>()
                    .map_err(|_| bad("fraction is not a number"))?,
            )
        }
        None => (clock, 0),
    };
    let parts = clock
        .split(':')
        .map(|p| p.parse::<u64>().map_err(|_| bad("not a number")))
        .collect::<Result<Vec<_>>>()?;
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => (0, *m, *s),
        [s] => (0, 0, *s),
        _ => return Err(bad("expected [D-]HH:MM:SS")),
    };
    let secs = days
        .checked_mul(86_400)
        .and_then(|d| d.checked_add(h.checked_mul(3600)?))
        .and_then(|t| t.checked_add(m.checked_mul(60)?))
        .and_then(|t| t.checked_add(sec))
        .ok_or_else(|| bad("overflow"))?;
    secs.checked_mul(1000)
        .and_then(|ms| ms.checked_add(millis))
        .map(Some)
        .ok_or_else(|| bad("overflow"))
}

/// A memory size (`3064K`, `1G`, `24105` = MiB as sinfo prints) in bytes.
/// `default_unit` is the multiplier of a bare number. Empty is `None`.
pub fn parse_memory_bytes(s: &str, default_unit: u64) -> Result<Option<u64>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| SlurmError::parse("memory", s, reason);
    let (num, unit) = match s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
    {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let mult: u64 = match unit {
        "" => default_unit,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        "T" | "t" => 1 << 40,
        "P" | "p" => 1 << 50,
        _ => return Err(bad("unknown unit")),
    };
    // sacct may print fractions (`1.50G`): scale by 1000 in integers, no floats.
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() || frac.len() > 3 {
        return Err(bad("expected a number with at most 3 decimals"));
    }
    let whole: u64 = int.parse().map_err(|_| bad("not a number"))?;
    let frac_thousandths: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}")
            .parse()
            .map_err(|_| bad("not a number"))?
    };
    let milli = whole
        .checked_mul(1000)
        .and_then(|w| w.checked_add(frac_thousandths))
        .and_then(|m| m.checked_mul(mult))
        .ok_or_else(|| bad("overflow"))?;
    Ok(Some(milli / 1000))
}

/// Trackable resources of a job, from `AllocTRES` (e.g. `billing=1,cpu=1,mem=1G,node=1,gres/gpu=2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tres {
    pub cpus: u64,
    pub memory_bytes: u64,
    pub nodes: u64,
    /// All GPUs, typed (`gres/gpu:a100=2`) or not (`gres/gpu=2`); the untyped total wins.
    pub gpus: u64,
    pub billing: u64,
}

impl Tres {
    pub fn parse(s: &str) -> Result<Tres> {
        let mut t = Tres::default();
        let mut typed_gpus = 0u64;
        let mut untyped_gpus = None;
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| SlurmError::parse("TRES", s, "expected key=value"))?;
            let count = || {
                value
                    .parse::<u64>()
                    .map_err(|_| SlurmError::parse("TRES", s, "count is not a number"))
            };
            match key {
                "cpu" => t.cpus = count()?,
                "mem" => t.memory_bytes = parse_memory_bytes(value, 1 << 20)?.unwrap_or(0),
                "node" => t.nodes = count()?,
                "billing" => t.billing = count()?,
                "gres/gpu" => untyped_gpus = Some(count()?),
                k if k.starts_with("gres/gpu:") => {
                    typed_gpus = typed_gpus
                        .checked_add(count()?)
                        .ok_or_else(|| SlurmError::parse("TRES", s, "overflow"))?;
                }
                // energy, fs/disk, licenses …: not billed by VirtEngine.
                _ => {}
            }
        }
        t.gpus = untyped_gpus.unwrap_or(typed_gpus);
        Ok(t)
    }
}
