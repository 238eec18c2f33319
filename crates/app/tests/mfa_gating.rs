//! MFA through mock consensus: sensitive handlers (bank sends above the threshold, MultiSend,
//! encryption key rotation) refuse without a session carried in the MfaProof extension
//! option and accept with one; sessions of other accounts, for other actions, expired or
//! consumed are refused; a batched transaction is gated message by message; sessions
//! accumulate factors (VEID + FIDO2); WebAuthn registration/assertion with a software
//! authenticator; failed attempts persist and lock the challenge; backup codes are single
//! use; TOTP via a validator enclave's attestation, each code once; expired challenges leave through end-block.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mfa_common;
use mfa_common::*;
use ve_mfa::proto::{self as mp, FactorType as F, SensitiveTxType as T, VerifyOutcome as O};
use ve_mfa::testing::Format;

const LARGE: u128 = 10_000 * VE;

/// A chain where users[1] has a verified score of 80 and an enrolled FIDO2 credential.
fn funded_with_fido2() -> (Chain, ve_mfa::testing::SoftAuthenticator) {
    let mut c = chain(4);
    c.set_score(1, 80);
    let mut auth = authenticator(b"alice");
    c.enroll_fido2(1, &mut auth, Format::None).ok();
    (c, auth)
}

#[test]
fn large_send_without_session_is_refused_and_small_send_needs_none() {
    let mut c = chain(3);
    let to = c.users[2].address;
    let small = send_msg(&c.users[1], &to, LARGE - 1);
    c.send(1, vec![small], &[]).ok();
    let large = send_msg(&c.users[1], &to, LARGE);
    let r = c.send(1, vec![large], &[]);
    // No VEID score: the config's minimum (70) refuses first.
    r.refused("mfa", 14);
    c.set_score(1, 80);
    let large = send_msg(&c.users[1], &to, LARGE);
    let r = c.send(1, vec![large], &[]);
    r.refused("mfa", 13);
    assert!(r.log.contains("veid+fido2"), "{}", r.log);
    assert_eq!(c.balance(&to), START + LARGE - 1);
}

#[test]
fn large_send_with_a_veid_plus_fido2_session_is_accepted() {
    let (mut c, mut auth) = funded_with_fido2();
    let sid = c.veid_fido2_session(1, &mut auth, T::LargeTransfer);
    let s = c.session(&sid);
    assert!(s.is_valid);
    assert_eq!(s.session.unwrap().verified_factors.len(), 2);
    let to = c.users[2].address;
    let r = c.send(
        1,
        vec![send_msg(&c.users[1], &to, LARGE)],
        std::slice::from_ref(&sid),
    );
    r.ok();
    assert!(r.has_event("virtengine.mfa.v1.EventSessionUsed"));
    assert_eq!(c.balance(&to), START + LARGE);
    // Not single-use: the same session covers another large send within its lifetime.
    c.send(1, vec![send_msg(&c.users[1], &to, LARGE)], &[sid])
        .ok();
}

#[test]
fn a_single_factor_session_does_not_meet_a_two_factor_requirement() {
    let (mut c, mut auth) = funded_with_fido2();
    let ch = c.create_challenge(1, F::Fido2, T::LargeTransfer, "");
    let v = c.verify_fido2(1, &mut auth, &ch);
    assert_eq!(v.outcome, O::Verified as i32);
    assert!(!v.satisfied, "FIDO2 alone does not meet VEID+FIDO2");
    let to = c.users[2].address;
    let r = c.send(1, vec![send_msg(&c.users[1], &to, LARGE)], &[v.session_id]);
    r.refused("mfa", 13);
    assert!(r.log.contains("has verified fido2 only"), "{}", r.log);
}

#[test]
fn session_of_another_account_is_refused() {
    let (mut c, mut auth) = funded_with_fido2();
    let sid = c.veid_fido2_session(1, &mut auth, T::LargeTransfer);
    c.set_score(2, 90);
    let to = c.users[3].address;
    let r = c.send(2, vec![send_msg(&c.users[2], &to, LARGE)], &[sid]);
    r.refused("mfa", 13);
    assert!(r.log.contains("belongs to another account"), "{}", r.log);
}

