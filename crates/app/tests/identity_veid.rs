//! identity (VEID) through mock consensus: salt-bound, doubly signed scope uploads; the
//! verification status machine; requests queued by height; scores that only the keeper
//! writes (driven here through the harness's system step, as the scoring consensus will);
//! tiers derived from (score, status, expiry by block time); the gating API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod identity_shared;
use identity_shared::*;

// ---------------------------------------------------------------- uploads

#[test]
fn upload_with_valid_signatures_stores_a_pending_scope_and_creates_the_identity_record() {
    let (mut node, mut users) = chain();
    let msg = upload_msg(&users[1], "doc-1", ID_DOC, 1);
    let out = node
        .execute_block(&[tx(&mut users[1], UPLOAD, &msg)])
        .unwrap();
    assert_eq!(
        out.results().next().unwrap().0,
        0,
        "{:?}",
        out.results().next()
    );
    let (events, _) = out.tx_events_and_data().next().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"virtengine.identity.v1.EventIdentityCreated"),
        "{kinds:?}"
    );
    let up = events
        .iter()
        .find(|e| e.kind == "virtengine.identity.v1.EventScopeUploaded")
        .unwrap();
    assert!(up
        .attributes
        .contains(&("scope_type".into(), "id_document".into())));
    assert!(up.attributes.contains(&("client_id".into(), CLIENT.into())));

    let s = scope(&node, &users[1], "doc-1");
    assert_eq!(s.status, VerificationStatus::Pending as i32);
    assert_eq!((s.version, s.uploaded_at), (1, node.time()));
    let m = s.metadata.unwrap();
    assert_eq!(m.salt_hash, ve_crypto::sha256(&[1; 32]).to_vec());
    assert_eq!(m.client_key_version, 1);
    let rec: QueryIdentityRecordResponse = query(
        &node,
        "/virtengine.identity.v1.Query/IdentityRecord",
        &QueryIdentityRecordRequest {
            account: users[1].address.to_string(),
        },
    );
    let rec = rec.record.unwrap();
    assert_eq!((rec.live_scope_count, rec.total_uploads), (1, 1));
    // No score yet: tier 0.
    let sc = score(&node, &users[1]);
    assert!(!sc.found);
    assert_eq!(sc.tier, IdentityTier::Unverified as i32);
}

#[test]
fn replayed_salt_is_refused_even_for_another_account_and_scope() {
    let (mut node, mut users) = chain();
    {
        let m = upload_msg(&users[1], "doc-1", ID_DOC, 1);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    let again = upload_msg(&users[1], "doc-2", ID_DOC, 1);
    let log = refused(&mut node, &mut users[1], UPLOAD, &again, "identity", 7);
    assert!(log.contains("salt was already used"), "{log}");
    let bobs = upload_msg(&users[2], "doc-1", ID_DOC, 1);
    refused(&mut node, &mut users[2], UPLOAD, &bobs, "identity", 7);
    // A fresh salt goes through.
    {
        let m = upload_msg(&users[2], "doc-1", ID_DOC, 2);
        ok(&mut node, &mut users[2], UPLOAD, &m);
    }
}

#[test]
fn client_signature_by_an_unapproved_key_or_unknown_or_suspended_client_is_refused() {
    let (mut node, mut users) = chain();
    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 1);
    let rogue = ed25519_dalek::SigningKey::from_bytes(&[66; 32]);
    sign_upload(&mut msg, &rogue, &users[1]);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "config", 15);

    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 2);
    msg.client_id = "other-app".into();
    sign_upload(&mut msg, &client_key(), &users[1]);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "config", 5);

    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 3);
    msg.client_signature = vec![];
    sign_user_only(&mut msg, &users[1]);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 8);

    let suspend = ve_config::proto::MsgSuspendApprovedClient {
        authority: users[0].address.to_string(),
        client_id: CLIENT.into(),
        reason: "key leak".into(),
    };
    ok(
        &mut node,
        &mut users[0],
        "/virtengine.config.v1.MsgSuspendApprovedClient",
        &suspend,
    );
    let msg = upload_msg(&users[1], "doc-1", ID_DOC, 4);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "config", 12);
}

