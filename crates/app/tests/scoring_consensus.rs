//! Identity scores through vote extensions, driven the way CometBFT drives the app:
//! ExtendVote and VerifyVoteExtension at height H, PrepareProposal / ProcessProposal /
//! FinalizeBlock at H + 1 with the extended commit of H. Four validators with equal power
//! and one enclave each; the "enclaves" here are test signers over the real sign bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use ed25519_dalek::Signer;
use prost::Message;
use std::sync::Arc;
use ve_app::scoring::proto::{EnclaveScore, InjectedScores};
use ve_app::scoring::validators::address_of;
use ve_app::scoring::{
    inject, EnclaveDirectory, EnclaveView, ScoreSource, ScoringRequest, INJECTED_PREFIX,
};
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::AppGenesis;
use ve_crypto::attested::score_sign_bytes;
use ve_module::Context;
use ve_proto::tendermint_proto::v0_38::abci::{
    CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo, Validator, VoteInfo,
};
use ve_proto::tendermint_proto::v0_38::types::BlockIdFlag;
use ve_types::{AppError, Coin, Coins};

const POWER: u64 = 10;
const MEASUREMENT: [u8; 32] = [0xAB; 32];

struct Val {
    consensus: ed25519_dalek::SigningKey,
    enclave: ed25519_dalek::SigningKey,
}

impl Val {
    fn address(&self) -> [u8; 20] {
        address_of(&self.consensus.verifying_key().to_bytes())
    }
}

fn vals() -> Vec<Val> {
    (0..4u8)
        .map(|i| Val {
            consensus: ed25519_dalek::SigningKey::from_bytes(&[40 + i; 32]),
            enclave: ed25519_dalek::SigningKey::from_bytes(&[80 + i; 32]),
        })
        .collect()
}

/// The registry the test gives the app: each validator's enclave key.
struct Registry(Vec<([u8; 20], [u8; 32])>);

impl EnclaveDirectory for Registry {
    fn enclave_of(
        &self,
        _ctx: &mut Context<'_>,
        validator: &[u8; 20],
    ) -> Result<Option<EnclaveView>, AppError> {
        Ok(self
            .0
            .iter()
            .find(|(a, _)| a == validator)
            .map(|(_, k)| EnclaveView {
                signing_keys: vec![*k],
                measurement: MEASUREMENT.to_vec(),
            }))
    }
}

/// A validator's enclave that always answers `score`.
struct FixedEnclave {
    key: ed25519_dalek::SigningKey,
    score: u32,
}

impl ScoreSource for FixedEnclave {
    fn score(
        &self,
        chain_id: &str,
        height: u64,
        r: &ScoringRequest,
    ) -> Result<EnclaveScore, String> {
        let mut s = EnclaveScore {
            request_id: r.request_id.clone(),
            account: r.account.clone(),
            score: self.score,
            reason_codes: vec!["SUCCESS".into()],
            model_version: "model-set-1".into(),
            input_hash: ve_crypto::sha256(r.request_id.as_bytes()).to_vec(),
            measurement: MEASUREMENT.to_vec(),
            enclave_pubkey: self.key.verifying_key().to_bytes().to_vec(),
            signature: vec![],
        };
        s.signature = self
            .key
            .sign(&score_sign_bytes(chain_id, height, &s))
            .to_bytes()
            .to_vec();
        Ok(s)
    }
}

struct Net {
    node: TestNode,
    vals: Vec<Val>,
    user: User,
}

