//! identity (VEID) lifecycle through mock consensus: request timeouts swept in bounded
//! end-block work, score expiry by block time and re-verification, the identity wallet
//! (Ed25519 binding, MFA-gated rebind), consents (biometric scopes need one), the
//! borderline fallback (MFA completion, deadline), appeals (moderators only), the
//! verification history, and the stable codes of bad input.
//!
//! Gated handlers are driven two ways: through the wired app (whose role/MFA adapters
//! refuse until the roles and mfa modules land), and constructed directly with test gates
//! and executed against chain state in the block's system step, so both the allowed and
//! the refused path run against real state.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod identity_shared;
use identity_shared::*;
use std::sync::{Arc, Mutex};
use ve_identity::{
    CompleteBorderlineFallbackHandler, IdentityParams, RebindWalletHandler, ReviewAppealHandler,
};
use ve_module::gate::{MfaGate, Role, RoleGate, SensitiveAction};
use ve_module::MsgHandler;
use ve_proto::cosmos::base::query::v1beta1::PageRequest;
use ve_types::Address;

const EMAIL: i32 = ScopeType::EmailProof as i32;
const SMS: i32 = ScopeType::SmsProof as i32;

/// MFA as the tests need it: accounts in `verified` hold a session; every call is logged.
#[derive(Default)]
struct TestMfa {
    verified: Vec<Address>,
    calls: Mutex<Vec<(Address, SensitiveAction)>>,
}

impl MfaGate for TestMfa {
    fn require_mfa(
        &self,
        _ctx: &mut Context<'_>,
        addr: &Address,
        action: SensitiveAction,
        _value: u128,
    ) -> Result<(), AppError> {
        self.calls.lock().unwrap().push((*addr, action));
        if self.verified.contains(addr) {
            Ok(())
        } else {
            Err(AppError::new("mfa", 77, "no MFA session (test gate)"))
        }
    }
}

/// Roles as the tests need them: `moderators` hold Role::Moderator, nobody holds anything else.
struct TestRoles {
    moderators: Vec<Address>,
}

impl RoleGate for TestRoles {
    fn has_role(&self, _: &mut Context<'_>, addr: &Address, role: Role) -> Result<bool, AppError> {
        Ok(role == Role::Moderator && self.moderators.contains(addr))
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
            Err(AppError::new("roles", 2, "missing role"))
        }
    }
}

/// Executes `handler` on `msg` against chain state in the next block's system step.
fn run<H: MsgHandler>(
    node: &mut TestNode,
    handler: &H,
    msg: &H::Msg,
) -> Result<Vec<u8>, (String, u32)> {
    let out = RefCell::new(None);
    system(node, |ctx| {
        *out.borrow_mut() = Some(
            handler
                .execute(ctx, msg)
                .map_err(|e| (e.codespace.to_string(), e.code)),
        );
        Ok(())
    });
    out.into_inner().unwrap()
}

/// Expects any refusal; returns (codespace, code) and resyncs the sequence.
fn refused_any<M: Message>(node: &mut TestNode, u: &mut User, url: &str, msg: &M) -> (String, u32) {
    let t = tx(u, url, msg);
    let r = block(node, &[t]);
    assert_ne!(r[0].0, 0, "expected a refusal: {:?}", r[0]);
    u.sequence = sequence(node, &u.address);
    (r[0].1.clone(), r[0].0)
}

fn fallback(node: &TestNode, u: &User) -> QueryBorderlineFallbackResponse {
    query(
        node,
        "/virtengine.identity.v1.Query/BorderlineFallback",
        &QueryBorderlineFallbackRequest {
            account: u.address.to_string(),
        },
    )
}

fn wallet(node: &TestNode, u: &User) -> QueryWalletResponse {
    query(
        node,
        "/virtengine.identity.v1.Query/Wallet",
        &QueryWalletRequest {
            account: u.address.to_string(),
        },
    )
}

fn history(
    node: &TestNode,
    u: &User,
    page: Option<PageRequest>,
) -> QueryVerificationHistoryResponse {
    query(
        node,
        "/virtengine.identity.v1.Query/VerificationHistory",
        &QueryVerificationHistoryRequest {
            account: u.address.to_string(),
            pagination: page,
        },
    )
}

fn complete_with(node: &mut TestNode, request_id: &str, score: u32) {
    complete(node, request_id, score);
}

fn request_scopes(node: &mut TestNode, u: &mut User, ids: &[&str]) -> Vec<(u32, String, String)> {
    let msg = MsgRequestVerification {
        sender: u.address.to_string(),
        scope_ids: ids.iter().map(|s| s.to_string()).collect(),
    };
    let t = tx(u, REQUEST, &msg);
    let r = block(node, &[t]);
    u.sequence = sequence(node, &u.address);
    r
}

// ---------------------------------------------------------------- request lifecycle

