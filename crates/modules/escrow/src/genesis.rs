//! escrow genesis: params, and open accounts with their payments. The coins they hold
//! must sit in the `escrow` module account's bank balance; the app checks that the two
//! agree before writing anything.

use crate::types::{
    validate_payment_id, Account, AccountId, AccountState, Deposit, Payment, PaymentState,
};
use crate::{settle, state, EscrowError, EscrowParams};
use std::collections::BTreeMap;
use ve_module::Store;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscrowGenesis {
    pub params: EscrowParams,
    pub accounts: Vec<GenesisAccount>,
    pub payments: Vec<GenesisPayment>,
    /// Deposit grants (`granter` lets `grantee` fund escrow accounts).
    pub grants: Vec<crate::grant::Grant>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// `scope/xid`.
    pub id: String,
    pub owner: Address,
    pub denom: String,
    /// Oldest first.
    pub deposits: Vec<GenesisDeposit>,
    /// Height the account was last settled at (payments accrue from here).
    #[serde(default)]
    pub settled_at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDeposit {
    pub depositor: Address,
    #[serde(with = "amount_string")]
    pub amount: u128,
    /// Set for funds drawn from `depositor`'s deposit grant to this grantee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee: Option<Address>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisPayment {
    /// `scope/xid` of its account.
    pub account_id: String,
    pub id: String,
    pub payee: Address,
    #[serde(with = "amount_string")]
    pub rate: u128,
    /// Accrued, not yet withdrawn.
    #[serde(default, with = "amount_string")]
    pub balance: u128,
}

mod amount_string {
    pub fn serialize<S: serde::Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        ve_types::parse_amount(&s).map_err(serde::de::Error::custom)
    }
}

fn bad(m: String) -> EscrowError {
    EscrowError::InvalidGenesis(m)
}

impl EscrowGenesis {
    /// Builds the accounts and payments, checking every field and reference.
    fn build(&self) -> Result<Vec<(Account, Vec<Payment>)>, EscrowError> {
        self.params.validate()?;
        let mut out: BTreeMap<AccountId, (Account, Vec<Payment>)> = BTreeMap::new();
        for g in &self.accounts {
            let id: AccountId = g.id.parse()?;
            ve_types::validate_denom(&g.denom).map_err(|e| bad(format!("{id}: {e}")))?;
            let mut deposits: Vec<Deposit> = Vec::with_capacity(g.deposits.len());
            for d in &g.deposits {
                if d.amount == 0
                    || deposits
                        .iter()
                        .any(|x| x.depositor == d.depositor && x.grantee == d.grantee)
                {
                    return Err(bad(format!(
                        "{id}: deposits must be positive, one entry per depositor and source"
                    )));
                }
                deposits.push(Deposit {
                    depositor: d.depositor,
                    height: g.settled_at,
                    balance: d.amount,
                    grantee: d.grantee,
                });
            }
            let account = Account {
                id: id.clone(),
                owner: g.owner,
                state: AccountState::Open,
                denom: g.denom.clone(),
                deposits,
                transferred: 0,
                settled_at: g.settled_at,
                created_at: g.settled_at,
                overdrawn_at: 0,
                grace_until: 0,
                wake_at: 0,
                closed_at: 0,
            };
            account.balance()?;
            if out.insert(id.clone(), (account, Vec::new())).is_some() {
                return Err(bad(format!("duplicate account {id}")));
            }
        }
        for g in &self.payments {
            let aid: AccountId = g.account_id.parse()?;
            validate_payment_id(&g.id)?;
            let (a, ps) = out
                .get_mut(&aid)
                .ok_or_else(|| bad(format!("payment {} of unknown account {aid}", g.id)))?;
            if g.rate == 0 || ps.iter().any(|p| p.id == g.id) {
                return Err(bad(format!(
                    "{aid}: payment {} duplicate or zero rate",
                    g.id
                )));
            }
            let max = usize::try_from(self.params.max_payments_per_account).unwrap_or(usize::MAX);
            if ps.len() >= max {
                return Err(bad(format!("{aid}: too many payments")));
            }
            ps.push(Payment {
                account_id: aid.clone(),
                id: g.id.clone(),
                payee: g.payee,
                rate: g.rate,
                state: PaymentState::Open,
                balance: g.balance,
                unsettled: 0,
                withdrawn: 0,
                created_at: a.settled_at,
                closed_at: 0,
            });
            ps.sort_by(|x, y| x.id.cmp(&y.id));
        }
        Ok(out.into_values().collect())
    }

    pub fn validate(&self) -> Result<(), EscrowError> {
        self.build()?;
        self.check_grants()
    }

    fn check_grants(&self) -> Result<(), EscrowError> {
        let mut seen = std::collections::BTreeSet::new();
        for g in &self.grants {
            g.validate().map_err(|e| bad(e.to_string()))?;
            if !seen.insert((g.granter, g.grantee)) {
                return Err(bad(format!(
                    "duplicate grant {} -> {}",
                    g.granter, g.grantee
                )));
            }
        }
        Ok(())
    }

    /// Coins the escrow module account must hold: per denom, deposits plus accrued balances.
    pub fn holdings(&self) -> Result<BTreeMap<String, u128>, EscrowError> {
        let mut held: BTreeMap<String, u128> = BTreeMap::new();
        for (a, ps) in self.build()? {
            let mut sum = a.balance()?;
            for p in &ps {
                sum = sum
                    .checked_add(p.balance)
                    .ok_or_else(|| EscrowError::Overflow(a.id.to_string()))?;
            }
            let e = held.entry(a.denom.clone()).or_insert(0);
            *e = e
                .checked_add(sum)
                .ok_or_else(|| EscrowError::Overflow(a.id.to_string()))?;
        }
        Ok(held)
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &EscrowGenesis) -> Result<(), AppError> {
    let built = genesis.build()?;
    genesis.check_grants()?;
    state::set_params(store, &genesis.params)?;
    for g in &genesis.grants {
        state::set_grant(store, g)?;
    }
    for (mut a, ps) in built {
        a.wake_at = settle::wake_height(&a, &ps)?;
        state::set_account(store, &a)?;
        state::index_owner(store, &a)?;
        state::reschedule(store, &a.id, 0, a.wake_at)?;
        for p in &ps {
            state::set_payment(store, p)?;
        }
    }
    Ok(())
}
