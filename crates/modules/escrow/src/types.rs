//! Escrow's domain types, and their protobuf form (the stored and queried encoding).

use crate::{proto, EscrowError};
use std::fmt;
use std::str::FromStr;
use ve_types::{parse_amount, Address};

/// Longest scope, xid and payment id, in bytes.
pub const MAX_SCOPE_LEN: usize = 32;
pub const MAX_XID_LEN: usize = 256;
pub const MAX_PAYMENT_ID_LEN: usize = 256;

/// `scope/xid`, e.g. `deployment/ve1.../42`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct AccountId {
    pub scope: String,
    pub xid: String,
}

fn printable(s: &str) -> bool {
    s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

impl AccountId {
    /// A validated id.
    pub fn new(scope: impl Into<String>, xid: impl Into<String>) -> Result<Self, EscrowError> {
        let id = Self {
            scope: scope.into(),
            xid: xid.into(),
        };
        id.validate()?;
        Ok(id)
    }

    pub fn validate(&self) -> Result<(), EscrowError> {
        let bad = |m: &str| {
            Err(EscrowError::InvalidAccountId(
                self.to_string(),
                m.to_string(),
            ))
        };
        if self.scope.is_empty() || self.scope.len() > MAX_SCOPE_LEN {
            return bad("scope must be 1-32 characters");
        }
        if !self
            .scope
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return bad("scope may use only a-z, 0-9 and _");
        }
        if self.xid.is_empty() || self.xid.len() > MAX_XID_LEN {
            return bad("xid must be 1-256 characters");
        }
        if !printable(&self.xid) {
            return bad("xid must be printable ASCII without spaces");
        }
        Ok(())
    }

    pub fn to_proto(&self) -> proto::AccountId {
        proto::AccountId {
            scope: self.scope.clone(),
            xid: self.xid.clone(),
        }
    }

    /// From a wire id, validated; a missing id is an error.
    pub fn from_proto(p: Option<&proto::AccountId>) -> Result<Self, EscrowError> {
        let p = p.ok_or_else(|| {
            EscrowError::InvalidAccountId(String::new(), "missing account id".into())
        })?;
        Self::new(p.scope.clone(), p.xid.clone())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scope, self.xid)
    }
}

impl FromStr for AccountId {
    type Err = EscrowError;
    /// Parses `scope/xid` (the xid may itself contain `/`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scope, xid) = s.split_once('/').ok_or_else(|| {
            EscrowError::InvalidAccountId(s.to_string(), "expected scope/xid".into())
        })?;
        Self::new(scope, xid)
    }
}

/// Checks a payment id: 1-256 printable ASCII characters.
pub fn validate_payment_id(id: &str) -> Result<(), EscrowError> {
    if id.is_empty() || id.len() > MAX_PAYMENT_ID_LEN || !printable(id) {
        return Err(EscrowError::InvalidPaymentId(
            id.to_string(),
            "must be 1-256 printable ASCII characters without spaces".into(),
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    Open,
    Overdrawn,
    Closed,
}

impl AccountState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Overdrawn => "overdrawn",
            Self::Closed => "closed",
        }
    }
    fn to_proto(self) -> proto::AccountState {
        match self {
            Self::Open => proto::AccountState::Open,
            Self::Overdrawn => proto::AccountState::Overdrawn,
            Self::Closed => proto::AccountState::Closed,
        }
    }
    fn from_proto(v: i32) -> Result<Self, EscrowError> {
        match proto::AccountState::try_from(v) {
            Ok(proto::AccountState::Open) => Ok(Self::Open),
            Ok(proto::AccountState::Overdrawn) => Ok(Self::Overdrawn),
            Ok(proto::AccountState::Closed) => Ok(Self::Closed),
            _ => Err(EscrowError::Corrupt(format!("account state {v}"))),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentState {
    Open,
    Paused,
    Closed,
}

impl PaymentState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paused => "paused",
            Self::Closed => "closed",
        }
    }
    fn to_proto(self) -> proto::PaymentState {
        match self {
            Self::Open => proto::PaymentState::Open,
            Self::Paused => proto::PaymentState::Paused,
            Self::Closed => proto::PaymentState::Closed,
        }
    }
    fn from_proto(v: i32) -> Result<Self, EscrowError> {
        match proto::PaymentState::try_from(v) {
            Ok(proto::PaymentState::Open) => Ok(Self::Open),
            Ok(proto::PaymentState::Paused) => Ok(Self::Paused),
            Ok(proto::PaymentState::Closed) => Ok(Self::Closed),
            _ => Err(EscrowError::Corrupt(format!("payment state {v}"))),
        }
    }
}

/// One depositor's unspent funds in an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deposit {
    /// Whose money it is, and who gets the refund (the granter for grant-funded entries).
    pub depositor: Address,
    /// Height of the depositor's first deposit still in this entry.
    pub height: u64,
    pub balance: u128,
    /// `Some(grantee)` when the funds came from `depositor`'s deposit grant to `grantee`:
    /// the refund then also restores that grant's spend limit.
    pub grantee: Option<Address>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub owner: Address,
    pub state: AccountState,
    pub denom: String,
    /// Spent oldest first; entries that reach zero are removed.
    pub deposits: Vec<Deposit>,
    pub transferred: u128,
    pub settled_at: u64,
    pub created_at: u64,
    pub overdrawn_at: u64,
    pub grace_until: u64,
    pub wake_at: u64,
    pub closed_at: u64,
}