#[test]
fn session_for_another_action_is_refused() {
    let (mut c, mut auth) = funded_with_fido2();
    let sid = c.veid_fido2_session(1, &mut auth, T::ProviderRegistration);
    let to = c.users[2].address;
    let r = c.send(1, vec![send_msg(&c.users[1], &to, LARGE)], &[sid]);
    r.refused("mfa", 13);
    assert!(r.log.contains("does not cover"), "{}", r.log);
}

#[test]
fn expired_session_is_refused_and_cleaned_up_by_end_block() {
    let (mut c, mut auth) = funded_with_fido2();
    let sid = c.veid_fido2_session(1, &mut auth, T::LargeTransfer);
    c.node.advance_time(901);
    let to = c.users[2].address;
    let r = c.send(
        1,
        vec![send_msg(&c.users[1], &to, LARGE)],
        std::slice::from_ref(&sid),
    );
    r.refused("mfa", 13);
    // The end-block queue removed it with that block.
    assert!(!c.session(&sid).found, "expired session still stored");
}

#[test]
fn consumed_single_use_session_is_refused_and_a_batched_tx_is_gated_per_message() {
    let mut c = chain_with(4, |g| {
        let mut cfgs: Vec<ve_mfa::GenesisConfig> = ve_mfa::types::default_configs()
            .iter()
            .map(ve_mfa::GenesisConfig::from_proto)
            .collect();
        for cfg in &mut cfgs {
            if cfg.transaction_type == "SENSITIVE_TX_TYPE_LARGE_TRANSFER" {
                cfg.single_use = true;
            }
        }
        g.mfa.sensitive_tx_configs = Some(cfgs);
    });
    c.set_score(1, 80);
    let mut auth = authenticator(b"alice");
    c.enroll_fido2(1, &mut auth, Format::PackedSelf).ok();
    let to = c.users[2].address;
    let sid = c.veid_fido2_session(1, &mut auth, T::LargeTransfer);

    // Two large sends in one tx with one single-use session: the second message is
    // refused, so the whole tx fails and the session is not consumed.
    let two = vec![
        send_msg(&c.users[1], &to, LARGE),
        send_msg(&c.users[1], &to, LARGE),
    ];
    let r = c.send(1, two, std::slice::from_ref(&sid));
    r.refused("mfa", 13);
    assert!(r.log.contains("already used"), "{}", r.log);
    assert_eq!(c.balance(&to), START);
    assert!(c.session(&sid).is_valid);

    // A small send plus a large send without proof: the large one is refused.
    let mixed = vec![
        send_msg(&c.users[1], &to, 1),
        send_msg(&c.users[1], &to, LARGE),
    ];
    c.send(1, mixed, &[]).refused("mfa", 13);
    assert_eq!(c.balance(&to), START);

    // Two sessions cover two large sends in one tx.
    let sid2 = c.veid_fido2_session(1, &mut auth, T::LargeTransfer);
    let two = vec![
        send_msg(&c.users[1], &to, LARGE),
        send_msg(&c.users[1], &to, LARGE),
    ];
    c.send(1, two, &[sid.clone(), sid2.clone()]).ok();
    assert_eq!(c.balance(&to), START + 2 * LARGE);
    // Both consumed now.
    let r = c.send(1, vec![send_msg(&c.users[1], &to, LARGE)], &[sid, sid2]);
    r.refused("mfa", 13);
    assert!(r.log.contains("already used"), "{}", r.log);
}

#[test]
fn multi_send_above_the_threshold_is_gated() {
    use ve_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, Output};
    use ve_proto::cosmos::base::v1beta1::Coin as PCoin;
    let (mut c, mut auth) = funded_with_fido2();
    let coin = |a: u128| {
        vec![PCoin {
            denom: "uve".into(),
            amount: a.to_string(),
        }]
    };
    let msg = MsgMultiSend {
        inputs: vec![Input {
            address: c.users[1].s(),
            coins: coin(LARGE),
        }],
        outputs: vec![
            Output {
                address: c.users[2].s(),
                coins: coin(LARGE / 2),
            },
            Output {
                address: c.users[3].s(),
                coins: coin(LARGE / 2),
            },
        ],
    };
    c.send(1, vec![any(&msg)], &[]).refused("mfa", 13);
    let sid = c.veid_fido2_session(1, &mut auth, T::LargeTransfer);
    c.send(1, vec![any(&msg)], &[sid]).ok();
    assert_eq!(c.balance(&c.users[3].address), START + LARGE / 2);
}

