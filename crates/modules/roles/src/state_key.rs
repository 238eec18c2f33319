//! Every key the roles module writes. Addresses are the 20 raw bytes; a role is one byte
//! (its stable number).

use ve_module::gate::Role;
use ve_types::Address;

pub const PARAMS: &[u8] = b"roles/params";
pub const ASSIGN_PREFIX: &[u8] = b"roles/assign/";
pub const MEMBERS_PREFIX: &[u8] = b"roles/members/";
pub const STATE_PREFIX: &[u8] = b"roles/state/";
pub const GENESIS_PREFIX: &[u8] = b"roles/genesis/";

fn role_byte(r: Role) -> u8 {
    u8::try_from(r as u32).unwrap_or(0)
}

/// `roles/assign/<addr>` — one account's roles.
pub fn assignments(a: &Address) -> Vec<u8> {
    [ASSIGN_PREFIX, a.as_bytes()].concat()
}

/// `roles/assign/<addr><role>` → `RoleAssignment`.
pub fn assignment(a: &Address, r: Role) -> Vec<u8> {
    [ASSIGN_PREFIX, a.as_bytes(), &[role_byte(r)]].concat()
}

/// `roles/members/<role>` — one role's members.
pub fn members(r: Role) -> Vec<u8> {
    [MEMBERS_PREFIX, &[role_byte(r)]].concat()
}

/// `roles/members/<role><addr>` → empty.
pub fn member(r: Role, a: &Address) -> Vec<u8> {
    [MEMBERS_PREFIX, &[role_byte(r)], a.as_bytes()].concat()
}

/// `roles/state/<addr>` → `AccountStateRecord`.
pub fn account_state(a: &Address) -> Vec<u8> {
    [STATE_PREFIX, a.as_bytes()].concat()
}

/// `roles/genesis/<addr>` → empty: the genesis account set (fixed at genesis).
pub fn genesis_account(a: &Address) -> Vec<u8> {
    [GENESIS_PREFIX, a.as_bytes()].concat()
}
