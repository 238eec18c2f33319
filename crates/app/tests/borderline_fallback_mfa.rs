//! The borderline fallback completed through the wired app with a real FIDO2 session:
//! a score in [45, 50) leaves the account NEEDS_ADDITIONAL_FACTOR; the user proves a
//! registered security key for `BORDERLINE_FALLBACK` and `MsgCompleteBorderlineFallback`
//! turns the account VERIFIED at tier BASIC — the production MFA gate decides, no test gate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod mfa_common;

use mfa_common::*;
use ve_identity::keeper::{apply_verification_result, VerificationOutcome};
use ve_identity::proto::{
    AccountStatus, IdentityTier, MsgCompleteBorderlineFallback,
    MsgCompleteBorderlineFallbackResponse, MsgRequestVerificationResponse, QueryScoreRequest,
    QueryScoreResponse,
};
use ve_mfa::proto::{FactorType, SensitiveTxType};
use ve_mfa::testing::Format;
use ve_proto::{to_any, Any};

const COMPLETE: &str = "/virtengine.identity.v1.MsgCompleteBorderlineFallback";

/// Alice (users[1]) uploads an ID document, requests verification and the request is
/// answered with `score` the way the scoring consensus answers it (keeper API).
fn borderline_chain(score: u32) -> Chain {
    let mut c = chain_with(3, |g| {
        let owner = common::User::new(1, FIRST_USER_NUMBER).address;
        common::veid::add_identity_setup(g, owner);
    });
    let alice = common::User::new(2, FIRST_USER_NUMBER + 1);
    c.send(
        1,
        vec![common::veid::upload(&alice, "doc-1", b"id", [7; 32])],
        &[],
    )
    .ok();
    let r = c.send(1, vec![common::veid::request_verification(&alice)], &[]);
    r.ok();
    let request_id = r.response::<MsgRequestVerificationResponse>(0).request_id;
    c.node
        .execute_block_with_system(&[], &move |ctx| {
            let outcome = VerificationOutcome {
                score,
                model_version: "test-model".into(),
                input_hash: vec![1; 32],
                failed_scopes: vec![],
                reason_codes: vec!["LOW_CONFIDENCE".into()],
            };
            apply_verification_result(ctx, &request_id, &outcome).map(|_| ())
        })
        .unwrap();
    c
}

fn score(c: &Chain, u: usize) -> QueryScoreResponse {
    c.query(
        "/virtengine.identity.v1.Query/Score",
        &QueryScoreRequest {
            account: c.users[u].s(),
        },
    )
}

fn complete(c: &Chain, u: usize) -> Any {
    to_any(
        COMPLETE,
        &MsgCompleteBorderlineFallback {
            sender: c.users[u].s(),
        },
    )
}

/// A FIDO2-only session for the borderline action: enrol the key, answer the challenge.
fn fido2_session(c: &mut Chain, u: usize, auth: &mut ve_mfa::testing::SoftAuthenticator) -> String {
    c.enroll_fido2(u, auth, Format::PackedSelf).ok();
    let ch = c.create_challenge(
        u,
        FactorType::Fido2,
        SensitiveTxType::BorderlineFallback,
        "",
    );
    verified_session(c.verify_fido2(u, auth, &ch))
}

fn verified_session(v: ve_mfa::proto::MsgVerifyChallengeResponse) -> String {
    assert_eq!(
        v.outcome,
        ve_mfa::proto::VerifyOutcome::Verified as i32,
        "{}",
        v.reason
    );
    v.session_id
}

#[test]
fn borderline_account_becomes_verified_basic_with_a_real_fido2_session() {
    let mut c = borderline_chain(47);
    let before = score(&c, 1);
    assert_eq!(
        before.effective_status,
        AccountStatus::NeedsAdditionalFactor as i32
    );

    // Without a session the production gate refuses.
    let r = c.try_send(1, vec![complete(&c, 1)], &[]);
    assert_eq!(r.codespace, "mfa", "{}", r.log);

    let mut key = authenticator(b"alice-key");
    let session = fido2_session(&mut c, 1, &mut key);
    let r = c.send(1, vec![complete(&c, 1)], std::slice::from_ref(&session));
    r.ok();
    let resp: MsgCompleteBorderlineFallbackResponse = r.response(0);
    assert_eq!((resp.score, resp.tier), (47, IdentityTier::Basic as i32));
    let after = score(&c, 1);
    assert_eq!(after.effective_status, AccountStatus::Verified as i32);
    assert_eq!(after.tier, IdentityTier::Basic as i32);
    assert!(after.score.unwrap().additional_factor);

    // The session was single-use: proving it again is refused (and there is nothing open).
    let r = c.try_send(1, vec![complete(&c, 1)], &[session]);
    assert_ne!(r.code, 0, "a consumed session must not complete anything");
}

#[test]
fn a_session_for_another_action_does_not_complete_the_fallback() {
    let mut c = borderline_chain(46);
    let mut key = authenticator(b"alice-key");
    c.enroll_fido2(1, &mut key, Format::PackedSelf).ok();
    // A FIDO2 session proven for a large transfer is not one for the fallback.
    let ch = c.create_challenge(1, FactorType::Fido2, SensitiveTxType::LargeTransfer, "");
    let session = verified_session(c.verify_fido2(1, &mut key, &ch));
    let r = c.try_send(1, vec![complete(&c, 1)], &[session]);
    assert_eq!(r.codespace, "mfa", "{}", r.log);
    assert_eq!(
        score(&c, 1).effective_status,
        AccountStatus::NeedsAdditionalFactor as i32
    );
}