/// A chain with four validators, a user with one uploaded scope and a queued request.
fn net() -> Net {
    let vals = vals();
    let mut user = User::new(1, FIRST_USER_NUMBER);
    let mut g = AppGenesis::default();
    g.add_account(
        user.address,
        &Coins::from_list([Coin::new("uve", START)]).unwrap(),
    )
    .unwrap();
    veid::add_identity_setup(&mut g, user.address);
    let registry = Registry(
        vals.iter()
            .map(|v| (v.address(), v.enclave.verifying_key().to_bytes()))
            .collect(),
    );
    let keys: Vec<([u8; 32], u64)> = vals
        .iter()
        .map(|v| (v.consensus.verifying_key().to_bytes(), POWER))
        .collect();
    let mut node = TestNode::with_validators(&g, &keys, Arc::new(registry)).unwrap();
    node.execute_block(&[]).unwrap();
    let up = user.sign(
        vec![veid::upload(&user, "doc-1", b"passport", [5; 32])],
        10_000,
        400_000,
    );
    let req = user.sign(vec![veid::request_verification(&user)], 10_000, 400_000);
    let out = node.execute_block(&[up, req]).unwrap();
    assert!(
        out.results().all(|(c, _, _)| c == 0),
        "{:?}",
        out.results().collect::<Vec<_>>()
    );
    Net { node, vals, user }
}

/// ExtendVote of every validator in `scores` (None = the validator did not vote), signed
/// by its consensus key as CometBFT does, while precommitting the next block; then that
/// block is committed, so the next proposal carries these extensions.
fn extended_commit(net: &mut Net, scores: &[Option<u32>]) -> ExtendedCommitInfo {
    let c = extensions(net, scores);
    net.node.execute_block(&[]).unwrap();
    c
}

fn extensions(net: &Net, scores: &[Option<u32>]) -> ExtendedCommitInfo {
    let (h, t) = net.node.next_header();
    let app = net.node.app();
    let votes = net
        .vals
        .iter()
        .zip(scores)
        .map(|(v, s)| {
            let validator = Some(Validator {
                address: v.address().to_vec().into(),
                power: POWER as i64,
            });
            match s {
                None => ExtendedVoteInfo {
                    validator,
                    block_id_flag: BlockIdFlag::Absent as i32,
                    ..Default::default()
                },
                Some(score) => {
                    let source = FixedEnclave {
                        key: v.enclave.clone(),
                        score: *score,
                    };
                    let ext = app
                        .clone()
                        .with_score_source(Arc::new(source))
                        .extend_vote(h, t);
                    assert!(!ext.is_empty(), "validator produced no extension");
                    assert!(
                        app.verify_vote_extension(&v.address(), h, &ext),
                        "own extension refused"
                    );
                    let sig =
                        v.consensus
                            .sign(&inject::extension_sign_bytes(&ext, h, 0, TEST_CHAIN_ID));
                    ExtendedVoteInfo {
                        validator,
                        vote_extension: ext.into(),
                        extension_signature: sig.to_bytes().to_vec().into(),
                        block_id_flag: BlockIdFlag::Commit as i32,
                    }
                }
            }
        })
        .collect();
    ExtendedCommitInfo { round: 0, votes }
}

fn plain(c: &ExtendedCommitInfo) -> CommitInfo {
    CommitInfo {
        round: c.round,
        votes: c
            .votes
            .iter()
            .map(|v| VoteInfo {
                validator: v.validator.clone(),
                block_id_flag: v.block_id_flag,
            })
            .collect(),
    }
}

/// The proposal of the block after the extensions' height.
fn propose(net: &Net, commit: &ExtendedCommitInfo) -> Vec<Vec<u8>> {
    let (h, t) = net.node.next_header();
    net.node
        .app()
        .prepare_proposal(h, t, vec![], 1 << 20, Some(commit))
}

fn score_of(node: &TestNode, user: &User) -> ve_identity::proto::QueryScoreResponse {
    let r = node.app().query(
        "/virtengine.identity.v1.Query/Score",
        &ve_identity::proto::QueryScoreRequest {
            account: user.address.to_string(),
        }
        .encode_to_vec(),
        0,
        false,
    );
    assert_eq!(r.code, 0, "{}", r.log);
    ve_identity::proto::QueryScoreResponse::decode(r.value.as_slice()).unwrap()
}

