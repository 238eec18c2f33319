//! Pricing strategies. `Rates` is pure (part of the benchmarked decision); `Script` runs
//! an operator's program with a time limit: a script that overruns is killed and the
//! order gets no bid (logged and counted as `pricing_timeout`), never a guessed price.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::decision::{Demand, Skip};
use crate::resources::Resources;

/// Fixed-point scale of rates: 6 decimals (a rate of `0.5` uve is 500 000 micro-uve).
pub const RATE_SCALE: u128 = 1_000_000;
const MILLI_PER_CORE: u128 = 1_000;
const BYTES_PER_GIB: u128 = 1 << 30;

/// Per-block prices per resource, in micro-units of the bid denom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates {
    pub per_core: u128,
    pub per_gib_memory: u128,
    pub per_gib_storage: u128,
    pub per_gpu: u128,
    /// Floor of any bid, in whole units of the denom.
    pub min_price: u128,
}

/// A decimal string such as `12`, `0.5` or `0.000001` as micro-units; `None` if it is
/// not a non-negative decimal with at most 6 fractional digits.
pub fn parse_micro(s: &str) -> Option<u128> {
    let (int, frac) = match s.trim().split_once('.') {
        Some((i, f)) => (i, f),
        None => (s.trim(), ""),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let int: u128 = int.parse().ok()?;
    let frac_val: u128 = if frac.is_empty() {
        0
    } else {
        let f: u128 = frac.parse().ok()?;
        f.checked_mul(10u128.checked_pow(u32::try_from(6 - frac.len()).ok()?)?)?
    };
    int.checked_mul(RATE_SCALE)?.checked_add(frac_val)
}

impl Rates {
    /// Rates from their decimal text (as in the config file).
    pub fn from_decimal(
        per_core: &str,
        per_gib_memory: &str,
        per_gib_storage: &str,
        per_gpu: &str,
        min_price: &str,
    ) -> Option<Self> {
        Some(Self {
            per_core: parse_micro(per_core)?,
            per_gib_memory: parse_micro(per_gib_memory)?,
            per_gib_storage: parse_micro(per_gib_storage)?,
            per_gpu: parse_micro(per_gpu)?,
            min_price: min_price.trim().parse().ok()?,
        })
    }

    /// Price per block of `r`, rounded up to a whole unit and at least `min_price`;
    /// `None` on overflow.
    pub fn price(&self, r: &Resources) -> Option<u128> {
        let cpu = u128::from(r.cpu_millicores)
            .checked_mul(self.per_core)?
            .div_ceil(MILLI_PER_CORE);
        let mem = u128::from(r.memory_bytes)
            .checked_mul(self.per_gib_memory)?
            .div_ceil(BYTES_PER_GIB);
        let storage = u128::from(r.storage_bytes)
            .checked_mul(self.per_gib_storage)?
            .div_ceil(BYTES_PER_GIB);
        let gpu = u128::from(r.gpus).checked_mul(self.per_gpu)?;
        let micro = cpu
            .checked_add(mem)?
            .checked_add(storage)?
            .checked_add(gpu)?;
        Some(micro.div_ceil(RATE_SCALE).max(self.min_price))
    }
}

/// An external pricing program: it reads the demand as one JSON object on stdin and
/// prints the price per block (an integer in the bid denom) on stdout.
#[derive(Debug, Clone)]
pub struct Script {
    pub program: PathBuf,
    pub time_limit: Duration,
}

impl Script {
    /// Runs the script for `order`; `Skip::PricingTimeout` if it overruns (it is killed),
    /// `Skip::PricingScript` if it fails or prints something that is not a price.
    pub async fn price(&self, order: &str, denom: &str, demand: &Demand) -> Result<u128, Skip> {
        let input = serde_json::json!({
            "order": order,
            "denom": denom,
            "cpu_millicores": demand.total.cpu_millicores,
            "memory_bytes": demand.total.memory_bytes,
            "storage_bytes": demand.total.storage_bytes,
            "gpus": demand.total.gpus,
            "cap": demand.cap.to_string(),
        })
        .to_string();
        let mut child = tokio::process::Command::new(&self.program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Skip::PricingScript(format!("{}: {e}", self.program.display())))?;
        let run = async {
            if let Some(mut stdin) = child.stdin.take() {
                // A script that ignores stdin may close it early: not an error.
                let _ = stdin.write_all(input.as_bytes()).await;
            }
            let mut out = String::new();
            if let Some(mut stdout) = child.stdout.take() {
                stdout
                    .read_to_string(&mut out)
                    .await
                    .map_err(|e| Skip::PricingScript(e.to_string()))?;
            }
            let status = child
                .wait()
                .await
                .map_err(|e| Skip::PricingScript(e.to_string()))?;
            if !status.success() {
                return Err(Skip::PricingScript(format!("exited with {status}")));
            }
            out.trim()
                .parse::<u128>()
                .map_err(|_| Skip::PricingScript(format!("printed {:?}, not a price", out.trim())))
        };
        match tokio::time::timeout(self.time_limit, run).await {
            Ok(r) => r,
            // Dropping the future drops `child` (kill_on_drop): the script is killed.
            Err(_) => Err(Skip::PricingTimeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn decimal_rates_parse_to_micro_units() {
        assert_eq!(parse_micro("12"), Some(12_000_000));
        assert_eq!(parse_micro("0.5"), Some(500_000));
        assert_eq!(parse_micro("0.000001"), Some(1));
        assert_eq!(parse_micro("0.0000001"), None);
        assert_eq!(parse_micro("-1"), None);
        assert_eq!(parse_micro("1e3"), None);
    }

    #[test]
    fn price_rounds_up_and_respects_the_floor() {
        let r = Rates::from_decimal("0.5", "0", "0", "0", "3").unwrap();
        let one_milli = Resources {
            cpu_millicores: 1,
            ..Default::default()
        };
        assert_eq!(r.price(&one_milli), Some(3)); // 0.0005 -> 1, floored up to 3
        let many = Resources {
            cpu_millicores: 20_000,
            ..Default::default()
        };
        assert_eq!(r.price(&many), Some(10));
    }

    fn script(body: &str, limit_ms: u64) -> (tempfile::TempDir, Script) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("price.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        (
            dir,
            Script {
                program: path,
                time_limit: Duration::from_millis(limit_ms),
            },
        )
    }

    fn demand() -> Demand {
        Demand {
            total: Resources {
                cpu_millicores: 1500,
                ..Default::default()
            },
            cap: 1000,
        }
    }

    #[tokio::test]
    async fn script_price_is_read_from_stdout_and_sees_the_demand() {
        // Prices by the CPU it was given: proves the JSON reached the script.
        let (_d, s) = script(
            r#"read line; echo "$line" | grep -q '"cpu_millicores":1500' && echo 640 || echo 1"#,
            5_000,
        );
        assert_eq!(s.price("o/1/1/1", "uve", &demand()).await, Ok(640));
    }

    #[tokio::test]
    async fn script_exceeding_its_time_limit_means_no_bid() {
        let (_d, s) = script("sleep 5; echo 10", 200);
        assert_eq!(
            s.price("o/1/1/1", "uve", &demand()).await,
            Err(Skip::PricingTimeout)
        );
    }

    #[tokio::test]
    async fn failing_or_garbage_script_means_no_bid() {
        let (_d, s) = script("exit 3", 5_000);
        assert!(matches!(
            s.price("o", "uve", &demand()).await,
            Err(Skip::PricingScript(_))
        ));
        let (_d, s) = script("echo cheap", 5_000);
        assert!(matches!(
            s.price("o", "uve", &demand()).await,
            Err(Skip::PricingScript(_))
        ));
    }
}
