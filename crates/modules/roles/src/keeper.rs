//! What other modules and the app use: role checks and the account-state check.

use crate::proto::AccountState;
use crate::rules::state_name;
use crate::{state, RolesError};
use ve_module::gate::{Role, RoleGate};
use ve_module::{Context, Store};
use ve_types::{Address, AppError};

/// Fails with roles code 10 unless `addr` is ACTIVE (or has no state record). The app
/// calls this for every signer of every transaction, before any message runs.
pub fn require_operational(store: &mut impl Store, addr: &Address) -> Result<(), AppError> {
    match state::account_state(store, addr)? {
        AccountState::Active | AccountState::Unspecified => Ok(()),
        s => Err(RolesError::NotOperational(addr.to_string(), state_name(s)).into()),
    }
}

/// Administrator or genesis account.
pub fn is_admin(store: &mut impl Store, addr: &Address) -> Result<bool, AppError> {
    Ok(state::is_genesis_account(store, addr)?
        || state::has_role(store, addr, Role::Administrator)?)
}

/// Moderator, administrator or genesis account.
pub fn is_moderator(store: &mut impl Store, addr: &Address) -> Result<bool, AppError> {
    Ok(is_admin(store, addr)? || state::has_role(store, addr, Role::Moderator)?)
}

/// `ve_module::gate::RoleGate` over roles state; the app hands it out as `Arc<dyn RoleGate>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RolesKeeper;

impl RoleGate for RolesKeeper {
    fn has_role(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        role: Role,
    ) -> Result<bool, AppError> {
        if role == Role::GenesisAccount {
            return state::is_genesis_account(ctx, addr);
        }
        state::has_role(ctx, addr, role)
    }

    fn require_role(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        role: Role,
    ) -> Result<(), AppError> {
        if self.has_role(ctx, addr, role)? {
            Ok(())
        } else {
            Err(RolesError::MissingRole(addr.to_string(), role.name()).into())
        }
    }

    fn require_operational(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<(), AppError> {
        require_operational(ctx, addr)
    }
}
