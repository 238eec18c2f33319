//! roles through mock consensus: who may grant and revoke which role, the genesis account
//! set, account states (suspended and terminated accounts are refused on every
//! transaction), and the MFA gate on role changes and account-state changes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mfa_common;
use mfa_common::*;
use ve_mfa::proto::SensitiveTxType as T;
use ve_mfa::testing::Format;
use ve_roles::proto as rp;

/// users[0] genesis account; no sensitive-transaction configs (the rules alone).
fn rules_chain() -> Chain {
    chain_with(5, |g| g.mfa.sensitive_tx_configs = Some(vec![]))
}

fn assign(c: &Chain, by: usize, to: usize, role: &str) -> prost_types_any::Any {
    any(&rp::MsgAssignRole {
        sender: c.users[by].s(),
        address: c.users[to].s(),
        role: role.into(),
    })
}

fn revoke(c: &Chain, by: usize, to: usize, role: &str) -> prost_types_any::Any {
    any(&rp::MsgRevokeRole {
        sender: c.users[by].s(),
        address: c.users[to].s(),
        role: role.into(),
    })
}

fn set_state(c: &Chain, by: usize, to: usize, state: &str) -> prost_types_any::Any {
    any(&rp::MsgSetAccountState {
        sender: c.users[by].s(),
        address: c.users[to].s(),
        state: state.into(),
        reason: "test".into(),
    })
}

mod prost_types_any {
    pub use ve_proto::Any;
}

fn has_role(c: &Chain, u: usize, role: &str) -> bool {
    let r: rp::QueryHasRoleResponse = c.query(
        "/virtengine.roles.v1.Query/HasRole",
        &rp::QueryHasRoleRequest {
            address: c.users[u].s(),
            role: role.into(),
        },
    );
    r.has_role
}

#[test]
fn genesis_account_nominates_admins_and_admins_manage_only_lower_roles() {
    let mut c = rules_chain();
    let nominate = any(&rp::MsgNominateAdmin {
        sender: c.users[0].s(),
        address: c.users[1].s(),
    });
    c.send(0, vec![nominate], &[]).ok();
    assert!(has_role(&c, 1, "administrator"));
    // An administrator may grant moderator ...
    let m = assign(&c, 1, 2, "moderator");
    c.send(1, vec![m], &[]).ok();
    assert!(has_role(&c, 2, "moderator"));
    // ... but not administrator or genesis_account.
    let m = assign(&c, 1, 3, "administrator");
    c.send(1, vec![m], &[]).refused("roles", 4);
    let m = assign(&c, 1, 3, "genesis_account");
    c.send(1, vec![m], &[]).refused("roles", 4);
    // A moderator may grant nothing.
    let m = assign(&c, 2, 3, "customer");
    c.send(2, vec![m], &[]).refused("roles", 4);
    // Only a genesis account nominates administrators.
    let n = any(&rp::MsgNominateAdmin {
        sender: c.users[1].s(),
        address: c.users[3].s(),
    });
    c.send(1, vec![n], &[]).refused("roles", 15);
    // Holding a role twice is refused; the genesis account may grant administrator directly.
    let m = assign(&c, 1, 2, "moderator");
    c.send(1, vec![m], &[]).refused("roles", 5);
    let m = assign(&c, 0, 3, "administrator");
    c.send(0, vec![m], &[]).ok();
    let members: rp::QueryRoleMembersResponse = c.query(
        "/virtengine.roles.v1.Query/RoleMembers",
        &rp::QueryRoleMembersRequest {
            role: "administrator".into(),
            pagination: None,
        },
    );
    assert_eq!(members.assignments.len(), 2);
}

#[test]
fn revocation_follows_the_same_rules_and_genesis_membership_is_fixed() {
    let mut c = rules_chain();
    let m = assign(&c, 0, 1, "administrator");
    c.send(0, vec![m], &[]).ok();
    let m = assign(&c, 1, 2, "validator");
    c.send(1, vec![m], &[]).ok();
    // Administrators revoke lower roles, not each other.
    let m = assign(&c, 0, 3, "administrator");
    c.send(0, vec![m], &[]).ok();
    let m = revoke(&c, 1, 3, "administrator");
    c.send(1, vec![m], &[]).refused("roles", 4);
    let m = revoke(&c, 1, 2, "validator");
    c.send(1, vec![m], &[]).ok();
    assert!(!has_role(&c, 2, "validator"));
    // Revoking a role not held; self-revoke (disabled by params).
    let m = revoke(&c, 1, 2, "validator");
    c.send(1, vec![m], &[]).refused("roles", 6);
    let m = revoke(&c, 1, 1, "administrator");
    c.send(1, vec![m], &[]).refused("roles", 8);
    // The genesis_account role never leaves a genesis account.
    let m = revoke(&c, 0, 0, "genesis_account");
    c.send(0, vec![m], &[]).refused("roles", 8);
    let m = revoke(&c, 1, 0, "genesis_account");
    c.send(1, vec![m], &[]).refused("roles", 4);
    let ga: rp::QueryGenesisAccountsResponse = c.query(
        "/virtengine.roles.v1.Query/GenesisAccounts",
        &rp::QueryGenesisAccountsRequest {},
    );
    assert_eq!(ga.addresses, vec![c.users[0].s()]);
}