#[test]
fn request_timeout_sweep_is_bounded_per_block_and_returns_scopes_to_pending() {
    let (mut node, mut users) = chain_with(|g| {
        g.identity.params.request_timeout_blocks = 3;
        g.identity.params.max_timeouts_per_block = 2;
    });
    // Alice and Bob each upload three scopes and make three requests in one block.
    for (i, seed) in [(1usize, 10u8), (2, 20)] {
        let u = &mut users[i];
        let t: Vec<_> = [("d", ID_DOC), ("e", EMAIL), ("s", SMS)]
            .iter()
            .enumerate()
            .map(|(k, (id, ty))| {
                let m = upload_msg(u, id, *ty, seed + k as u8);
                tx(u, UPLOAD, &m)
            })
            .collect();
        assert!(block(&mut node, &t).iter().all(|r| r.0 == 0));
    }
    let mut txs = Vec::new();
    for i in [1usize, 2] {
        for id in ["d", "e", "s"] {
            let u = &mut users[i];
            let m = MsgRequestVerification {
                sender: u.address.to_string(),
                scope_ids: vec![id.into()],
            };
            txs.push(tx(u, REQUEST, &m));
        }
    }
    let requested_at = node.height() + 1;
    assert!(block(&mut node, &txs).iter().all(|r| r.0 == 0));
    assert_eq!(pending_requests(&node, "").len(), 6);

    // Not yet due: height < requested + timeout.
    node.advance_to(requested_at + 2).unwrap();
    assert_eq!(pending_requests(&node, "").len(), 6);
    // Due from requested + 3: two per block, resuming where the previous block stopped.
    let mut left = Vec::new();
    for _ in 0..3 {
        let out = node.execute_block(&[]).unwrap();
        let timed_out = out
            .events
            .iter()
            .filter(|e| e.kind == "virtengine.identity.v1.EventVerificationTimedOut")
            .count();
        assert_eq!(timed_out, 2);
        left.push(pending_requests(&node, "").len());
    }
    assert_eq!(left, vec![4, 2, 0]);
    for (i, id) in [(1, "d"), (1, "s"), (2, "e")] {
        assert_eq!(status(&node, &users[i], id), VerificationStatus::Pending);
    }
    // The request reads TIMEOUT and the account may request again.
    let h = history(&node, &users[1], None);
    assert_eq!(h.entries.len(), 3);
    assert!(h
        .entries
        .iter()
        .all(|e| e.kind == HistoryKind::RequestTimedOut as i32 && e.reason_codes == ["TIMEOUT"]));
    let rid = request_all(&mut node, &mut users[1]);
    let r: QueryVerificationRequestResponse = query(
        &node,
        "/virtengine.identity.v1.Query/VerificationRequest",
        &QueryVerificationRequestRequest {
            request_id: h.entries[0].request_id.clone(),
        },
    );
    assert_eq!(r.request.unwrap().status, RequestStatus::Timeout as i32);
    assert_eq!(
        status(&node, &users[1], "d"),
        VerificationStatus::InProgress
    );
    assert_ne!(rid, h.entries[0].request_id);
}

#[test]
fn completed_request_is_not_timed_out_later() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.request_timeout_blocks = 2);
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 80);
    node.advance_to(node.height() + 5).unwrap();
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Verified
    );
    assert_eq!(score(&node, &users[1]).tier, IdentityTier::Standard as i32);
}

#[test]
fn score_expiry_by_block_time_changes_tier_and_the_expired_account_can_request_again() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.verification_expiry_days = 1);
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 80);
    let rec = score(&node, &users[1]).score.unwrap();
    assert_eq!(rec.status, AccountStatus::Verified as i32);
    node.advance_time(rec.expires_at - node.time() - ve_app::testing::BLOCK_SECONDS);
    let out = node.execute_block(&[]).unwrap();
    assert_eq!(node.time(), rec.expires_at);
    // The sweep writes the record EXPIRED and says so.
    let sc = score(&node, &users[1]);
    assert_eq!(
        sc.score.as_ref().unwrap().status,
        AccountStatus::Expired as i32
    );
    assert_eq!(sc.tier, IdentityTier::Unverified as i32);
    let kinds: Vec<&str> = out.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"virtengine.identity.v1.EventScoreExpired"),
        "{kinds:?}"
    );
    let tier_event = out
        .events
        .iter()
        .find(|e| e.kind == "virtengine.identity.v1.EventTierChanged")
        .unwrap();
    assert!(tier_event
        .attributes
        .contains(&("old_tier".into(), "2".into())));
    assert!(tier_event
        .attributes
        .contains(&("new_tier".into(), "0".into())));
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Expired
    );
    assert_eq!(
        history(&node, &users[1], None).entries.last().unwrap().kind,
        HistoryKind::ScoreExpired as i32
    );

    // Re-verification: EXPIRED scopes go PENDING -> IN_PROGRESS in a new request.
    let rid2 = request_all(&mut node, &mut users[1]);
    assert_ne!(rid, rid2);
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::InProgress
    );
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::InProgress
    );
    complete_with(&mut node, &rid2, 90);
    assert_eq!(score(&node, &users[1]).tier, IdentityTier::Premium as i32);
}

#[test]
fn consent_settings_can_forbid_verification_and_re_verification() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.verification_expiry_days = 1);
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 80);
    node.advance_time(86_400);
    node.execute_block(&[]).unwrap();
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Expired
    );
    let settings = |share: bool, reverify: bool, u: &User| MsgUpdateConsentSettings {
        sender: u.address.to_string(),
        share_with_providers: false,
        share_for_verification: share,
        allow_re_verification: reverify,
        allow_derived_feature_sharing: false,
    };
    let m = settings(true, false, &users[1]);
    ok(&mut node, &mut users[1], UPDATE_CONSENT_SETTINGS, &m);
    // Empty list: expired scopes are left out, so nothing is pending.
    let r = request_scopes(&mut node, &mut users[1], &[]);
    assert_eq!((r[0].1.as_str(), r[0].0), ("identity", 22), "{r:?}");
    let r = request_scopes(&mut node, &mut users[1], &["doc-1"]);
    assert_eq!((r[0].1.as_str(), r[0].0), ("identity", 40), "{r:?}");
    let m = settings(false, true, &users[1]);
    ok(&mut node, &mut users[1], UPDATE_CONSENT_SETTINGS, &m);
    let r = request_scopes(&mut node, &mut users[1], &["doc-1"]);
    assert_eq!((r[0].1.as_str(), r[0].0), ("identity", 40), "{r:?}");
    let m = settings(true, true, &users[1]);
    ok(&mut node, &mut users[1], UPDATE_CONSENT_SETTINGS, &m);
    let r = request_scopes(&mut node, &mut users[1], &["doc-1"]);
    assert_eq!(r[0].0, 0, "{r:?}");
    let w = wallet(&node, &users[1]).wallet.unwrap();
    // Onboarding granted one consent; three settings updates followed.
    assert_eq!(w.consent_settings.unwrap().consent_version, 4);
}