#[test]
fn failed_attempts_persist_and_lock_the_challenge() {
    let (mut c, mut auth) = funded_with_fido2();
    let ch = c.create_challenge(1, F::Fido2, T::LargeTransfer, "");
    // Assertions over the wrong challenge bytes: three failed attempts, each committed.
    for attempt in 1..=3u32 {
        let a = auth.assert(&[0xAB; 32]).unwrap();
        let v = c.verify(mp::MsgVerifyChallenge {
            sender: c.users[1].s(),
            challenge_id: ch.challenge_id.clone(),
            fido2: Some(mp::Fido2Assertion {
                credential_id: a.credential_id,
                client_data_json: a.client_data_json,
                authenticator_data: a.authenticator_data,
                signature: a.signature,
            }),
            ..Default::default()
        });
        let stored = c.challenge(&ch.challenge_id);
        assert_eq!(
            stored.attempt_count, attempt,
            "attempt {attempt} not recorded"
        );
        if attempt < 3 {
            assert_eq!(v.outcome, O::Failed as i32);
            assert_eq!(v.attempts_left, 3 - attempt);
        } else {
            assert_eq!(v.outcome, O::Locked as i32);
            assert_eq!(stored.status, mp::ChallengeStatus::Failed as i32);
        }
    }
    // A correct assertion no longer helps: the challenge is locked.
    let v = c.verify_fido2(1, &mut auth, &ch);
    assert_eq!(v.outcome, O::Locked as i32);
    assert!(v.session_id.is_empty());
}

#[test]
fn fido2_registration_checks_origin_and_replayed_assertions_fail() {
    let mut c = chain(3);
    let mut evil =
        ve_mfa::testing::SoftAuthenticator::es256(b"x", RP_ID, "https://evil.example").unwrap();
    let r = c.enroll_fido2(1, &mut evil, Format::None);
    r.refused("mfa", 10);
    assert!(r.log.contains("origin"), "{}", r.log);

    let mut ed = ve_mfa::testing::SoftAuthenticator::ed25519(b"ed", RP_ID, ORIGIN);
    c.enroll_fido2(1, &mut ed, Format::PackedSelf).ok();
    let ch = c.create_challenge(1, F::Fido2, T::Withdrawal, "");
    let a = ed.assert(&ch.challenge_data).unwrap();
    let sender = c.users[1].s();
    let answer = |ch_id: &str| mp::MsgVerifyChallenge {
        sender: sender.clone(),
        challenge_id: ch_id.into(),
        fido2: Some(mp::Fido2Assertion {
            credential_id: a.credential_id.clone(),
            client_data_json: a.client_data_json.clone(),
            authenticator_data: a.authenticator_data.clone(),
            signature: a.signature.clone(),
        }),
        ..Default::default()
    };
    let first = answer(&ch.challenge_id);
    let v = c.verify(first);
    assert_eq!(v.outcome, O::Verified as i32, "{}", v.reason);
    // The same signed assertion on a fresh challenge: wrong challenge and stale counter.
    let ch2 = c.create_challenge(1, F::Fido2, T::Withdrawal, "");
    let v = c.verify(answer(&ch2.challenge_id));
    assert_eq!(v.outcome, O::Failed as i32);
}

#[test]
fn backup_codes_are_single_use() {
    let mut c = chain(3);
    let codes = ["alpha-7F3K-92QX-LM4P", "bravo-Q8ZT-11WE-RT6Y"];
    let enroll = mp::MsgEnrollFactor {
        sender: c.users[1].s(),
        factor_type: F::BackupCode as i32,
        backup_code_hashes: codes
            .iter()
            .map(|c| ve_crypto::sha256(c.as_bytes()).to_vec())
            .collect(),
        ..Default::default()
    };
    c.send(1, vec![any(&enroll)], &[]).ok();
    let use_code = |c: &mut Chain, code: &str| {
        let ch = c.create_challenge(1, F::BackupCode, T::TrustedDeviceChange, "");
        c.verify(mp::MsgVerifyChallenge {
            sender: c.users[1].s(),
            challenge_id: ch.challenge_id,
            backup_code: code.into(),
            ..Default::default()
        })
    };
    assert_eq!(use_code(&mut c, codes[0]).outcome, O::Verified as i32);
    let again = use_code(&mut c, codes[0]);
    assert_eq!(again.outcome, O::Failed as i32);
    assert!(again.reason.contains("already used"), "{}", again.reason);
    assert_eq!(use_code(&mut c, "not-a-code").outcome, O::Failed as i32);
    assert_eq!(use_code(&mut c, codes[1]).outcome, O::Verified as i32);
}

