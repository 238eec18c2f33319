//! The fixed rules: who may grant or revoke which role, and which account-state
//! transitions exist. Pure functions, so they are tested on their own.

use crate::proto::AccountState;
use ve_module::gate::Role;

/// Whether a holder of these powers may assign or revoke `role`.
pub fn may_manage(is_genesis: bool, is_admin: bool, role: Role) -> bool {
    if is_genesis {
        return true;
    }
    is_admin && !matches!(role, Role::GenesisAccount | Role::Administrator)
}

pub fn state_name(s: AccountState) -> &'static str {
    match s {
        AccountState::Unspecified => "unspecified",
        AccountState::Active => "active",
        AccountState::Suspended => "suspended",
        AccountState::Terminated => "terminated",
    }
}

pub fn parse_state(s: &str) -> Option<AccountState> {
    match s {
        "active" => Some(AccountState::Active),
        "suspended" => Some(AccountState::Suspended),
        "terminated" => Some(AccountState::Terminated),
        _ => None,
    }
}

/// ACTIVE → SUSPENDED | TERMINATED; SUSPENDED → ACTIVE | TERMINATED; TERMINATED is final.
pub fn transition_allowed(from: AccountState, to: AccountState) -> bool {
    matches!(
        (from, to),
        (AccountState::Active, AccountState::Suspended)
            | (AccountState::Active, AccountState::Terminated)
            | (AccountState::Suspended, AccountState::Active)
            | (AccountState::Suspended, AccountState::Terminated)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrators_cannot_manage_admin_or_genesis_roles() {
        assert!(!may_manage(false, true, Role::Administrator));
        assert!(!may_manage(false, true, Role::GenesisAccount));
        assert!(may_manage(false, true, Role::Moderator));
        assert!(may_manage(true, false, Role::Administrator));
        assert!(!may_manage(false, false, Role::Customer));
    }

    #[test]
    fn terminated_is_final() {
        for to in [
            AccountState::Active,
            AccountState::Suspended,
            AccountState::Terminated,
        ] {
            assert!(!transition_allowed(AccountState::Terminated, to));
        }
        assert!(transition_allowed(
            AccountState::Suspended,
            AccountState::Active
        ));
        assert!(!transition_allowed(
            AccountState::Active,
            AccountState::Active
        ));
    }
}