#[test]
fn too_many_roles_are_refused() {
    let mut c = chain_with(3, |g| {
        g.mfa.sensitive_tx_configs = Some(vec![]);
        g.roles.params.max_roles_per_account = 2;
    });
    for role in ["customer", "moderator"] {
        let m = assign(&c, 0, 1, role);
        c.send(0, vec![m], &[]).ok();
    }
    let m = assign(&c, 0, 1, "validator");
    c.send(0, vec![m], &[]).refused("roles", 7);
}

#[test]
fn suspended_account_is_refused_on_every_transaction_until_reactivated() {
    let mut c = rules_chain();
    let to = c.users[3].address;
    let m = set_state(&c, 0, 2, "suspended");
    let r = c.send(0, vec![m], &[]);
    r.ok();
    assert!(r.has_event("virtengine.roles.v1.EventAccountStateChanged"));
    // Any message, any module: refused in the ante with roles code 10.
    let s = send_msg(&c.users[2], &to, 1);
    c.send(2, vec![s], &[]).refused("roles", 10);
    let ch = any(&ve_mfa::proto::MsgCreateChallenge {
        sender: c.users[2].s(),
        factor_type: ve_mfa::proto::FactorType::Veid as i32,
        transaction_type: T::Withdrawal as i32,
        ..Default::default()
    });
    // The refused tx did not consume the sequence: re-sign with the same one.
    c.users[2].sequence -= 1;
    c.send(2, vec![ch], &[]).refused("roles", 10);
    c.users[2].sequence -= 1;
    let st: rp::QueryAccountStateResponse = c.query(
        "/virtengine.roles.v1.Query/AccountState",
        &rp::QueryAccountStateRequest {
            address: c.users[2].s(),
        },
    );
    assert_eq!(st.state, rp::AccountState::Suspended as i32);
    // Reactivated: transacts again.
    let m = set_state(&c, 0, 2, "active");
    c.send(0, vec![m], &[]).ok();
    let s = send_msg(&c.users[2], &to, 1);
    c.send(2, vec![s], &[]).ok();
}

#[test]
fn terminated_is_final_and_state_changes_follow_the_rules() {
    let mut c = rules_chain();
    let m = assign(&c, 0, 1, "administrator");
    c.send(0, vec![m], &[]).ok();
    // Not an admin: refused. Self: refused. Admin on the genesis account: refused.
    let m = set_state(&c, 2, 3, "suspended");
    c.send(2, vec![m], &[]).refused("roles", 11);
    let m = set_state(&c, 1, 1, "suspended");
    c.send(1, vec![m], &[]).refused("roles", 12);
    let m = set_state(&c, 1, 0, "suspended");
    c.send(1, vec![m], &[]).refused("roles", 13);
    // Terminate, then nothing brings it back.
    let m = set_state(&c, 1, 3, "terminated");
    c.send(1, vec![m], &[]).ok();
    let m = set_state(&c, 1, 3, "active");
    c.send(1, vec![m], &[]).refused("roles", 14);
    let to = c.users[4].address;
    let s = send_msg(&c.users[3], &to, 1);
    c.send(3, vec![s], &[]).refused("roles", 10);
}

#[test]
fn role_changes_and_state_changes_need_mfa_under_the_default_table() {
    let mut c = chain(4);
    let m = assign(&c, 0, 1, "moderator");
    // Default table: role_assignment needs VEID >= 85 and a VEID+FIDO2 session.
    c.send(0, vec![m], &[]).refused("mfa", 14);
    c.set_score(0, 90);
    let m = assign(&c, 0, 1, "moderator");
    c.send(0, vec![m], &[]).refused("mfa", 13);
    let mut auth = authenticator(b"genesis");
    c.enroll_fido2(0, &mut auth, Format::PackedSelf).ok();
    let sid = c.veid_fido2_session(0, &mut auth, T::RoleChange);
    let m = assign(&c, 0, 1, "moderator");
    c.send(0, vec![m], std::slice::from_ref(&sid)).ok();
    assert!(has_role(&c, 1, "moderator"));
    // Single use: the next role change needs a new session.
    let m = assign(&c, 0, 2, "customer");
    let r = c.send(0, vec![m], &[sid]);
    r.refused("mfa", 13);
    assert!(r.log.contains("already used"), "{}", r.log);
    // Account-state change is ACCOUNT_RECOVERY: VEID+FIDO2+EMAIL (or SMS); a RoleChange
    // session does not cover it.
    let sid = c.veid_fido2_session(0, &mut auth, T::RoleChange);
    let m = set_state(&c, 0, 2, "suspended");
    let r = c.send(0, vec![m], &[sid]);
    r.refused("mfa", 13);
    assert!(r.log.contains("does not cover"), "{}", r.log);
}