/// The simulated platform key and build measurement of the enclave in the TOTP test.
const PLATFORM_SEED: [u8; 32] = [0x51; 32];
const BUILD: [u8; 32] = [0xA1; 32];

/// A chain where users[0] (a validator operator) runs an active, attested enclave with
/// X25519 secret `[1; 32]` and Ed25519 key `enclave_signing`.
fn chain_with_enclave(
    enclave_signing: &ed25519_dalek::SigningKey,
) -> (Chain, ve_crypto::envelope::RecipientSecretKey) {
    let platform = ed25519_dalek::SigningKey::from_bytes(&PLATFORM_SEED);
    let mut c = chain_with(3, |g| {
        let p = &mut g.enclave.params;
        p.validator_operators = vec![User::new(1, FIRST_USER_NUMBER).address];
        p.allow_simulated = true;
        p.simulated_platform_key = hex::encode(platform.verifying_key().to_bytes());
        g.enclave.measurements = vec![ve_enclave_registry::GenesisMeasurement {
            platform: "simulated".into(),
            measurement: hex::encode(BUILD),
            description: "scoring enclave (simulated)".into(),
        }];
    });
    let x25519 = ve_crypto::envelope::RecipientSecretKey::from_bytes([1; 32]);
    let x_pub = *x25519.public_key().as_bytes();
    let ed = enclave_signing.verifying_key().to_bytes();
    let register = ve_enclave_registry::proto::MsgRegisterEnclaveIdentity {
        validator: c.users[0].s(),
        platform: ve_enclave_registry::proto::Platform::Simulated as i32,
        x25519_public_key: x_pub.to_vec(),
        ed25519_public_key: ed.to_vec(),
        attestation_report: ve_attestation::simulated::sign(
            &platform,
            &BUILD,
            &ve_attestation::key_binding(&x_pub, &ed),
        ),
        attestation_chain: vec![],
    };
    let msg = ve_proto::to_any(
        "/virtengine.enclave.v1.MsgRegisterEnclaveIdentity",
        &register,
    );
    c.send(0, vec![msg], &[]).ok();
    (c, x25519)
}