fn sign_user_only(msg: &mut MsgUploadScope, user: &User) {
    let d = digest_of(msg);
    msg.user_signature = user
        .key
        .sign(&user_digest(&d, &msg.client_signature))
        .to_vec();
}

#[test]
fn client_signature_by_a_rotated_out_key_is_refused_once_the_overlap_ends() {
    let (mut node, mut users) = chain();
    let new_key = ed25519_dalek::SigningKey::from_bytes(&[10; 32]);
    let rot = ve_config::proto::MsgRotateClientKey {
        authority: users[0].address.to_string(),
        client_id: CLIENT.into(),
        new_public_key: new_key.verifying_key().to_bytes().to_vec(),
        new_key_type: ve_config::proto::KeyType::Ed25519 as i32,
        overlap_blocks: 2,
    };
    ok(
        &mut node,
        &mut users[0],
        "/virtengine.config.v1.MsgRotateClientKey",
        &rot,
    );
    // Next block is inside the overlap: the old key still signs.
    {
        let m = upload_msg(&users[1], "doc-1", ID_DOC, 1);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    assert_eq!(
        scope(&node, &users[1], "doc-1")
            .metadata
            .unwrap()
            .client_key_version,
        1
    );
    // Now past it.
    let old = upload_msg(&users[1], "doc-2", ID_DOC, 2);
    refused(&mut node, &mut users[1], UPLOAD, &old, "config", 15);
    let mut fresh = upload_msg(&users[1], "doc-2", ID_DOC, 2);
    sign_upload(&mut fresh, &new_key, &users[1]);
    ok(&mut node, &mut users[1], UPLOAD, &fresh);
    assert_eq!(
        scope(&node, &users[1], "doc-2")
            .metadata
            .unwrap()
            .client_key_version,
        2
    );
}

#[test]
fn user_signature_by_another_key_or_over_other_bytes_is_refused() {
    let (mut node, mut users) = chain();
    // Bob's key signs Alice's upload.
    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 1);
    let bob = User::new(3, 0);
    sign_user_only(&mut msg, &bob);
    let log = refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 9);
    assert!(log.contains("account key"), "{log}");
    // A 64-byte signature of the right length but over nothing.
    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 2);
    msg.user_signature = users[1].key.sign(b"something else").to_vec();
    refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 9);
    // Missing.
    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 3);
    msg.user_signature = vec![];
    refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 9);
    // Bob submitting Alice's signed upload as his own: the digest binds the sender.
    let mut stolen = upload_msg(&users[1], "doc-1", ID_DOC, 4);
    stolen.sender = users[2].address.to_string();
    refused(&mut node, &mut users[2], UPLOAD, &stolen, "config", 15);
}

#[test]
fn changing_any_signed_field_after_signing_is_refused() {
    let (mut node, mut users) = chain();
    type Edit = Box<dyn Fn(&mut MsgUploadScope)>;
    let edits: Vec<Edit> = vec![
        Box::new(|m| m.device_fingerprint = "device-2".into()),
        Box::new(|m| m.scope_type = SELFIE),
        Box::new(|m| m.capture_timestamp += 1),
        Box::new(|m| m.geo_hint = "DE".into()),
        Box::new(|m| m.client_version = "1.0.1".into()),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 10 + i as u8);
        edit(&mut msg);
        refused(&mut node, &mut users[1], UPLOAD, &msg, "config", 15);
    }
}