// ---------------------------------------------------------------- wallet and consent

#[test]
fn wallet_needs_a_binding_signature_over_the_documented_digest_and_is_one_per_account() {
    let (mut node, mut users) = chain();
    let a = &mut users[1];
    let m = upload_msg(a, "doc-1", ID_DOC, 1);
    ok(&mut node, a, UPLOAD, &m);

    // Signed by another key than the one bound.
    let mut bad = create_wallet_msg(a, &binding_key(1));
    bad.binding_pub_key = binding_key(2).verifying_key().to_bytes().to_vec();
    refused(&mut node, a, CREATE_WALLET, &bad, "identity", 37);
    // Signed for another chain.
    let mut other_chain = create_wallet_msg(a, &binding_key(1));
    let addr = a.address.to_string();
    let d = ve_identity::payload::binding_digest(
        "other-chain",
        &addr,
        &ve_identity::payload::wallet_id(&addr),
        &binding_key(1).verifying_key().to_bytes(),
        0,
    );
    other_chain.binding_signature = binding_key(1).sign(&d).to_bytes().to_vec();
    refused(&mut node, a, CREATE_WALLET, &other_chain, "identity", 37);
    assert!(!wallet(&node, a).found);

    let good = create_wallet_msg(a, &binding_key(1));
    ok(&mut node, a, CREATE_WALLET, &good);
    let w = wallet(&node, a).wallet.unwrap();
    assert_eq!(w.wallet_id, ve_identity::payload::wallet_id(&addr));
    assert!(w.wallet_id.starts_with("wallet_") && w.wallet_id.len() == 39);
    assert_eq!(w.status, WalletStatus::Active as i32);
    let c = w.consent_settings.unwrap();
    assert!(c.share_for_verification && c.allow_re_verification && !c.share_with_providers);
    refused(&mut node, a, CREATE_WALLET, &good, "identity", 34);

    // The existing scope and later uploads are referenced; revocation marks the reference.
    let m = upload_msg(a, "mail-1", EMAIL, 2);
    ok(&mut node, a, UPLOAD, &m);
    let rv = MsgRevokeScope {
        sender: addr.clone(),
        scope_id: "doc-1".into(),
        reason: "lost".into(),
    };
    ok(&mut node, a, REVOKE, &rv);
    let refs: QueryWalletScopesResponse = query(
        &node,
        "/virtengine.identity.v1.Query/WalletScopes",
        &QueryWalletScopesRequest {
            account: addr,
            pagination: None,
        },
    );
    let got: Vec<(String, i32)> = refs
        .scopes
        .iter()
        .map(|s| {
            let r = s.reference.as_ref().unwrap();
            (r.scope_id.clone(), r.status)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("doc-1".to_string(), ScopeRefStatus::Revoked as i32),
            ("mail-1".to_string(), ScopeRefStatus::Active as i32)
        ]
    );
}

#[test]
fn biometric_scope_without_consent_is_not_used_and_naming_it_is_refused() {
    let (mut node, mut users) = chain();
    let a = &mut users[1];
    let t1 = tx(a, UPLOAD, &upload_msg(a, "doc-1", ID_DOC, 1));
    let t2 = tx(a, UPLOAD, &upload_msg(a, "selfie-1", SELFIE, 2));
    assert!(block(&mut node, &[t1, t2]).iter().all(|r| r.0 == 0));

    // Named explicitly: refused (39). Without a wallet no consent can exist.
    let r = request_scopes(&mut node, a, &["selfie-1"]);
    assert_eq!((r[0].1.as_str(), r[0].0), ("identity", 39), "{r:?}");
    let m = consent_msg(a, "selfie-1");
    refused(&mut node, a, GRANT_CONSENT, &m, "identity", 35);
    // Everything pending: the selfie is left out.
    let rid = request_all(&mut node, a);
    let req = pending_requests(&node, &a.address.to_string());
    assert_eq!(req[0].scope_ids, vec!["doc-1".to_string()]);
    assert_eq!(status(&node, a, "selfie-1"), VerificationStatus::Pending);
    complete_with(&mut node, &rid, 75);
    assert_eq!(status(&node, a, "selfie-1"), VerificationStatus::Pending);

    // With a wallet and a consent the selfie is used.
    let w = create_wallet_msg(a, &binding_key(1));
    ok(&mut node, a, CREATE_WALLET, &w);
    ok(&mut node, a, GRANT_CONSENT, &consent_msg(a, "selfie-1"));
    let rid = request_all(&mut node, a);
    assert_eq!(status(&node, a, "selfie-1"), VerificationStatus::InProgress);

    // Withdrawing consent takes the selfie out of the waiting request at once; the
    // result no longer touches it.
    let rc = MsgRevokeScopeConsent {
        sender: a.address.to_string(),
        scope_id: "selfie-1".into(),
        reason: "changed my mind".into(),
    };
    ok(&mut node, a, REVOKE_CONSENT, &rc);
    assert_eq!(status(&node, a, "selfie-1"), VerificationStatus::Pending);
    // The request has no scope left: it fails without a score change.
    let before = score(&node, a).score.unwrap();
    complete_with(&mut node, &rid, 95);
    assert_eq!(score(&node, a).score.unwrap(), before);
    let r: QueryVerificationRequestResponse = query(
        &node,
        "/virtengine.identity.v1.Query/VerificationRequest",
        &QueryVerificationRequestRequest { request_id: rid },
    );
    let r = r.request.unwrap();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (RequestStatus::Failed as i32, "NO_SCOPES")
    );
    let consents: QueryConsentsResponse = query(
        &node,
        "/virtengine.identity.v1.Query/Consents",
        &QueryConsentsRequest {
            account: a.address.to_string(),
            pagination: None,
        },
    );
    assert_eq!(consents.consents.len(), 1);
    assert!(!consents.consents[0].granted && consents.consents[0].revoked_at > 0);
    refused(&mut node, a, REVOKE_CONSENT, &rc, "identity", 31);
}

