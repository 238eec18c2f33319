//! Deposit grants (Akash's `DepositDeploymentAuthorization`, spec §4.0 `Deposit.sources`):
//! a *granter* lets a *grantee* fund escrow accounts of some scopes from the granter's
//! balance, up to a spend limit, until an expiration in block time.
//!
//! Money rules: a grant-funded deposit moves coins from the **granter's** balance and is
//! recorded as the granter's deposit entry (tagged with the grantee), so whatever is left
//! of it when the account closes is refunded **to the granter**, never to the grantee or
//! the account owner; the refund is added back to the grant's spend limit while the grant
//! exists (a revoked grant is not revived). A grant spent down to zero stays until revoked
//! or expired, so refunds can restore it.

use crate::types::AccountId;
use crate::{proto, EscrowError};
use ve_types::{Address, Coin};

/// Longest list of scopes a grant may name.
pub const MAX_GRANT_SCOPES: usize = 8;

/// The scope a grant funds when the message names none.
pub const DEFAULT_SCOPE: &str = "deployment";

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub granter: Address,
    pub grantee: Address,
    /// What the grantee may still draw.
    pub spend_limit: Coin,
    /// Block time (unix seconds) from which the grant is unusable; 0 = never.
    #[serde(default)]
    pub expiration: i64,
    /// Account scopes it may fund, sorted and unique.
    pub scopes: Vec<String>,
    #[serde(default)]
    pub created_at: u64,
}

fn invalid(m: impl Into<String>) -> EscrowError {
    EscrowError::InvalidGrant(m.into())
}