#[test]
fn envelope_must_be_valid_and_addressed_to_the_identity_recipient_set() {
    let (mut node, mut users) = chain();
    // Sealed only to a registered key outside the set.
    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 1);
    msg.encrypted_payload = seal(b"x", &[outsider().public_key()], None).unwrap();
    msg.payload_hash = ve_crypto::sha256(&msg.encrypted_payload).to_vec();
    sign_upload(&mut msg, &client_key(), &users[1]);
    let log = refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 12);
    assert!(
        log.contains(&recipient().public_key().fingerprint()),
        "{log}"
    );
    // Sealed to the set plus an extra registered key: accepted.
    let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 2);
    msg.encrypted_payload = seal(
        b"x",
        &[recipient().public_key(), outsider().public_key()],
        None,
    )
    .unwrap();
    msg.payload_hash = ve_crypto::sha256(&msg.encrypted_payload).to_vec();
    sign_upload(&mut msg, &client_key(), &users[1]);
    ok(&mut node, &mut users[1], UPLOAD, &msg);
    // An unregistered recipient fails the encryption module's check.
    let mut msg = upload_msg(&users[1], "doc-2", ID_DOC, 3);
    let stranger = RecipientSecretKey::from_bytes([13; 32]);
    msg.encrypted_payload = seal(
        b"x",
        &[recipient().public_key(), stranger.public_key()],
        None,
    )
    .unwrap();
    msg.payload_hash = ve_crypto::sha256(&msg.encrypted_payload).to_vec();
    sign_upload(&mut msg, &client_key(), &users[1]);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "encryption", 13);
    // Garbage that is not an envelope.
    let mut msg = upload_msg(&users[1], "doc-2", ID_DOC, 4);
    msg.encrypted_payload = vec![1, 2, 3];
    msg.payload_hash = ve_crypto::sha256(&msg.encrypted_payload).to_vec();
    sign_upload(&mut msg, &client_key(), &users[1]);
    let r = block(&mut node, &[tx(&mut users[1], UPLOAD, &msg)]);
    assert_eq!(r[0].1, "encryption", "{:?}", r[0]);
    assert!(r[0].0 > 100, "{:?}", r[0]);
}

#[test]
fn uploads_are_closed_without_a_recipient_set() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.recipient_fingerprints.clear());
    let msg = upload_msg(&users[1], "doc-1", ID_DOC, 1);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 11);
}

#[test]
fn bad_input_is_refused_with_clear_codes() {
    let (mut node, mut users) = chain();
    let a = &users[1];
    let base = upload_msg(a, "doc-1", ID_DOC, 1);
    let cases: Vec<(MsgUploadScope, u32)> = vec![
        (
            MsgUploadScope {
                scope_id: String::new(),
                ..base.clone()
            },
            2,
        ),
        (
            MsgUploadScope {
                scope_id: "a/b".into(),
                ..base.clone()
            },
            2,
        ),
        (
            MsgUploadScope {
                scope_id: "x".repeat(129),
                ..base.clone()
            },
            2,
        ),
        (
            MsgUploadScope {
                scope_type: 0,
                ..base.clone()
            },
            3,
        ),
        (
            MsgUploadScope {
                scope_type: 13,
                ..base.clone()
            },
            3,
        ),
        (
            MsgUploadScope {
                device_fingerprint: String::new(),
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                device_fingerprint: "d".repeat(257),
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                payload_hash: vec![0; 31],
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                salt: vec![],
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                client_signature: vec![0; 513],
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                geo_hint: "g".repeat(129),
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                capture_timestamp: -1,
                ..base.clone()
            },
            4,
        ),
        (
            MsgUploadScope {
                payload_hash: vec![0; 32],
                ..base.clone()
            },
            5,
        ),
    ];
    for (msg, code) in cases {
        refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", code);
    }
    // Salt within the hard limit but outside params (16..=64).
    for len in [15usize, 65] {
        let mut msg = upload_msg(&users[1], "doc-1", ID_DOC, 1);
        msg.salt = vec![5; len];
        sign_upload(&mut msg, &client_key(), &users[1]);
        refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 6);
    }
}

