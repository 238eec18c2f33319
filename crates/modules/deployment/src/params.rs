use crate::proto::Params;
use crate::DeploymentError;
use ve_types::Coin;

/// Hard bounds whatever the params say (the work per message scales with them).
pub const HARD_MAX_GROUPS: u32 = 64;
pub const HARD_MAX_UNITS: u32 = 1_000;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeploymentParams {
    /// Smallest deposit per denom (default 500 000 uve); other denoms are refused.
    pub min_deposits: Vec<Coin>,
    pub max_groups: u32,
    pub max_units_per_group: u32,
    /// Identity tier (0 unverified .. 3 premium) a tenant needs; 0 = no requirement.
    pub min_tenant_tier: u32,
}

impl Default for DeploymentParams {
    fn default() -> Self {
        Self {
            min_deposits: vec![Coin::new("uve", 500_000)],
            max_groups: 20,
            max_units_per_group: 100,
            min_tenant_tier: 0,
        }
    }
}

impl DeploymentParams {
    pub fn validate(&self) -> Result<(), DeploymentError> {
        let bad = |m: &str| Err(DeploymentError::InvalidParams(m.to_string()));
        if self.min_deposits.is_empty() {
            return bad("min_deposits needs at least one denom");
        }
        for c in &self.min_deposits {
            if ve_types::validate_denom(&c.denom).is_err() {
                return bad("min_deposits has an invalid denom");
            }
        }
        if self.max_groups == 0 || self.max_groups > HARD_MAX_GROUPS {
            return bad("max_groups must be 1..=64");
        }
        if self.max_units_per_group == 0 || self.max_units_per_group > HARD_MAX_UNITS {
            return bad("max_units_per_group must be 1..=1000");
        }
        if self.min_tenant_tier > 3 {
            return bad("min_tenant_tier must be 0..=3");
        }
        Ok(())
    }

    pub fn min_deposit(&self, denom: &str) -> Option<u128> {
        self.min_deposits
            .iter()
            .find(|c| c.denom == denom)
            .map(|c| c.amount)
    }

    pub fn to_proto(&self) -> Params {
        Params {
            min_deposits: self
                .min_deposits
                .iter()
                .map(crate::types::proto_coin)
                .collect(),
            max_groups: self.max_groups,
            max_units_per_group: self.max_units_per_group,
            min_tenant_tier: self.min_tenant_tier,
        }
    }

    pub fn from_proto(p: &Params) -> Result<Self, DeploymentError> {
        let mut min_deposits = Vec::with_capacity(p.min_deposits.len());
        for c in &p.min_deposits {
            min_deposits.push(
                Coin::from_parts(&c.denom, &c.amount)
                    .map_err(|e| DeploymentError::Corrupt(format!("params: {e}")))?,
            );
        }
        Ok(Self {
            min_deposits,
            max_groups: p.max_groups,
            max_units_per_group: p.max_units_per_group,
            min_tenant_tier: p.min_tenant_tier,
        })
    }
}