#[test]
fn expired_consent_no_longer_lets_a_biometric_scope_be_used() {
    let (mut node, mut users) = chain();
    let a = &mut users[1];
    let t1 = tx(a, UPLOAD, &upload_msg(a, "selfie-1", SELFIE, 2));
    let t2 = tx(a, CREATE_WALLET, &create_wallet_msg(a, &binding_key(1)));
    assert!(block(&mut node, &[t1, t2]).iter().all(|r| r.0 == 0));
    let mut c = consent_msg(a, "selfie-1");
    c.expires_at = node.time(); // not in the future
    refused(&mut node, a, GRANT_CONSENT, &c, "identity", 4);
    c.expires_at = node.time() + 20;
    ok(&mut node, a, GRANT_CONSENT, &c);
    node.advance_time(30);
    let r = request_scopes(&mut node, a, &["selfie-1"]);
    assert_eq!((r[0].1.as_str(), r[0].0), ("identity", 39), "{r:?}");
}

#[test]
fn rebind_without_mfa_is_refused_and_with_mfa_replaces_the_binding_key() {
    let (mut node, mut users) = chain();
    let a = &mut users[1];
    ok(
        &mut node,
        a,
        CREATE_WALLET,
        &create_wallet_msg(a, &binding_key(1)),
    );
    let addr = a.address.to_string();
    let wid = ve_identity::payload::wallet_id(&addr);
    let (old, new) = (binding_key(1), binding_key(2));
    let new_pk = new.verifying_key().to_bytes();
    let rebind = |old_signer: &ed25519_dalek::SigningKey| MsgRebindWallet {
        sender: addr.clone(),
        new_binding_pub_key: new_pk.to_vec(),
        new_binding_signature: new
            .sign(&ve_identity::payload::binding_digest(
                ve_app::testing::TEST_CHAIN_ID,
                &addr,
                &wid,
                &new_pk,
                1,
            ))
            .to_bytes()
            .to_vec(),
        old_signature: old_signer
            .sign(&ve_identity::payload::rebind_digest(
                ve_app::testing::TEST_CHAIN_ID,
                &addr,
                &wid,
                &old.verifying_key().to_bytes(),
                &new_pk,
                1,
            ))
            .to_bytes()
            .to_vec(),
    };
    let msg = rebind(&old);

    // Through the wired app without an MFA proof (and without the VEID score the mfa
    // module's IdentityRebind policy asks for): refused by the MFA gate.
    let (space, _) = refused_any(&mut node, a, REBIND_WALLET, &msg);
    assert_eq!(space, "mfa");
    assert_eq!(
        wallet(&node, a).wallet.unwrap().binding_pub_key,
        old.verifying_key().to_bytes()
    );

    // No MFA session: refused by the gate, asked for IdentityRebind.
    let no_mfa = RebindWalletHandler {
        mfa: Arc::new(TestMfa::default()),
    };
    assert_eq!(run(&mut node, &no_mfa, &msg), Err(("mfa".into(), 77)));
    let gate = Arc::new(TestMfa {
        verified: vec![a.address],
        ..Default::default()
    });
    let with_mfa = RebindWalletHandler { mfa: gate.clone() };
    // MFA but the hand-over is signed by a key that is not bound: refused (38).
    assert_eq!(
        run(&mut node, &with_mfa, &rebind(&binding_key(3))),
        Err(("identity".into(), 38))
    );
    assert_eq!(
        wallet(&node, a).wallet.unwrap().binding_pub_key,
        old.verifying_key().to_bytes()
    );
    // MFA and both signatures: the key is replaced, version 1.
    run(&mut node, &with_mfa, &msg).unwrap();
    let w = wallet(&node, a).wallet.unwrap();
    assert_eq!(
        (w.binding_pub_key.as_slice(), w.binding_version),
        (new_pk.as_slice(), 1)
    );
    assert!(gate
        .calls
        .lock()
        .unwrap()
        .iter()
        .all(|c| *c == (a.address, SensitiveAction::IdentityRebind)));
    // Replaying the same rebind fails (the key is already bound); and a hand-back to the
    // first key with signatures made for version 1 fails: the version moved on to 2.
    assert_eq!(run(&mut node, &with_mfa, &msg), Err(("identity".into(), 4)));
    let back_pk = old.verifying_key().to_bytes();
    let stale = MsgRebindWallet {
        sender: addr.clone(),
        new_binding_pub_key: back_pk.to_vec(),
        new_binding_signature: old
            .sign(&ve_identity::payload::binding_digest(
                ve_app::testing::TEST_CHAIN_ID,
                &addr,
                &wid,
                &back_pk,
                1,
            ))
            .to_bytes()
            .to_vec(),
        old_signature: new
            .sign(&ve_identity::payload::rebind_digest(
                ve_app::testing::TEST_CHAIN_ID,
                &addr,
                &wid,
                &new_pk,
                &back_pk,
                1,
            ))
            .to_bytes()
            .to_vec(),
    };
    assert_eq!(
        run(&mut node, &with_mfa, &stale),
        Err(("identity".into(), 38))
    );
}