#[test]
fn totp_is_verified_only_by_an_active_enclave_attestation_and_each_step_once() {
    use ed25519_dalek::{Signer, SigningKey};
    let enclave = SigningKey::from_bytes(&[42; 32]);
    let (mut c, enclave_x25519) = chain_with_enclave(&enclave);
    // A secret not sealed to the enclave is refused (mfa 23, naming the missing key).
    let stranger = ve_crypto::envelope::RecipientSecretKey::from_bytes([44; 32]).public_key();
    let wrong = ve_crypto::envelope::seal(b"otpauth-seed", &[stranger], None).unwrap();
    let enroll = |sealed: Vec<u8>, c: &Chain| mp::MsgEnrollFactor {
        sender: c.users[1].s(),
        factor_type: F::Totp as i32,
        sealed_secret: sealed,
        ..Default::default()
    };
    let m = enroll(wrong, &c);
    let r = c.send(1, vec![any(&m)], &[]);
    r.refused("mfa", 23);
    assert!(
        r.log.contains(&enclave_x25519.public_key().fingerprint()),
        "{}",
        r.log
    );
    let sealed =
        ve_crypto::envelope::seal(b"otpauth-seed", &[enclave_x25519.public_key()], None).unwrap();
    let m = enroll(sealed, &c);
    let r = c.send(1, vec![any(&m)], &[]);
    r.ok();
    let factor_id = r.response::<mp::MsgEnrollFactorResponse>(0).factor_id;

    let alice = c.users[1].address;
    let operator = c.users[0].s();
    let attest = |c: &Chain, ch: &str, key: &SigningKey, by: &str, verified: bool, step: u64| {
        let stored = c.challenge(ch);
        let payload = ve_mfa::attestation::payload(&ve_mfa::attestation::AttestationInput {
            chain_id: ve_app::testing::TEST_CHAIN_ID,
            challenge_id: ch,
            account: &alice,
            factor_type: F::Totp as u32,
            factor_id: &factor_id,
            challenge_data: &stored.challenge_data,
            verified,
            otp_step: step,
        });
        mp::FactorAttestation {
            verifier_key_id: by.into(),
            verified,
            signature: key.sign(&payload).to_bytes().to_vec(),
            otp_step: step,
        }
    };
    let verify = |c: &mut Chain, ch: &str, att: mp::FactorAttestation| {
        c.verify(mp::MsgVerifyChallenge {
            sender: c.users[1].s(),
            challenge_id: ch.into(),
            attestation: Some(att),
            ..Default::default()
        })
    };
    let ch = c
        .create_challenge(1, F::Totp, T::Withdrawal, "")
        .challenge_id;
    // Signed by a key that is not the operator's enclave: failed attempt.
    let forged = attest(
        &c,
        &ch,
        &SigningKey::from_bytes(&[7; 32]),
        &operator,
        true,
        100,
    );
    let v = verify(&mut c, &ch, forged);
    assert_eq!(v.outcome, O::Failed as i32);
    assert!(
        v.reason.contains("not signed by the active enclave"),
        "{}",
        v.reason
    );
    // The enclave's signature, but naming an account that runs no enclave: failed.
    let elsewhere = attest(&c, &ch, &enclave, &c.users[2].s(), true, 100);
    assert_eq!(verify(&mut c, &ch, elsewhere).outcome, O::Failed as i32);
    // The enclave attests a wrong code: the third failed attempt locks the challenge.
    let wrong_code = attest(&c, &ch, &enclave, &operator, false, 0);
    assert_eq!(verify(&mut c, &ch, wrong_code).outcome, O::Locked as i32);
    assert_eq!(c.challenge(&ch).attempt_count, 3);
    // The enclave attests the right code: verified, a session for Withdrawal.
    let ch = c
        .create_challenge(1, F::Totp, T::Withdrawal, "")
        .challenge_id;
    let ok = attest(&c, &ch, &enclave, &operator, true, 100);
    let v = verify(&mut c, &ch, ok);
    assert_eq!(v.outcome, O::Verified as i32, "{}", v.reason);
    assert!(v.satisfied, "TOTP meets FIDO2 | TOTP");
    // The same code (time step) again — as another enclave would attest it — is refused.
    let ch = c
        .create_challenge(1, F::Totp, T::Withdrawal, "")
        .challenge_id;
    let replay = attest(&c, &ch, &enclave, &operator, true, 100);
    let v = verify(&mut c, &ch, replay);
    assert_eq!(v.outcome, O::Failed as i32);
    assert!(v.reason.contains("already used"), "{}", v.reason);
    // The next step's code is accepted.
    let next = attest(&c, &ch, &enclave, &operator, true, 101);
    assert_eq!(verify(&mut c, &ch, next).outcome, O::Verified as i32);
}

#[test]
fn expired_challenges_are_refused_and_removed_by_end_block() {
    let (mut c, mut auth) = funded_with_fido2();
    let ch = c.create_challenge(1, F::Fido2, T::LargeTransfer, "");
    let pending: mp::QueryPendingChallengesResponse = c.query(
        "/virtengine.mfa.v1.Query/PendingChallenges",
        &mp::QueryPendingChallengesRequest {
            address: c.users[1].s(),
        },
    );
    assert_eq!(pending.challenges.len(), 1);
    c.node.advance_time(300);
    let v = c.verify_fido2(1, &mut auth, &ch);
    assert_eq!(v.outcome, O::Expired as i32);
    let r = c.node.app().query(
        "/virtengine.mfa.v1.Query/Challenge",
        &prost::Message::encode_to_vec(&mp::QueryChallengeRequest {
            challenge_id: ch.challenge_id,
        }),
        0,
        false,
    );
    assert_ne!(r.code, 0, "expired challenge still stored");
}