fn finalize(net: &mut Net, txs: &[Vec<u8>], commit: &ExtendedCommitInfo) -> Vec<(u32, String)> {
    let out = net
        .node
        .execute_block_with_commit(txs, plain(commit))
        .unwrap();
    out.results().map(|(c, _, l)| (c, l.to_string())).collect()
}

#[test]
fn four_agreeing_enclaves_set_the_median_score_through_the_injected_transaction() {
    let mut net = net();
    let commit = extended_commit(&mut net, &[Some(88), Some(90), Some(89), Some(90)]);
    let txs = propose(&net, &commit);
    assert_eq!(txs.len(), 1);
    assert!(txs[0].starts_with(INJECTED_PREFIX));
    let (h, t) = net.node.next_header();
    assert!(net
        .node
        .app()
        .process_proposal(h, t, &txs, Some(&plain(&commit))));
    let results = finalize(&mut net, &txs, &commit);
    assert_eq!(results[0].0, 0, "{results:?}");
    let s = score_of(&net.node, &net.user);
    assert!(s.found);
    assert_eq!(s.score.unwrap().score, 89);
    assert_eq!(s.tier, ve_identity::proto::IdentityTier::Premium as i32);
}

#[test]
fn a_deviant_enclave_is_flagged_and_the_score_still_finalizes() {
    let mut net = net();
    let commit = extended_commit(&mut net, &[Some(75), Some(75), Some(76), Some(10)]);
    let txs = propose(&net, &commit);
    let injected = InjectedScores::decode(&txs[0][INJECTED_PREFIX.len()..]).unwrap();
    assert_eq!(
        injected.results[0].deviating,
        vec![net.vals[3].address().to_vec()]
    );
    finalize(&mut net, &txs, &commit);
    assert_eq!(score_of(&net.node, &net.user).score.unwrap().score, 75);
    let mut ctx_store = ve_module::ReadOnly(&net.node.app().storage().latest_snapshot());
    assert_eq!(
        inject::participation(&mut ctx_store, &net.vals[3].address()).unwrap(),
        (0, 1)
    );
    assert_eq!(
        inject::participation(&mut ctx_store, &net.vals[0].address()).unwrap(),
        (1, 0)
    );
}

#[test]
fn one_validator_down_still_finalizes_two_down_leave_the_request_pending() {
    let mut net = net();
    let commit = extended_commit(&mut net, &[Some(70), None, Some(71), Some(70)]);
    let txs = propose(&net, &commit);
    assert_eq!(txs.len(), 1, "three of four is more than 2/3");
    finalize(&mut net, &txs, &commit);
    assert_eq!(score_of(&net.node, &net.user).score.unwrap().score, 70);

    let net2 = net_pending_with(&[Some(70), None, None, Some(70)]);
    assert!(net2.is_empty(), "two of four must not reach a consensus");
}

fn net_pending_with(scores: &[Option<u32>]) -> Vec<Vec<u8>> {
    let mut net = net();
    let commit = extended_commit(&mut net, scores);
    propose(&net, &commit)
}