// ---------------------------------------------------------------- borderline fallback

#[test]
fn borderline_score_opens_a_fallback_that_the_keeper_completes_to_verified_basic() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 47);
    let h = node.height();
    let f = fallback(&node, &users[1]).fallback.unwrap();
    assert_eq!(f.status, FallbackStatus::Pending as i32);
    assert_eq!((f.borderline_score, f.deadline_height), (47, h + 50));
    assert_eq!(
        f.scope_ids,
        vec!["doc-1".to_string(), "selfie-1".to_string()]
    );
    assert_eq!(
        score(&node, &users[1]).effective_status,
        AccountStatus::NeedsAdditionalFactor as i32
    );
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::NeedsAdditionalFactor
    );

    // What the MFA module calls after a successful MFA verification.
    let alice = users[1].address;
    let events = RefCell::new(Vec::new());
    let out = node
        .execute_block_with_system(&[], &|ctx| {
            keeper::complete_borderline_fallback(ctx, &alice).map(|_| ())
        })
        .unwrap();
    events
        .borrow_mut()
        .extend(out.events.iter().map(|e| e.kind.clone()));
    let sc = score(&node, &users[1]);
    assert_eq!(sc.effective_status, AccountStatus::Verified as i32);
    assert_eq!(sc.tier, IdentityTier::Basic as i32);
    assert!(sc.score.unwrap().additional_factor);
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Verified
    );
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::Verified
    );
    assert_eq!(
        fallback(&node, &users[1]).fallback.unwrap().status,
        FallbackStatus::Completed as i32
    );
    // Every scope went through ADDITIONAL_FACTOR_PENDING on the way.
    let ev = events.into_inner();
    assert!(ev.contains(&"virtengine.identity.v1.EventBorderlineFallbackCompleted".to_string()));
    assert!(ev.contains(&"virtengine.identity.v1.EventTierChanged".to_string()));
    let h = history(&node, &users[1], None).entries;
    assert_eq!(
        h.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![
            HistoryKind::VerificationResult as i32,
            HistoryKind::BorderlineCompleted as i32
        ]
    );
    assert_eq!(
        (h[1].previous_status, h[1].new_status),
        (
            AccountStatus::NeedsAdditionalFactor as i32,
            AccountStatus::Verified as i32
        )
    );
    // A second completion finds nothing open.
    let err = RefCell::new(None);
    system(&mut node, |ctx| {
        *err.borrow_mut() = keeper::complete_borderline_fallback(ctx, &alice)
            .err()
            .map(|e| e.code);
        Ok(())
    });
    assert_eq!(*err.borrow(), Some(41));
}

#[test]
fn complete_borderline_fallback_message_needs_an_mfa_session_for_its_own_action() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 46);
    let msg = MsgCompleteBorderlineFallback {
        sender: users[1].address.to_string(),
    };
    // Through the wired app without an MFA proof: refused by the MFA gate.
    let (space, _) = refused_any(&mut node, &mut users[1], COMPLETE_FALLBACK, &msg);
    assert_eq!(space, "mfa");
    // Test gate without a session: refused; the fallback stays open.
    let gate = Arc::new(TestMfa::default());
    let h = CompleteBorderlineFallbackHandler { mfa: gate.clone() };
    assert_eq!(run(&mut node, &h, &msg), Err(("mfa".into(), 77)));
    assert_eq!(
        gate.calls.lock().unwrap().as_slice(),
        &[(users[1].address, SensitiveAction::BorderlineFallback)]
    );
    assert_eq!(
        fallback(&node, &users[1]).fallback.unwrap().status,
        FallbackStatus::Pending as i32
    );
    // With a session: VERIFIED, tier BASIC.
    let h = CompleteBorderlineFallbackHandler {
        mfa: Arc::new(TestMfa {
            verified: vec![users[1].address],
            ..Default::default()
        }),
    };
    let resp =
        MsgCompleteBorderlineFallbackResponse::decode(run(&mut node, &h, &msg).unwrap().as_slice())
            .unwrap();
    assert_eq!((resp.score, resp.tier), (46, IdentityTier::Basic as i32));
    // Bob has no fallback: 41 before any MFA question.
    let bob = MsgCompleteBorderlineFallback {
        sender: users[2].address.to_string(),
    };
    assert_eq!(run(&mut node, &h, &bob), Err(("identity".into(), 41)));
}

#[test]
fn fallback_deadline_passing_rejects_the_scopes_and_the_score() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.fallback_timeout_blocks = 3);
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 45);
    let deadline = fallback(&node, &users[1]).fallback.unwrap().deadline_height;
    node.advance_to(deadline - 1).unwrap();
    assert_eq!(
        fallback(&node, &users[1]).fallback.unwrap().status,
        FallbackStatus::Pending as i32
    );
    // At the deadline height completion is refused (42) and the end-block sweep expires it.
    let alice = users[1].address;
    let err = RefCell::new(None);
    system(&mut node, |ctx| {
        *err.borrow_mut() = keeper::complete_borderline_fallback(ctx, &alice)
            .err()
            .map(|e| e.code);
        Ok(())
    });
    assert_eq!(node.height(), deadline);
    assert_eq!(*err.borrow(), Some(42));
    let f = fallback(&node, &users[1]).fallback.unwrap();
    assert_eq!(
        (f.status, f.finished_height),
        (FallbackStatus::Expired as i32, deadline)
    );
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Rejected
    );
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::Rejected
    );
    let sc = score(&node, &users[1]).score.unwrap();
    assert_eq!(
        (sc.status, sc.block_height),
        (AccountStatus::Rejected as i32, deadline)
    );
    assert_eq!(
        history(&node, &users[1], None).entries.last().unwrap().kind,
        HistoryKind::BorderlineExpired as i32
    );
}