#[test]
fn mfa_required_query_reports_combinations_and_thresholds_in_uve() {
    let mut c = chain(2);
    c.block(&[]);
    let q = |value: &str| -> mp::QueryMfaRequiredResponse {
        c.query(
            "/virtengine.mfa.v1.Query/MfaRequired",
            &mp::QueryMfaRequiredRequest {
                address: c.users[1].s(),
                transaction_type: T::LargeTransfer as i32,
                value_uve: value.into(),
            },
        )
    };
    assert!(!q("9999999999").required);
    let r = q("10000000000");
    assert!(r.required);
    assert_eq!(r.min_veid_score, 70);
    assert_eq!(r.value_threshold_uve, "10000000000");
    assert_eq!(
        r.factor_combinations[0].factors,
        vec![F::Veid as i32, F::Fido2 as i32]
    );
}

#[test]
fn encryption_key_rotation_is_gated_for_accounts_with_an_mfa_policy() {
    use ve_proto::virtengine::encryption::v1::{MsgRegisterRecipientKey, MsgRotateRecipientKey};
    let (mut c, mut auth) = funded_with_fido2();
    let key =
        |seed: u8| ve_crypto::envelope::RecipientSecretKey::from_bytes([seed; 32]).public_key();
    let reg = MsgRegisterRecipientKey {
        sender: c.users[1].s(),
        public_key: key(1).as_bytes().to_vec(),
        algorithm_id: "X25519-XSALSA20-POLY1305".into(),
        label: "k1".into(),
    };
    c.send(1, vec![any(&reg)], &[]).ok();
    let rotate = |old: &ve_crypto::envelope::RecipientPublicKey, new_seed: u8, c: &Chain| {
        MsgRotateRecipientKey {
            sender: c.users[1].s(),
            old_fingerprint: old.fingerprint(),
            new_public_key: key(new_seed).as_bytes().to_vec(),
            new_algorithm_id: String::new(),
            new_label: "k".into(),
        }
    };
    // No policy: opt-in action, not gated.
    let m = rotate(&key(1), 2, &c);
    c.send(1, vec![any(&m)], &[]).ok();
    // Enable a policy: now rotation needs a FIDO2 (or TOTP) session.
    let policy = mp::MsgSetMfaPolicy {
        sender: c.users[1].s(),
        policy: Some(mp::MfaPolicy {
            account: c.users[1].s(),
            enabled: true,
            ..Default::default()
        }),
    };
    c.send(1, vec![any(&policy)], &[]).ok();
    let m = rotate(&key(2), 3, &c);
    c.send(1, vec![any(&m)], &[]).refused("mfa", 13);
    let ch = c.create_challenge(1, F::Fido2, T::EncryptionKeyRotation, "");
    let v = c.verify_fido2(1, &mut auth, &ch);
    assert!(v.satisfied);
    let m = rotate(&key(2), 3, &c);
    c.send(1, vec![any(&m)], std::slice::from_ref(&v.session_id))
        .ok();
    // Single use: consumed.
    let m = rotate(&key(3), 4, &c);
    c.send(1, vec![any(&m)], &[v.session_id]).refused("mfa", 13);
}

#[test]
fn an_unknown_extension_option_is_still_refused_but_the_mfa_proof_is_accepted() {
    let mut c = chain(2);
    let to = c.users[0].address;
    // A small send with a (useless) proof is fine: the option is allow-listed.
    c.send(1, vec![send_msg(&c.users[1], &to, 5)], &["00".repeat(16)])
        .ok();
}

