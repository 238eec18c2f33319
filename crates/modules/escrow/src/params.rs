use crate::proto::Params;
use crate::EscrowError;

/// Most open and paused payments any account can have, whatever the params say.
pub const HARD_MAX_PAYMENTS: usize = 1_000;

/// escrow parameters. Heights, not seconds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscrowParams {
    /// Blocks an overdrawn account waits for a top-up before it is closed and refunded
    /// (default 17 280: one day of 5 s blocks).
    pub grace_period_blocks: u64,
    /// Open and paused payments one account may have (settlement touches all of them).
    pub max_payments_per_account: u32,
    /// Distinct depositors other than the owner; bounds the deposit list so a sponsor
    /// cannot grow it without limit. The owner can always deposit.
    pub max_sponsors_per_account: u32,
    /// End-block work bound: accounts woken per block (run dry or grace over).
    pub max_wakes_per_block: u32,
}

impl Default for EscrowParams {
    fn default() -> Self {
        Self {
            grace_period_blocks: 17_280,
            max_payments_per_account: 100,
            max_sponsors_per_account: 16,
            max_wakes_per_block: 100,
        }
    }
}

impl EscrowParams {
    pub fn validate(&self) -> Result<(), EscrowError> {
        let bad = |m: &str| Err(EscrowError::InvalidParams(m.to_string()));
        let hard = u32::try_from(HARD_MAX_PAYMENTS).unwrap_or(u32::MAX);
        if self.max_payments_per_account == 0 || self.max_payments_per_account > hard {
            return bad("max_payments_per_account must be 1..=1000");
        }
        if self.max_sponsors_per_account > 256 {
            return bad("max_sponsors_per_account must be 0..=256");
        }
        if self.max_wakes_per_block == 0 || self.max_wakes_per_block > 10_000 {
            return bad("max_wakes_per_block must be 1..=10000");
        }
        Ok(())
    }

    pub fn to_proto(&self) -> Params {
        Params {
            grace_period_blocks: self.grace_period_blocks,
            max_payments_per_account: self.max_payments_per_account,
            max_sponsors_per_account: self.max_sponsors_per_account,
            max_wakes_per_block: self.max_wakes_per_block,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            grace_period_blocks: p.grace_period_blocks,
            max_payments_per_account: p.max_payments_per_account,
            max_sponsors_per_account: p.max_sponsors_per_account,
            max_wakes_per_block: p.max_wakes_per_block,
        }
    }
}