#[test]
fn scope_limits_per_type_and_per_account_hold_and_revocation_frees_a_slot() {
    let (mut node, mut users) = chain_with(|g| {
        g.identity.params.max_scopes_per_account = 3;
        g.identity.params.max_scopes_per_type = 2;
    });
    {
        let m = upload_msg(&users[1], "doc-1", ID_DOC, 1);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    {
        let m = upload_msg(&users[1], "doc-2", ID_DOC, 2);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    let third_doc = upload_msg(&users[1], "doc-3", ID_DOC, 3);
    refused(&mut node, &mut users[1], UPLOAD, &third_doc, "identity", 17);
    // Same id again.
    let dup = upload_msg(&users[1], "doc-1", SELFIE, 4);
    refused(&mut node, &mut users[1], UPLOAD, &dup, "identity", 15);
    {
        let m = upload_msg(&users[1], "selfie-1", SELFIE, 5);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    let fourth = upload_msg(&users[1], "selfie-2", SELFIE, 6);
    refused(&mut node, &mut users[1], UPLOAD, &fourth, "identity", 16);
    // Revoking frees a slot (of the account and of the type); the id stays taken.
    let rv = MsgRevokeScope {
        sender: users[1].address.to_string(),
        scope_id: "doc-1".into(),
        reason: "re-capture".into(),
    };
    ok(&mut node, &mut users[1], REVOKE, &rv);
    let s = scope(&node, &users[1], "doc-1");
    assert!(s.revoked && s.encrypted_payload.is_empty());
    {
        let m = upload_msg(&users[1], "doc-3", ID_DOC, 7);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    let reuse = upload_msg(&users[1], "doc-1", ID_DOC, 8);
    refused(&mut node, &mut users[1], UPLOAD, &reuse, "identity", 15);
    let by_type: QueryScopesByTypeResponse = query(
        &node,
        "/virtengine.identity.v1.Query/ScopesByType",
        &QueryScopesByTypeRequest {
            account: users[1].address.to_string(),
            scope_type: ID_DOC,
        },
    );
    let ids: Vec<String> = by_type.scopes.into_iter().map(|s| s.scope_id).collect();
    assert_eq!(ids, vec!["doc-2", "doc-3"]);
}

#[test]
fn default_limits_are_50_scopes_per_account_and_5_per_type() {
    let p = ve_identity::IdentityParams::default();
    assert_eq!((p.max_scopes_per_account, p.max_scopes_per_type), (50, 5));
    assert_eq!((p.salt_min_bytes, p.salt_max_bytes), (16, 64));
    assert_eq!(
        (p.max_uploads_per_account_per_block, p.max_uploads_per_block),
        (3, 50)
    );
}

#[test]
fn per_account_and_per_block_upload_limits_reset_every_block() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.max_uploads_per_block = 4);
    let a: Vec<Vec<u8>> = (0..4u8)
        .map(|i| {
            let m = upload_msg(&users[1], &format!("s-{i}"), SELFIE + i32::from(i), 20 + i);
            tx(&mut users[1], UPLOAD, &m)
        })
        .collect();
    let r = block(&mut node, &a);
    let codes: Vec<(u32, &str)> = r.iter().map(|x| (x.0, x.1.as_str())).collect();
    assert_eq!(codes, vec![(0, ""), (0, ""), (0, ""), (18, "identity")]);
    assert!(
        r[3].2.contains("max_uploads_per_account_per_block"),
        "{}",
        r[3].2
    );
    // Two accounts: the block-wide limit (4) stops the fifth.
    users[1].sequence = sequence(&node, &users[1].address);
    let mut txs = Vec::new();
    for i in 0..3u8 {
        let m = upload_msg(&users[1], &format!("t-{i}"), 5 + i32::from(i), 40 + i);
        txs.push(tx(&mut users[1], UPLOAD, &m));
    }
    for i in 0..2u8 {
        let m = upload_msg(&users[2], &format!("t-{i}"), 5 + i32::from(i), 50 + i);
        txs.push(tx(&mut users[2], UPLOAD, &m));
    }
    let r = block(&mut node, &txs);
    let codes: Vec<u32> = r.iter().map(|x| x.0).collect();
    assert_eq!(codes, vec![0, 0, 0, 0, 18]);
    assert!(r[4].2.contains("max_uploads_per_block"), "{}", r[4].2);
    // The counters were cleaned at end-block: nothing under identity/rate/ remains.
    let snap = node.app().storage().latest_snapshot();
    let left =
        ve_storage::StateRead::prefix(&snap, ve_identity::state_key::RATE_PREFIX, 10).unwrap();
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------- requests, scores, tiers

#[test]
fn request_verification_queues_one_request_covering_the_pending_scopes() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    let reqs = pending_requests(&node, "");
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.request_id, rid);
    assert_eq!(r.scope_ids, vec!["doc-1", "selfie-1"]);
    assert_eq!(r.requested_block, node.height());
    assert_eq!(r.status, RequestStatus::Pending as i32);
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::InProgress
    );
    assert_eq!(scope(&node, &users[1], "selfie-1").request_id, rid);
    // Nothing left pending: a second request has nothing to cover.
    let again = MsgRequestVerification {
        sender: users[1].address.to_string(),
        scope_ids: vec![],
    };
    refused(&mut node, &mut users[1], REQUEST, &again, "identity", 22);
    // Naming an IN_PROGRESS scope fails the status machine.
    let named = MsgRequestVerification {
        sender: users[1].address.to_string(),
        scope_ids: vec!["doc-1".into()],
    };
    refused(&mut node, &mut users[1], REQUEST, &named, "identity", 21);
    let missing = MsgRequestVerification {
        sender: users[1].address.to_string(),
        scope_ids: vec!["nope".into()],
    };
    refused(&mut node, &mut users[1], REQUEST, &missing, "identity", 19);
    let dup = MsgRequestVerification {
        sender: users[1].address.to_string(),
        scope_ids: vec!["a".into(), "a".into()],
    };
    refused(&mut node, &mut users[1], REQUEST, &dup, "identity", 23);
    // Per-account pending view and the request by id.
    assert_eq!(
        pending_requests(&node, &users[1].address.to_string()).len(),
        1
    );
    assert!(pending_requests(&node, &users[2].address.to_string()).is_empty());
    let by_id: QueryVerificationRequestResponse = query(
        &node,
        "/virtengine.identity.v1.Query/VerificationRequest",
        &QueryVerificationRequestRequest { request_id: rid },
    );
    assert_eq!(by_id.request.unwrap().account, users[1].address.to_string());
}