/// Sorted, de-duplicated, validated scopes; empty means [`DEFAULT_SCOPE`].
pub fn normalize_scopes(scopes: &[String]) -> Result<Vec<String>, EscrowError> {
    if scopes.len() > MAX_GRANT_SCOPES {
        return Err(invalid(format!(
            "at most {MAX_GRANT_SCOPES} scopes per grant"
        )));
    }
    let mut out: Vec<String> = if scopes.is_empty() {
        vec![DEFAULT_SCOPE.to_string()]
    } else {
        scopes.to_vec()
    };
    for s in &out {
        // A scope is valid iff it can name an account.
        AccountId::new(s.as_str(), "x")
            .map_err(|_| invalid(format!("scope {s:?}: use a-z, 0-9 and _ (1-32 characters)")))?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl Grant {
    /// Stateless checks (the expiration against block time is the handler's).
    pub fn validate(&self) -> Result<(), EscrowError> {
        if self.granter == self.grantee {
            return Err(invalid("granter and grantee must differ"));
        }
        ve_types::validate_denom(&self.spend_limit.denom).map_err(|e| invalid(e.to_string()))?;
        if self.expiration < 0 {
            return Err(invalid("expiration must be a unix time or 0 (never)"));
        }
        if self.scopes.is_empty() || normalize_scopes(&self.scopes)? != self.scopes {
            return Err(invalid("scopes must be non-empty, sorted and unique"));
        }
        Ok(())
    }

    /// Whether the grant can no longer be used at block time `now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expiration != 0 && now >= self.expiration
    }

    /// Checks that the grantee may draw `amount` for account `id` at block time `now`, and
    /// lowers the spend limit by it.
    pub fn draw(&mut self, id: &AccountId, amount: &Coin, now: i64) -> Result<(), EscrowError> {
        if self.expired(now) {
            return Err(EscrowError::GrantExpired {
                granter: self.granter.to_string(),
                grantee: self.grantee.to_string(),
                expiration: self.expiration,
            });
        }
        if !self.scopes.contains(&id.scope) {
            return Err(EscrowError::GrantScope {
                account: id.to_string(),
                scopes: self.scopes.join(","),
            });
        }
        if amount.denom != self.spend_limit.denom || amount.amount > self.spend_limit.amount {
            return Err(EscrowError::GrantExceeded {
                granter: self.granter.to_string(),
                want: amount.to_string(),
                left: self.spend_limit.to_string(),
            });
        }
        self.spend_limit.amount = self.spend_limit.amount.saturating_sub(amount.amount);
        Ok(())
    }

    /// Adds a refund of `amount` `denom` back to the spend limit (other denoms are ignored:
    /// a grant has one denom, and only its own deposits carry its tag).
    pub fn restore(&mut self, denom: &str, amount: u128) -> Result<(), EscrowError> {
        if denom == self.spend_limit.denom {
            self.spend_limit.amount = self
                .spend_limit
                .amount
                .checked_add(amount)
                .ok_or_else(|| EscrowError::Overflow(format!("grant {}", self.granter)))?;
        }
        Ok(())
    }

    pub fn to_proto(&self) -> proto::DepositGrant {
        proto::DepositGrant {
            granter: self.granter.to_string(),
            grantee: self.grantee.to_string(),
            spend_limit: Some(ve_proto::cosmos::base::v1beta1::Coin {
                denom: self.spend_limit.denom.clone(),
                amount: self.spend_limit.amount.to_string(),
            }),
            expiration: self.expiration,
            scopes: self.scopes.clone(),
            created_at: self.created_at,
        }
    }

    pub fn from_proto(p: &proto::DepositGrant) -> Result<Self, EscrowError> {
        let corrupt = |m: String| EscrowError::Corrupt(format!("grant: {m}"));
        let limit = p
            .spend_limit
            .as_ref()
            .ok_or_else(|| corrupt("no spend limit".into()))?;
        Ok(Self {
            granter: p.granter.parse().map_err(|e| corrupt(format!("{e}")))?,
            grantee: p.grantee.parse().map_err(|e| corrupt(format!("{e}")))?,
            spend_limit: Coin::from_parts(&limit.denom, &limit.amount)
                .map_err(|e| corrupt(e.to_string()))?,
            expiration: p.expiration,
            scopes: p.scopes.clone(),
            created_at: p.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            granter: Address([1; 20]),
            grantee: Address([2; 20]),
            spend_limit: Coin::new("uve", 100),
            expiration: 50,
            scopes: vec!["deployment".into()],
            created_at: 1,
        }
    }

    fn dep() -> AccountId {
        AccountId {
            scope: "deployment".into(),
            xid: "a/1".into(),
        }
    }

    #[test]
    fn draw_lowers_the_limit_and_refuses_more_than_is_left() {
        let mut g = grant();
        assert!(g.draw(&dep(), &Coin::new("uve", 60), 10).is_ok());
        assert_eq!(g.spend_limit.amount, 40);
        assert!(matches!(
            g.draw(&dep(), &Coin::new("uve", 41), 10),
            Err(EscrowError::GrantExceeded { .. })
        ));
        assert!(matches!(
            g.draw(&dep(), &Coin::new("uusd", 1), 10),
            Err(EscrowError::GrantExceeded { .. })
        ));
        assert!(g.restore("uve", 60).is_ok());
        assert_eq!(g.spend_limit.amount, 100);
    }

    #[test]
    fn expired_or_out_of_scope_grants_fund_nothing() {
        let mut g = grant();
        assert!(matches!(
            g.draw(&dep(), &Coin::new("uve", 1), 50),
            Err(EscrowError::GrantExpired { .. })
        ));
        let bid = AccountId {
            scope: "bid".into(),
            xid: "a/1".into(),
        };
        assert!(matches!(
            g.draw(&bid, &Coin::new("uve", 1), 10),
            Err(EscrowError::GrantScope { .. })
        ));
        assert_eq!(g.spend_limit.amount, 100);
    }

    #[test]
    fn scopes_default_to_deployment_and_are_normalised() {
        assert_eq!(normalize_scopes(&[]).ok(), Some(vec!["deployment".into()]));
        let s = normalize_scopes(&["deployment".into(), "bid".into(), "bid".into()]);
        assert_eq!(
            s.ok(),
            Some(vec!["bid".to_string(), "deployment".to_string()])
        );
        assert!(normalize_scopes(&["Bad Scope".into()]).is_err());
    }
}