#[test]
fn a_newer_result_supersedes_an_open_fallback() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 48);
    let a = &mut users[1];
    let m = upload_msg(a, "doc-2", ID_DOC, 3);
    ok(&mut node, a, UPLOAD, &m);
    let rid2 = request_all(&mut node, a);
    complete_with(&mut node, &rid2, 90);
    assert_eq!(
        fallback(&node, &users[1]).fallback.unwrap().status,
        FallbackStatus::Superseded as i32
    );
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Expired
    );
    assert_eq!(
        status(&node, &users[1], "doc-2"),
        VerificationStatus::Verified
    );
    assert_eq!(score(&node, &users[1]).tier, IdentityTier::Premium as i32);
}

// ---------------------------------------------------------------- appeals

fn appeal_msg(u: &User) -> MsgSubmitAppeal {
    MsgSubmitAppeal {
        sender: u.address.to_string(),
        reason: "The document photo was taken in poor light; a clearer copy is available.".into(),
        evidence_hashes: vec![vec![3; 32]],
    }
}

fn rejected(window: u64) -> (TestNode, Vec<User>) {
    let (mut node, mut users) = chain_with(|g| g.identity.params.appeal_window_blocks = window);
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 30);
    assert_eq!(
        score(&node, &users[1]).effective_status,
        AccountStatus::Rejected as i32
    );
    (node, users)
}

fn appeals(node: &TestNode, account: &str) -> Vec<Appeal> {
    let r: QueryAppealsResponse = query(
        node,
        "/virtengine.identity.v1.Query/Appeals",
        &QueryAppealsRequest {
            account: account.into(),
            pagination: None,
        },
    );
    r.appeals
}

#[test]
fn appeal_inside_the_window_is_accepted_once_and_outside_it_is_refused() {
    let (mut node, mut users) = rejected(5);
    let rejected_at = score(&node, &users[1]).score.unwrap().block_height;
    // Bob was never rejected: nothing to appeal.
    let m = appeal_msg(&users[2]);
    refused(&mut node, &mut users[2], SUBMIT_APPEAL, &m, "identity", 43);
    // Too short a reason (params.min_appeal_reason_length 50).
    let mut short = appeal_msg(&users[1]);
    short.reason = "wrong".into();
    refused(
        &mut node,
        &mut users[1],
        SUBMIT_APPEAL,
        &short,
        "identity",
        4,
    );
    let m = appeal_msg(&users[1]);
    ok(&mut node, &mut users[1], SUBMIT_APPEAL, &m);
    let open = appeals(&node, "");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, AppealStatus::Pending as i32);
    assert_eq!(
        (open[0].original_score, open[0].rejection_height),
        (30, rejected_at)
    );
    // One open appeal per account.
    refused(&mut node, &mut users[1], SUBMIT_APPEAL, &m, "identity", 45);

    // Window: last accepted at rejection + 5, refused after.
    let (mut node, mut users) = rejected(5);
    let rejected_at = score(&node, &users[1]).score.unwrap().block_height;
    node.advance_to(rejected_at + 5).unwrap();
    let m = appeal_msg(&users[1]);
    let r = block(&mut node, &[tx(&mut users[1], SUBMIT_APPEAL, &m)]);
    assert_eq!(node.height(), rejected_at + 6);
    assert_eq!((r[0].1.as_str(), r[0].0), ("identity", 44), "{r:?}");
    let (mut node, mut users) = rejected(5);
    let rejected_at = score(&node, &users[1]).score.unwrap().block_height;
    node.advance_to(rejected_at + 4).unwrap();
    let m = appeal_msg(&users[1]);
    ok(&mut node, &mut users[1], SUBMIT_APPEAL, &m);
}

#[test]
fn appeal_review_by_a_non_moderator_is_refused_and_approval_sets_the_reviewed_score() {
    let (mut node, mut users) = rejected(100);
    let m = appeal_msg(&users[1]);
    ok(&mut node, &mut users[1], SUBMIT_APPEAL, &m);
    let id = appeals(&node, &users[1].address.to_string())[0]
        .appeal_id
        .clone();
    let review = |reviewer: &User, approve: bool, adj: i32| MsgReviewAppeal {
        reviewer: reviewer.address.to_string(),
        appeal_id: id.clone(),
        approve,
        reason: "reviewed".into(),
        score_adjustment: adj,
    };
    // Through the wired app: users[0] holds no moderator role in the roles module.
    let msg = review(&users[0], true, 40);
    refused(
        &mut node,
        &mut users[0],
        REVIEW_APPEAL,
        &msg,
        "identity",
        48,
    );
    let handler = ReviewAppealHandler {
        roles: Arc::new(TestRoles {
            moderators: vec![users[0].address],
        }),
    };
    // Bob is not a moderator; nor is the appellant.
    assert_eq!(
        run(&mut node, &handler, &review(&users[2], true, 40)),
        Err(("identity".into(), 48))
    );
    assert_eq!(
        run(&mut node, &handler, &review(&users[1], true, 40)),
        Err(("identity".into(), 48))
    );
    assert_eq!(score(&node, &users[1]).score.unwrap().score, 30);
    // The moderator approves with +40: VERIFIED at 70, tier STANDARD.
    run(&mut node, &handler, &review(&users[0], true, 40)).unwrap();
    let sc = score(&node, &users[1]);
    let rec = sc.score.unwrap();
    assert_eq!(
        (rec.score, rec.status),
        (70, AccountStatus::Verified as i32)
    );
    assert_eq!(rec.model_version, "appeal_adjustment");
    assert_eq!(sc.tier, IdentityTier::Standard as i32);
    let a = &appeals(&node, &users[1].address.to_string())[0];
    assert_eq!(
        (a.status, a.resulting_score),
        (AppealStatus::Approved as i32, 70)
    );
    assert_eq!(a.reviewer, users[0].address.to_string());
    assert!(appeals(&node, "").is_empty());
    assert_eq!(
        history(&node, &users[1], None).entries.last().unwrap().kind,
        HistoryKind::AppealApproved as i32
    );
    // Reviewed once only.
    assert_eq!(
        run(&mut node, &handler, &review(&users[0], false, 0)),
        Err(("identity".into(), 47))
    );
}