#[test]
fn consensus_result_of_90_verifies_the_scopes_and_gives_tier_3() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    complete(&mut node, &rid, 90);
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Verified
    );
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::Verified
    );
    let sc = score(&node, &users[1]);
    let rec = sc.score.unwrap();
    assert_eq!(
        (rec.score, rec.status),
        (90, AccountStatus::Verified as i32)
    );
    assert_eq!(rec.model_version, "test-model-1");
    assert_eq!(rec.expires_at, node.time() + 365 * 86_400);
    assert_eq!(sc.tier, IdentityTier::Premium as i32);
    // The request left the queue.
    assert!(pending_requests(&node, "").is_empty());
    let by_id: QueryVerificationRequestResponse = query(
        &node,
        "/virtengine.identity.v1.Query/VerificationRequest",
        &QueryVerificationRequestRequest {
            request_id: rid.clone(),
        },
    );
    assert_eq!(
        by_id.request.unwrap().status,
        RequestStatus::Completed as i32
    );
    // A finished request cannot be completed again.
    let outcome = VerificationOutcome {
        score: 10,
        ..Default::default()
    };
    let err = RefCell::new(None);
    system(&mut node, |ctx| {
        *err.borrow_mut() = keeper::complete_request(ctx, &rid, &outcome)
            .err()
            .map(|e| e.code);
        Ok(())
    });
    assert_eq!(*err.borrow(), Some(25));
}

