use crate::proto::{DenomTakeRate, Params};
use crate::TakeError;
use ve_types::BASE_DENOM;

/// Rates are basis points of this.
pub const BPS_DENOMINATOR: u32 = 10_000;

/// take parameters (spec §4.6, in basis points instead of percent).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TakeParams {
    /// For denoms without an entry (default 2000 = 20%).
    pub default_take_rate_bps: u32,
    /// Per-denom rates; must contain `uve` (default 200 = 2%).
    pub denom_take_rates: Vec<DenomRate>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenomRate {
    pub denom: String,
    pub rate_bps: u32,
}

impl Default for TakeParams {
    fn default() -> Self {
        Self {
            default_take_rate_bps: 2_000,
            denom_take_rates: vec![DenomRate {
                denom: BASE_DENOM.to_string(),
                rate_bps: 200,
            }],
        }
    }
}

impl TakeParams {
    pub fn validate(&self) -> Result<(), TakeError> {
        let bad = |m: String| Err(TakeError::InvalidParams(m));
        if self.default_take_rate_bps > BPS_DENOMINATOR {
            return bad(format!(
                "default_take_rate_bps {} is above {BPS_DENOMINATOR} (100%)",
                self.default_take_rate_bps
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.denom_take_rates {
            ve_types::validate_denom(&r.denom)
                .map_err(|e| TakeError::InvalidParams(e.to_string()))?;
            if !seen.insert(r.denom.as_str()) {
                return bad(format!("denom {} listed twice", r.denom));
            }
            if r.rate_bps > BPS_DENOMINATOR {
                return bad(format!(
                    "rate for {} is {} bps, above {BPS_DENOMINATOR} (100%)",
                    r.denom, r.rate_bps
                ));
            }
        }
        if !seen.contains(BASE_DENOM) {
            return bad(format!("denom_take_rates must contain {BASE_DENOM}"));
        }
        Ok(())
    }

    /// The rate of `denom` in basis points.
    pub fn rate_bps(&self, denom: &str) -> u32 {
        self.denom_take_rates
            .iter()
            .find(|r| r.denom == denom)
            .map_or(self.default_take_rate_bps, |r| r.rate_bps)
    }

    pub fn to_proto(&self) -> Params {
        Params {
            default_take_rate_bps: self.default_take_rate_bps,
            denom_take_rates: self
                .denom_take_rates
                .iter()
                .map(|r| DenomTakeRate {
                    denom: r.denom.clone(),
                    rate_bps: r.rate_bps,
                })
                .collect(),
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            default_take_rate_bps: p.default_take_rate_bps,
            denom_take_rates: p
                .denom_take_rates
                .iter()
                .map(|r| DenomRate {
                    denom: r.denom.clone(),
                    rate_bps: r.rate_bps,
                })
                .collect(),
        }
    }
}

/// Splits `amount` into `(to_payee, fee)` with `fee = floor(amount × rate_bps / 10 000)`,
/// computed without overflow for every `u128`. Rates above 100% are treated as 100%.
/// `to_payee + fee == amount` always.
pub fn split(amount: u128, rate_bps: u32) -> (u128, u128) {
    let d = u128::from(BPS_DENOMINATOR);
    let r = u128::from(rate_bps.min(BPS_DENOMINATOR));
    // amount = q·d + m  ⇒  amount·r/d = q·r + m·r/d, and q·r ≤ amount, m·r < d².
    let q = amount / d;
    let m = amount % d;
    let fee = q.saturating_mul(r).saturating_add(m.saturating_mul(r) / d);
    (amount.saturating_sub(fee), fee)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_are_two_percent_for_uve_and_twenty_otherwise() {
        let p = TakeParams::default();
        assert!(p.validate().is_ok());
        assert_eq!(p.rate_bps("uve"), 200);
        assert_eq!(p.rate_bps("uusd"), 2_000);
        assert_eq!(split(1_000, 200), (980, 20));
        assert_eq!(split(99, 200), (98, 1));
        assert_eq!(split(49, 200), (49, 0));
        assert_eq!(split(1_000, 2_000), (800, 200));
        assert_eq!(split(u128::MAX, 10_000), (0, u128::MAX));
    }

    #[test]
    fn invalid_params_are_refused() {
        let mut p = TakeParams::default();
        p.denom_take_rates.clear();
        assert!(p.validate().is_err());
        let p = TakeParams {
            default_take_rate_bps: 10_001,
            ..TakeParams::default()
        };
        assert!(p.validate().is_err());
        let mut p = TakeParams::default();
        p.denom_take_rates.push(p.denom_take_rates[0].clone());
        assert!(p.validate().is_err());
    }

    proptest! {
        #[test]
        fn split_is_exact_floor(amount in any::<u128>(), bps in 0u32..=10_000) {
            let (payee, fee) = split(amount, bps);
            prop_assert_eq!(payee.checked_add(fee), Some(amount));
            // Compare with exact arithmetic on the small cases where it fits.
            if let Some(prod) = amount.checked_mul(u128::from(bps)) {
                prop_assert_eq!(fee, prod / 10_000);
            }
        }
    }
}