#[test]
fn a_tampered_injected_transaction_is_rejected_and_fails_in_finalize_block() {
    let mut net = net();
    let commit = extended_commit(&mut net, &[Some(80), Some(80), Some(80), Some(80)]);
    let txs = propose(&net, &commit);
    let (h, t) = net.node.next_header();
    let app = net.node.app().clone();
    let accepts = |txs: &[Vec<u8>], c: &CommitInfo| app.process_proposal(h, t, txs, Some(c));

    // A higher score than the enclaves signed.
    let mut inj = InjectedScores::decode(&txs[0][INJECTED_PREFIX.len()..]).unwrap();
    inj.results[0].score = 99;
    let mut forged = INJECTED_PREFIX.to_vec();
    forged.extend(inj.encode_to_vec());
    assert!(!accepts(&[forged.clone()], &plain(&commit)));

    // A vote dropped from the evidence (the commit no longer matches the block's).
    let mut fewer = commit.clone();
    fewer.votes[3].block_id_flag = BlockIdFlag::Absent as i32;
    fewer.votes[3].vote_extension = Default::default();
    let mut inj2 = InjectedScores::decode(&txs[0][INJECTED_PREFIX.len()..]).unwrap();
    inj2.extended_commit = fewer.encode_to_vec();
    let mut dropped = INJECTED_PREFIX.to_vec();
    dropped.extend(inj2.encode_to_vec());
    assert!(!accepts(&[dropped], &plain(&commit)));

    // An extension whose bytes were changed after the validator signed it.
    let mut bad_sig = commit.clone();
    let mut ext = bad_sig.votes[1].vote_extension.to_vec();
    let last = ext.len() - 1;
    ext[last] ^= 1;
    bad_sig.votes[1].vote_extension = ext.into();
    let mut inj3 = InjectedScores::decode(&txs[0][INJECTED_PREFIX.len()..]).unwrap();
    inj3.extended_commit = bad_sig.encode_to_vec();
    let mut resigned = INJECTED_PREFIX.to_vec();
    resigned.extend(inj3.encode_to_vec());
    assert!(!accepts(&[resigned], &plain(&commit)));

    // Not first in the block.
    let filler = net.user.send(&net.user.address.clone(), 1);
    assert!(!accepts(&[filler, txs[0].clone()], &plain(&commit)));

    // A block-synced node never ran ProcessProposal: FinalizeBlock fails the forged tx
    // and writes nothing.
    let results = finalize(&mut net, &[forged], &commit);
    assert_ne!(results[0].0, 0);
    assert!(!score_of(&net.node, &net.user).found);
}

#[test]
fn an_extension_signed_by_an_unregistered_enclave_key_is_refused() {
    let net = net();
    let (h, t) = net.node.next_header();
    let rogue = FixedEnclave {
        key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        score: 100,
    };
    let ext = net
        .node
        .app()
        .clone()
        .with_score_source(Arc::new(rogue))
        .extend_vote(h, t);
    assert!(!ext.is_empty());
    assert!(!net
        .node
        .app()
        .verify_vote_extension(&net.vals[0].address(), h, &ext));
    // Wrong height and garbage are refused too; an empty extension is fine.
    assert!(!net
        .node
        .app()
        .verify_vote_extension(&net.vals[0].address(), h + 1, &ext));
    assert!(!net
        .node
        .app()
        .verify_vote_extension(&net.vals[0].address(), h, &[0xff, 0x01]));
    assert!(net
        .node
        .app()
        .verify_vote_extension(&net.vals[0].address(), h, &[]));
}

#[test]
fn users_cannot_send_the_injected_transaction() {
    let net = net();
    let mut tx = INJECTED_PREFIX.to_vec();
    tx.extend(InjectedScores::default().encode_to_vec());
    let r = net.node.app().check_tx(&tx);
    assert_ne!(r.code, 0);
    assert!(r.log.contains("injected by block proposers"), "{}", r.log);
}

#[test]
fn a_result_repeated_in_one_extension_counts_the_validator_once() {
    let mut net = net();
    // Two of four validators report; validator 0 repeats its result. Counted twice, that
    // would be 3/4 of the power and a consensus; counted once it is 1/2: no result.
    let mut commit = extensions(&net, &[Some(80), Some(80), None, None]);
    let (h, _) = net.node.next_header();
    let v0 = &mut commit.votes[0];
    let mut ext =
        ve_app::scoring::proto::ScoreVoteExtension::decode(v0.vote_extension.as_ref()).unwrap();
    ext.scores.push(ext.scores[0].clone());
    let bytes = ext.encode_to_vec();
    let sig =
        net.vals[0]
            .consensus
            .sign(&inject::extension_sign_bytes(&bytes, h, 0, TEST_CHAIN_ID));
    v0.vote_extension = bytes.into();
    v0.extension_signature = sig.to_bytes().to_vec().into();
    net.node.execute_block(&[]).unwrap();
    assert!(propose(&net, &commit).is_empty());
}