#[test]
fn scores_map_to_tiers_at_50_70_85_and_the_borderline_band_needs_another_factor() {
    for (score_in, want_status, want_scope, want_tier) in [
        (
            85,
            AccountStatus::Verified,
            VerificationStatus::Verified,
            IdentityTier::Premium,
        ),
        (
            84,
            AccountStatus::Verified,
            VerificationStatus::Verified,
            IdentityTier::Standard,
        ),
        (
            70,
            AccountStatus::Verified,
            VerificationStatus::Verified,
            IdentityTier::Standard,
        ),
        (
            69,
            AccountStatus::Verified,
            VerificationStatus::Verified,
            IdentityTier::Basic,
        ),
        (
            50,
            AccountStatus::Verified,
            VerificationStatus::Verified,
            IdentityTier::Basic,
        ),
        (
            49,
            AccountStatus::NeedsAdditionalFactor,
            VerificationStatus::NeedsAdditionalFactor,
            IdentityTier::Unverified,
        ),
        (
            45,
            AccountStatus::NeedsAdditionalFactor,
            VerificationStatus::NeedsAdditionalFactor,
            IdentityTier::Unverified,
        ),
        (
            44,
            AccountStatus::Rejected,
            VerificationStatus::Rejected,
            IdentityTier::Unverified,
        ),
        (
            0,
            AccountStatus::Rejected,
            VerificationStatus::Rejected,
            IdentityTier::Unverified,
        ),
    ] {
        let (mut node, mut users) = chain();
        let rid = onboard(&mut node, &mut users);
        complete(&mut node, &rid, score_in);
        let sc = score(&node, &users[1]);
        assert_eq!(sc.effective_status, want_status as i32, "score {score_in}");
        assert_eq!(sc.tier, want_tier as i32, "score {score_in}");
        assert_eq!(
            status(&node, &users[1], "doc-1"),
            want_scope,
            "score {score_in}"
        );
    }
}

#[test]
fn scopes_the_scorer_could_not_use_are_rejected() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    let outcome = VerificationOutcome {
        score: 75,
        model_version: "m".into(),
        input_hash: vec![1; 32],
        failed_scopes: vec!["selfie-1".into()],
        reason_codes: vec!["SUCCESS".into()],
    };
    system(&mut node, |ctx| {
        keeper::complete_request(ctx, &rid, &outcome).map(|_| ())
    });
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Verified
    );
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::Rejected
    );
}

#[test]
fn failed_request_returns_its_scopes_to_pending_for_a_new_request() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    system(&mut node, |ctx| keeper::fail_request(ctx, &rid, "TIMEOUT"));
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Pending
    );
    assert!(pending_requests(&node, "").is_empty());
    assert!(!score(&node, &users[1]).found);
    let rid2 = request_all(&mut node, &mut users[1]);
    assert_ne!(rid, rid2);
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::InProgress
    );
}

#[test]
fn score_and_verified_scopes_expire_by_block_time() {
    let (mut node, mut users) = chain_with(|g| g.identity.params.verification_expiry_days = 1);
    let rid = onboard(&mut node, &mut users);
    complete(&mut node, &rid, 80);
    assert_eq!(score(&node, &users[1]).tier, IdentityTier::Standard as i32);
    let expires = score(&node, &users[1]).score.unwrap().expires_at;
    // Up to one second before expiry the tier holds.
    node.advance_time(expires - node.time() - 1 - ve_app::testing::BLOCK_SECONDS);
    node.execute_block(&[]).unwrap();
    assert_eq!(node.time(), expires - 1);
    assert_eq!(score(&node, &users[1]).tier, IdentityTier::Standard as i32);
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Verified
    );
    // From expires_at the record reads EXPIRED (tier 0) and the sweep expires the scopes.
    node.execute_block(&[]).unwrap();
    let sc = score(&node, &users[1]);
    assert_eq!(sc.effective_status, AccountStatus::Expired as i32);
    assert_eq!(sc.tier, IdentityTier::Unverified as i32);
    assert_eq!(
        status(&node, &users[1], "doc-1"),
        VerificationStatus::Expired
    );
    assert_eq!(
        status(&node, &users[1], "selfie-1"),
        VerificationStatus::Expired
    );
}