#[test]
fn moderator_from_the_roles_module_reviews_appeals_through_the_app() {
    let (mut node, mut users) = chain_with(|g| {
        g.roles
            .assignments
            .push(ve_roles::genesis::GenesisAssignment {
                address: common::User::new(1, common::FIRST_USER_NUMBER).address,
                role: "moderator".into(),
            });
    });
    let rid = onboard(&mut node, &mut users);
    complete_with(&mut node, &rid, 30);
    let m = appeal_msg(&users[1]);
    ok(&mut node, &mut users[1], SUBMIT_APPEAL, &m);
    let id = appeals(&node, "")[0].appeal_id.clone();
    let mut msg = MsgReviewAppeal {
        reviewer: users[2].address.to_string(),
        appeal_id: id,
        approve: true,
        reason: "clear evidence".into(),
        score_adjustment: 25,
    };
    refused(
        &mut node,
        &mut users[2],
        REVIEW_APPEAL,
        &msg,
        "identity",
        48,
    );
    msg.reviewer = users[0].address.to_string();
    ok(&mut node, &mut users[0], REVIEW_APPEAL, &msg);
    let sc = score(&node, &users[1]);
    assert_eq!(sc.score.unwrap().score, 55);
    assert_eq!(sc.tier, IdentityTier::Basic as i32);
}

#[test]
fn rejected_appeal_leaves_the_score_and_frees_the_account_to_appeal_again() {
    let (mut node, mut users) = rejected(100);
    let m = appeal_msg(&users[1]);
    ok(&mut node, &mut users[1], SUBMIT_APPEAL, &m);
    let id = appeals(&node, "")[0].appeal_id.clone();
    let handler = ReviewAppealHandler {
        roles: Arc::new(TestRoles {
            moderators: vec![users[0].address],
        }),
    };
    let msg = MsgReviewAppeal {
        reviewer: users[0].address.to_string(),
        appeal_id: id,
        approve: false,
        reason: "evidence does not match".into(),
        score_adjustment: 0,
    };
    run(&mut node, &handler, &msg).unwrap();
    let sc = score(&node, &users[1]).score.unwrap();
    assert_eq!((sc.score, sc.status), (30, AccountStatus::Rejected as i32));
    assert_eq!(
        appeals(&node, &users[1].address.to_string())[0].status,
        AppealStatus::Rejected as i32
    );
    ok(&mut node, &mut users[1], SUBMIT_APPEAL, &m);
    assert_eq!(appeals(&node, &users[1].address.to_string()).len(), 2);
}

// ---------------------------------------------------------------- history

