//! Every key the escrow module writes. The layout of state is a public API.
//!
//! Account ids are `scope/xid` with a scope of `[a-z0-9_]` and an xid of printable ASCII
//! (no space, no NUL), so `<scope>/<xid>` is unambiguous and `\0` can end it inside
//! longer keys.

use crate::types::AccountId;
use ve_types::Address;

/// `escrow/params` → `virtengine.escrow.v1.Params`.
pub const PARAMS: &[u8] = b"escrow/params";
pub const ACCOUNT_PREFIX: &[u8] = b"escrow/acct/";
pub const PAYMENT_PREFIX: &[u8] = b"escrow/pay/";
pub const CLOSED_PAYMENT_PREFIX: &[u8] = b"escrow/paid/";
pub const OWNER_PREFIX: &[u8] = b"escrow/owner/";
pub const WAKE_PREFIX: &[u8] = b"escrow/wake/";
pub const GRANT_PREFIX: &[u8] = b"escrow/grant/";
pub const GRANTEE_PREFIX: &[u8] = b"escrow/grantee/";

fn id_bytes(id: &AccountId) -> Vec<u8> {
    [id.scope.as_bytes(), b"/", id.xid.as_bytes()].concat()
}

/// `escrow/acct/<scope>/<xid>` → `Account`.
pub fn account(id: &AccountId) -> Vec<u8> {
    [ACCOUNT_PREFIX, id_bytes(id).as_slice()].concat()
}

/// `escrow/pay/<scope>/<xid>\0` — prefix of an account's open and paused payments.
pub fn payments_of(id: &AccountId) -> Vec<u8> {
    [PAYMENT_PREFIX, id_bytes(id).as_slice(), b"\0"].concat()
}

/// `escrow/pay/<scope>/<xid>\0<payment id>` → `Payment` (open or paused).
pub fn payment(id: &AccountId, payment_id: &str) -> Vec<u8> {
    [payments_of(id).as_slice(), payment_id.as_bytes()].concat()
}

/// `escrow/paid/<scope>/<xid>\0` — prefix of an account's closed payments (kept for
/// queries, never loaded by settlement).
pub fn closed_payments_of(id: &AccountId) -> Vec<u8> {
    [CLOSED_PAYMENT_PREFIX, id_bytes(id).as_slice(), b"\0"].concat()
}

/// `escrow/paid/<scope>/<xid>\0<payment id>` → closed `Payment`.
pub fn closed_payment(id: &AccountId, payment_id: &str) -> Vec<u8> {
    [closed_payments_of(id).as_slice(), payment_id.as_bytes()].concat()
}

/// `escrow/owner/<20-byte owner>` — prefix of one owner's account index.
pub fn accounts_of(owner: &Address) -> Vec<u8> {
    [OWNER_PREFIX, owner.as_bytes().as_slice()].concat()
}

/// `escrow/owner/<20-byte owner><scope>/<xid>` → empty.
pub fn owner_account(owner: &Address, id: &AccountId) -> Vec<u8> {
    [accounts_of(owner).as_slice(), id_bytes(id).as_slice()].concat()
}

/// `escrow/wake/<8-byte BE height><scope>/<xid>` → empty: the account needs a look at
/// that height (it runs dry, or its grace window ends).
pub fn wake(height: u64, id: &AccountId) -> Vec<u8> {
    [
        wake_height_prefix(height).as_slice(),
        id_bytes(id).as_slice(),
    ]
    .concat()
}

/// `escrow/wake/<8-byte BE height>`.
pub fn wake_height_prefix(height: u64) -> Vec<u8> {
    [WAKE_PREFIX, height.to_be_bytes().as_slice()].concat()
}

/// `escrow/grant/<20-byte granter>` — prefix of the grants one account gave.
pub fn grants_by(granter: &Address) -> Vec<u8> {
    [GRANT_PREFIX, granter.as_bytes().as_slice()].concat()
}

/// `escrow/grant/<20-byte granter><20-byte grantee>` → `DepositGrant`.
pub fn grant(granter: &Address, grantee: &Address) -> Vec<u8> {
    [grants_by(granter).as_slice(), grantee.as_bytes().as_slice()].concat()
}

/// `escrow/grantee/<20-byte grantee>` — prefix of the grants one account received.
pub fn grants_to(grantee: &Address) -> Vec<u8> {
    [GRANTEE_PREFIX, grantee.as_bytes().as_slice()].concat()
}

/// `escrow/grantee/<20-byte grantee><20-byte granter>` → empty (index).
pub fn grantee_grant(grantee: &Address, granter: &Address) -> Vec<u8> {
    [grants_to(grantee).as_slice(), granter.as_bytes().as_slice()].concat()
}

/// Parses the `<scope>/<xid>` tail of an index or queue key.
pub fn parse_id(tail: &[u8]) -> Option<AccountId> {
    let s = std::str::from_utf8(tail).ok()?;
    s.parse().ok()
}