#[test]
fn gating_api_reports_score_and_tier_and_require_tier_refuses_below_the_minimum() {
    let (mut node, mut users) = chain();
    let alice = users[1].address;
    let seen = RefCell::new(Vec::new());
    let check = |ctx: &mut Context<'_>| -> Result<(), AppError> {
        let g = IdentityKeeper;
        let t = g.tier(ctx, &alice)?;
        let s = g.score(ctx, &alice)?.map(|v| v.score);
        let basic = g
            .require_tier(ctx, &alice, IdentityTier::Basic)
            .err()
            .map(|e| (e.codespace, e.code));
        let premium = g
            .require_tier(ctx, &alice, IdentityTier::Premium)
            .err()
            .map(|e| (e.codespace, e.code));
        seen.borrow_mut().push((t, s, basic, premium));
        Ok(())
    };
    system(&mut node, check);
    let rid = onboard(&mut node, &mut users);
    complete(&mut node, &rid, 72);
    system(&mut node, check);
    let seen = seen.into_inner();
    assert_eq!(
        seen[0],
        (
            IdentityTier::Unverified,
            None,
            Some(("identity", 28)),
            Some(("identity", 28))
        )
    );
    assert_eq!(
        seen[1],
        (
            IdentityTier::Standard,
            Some(72),
            None,
            Some(("identity", 28))
        )
    );
}

#[test]
fn locked_identity_refuses_uploads_and_reads_as_tier_0() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    complete(&mut node, &rid, 90);
    let alice = users[1].address;
    system(&mut node, |ctx| {
        keeper::set_locked(ctx, &alice, true, "fraud review")
    });
    assert_eq!(
        score(&node, &users[1]).tier,
        IdentityTier::Unverified as i32
    );
    let msg = upload_msg(&users[1], "doc-9", ID_DOC, 99);
    refused(&mut node, &mut users[1], UPLOAD, &msg, "identity", 14);
}

#[test]
fn score_outside_0_to_100_is_refused_by_the_keeper() {
    let (mut node, mut users) = chain();
    let rid = onboard(&mut node, &mut users);
    let outcome = VerificationOutcome {
        score: 101,
        ..Default::default()
    };
    let err = RefCell::new(None);
    system(&mut node, |ctx| {
        *err.borrow_mut() = keeper::complete_request(ctx, &rid, &outcome)
            .err()
            .map(|e| e.code);
        Ok(())
    });
    assert_eq!(*err.borrow(), Some(26));
}

#[test]
fn no_message_sets_a_score() {
    let (mut node, mut users) = chain();
    for url in [
        "/virtengine.identity.v1.MsgUpdateScore",
        "/virtengine.identity.v1.MsgUpdateVerificationStatus",
        "/virtengine.veid.v1.MsgUpdateScore",
    ] {
        let t = users[0].sign(vec![to_any(url, &MsgRevokeScope::default())], FEE, GAS);
        let r = block(&mut node, &[t]);
        assert_eq!((r[0].1.as_str(), r[0].0), ("sdk", 6), "{url}: {:?}", r[0]);
        users[0].sequence = sequence(&node, &users[0].address);
    }
}

// ---------------------------------------------------------------- status machine

const ALL: [VerificationStatus; 8] = [
    VerificationStatus::Unknown,
    VerificationStatus::Pending,
    VerificationStatus::InProgress,
    VerificationStatus::Verified,
    VerificationStatus::Rejected,
    VerificationStatus::Expired,
    VerificationStatus::NeedsAdditionalFactor,
    VerificationStatus::AdditionalFactorPending,
];

/// The spec's table (chain.md §3.1.1), written out independently of the module.
fn spec_allows(from: VerificationStatus, to: VerificationStatus) -> bool {
    use VerificationStatus::*;
    let table: &[(VerificationStatus, &[VerificationStatus])] = &[
        (Unknown, &[Pending]),
        (Pending, &[InProgress, Rejected, Expired]),
        (
            InProgress,
            &[Verified, Rejected, Pending, NeedsAdditionalFactor],
        ),
        (Verified, &[Expired]),
        (Rejected, &[Pending]),
        (Expired, &[Pending]),
        (
            NeedsAdditionalFactor,
            &[AdditionalFactorPending, Rejected, Expired],
        ),
        (
            AdditionalFactorPending,
            &[Verified, Rejected, Expired, NeedsAdditionalFactor],
        ),
    ];
    table.iter().any(|(f, tos)| *f == from && tos.contains(&to))
}