impl Account {
    /// Unspent funds: the sum of the deposits.
    pub fn balance(&self) -> Result<u128, EscrowError> {
        self.deposits.iter().try_fold(0u128, |acc, d| {
            acc.checked_add(d.balance)
                .ok_or_else(|| EscrowError::Overflow(self.id.to_string()))
        })
    }

    pub fn to_proto(&self) -> Result<proto::Account, EscrowError> {
        Ok(proto::Account {
            id: Some(self.id.to_proto()),
            owner: self.owner.to_string(),
            state: self.state.to_proto() as i32,
            denom: self.denom.clone(),
            balance: self.balance()?.to_string(),
            deposits: self
                .deposits
                .iter()
                .map(|d| proto::Depositor {
                    address: d.depositor.to_string(),
                    height: d.height,
                    balance: d.balance.to_string(),
                    grantee: d.grantee.map(|g| g.to_string()).unwrap_or_default(),
                })
                .collect(),
            transferred: self.transferred.to_string(),
            settled_at: self.settled_at,
            created_at: self.created_at,
            overdrawn_at: self.overdrawn_at,
            grace_until: self.grace_until,
            wake_at: self.wake_at,
            closed_at: self.closed_at,
        })
    }

    pub fn from_proto(p: &proto::Account) -> Result<Self, EscrowError> {
        let id = AccountId::from_proto(p.id.as_ref())
            .map_err(|e| EscrowError::Corrupt(e.to_string()))?;
        let mut deposits = Vec::with_capacity(p.deposits.len());
        for d in &p.deposits {
            deposits.push(Deposit {
                depositor: corrupt_addr(&d.address)?,
                height: d.height,
                balance: corrupt_amount(&d.balance)?,
                grantee: if d.grantee.is_empty() {
                    None
                } else {
                    Some(corrupt_addr(&d.grantee)?)
                },
            });
        }
        Ok(Self {
            id,
            owner: corrupt_addr(&p.owner)?,
            state: AccountState::from_proto(p.state)?,
            denom: p.denom.clone(),
            deposits,
            transferred: corrupt_amount(&p.transferred)?,
            settled_at: p.settled_at,
            created_at: p.created_at,
            overdrawn_at: p.overdrawn_at,
            grace_until: p.grace_until,
            wake_at: p.wake_at,
            closed_at: p.closed_at,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub account_id: AccountId,
    pub id: String,
    pub payee: Address,
    /// Per block, in the account's denom.
    pub rate: u128,
    pub state: PaymentState,
    /// Accrued, not yet withdrawn.
    pub balance: u128,
    /// Owed but not covered when the account ran dry.
    pub unsettled: u128,
    /// Paid out so far (payee share plus fee).
    pub withdrawn: u128,
    pub created_at: u64,
    pub closed_at: u64,
}

impl Payment {
    pub fn to_proto(&self) -> proto::Payment {
        proto::Payment {
            account_id: Some(self.account_id.to_proto()),
            id: self.id.clone(),
            payee: self.payee.to_string(),
            rate: self.rate.to_string(),
            state: self.state.to_proto() as i32,
            balance: self.balance.to_string(),
            unsettled: self.unsettled.to_string(),
            withdrawn: self.withdrawn.to_string(),
            created_at: self.created_at,
            closed_at: self.closed_at,
        }
    }

    pub fn from_proto(p: &proto::Payment) -> Result<Self, EscrowError> {
        Ok(Self {
            account_id: AccountId::from_proto(p.account_id.as_ref())
                .map_err(|e| EscrowError::Corrupt(e.to_string()))?,
            id: p.id.clone(),
            payee: corrupt_addr(&p.payee)?,
            rate: corrupt_amount(&p.rate)?,
            state: PaymentState::from_proto(p.state)?,
            balance: corrupt_amount(&p.balance)?,
            unsettled: corrupt_amount(&p.unsettled)?,
            withdrawn: corrupt_amount(&p.withdrawn)?,
            created_at: p.created_at,
            closed_at: p.closed_at,
        })
    }
}

fn corrupt_addr(s: &str) -> Result<Address, EscrowError> {
    s.parse()
        .map_err(|e| EscrowError::Corrupt(format!("address {s:?}: {e}")))
}

fn corrupt_amount(s: &str) -> Result<u128, EscrowError> {
    parse_amount(s).map_err(|e| EscrowError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_validate() {
        let id: AccountId = "deployment/ve1abc/42"
            .parse()
            .unwrap_or_else(|_| AccountId {
                scope: String::new(),
                xid: String::new(),
            });
        assert_eq!(id.scope, "deployment");
        assert_eq!(id.xid, "ve1abc/42");
        assert!("nodelimiter".parse::<AccountId>().is_err());
        assert!("Deployment/x".parse::<AccountId>().is_err());
        assert!("deployment/".parse::<AccountId>().is_err());
        assert!("deployment/a b".parse::<AccountId>().is_err());
        assert!(validate_payment_id("1/1/ve1xyz").is_ok());
        assert!(validate_payment_id("").is_err());
    }
}
