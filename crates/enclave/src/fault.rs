//! Fault injection for tests of the scoring consensus (docs/scoring-consensus.md,
//! "Fault-injection switches"): an enclave that signs a deviant score, so a localnet can
//! show that the chain excludes and flags it while the median still finalizes.
//!
//! Refused on every platform but the simulated one: a real TEE's measurement is what the
//! chain trusts, and a build that can lie must never carry it. On the simulated platform
//! nothing is proven anyway (the chain accepts it only while `allow_simulated` is on).

use crate::EnclaveError;

/// The platform name of the simulated enclave (see [`crate::EnclaveIdentity::platform`]).
pub const SIMULATED_PLATFORM: &str = "simulated";

/// Scores are 0..=100; offsets wrap within that range.
const SCORE_RANGE: u32 = 101;

/// "Sign `(score + offset) mod 101` instead of the score": the signed score differs from
/// the true one by `offset` or by `101 - offset`, so any offset in 3..=98 is outside the
/// chain's agreement tolerance of ±2 whatever the true score is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoreOffset(u32);

impl ScoreOffset {
    /// The fault for an enclave on `platform`; refused off the simulated platform and for
    /// an offset outside 1..=100 (0 would be no fault, 101 a full circle).
    pub fn new(offset: u32, platform: &str) -> Result<Self, EnclaveError> {
        if platform != SIMULATED_PLATFORM {
            return Err(EnclaveError::FaultRefused(format!(
                "a deviant score is only allowed on the {SIMULATED_PLATFORM} platform, this enclave runs on {platform:?}"
            )));
        }
        if offset == 0 || offset >= SCORE_RANGE {
            return Err(EnclaveError::FaultRefused(format!(
                "the score offset must be 1..=100, not {offset}"
            )));
        }
        Ok(Self(offset))
    }

    pub fn offset(self) -> u32 {
        self.0
    }

    /// The deviant score signed in place of `score` (≤ 100, so the chain still accepts
    /// the extension: only the aggregation may judge it).
    pub fn apply(self, score: u32) -> u32 {
        score.min(SCORE_RANGE - 1).saturating_add(self.0) % SCORE_RANGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deviant_score_is_refused_off_the_simulated_platform() {
        for platform in ["sgx", "sev-snp", "nitro", "SIMULATED", ""] {
            let e = ScoreOffset::new(40, platform).unwrap_err();
            assert!(
                e.to_string()
                    .contains("only allowed on the simulated platform"),
                "{platform}: {e}"
            );
        }
        assert_eq!(ScoreOffset::new(40, "simulated").unwrap().offset(), 40);
    }

    #[test]
    fn an_offset_that_would_not_change_the_score_is_refused() {
        assert!(ScoreOffset::new(0, SIMULATED_PLATFORM).is_err());
        assert!(ScoreOffset::new(101, SIMULATED_PLATFORM).is_err());
        assert!(ScoreOffset::new(100, SIMULATED_PLATFORM).is_ok());
    }

    #[test]
    fn the_deviant_score_stays_in_range_and_outside_the_tolerance() {
        for offset in 3..=98 {
            let f = ScoreOffset::new(offset, SIMULATED_PLATFORM).unwrap();
            for score in 0..=100u32 {
                let d = f.apply(score);
                assert!(d <= 100, "offset {offset} score {score} -> {d}");
                assert!(
                    d.abs_diff(score) > 2,
                    "offset {offset} score {score} -> {d}"
                );
            }
        }
        let f = ScoreOffset::new(40, SIMULATED_PLATFORM).unwrap();
        assert_eq!((f.apply(30), f.apply(70), f.apply(100)), (70, 9, 39));
    }
}