#[test]
fn every_allowed_status_transition_succeeds_and_every_other_is_refused_and_revoked_scopes_refuse_all(
) {
    let (mut node, mut users) = chain();
    {
        let m = upload_msg(&users[1], "doc-1", ID_DOC, 1);
        ok(&mut node, &mut users[1], UPLOAD, &m);
    }
    let alice = users[1].address;
    let results = RefCell::new(Vec::new());
    for from in ALL {
        for to in ALL {
            system(&mut node, |ctx| {
                // Put the scope in `from` directly (test setup), then ask the keeper.
                let old = ve_identity::state::scope(ctx, &alice, "doc-1")?.unwrap();
                let set = IdentityScope {
                    status: from as i32,
                    ..old.clone()
                };
                ve_identity::state::set_scope(ctx, &alice, &set, Some(&old))?;
                let r = keeper::transition_scope(ctx, &alice, "doc-1", to, "test");
                results
                    .borrow_mut()
                    .push((from, to, r.map(|s| s.status).map_err(|e| e.code)));
                Ok(())
            });
        }
    }
    let results = results.into_inner();
    assert_eq!(results.len(), 64);
    let mut allowed = 0;
    for (from, to, r) in results {
        if spec_allows(from, to) {
            allowed += 1;
            assert_eq!(r, Ok(to as i32), "{from:?} -> {to:?} should be allowed");
        } else {
            assert_eq!(r, Err(21), "{from:?} -> {to:?} should be refused");
        }
    }
    assert_eq!(allowed, 18);

    // Revoked: every transition refused with code 20.
    let rv = MsgRevokeScope {
        sender: users[1].address.to_string(),
        scope_id: "doc-1".into(),
        reason: String::new(),
    };
    ok(&mut node, &mut users[1], REVOKE, &rv);
    let codes = RefCell::new(Vec::new());
    system(&mut node, |ctx| {
        for to in ALL {
            codes.borrow_mut().push(
                keeper::transition_scope(ctx, &alice, "doc-1", to, "")
                    .err()
                    .map(|e| e.code),
            );
        }
        Ok(())
    });
    assert!(codes.into_inner().iter().all(|c| *c == Some(20)));
    refused(&mut node, &mut users[1], REVOKE, &rv, "identity", 20);
    let req = MsgRequestVerification {
        sender: users[1].address.to_string(),
        scope_ids: vec!["doc-1".into()],
    };
    refused(&mut node, &mut users[1], REQUEST, &req, "identity", 20);
}

// ---------------------------------------------------------------- admin

#[test]
fn identity_params_change_only_by_a_config_admin() {
    let (mut node, mut users) = chain();
    let p = ve_identity::IdentityParams {
        max_scopes_per_type: 2,
        ..Default::default()
    };
    let msg = MsgUpdateParams {
        authority: users[1].address.to_string(),
        params: Some(p.to_proto()),
    };
    refused(
        &mut node,
        &mut users[1],
        "/virtengine.identity.v1.MsgUpdateParams",
        &msg,
        "identity",
        27,
    );
    let msg = MsgUpdateParams {
        authority: users[0].address.to_string(),
        ..msg
    };
    ok(
        &mut node,
        &mut users[0],
        "/virtengine.identity.v1.MsgUpdateParams",
        &msg,
    );
    let got: QueryParamsResponse = query(
        &node,
        "/virtengine.identity.v1.Query/Params",
        &QueryParamsRequest {},
    );
    assert_eq!(got.params.unwrap().max_scopes_per_type, 2);
    // Invalid params are refused before anything is written.
    let mut bad = p.clone();
    bad.salt_min_bytes = 8;
    let msg = MsgUpdateParams {
        authority: users[0].address.to_string(),
        params: Some(bad.to_proto()),
    };
    refused(
        &mut node,
        &mut users[0],
        "/virtengine.identity.v1.MsgUpdateParams",
        &msg,
        "identity",
        29,
    );
}

#[test]
fn config_scope_vocabulary_matches_identity_scope_types() {
    let names: Vec<&str> = (1..=12)
        .map(|t| ve_identity::types::scope_type_name(ve_identity::types::scope_type(t).unwrap()))
        .collect();
    assert_eq!(names, ve_config::msg_server::SCOPE_TYPE_NAMES.to_vec());
}
