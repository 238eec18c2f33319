//! roles genesis: params, the genesis account set, initial role assignments and states.

use crate::proto::{AccountStateRecord, RoleAssignment};
use crate::rules::parse_state;
use crate::{state, RolesError, RolesParams};
use ve_module::gate::Role;
use ve_module::Store;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAssignment {
    pub address: Address,
    /// Role name, e.g. "administrator".
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccountState {
    pub address: Address,
    /// "active" | "suspended" | "terminated".
    pub state: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolesGenesis {
    pub params: RolesParams,
    /// Genesis accounts: they hold the genesis_account role and may grant every role.
    pub genesis_accounts: Vec<Address>,
    pub assignments: Vec<GenesisAssignment>,
    pub account_states: Vec<GenesisAccountState>,
}

impl RolesGenesis {
    pub fn validate(&self) -> Result<(), RolesError> {
        let bad = |m: String| Err(RolesError::InvalidGenesis(m));
        self.params
            .validate()
            .map_err(|e| RolesError::InvalidGenesis(e.to_string()))?;
        for (i, a) in self.genesis_accounts.iter().enumerate() {
            if self.genesis_accounts.iter().take(i).any(|b| b == a) {
                return bad(format!("genesis account {a} listed twice"));
            }
        }
        for (i, g) in self.assignments.iter().enumerate() {
            let Some(role) = Role::from_name(&g.role) else {
                return bad(format!("unknown role {:?}", g.role));
            };
            if role == Role::GenesisAccount {
                return bad("list genesis accounts in genesis_accounts, not assignments".into());
            }
            if self
                .assignments
                .iter()
                .take(i)
                .any(|b| b.address == g.address && b.role == g.role)
            {
                return bad(format!("{} assigned {} twice", g.address, g.role));
            }
        }
        for a in self
            .genesis_accounts
            .iter()
            .chain(self.assignments.iter().map(|g| &g.address))
        {
            let held = u32::from(self.genesis_accounts.contains(a)).saturating_add(
                u32::try_from(self.assignments.iter().filter(|g| g.address == *a).count())
                    .unwrap_or(u32::MAX),
            );
            if held > self.params.max_roles_per_account {
                return bad(format!("{a} holds more than max_roles_per_account roles"));
            }
        }
        for (i, s) in self.account_states.iter().enumerate() {
            if parse_state(&s.state).is_none() {
                return bad(format!("unknown account state {:?}", s.state));
            }
            if self
                .account_states
                .iter()
                .take(i)
                .any(|b| b.address == s.address)
            {
                return bad(format!("account state of {} listed twice", s.address));
            }
        }
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, g: &RolesGenesis) -> Result<(), AppError> {
    g.validate()?;
    state::set_params(store, &g.params)?;
    let assigned = |address: &Address, role: Role| RoleAssignment {
        address: address.to_string(),
        role: role as i32,
        assigned_by: "genesis".into(),
        assigned_at: 0,
        assigned_height: 0,
    };
    for a in &g.genesis_accounts {
        state::add_genesis_account(store, a)?;
        state::set_assignment(
            store,
            a,
            Role::GenesisAccount,
            &assigned(a, Role::GenesisAccount),
        )?;
    }
    for x in &g.assignments {
        let role =
            Role::from_name(&x.role).ok_or_else(|| RolesError::UnknownRole(x.role.clone()))?;
        state::set_assignment(store, &x.address, role, &assigned(&x.address, role))?;
    }
    for s in &g.account_states {
        let st = parse_state(&s.state).ok_or_else(|| RolesError::UnknownState(s.state.clone()))?;
        state::set_account_state(
            store,
            &s.address,
            &AccountStateRecord {
                address: s.address.to_string(),
                state: st as i32,
                reason: s.reason.clone(),
                modified_by: "genesis".into(),
                modified_at: 0,
                previous_state: 0,
            },
        )?;
    }
    Ok(())
}