#[test]
fn trusted_device_needs_a_session_to_add_and_its_token_verifies_as_a_factor() {
    let mut c = chain(3);
    // A backup-code session covers TRUSTED_DEVICE_CHANGE (FIDO2 | TOTP | BACKUP_CODE).
    let code = "charlie-9K2M-PL0Q-77ZX";
    let enroll = mp::MsgEnrollFactor {
        sender: c.users[1].s(),
        factor_type: F::BackupCode as i32,
        backup_code_hashes: vec![ve_crypto::sha256(code.as_bytes()).to_vec()],
        ..Default::default()
    };
    c.send(1, vec![any(&enroll)], &[]).ok();
    let token = [5u8; 32];
    let add = mp::MsgAddTrustedDevice {
        sender: c.users[1].s(),
        device_fingerprint: "laptop-1".into(),
        label: "laptop".into(),
        trust_token_hash: ve_crypto::sha256(&token).to_vec(),
    };
    c.send(1, vec![any(&add)], &[]).refused("mfa", 13);
    let ch = c.create_challenge(1, F::BackupCode, T::TrustedDeviceChange, "");
    let v = c.verify(mp::MsgVerifyChallenge {
        sender: c.users[1].s(),
        challenge_id: ch.challenge_id,
        backup_code: code.into(),
        ..Default::default()
    });
    assert!(v.satisfied);
    c.send(1, vec![any(&add)], &[v.session_id]).ok();

    // The device's token answers a TRUSTED_DEVICE challenge; a wrong token does not.
    let challenge = |c: &mut Chain| {
        let msg = mp::MsgCreateChallenge {
            sender: c.users[1].s(),
            factor_type: F::TrustedDevice as i32,
            transaction_type: T::Withdrawal as i32,
            client_info: Some(mp::ClientInfo {
                device_fingerprint: "laptop-1".into(),
                user_agent: String::new(),
            }),
            ..Default::default()
        };
        let r = c.send(1, vec![any(&msg)], &[]);
        r.ok();
        r.response::<mp::MsgCreateChallengeResponse>(0).challenge_id
    };
    let answer = |c: &mut Chain, id: String, t: &[u8]| {
        c.verify(mp::MsgVerifyChallenge {
            sender: c.users[1].s(),
            challenge_id: id,
            trust_token: t.to_vec(),
            ..Default::default()
        })
    };
    let id = challenge(&mut c);
    assert_eq!(
        answer(&mut c, id.clone(), &[6u8; 32]).outcome,
        O::Failed as i32
    );
    let v = answer(&mut c, id, &token);
    assert_eq!(v.outcome, O::Verified as i32, "{}", v.reason);
    assert_eq!(v.verified_factors, vec![F::TrustedDevice as i32]);
}

#[test]
fn changing_an_enabled_policy_or_revoking_a_factor_needs_an_mfa_change_session() {
    let (mut c, mut auth) = funded_with_fido2();
    let factors: mp::QueryFactorEnrollmentsResponse = c.query(
        "/virtengine.mfa.v1.Query/FactorEnrollments",
        &mp::QueryFactorEnrollmentsRequest {
            address: c.users[1].s(),
        },
    );
    let fido2_id = factors.enrollments[0].factor_id.clone();
    let policy = |c: &Chain, enabled: bool| mp::MsgSetMfaPolicy {
        sender: c.users[1].s(),
        policy: Some(mp::MfaPolicy {
            account: c.users[1].s(),
            required_factors: vec![mp::FactorCombination {
                factors: vec![F::Fido2 as i32],
            }],
            enabled,
            ..Default::default()
        }),
    };
    // Enabling a first policy needs no session.
    let m = policy(&c, true);
    c.send(1, vec![any(&m)], &[]).ok();
    // Disabling it, or revoking the factor, now needs a session meeting the policy (FIDO2).
    let m = policy(&c, false);
    c.send(1, vec![any(&m)], &[]).refused("mfa", 13);
    let revoke = mp::MsgRevokeFactor {
        sender: c.users[1].s(),
        factor_id: fido2_id,
    };
    c.send(1, vec![any(&revoke)], &[]).refused("mfa", 13);
    let ch = c.create_challenge(1, F::Fido2, T::MfaChange, "");
    let v = c.verify_fido2(1, &mut auth, &ch);
    assert!(
        v.satisfied,
        "the policy's FIDO2 replaces the config's veid+fido2+totp"
    );
    c.send(1, vec![any(&revoke)], &[v.session_id]).ok();
    let left: mp::QueryFactorEnrollmentsResponse = c.query(
        "/virtengine.mfa.v1.Query/FactorEnrollments",
        &mp::QueryFactorEnrollmentsRequest {
            address: c.users[1].s(),
        },
    );
    assert!(left.enrollments.is_empty());
}