#[test]
fn verification_history_keeps_the_newest_entries_and_paginates() {
    let (mut node, mut users) = chain_with(|g| {
        g.identity.params.max_history_per_account = 3;
        g.identity.params.request_timeout_blocks = 1;
    });
    let a = &mut users[1];
    let m = upload_msg(a, "doc-1", ID_DOC, 1);
    ok(&mut node, a, UPLOAD, &m);
    // Five requests, each timing out at the next block: five history entries.
    for _ in 0..5 {
        request_all(&mut node, a);
        node.execute_block(&[]).unwrap();
    }
    let all = history(&node, a, None);
    assert_eq!(
        all.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    let p1 = history(
        &node,
        a,
        Some(PageRequest {
            limit: 2,
            ..Default::default()
        }),
    );
    assert_eq!(
        p1.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        vec![3, 4]
    );
    let next = p1.pagination.unwrap().next_key;
    assert!(!next.is_empty());
    let p2 = history(
        &node,
        a,
        Some(PageRequest {
            key: next,
            limit: 2,
            ..Default::default()
        }),
    );
    assert_eq!(
        p2.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        vec![5]
    );
    assert!(p2.pagination.unwrap().next_key.is_empty());
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_input_on_wallet_consent_and_appeal_messages_is_refused_with_stable_codes() {
    let (mut node, mut users) = chain();
    let a = &mut users[1];
    let mut w = create_wallet_msg(a, &binding_key(1));
    w.binding_pub_key.pop();
    refused(&mut node, a, CREATE_WALLET, &w, "identity", 4);
    let mut w = create_wallet_msg(a, &binding_key(1));
    w.binding_signature.push(0);
    refused(&mut node, a, CREATE_WALLET, &w, "identity", 4);
    let mut w = create_wallet_msg(a, &binding_key(1));
    w.sender = "notanaddress".into();
    let r = block(
        &mut node,
        &[a.sign(vec![ve_proto::to_any(CREATE_WALLET, &w)], FEE, GAS)],
    );
    assert_eq!((r[0].1.as_str(), r[0].0), ("sdk", 7), "{r:?}");
    a.sequence = sequence(&node, &a.address);

    let settings = MsgUpdateConsentSettings {
        sender: a.address.to_string(),
        ..Default::default()
    };
    refused(
        &mut node,
        a,
        UPDATE_CONSENT_SETTINGS,
        &settings,
        "identity",
        35,
    );
    let mut c = consent_msg(a, "bad id!");
    refused(&mut node, a, GRANT_CONSENT, &c, "identity", 2);
    c.scope_id = "selfie-1".into();
    c.purpose = "x".repeat(257);
    refused(&mut node, a, GRANT_CONSENT, &c, "identity", 4);
    ok(
        &mut node,
        a,
        CREATE_WALLET,
        &create_wallet_msg(a, &binding_key(1)),
    );
    let c = consent_msg(a, "no-such-scope");
    refused(&mut node, a, GRANT_CONSENT, &c, "identity", 19);

    let mut ap = appeal_msg(a);
    ap.reason = String::new();
    refused(&mut node, a, SUBMIT_APPEAL, &ap, "identity", 4);
    let mut ap = appeal_msg(a);
    ap.reason = "x".repeat(2001);
    refused(&mut node, a, SUBMIT_APPEAL, &ap, "identity", 4);
    let mut ap = appeal_msg(a);
    ap.evidence_hashes = vec![vec![1; 31]];
    refused(&mut node, a, SUBMIT_APPEAL, &ap, "identity", 4);
    let mut ap = appeal_msg(a);
    ap.evidence_hashes = vec![vec![1; 32]; 11];
    refused(&mut node, a, SUBMIT_APPEAL, &ap, "identity", 4);

    let mut rv = MsgReviewAppeal {
        reviewer: a.address.to_string(),
        appeal_id: "zz".into(),
        approve: true,
        reason: String::new(),
        score_adjustment: 0,
    };
    refused(&mut node, a, REVIEW_APPEAL, &rv, "identity", 4);
    rv.appeal_id = "0".repeat(32);
    rv.score_adjustment = 101;
    refused(&mut node, a, REVIEW_APPEAL, &rv, "identity", 4);
    rv.score_adjustment = 5;
    rv.approve = false;
    refused(&mut node, a, REVIEW_APPEAL, &rv, "identity", 4);
    // A moderator reviewing an appeal that does not exist.
    let handler = ReviewAppealHandler {
        roles: Arc::new(TestRoles {
            moderators: vec![a.address],
        }),
    };
    rv.score_adjustment = 0;
    assert_eq!(run(&mut node, &handler, &rv), Err(("identity".into(), 46)));
}

#[test]
fn new_params_have_the_documented_defaults_and_are_validated() {
    let p = IdentityParams::default();
    assert_eq!(
        (
            p.request_timeout_blocks,
            p.max_timeouts_per_block,
            p.fallback_timeout_blocks,
            p.appeal_window_blocks,
            p.min_appeal_reason_length,
            p.max_history_per_account,
            p.borderline_lower,
            p.borderline_upper,
        ),
        (100, 50, 50, 100_800, 50, 100, 45, 50)
    );
    for bad in [
        IdentityParams {
            request_timeout_blocks: 0,
            ..IdentityParams::default()
        },
        IdentityParams {
            max_timeouts_per_block: 0,
            ..IdentityParams::default()
        },
        IdentityParams {
            fallback_timeout_blocks: 0,
            ..IdentityParams::default()
        },
        IdentityParams {
            appeal_window_blocks: 0,
            ..IdentityParams::default()
        },
        IdentityParams {
            min_appeal_reason_length: 2001,
            ..IdentityParams::default()
        },
        IdentityParams {
            max_history_per_account: 0,
            ..IdentityParams::default()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------- model registry

#[test]
fn results_from_a_model_set_not_in_the_registry_are_not_applied() {
    let active = "ab".repeat(32);
    let (mut node, mut users) =
        chain_with(|g| g.identity.params.active_model_hashes = vec![active.clone()]);
    let rid = onboard(&mut node, &mut users);
    let outcome = |model: &str| VerificationOutcome {
        score: 90,
        model_version: model.into(),
        input_hash: vec![7; 32],
        failed_scopes: vec![],
        reason_codes: vec!["SUCCESS".into()],
    };
    // A result signed for another model set: refused with 49, nothing applied.
    let err = RefCell::new(None);
    let stale = outcome(&"cd".repeat(32));
    system(&mut node, |ctx| {
        *err.borrow_mut() = keeper::apply_verification_result(ctx, &rid, &stale)
            .err()
            .map(|e| (e.codespace.to_string(), e.code));
        Ok(())
    });
    assert_eq!(*err.borrow(), Some(("identity".to_string(), 49)));
    assert!(score(&node, &users[1]).score.is_none());
    assert_eq!(
        pending_requests(&node, &users[1].address.to_string()).len(),
        1,
        "the request stays queued"
    );
    // The active model set's result is applied.
    let good = outcome(&active);
    system(&mut node, |ctx| {
        keeper::apply_verification_result(ctx, &rid, &good).map(|_| ())
    });
    let s = score(&node, &users[1]);
    assert_eq!(s.score.unwrap().score, 90);
}

#[test]
fn model_registry_params_must_be_distinct_lowercase_hashes() {
    let ok = IdentityParams {
        active_model_hashes: vec!["ab".repeat(32)],
        ..IdentityParams::default()
    };
    assert!(ok.validate().is_ok());
    for bad in [
        vec!["AB".repeat(32)],
        vec!["ab".repeat(31)],
        vec!["ab".repeat(32), "ab".repeat(32)],
        vec!["zz".repeat(32)],
    ] {
        let p = IdentityParams {
            active_model_hashes: bad.clone(),
            ..IdentityParams::default()
        };
        assert!(p.validate().is_err(), "{bad:?}");
    }
}
