use crate::proto::Params;
use crate::MarketError;
use ve_types::Coin;

/// Bids per order, whatever the params say.
pub const HARD_MAX_BIDS: u32 = 500;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketParams {
    /// Smallest bid deposit (default 500 000 uve); bids deposit in this denom.
    pub bid_min_deposit: Coin,
    /// Bids one order accepts (default 20, at most 500).
    pub order_max_bids: u32,
}

impl Default for MarketParams {
    fn default() -> Self {
        Self {
            bid_min_deposit: Coin::new("uve", 500_000),
            order_max_bids: 20,
        }
    }
}

impl MarketParams {
    pub fn validate(&self) -> Result<(), MarketError> {
        if ve_types::validate_denom(&self.bid_min_deposit.denom).is_err() {
            return Err(MarketError::InvalidParams("bid_min_deposit denom".into()));
        }
        if self.order_max_bids == 0 || self.order_max_bids > HARD_MAX_BIDS {
            return Err(MarketError::InvalidParams(
                "order_max_bids must be 1..=500".into(),
            ));
        }
        Ok(())
    }
    pub fn to_proto(&self) -> Params {
        Params {
            bid_min_deposit: Some(ve_deployment::types::proto_coin(&self.bid_min_deposit)),
            order_max_bids: self.order_max_bids,
        }
    }
    pub fn from_proto(p: &Params) -> Result<Self, MarketError> {
        let c = ve_deployment::types::coin(p.bid_min_deposit.as_ref(), "bid_min_deposit")
            .map_err(|e| MarketError::Corrupt(format!("params: {e}")))?;
        Ok(Self {
            bid_min_deposit: c,
            order_max_bids: p.order_max_bids,
        })
    }
}
