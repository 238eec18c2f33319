//! Order and bid ids (a lease has its bid's id).

use crate::{proto, MarketError};
use std::fmt;
use ve_deployment::{DeploymentId, GroupId};
use ve_types::Address;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderId {
    pub owner: Address,
    pub dseq: u64,
    pub gseq: u32,
    pub oseq: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BidId {
    pub order: OrderId,
    pub provider: Address,
}

pub fn parse_addr(s: &str) -> Result<Address, MarketError> {
    s.parse()
        .map_err(|e| MarketError::InvalidAddress(s.to_string(), format!("{e}")))
}

impl OrderId {
    pub fn new(group: &GroupId, oseq: u32) -> Self {
        Self {
            owner: group.owner,
            dseq: group.dseq,
            gseq: group.gseq,
            oseq,
        }
    }
    pub fn group(&self) -> GroupId {
        GroupId {
            owner: self.owner,
            dseq: self.dseq,
            gseq: self.gseq,
        }
    }
    pub fn deployment(&self) -> DeploymentId {
        DeploymentId {
            owner: self.owner,
            dseq: self.dseq,
        }
    }
    fn check(owner: &str, dseq: u64, gseq: u32, oseq: u32) -> Result<Self, MarketError> {
        if dseq == 0 || gseq == 0 || oseq == 0 {
            return Err(MarketError::InvalidId(
                "dseq, gseq and oseq must be positive".into(),
            ));
        }
        Ok(Self {
            owner: parse_addr(owner)?,
            dseq,
            gseq,
            oseq,
        })
    }
    pub fn from_proto(p: Option<&proto::OrderId>) -> Result<Self, MarketError> {
        let p = p.ok_or_else(|| MarketError::InvalidId("missing order id".into()))?;
        Self::check(&p.owner, p.dseq, p.gseq, p.oseq)
    }
    pub fn to_proto(&self) -> proto::OrderId {
        proto::OrderId {
            owner: self.owner.to_string(),
            dseq: self.dseq,
            gseq: self.gseq,
            oseq: self.oseq,
        }
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.owner, self.dseq, self.gseq, self.oseq
        )
    }
}

impl BidId {
    pub fn from_proto(p: Option<&proto::BidId>) -> Result<Self, MarketError> {
        let p = p.ok_or_else(|| MarketError::InvalidId("missing bid id".into()))?;
        Ok(Self {
            order: OrderId::check(&p.owner, p.dseq, p.gseq, p.oseq)?,
            provider: parse_addr(&p.provider)?,
        })
    }
    pub fn to_proto(&self) -> proto::BidId {
        proto::BidId {
            owner: self.order.owner.to_string(),
            dseq: self.order.dseq,
            gseq: self.order.gseq,
            oseq: self.order.oseq,
            provider: self.provider.to_string(),
        }
    }
    /// The escrow account holding this bid's deposit.
    pub fn escrow_account(&self) -> ve_escrow::AccountId {
        ve_escrow::AccountId {
            scope: crate::BID_ESCROW_SCOPE.to_string(),
            xid: format!("{}/{}", self.order, self.provider),
        }
    }
    /// The lease's payment id in the deployment's escrow account: `gseq/oseq/provider`.
    pub fn payment_id(&self) -> String {
        format!("{}/{}/{}", self.order.gseq, self.order.oseq, self.provider)
    }
    /// The lease of a payment of a deployment account.
    pub fn from_payment(dep: &DeploymentId, payment_id: &str) -> Option<Self> {
        let mut it = payment_id.splitn(3, '/');
        let gseq = it.next()?.parse().ok()?;
        let oseq = it.next()?.parse().ok()?;
        let provider = it.next()?.parse().ok()?;
        Some(Self {
            order: OrderId {
                owner: dep.owner,
                dseq: dep.dseq,
                gseq,
                oseq,
            },
            provider,
        })
    }
}

impl fmt::Display for BidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.order, self.provider)
    }
}

pub fn order_state_name(s: i32) -> &'static str {
    match proto::OrderState::try_from(s) {
        Ok(proto::OrderState::Open) => "open",
        Ok(proto::OrderState::Active) => "active",
        Ok(proto::OrderState::Closed) => "closed",
        _ => "invalid",
    }
}

pub fn bid_state_name(s: i32) -> &'static str {
    match proto::BidState::try_from(s) {
        Ok(proto::BidState::Open) => "open",
        Ok(proto::BidState::Active) => "active",
        Ok(proto::BidState::Lost) => "lost",
        Ok(proto::BidState::Closed) => "closed",
        _ => "invalid",
    }
}

pub fn lease_state_name(s: i32) -> &'static str {
    match proto::LeaseState::try_from(s) {
        Ok(proto::LeaseState::Active) => "active",
        Ok(proto::LeaseState::InsufficientFunds) => "insufficient_funds",
        Ok(proto::LeaseState::Closed) => "closed",
        _ => "invalid",
    }
}
