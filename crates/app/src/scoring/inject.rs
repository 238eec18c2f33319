//! The injected first transaction of a block: building it (PrepareProposal), checking it
//! (ProcessProposal and FinalizeBlock, identically) and applying it (FinalizeBlock).

use super::aggregate::{aggregate, Vote};
use super::extension;
use super::proto::{AggregatedScore, InjectedScores, ScoreVoteExtension};
use super::validators::{self, ValidatorKey};
use super::{EnclaveDirectory, INJECTED_PREFIX, SCORE_TOLERANCE};
use ed25519_dalek::Verifier;
use prost::Message;
use ve_module::{Context, Event};
use ve_proto::tendermint_proto::v0_38::abci::{CommitInfo, ExtendedCommitInfo};
use ve_proto::tendermint_proto::v0_38::types::{BlockIdFlag, CanonicalVoteExtension};
use ve_types::AppError;

fn err(msg: impl Into<String>) -> AppError {
    AppError::new("scoring", 3, msg)
}

/// Whether `tx` claims to be the injected transaction (users may never send one).
pub fn is_injected(tx: &[u8]) -> bool {
    tx.starts_with(INJECTED_PREFIX)
}

/// The bytes CometBFT signs for a vote extension (`CanonicalVoteExtension`, length
/// delimited).
pub fn extension_sign_bytes(extension: &[u8], height: u64, round: i32, chain_id: &str) -> Vec<u8> {
    CanonicalVoteExtension {
        extension: extension.to_vec(),
        height: i64::try_from(height).unwrap_or(i64::MAX),
        round: i64::from(round),
        chain_id: chain_id.to_string(),
    }
    .encode_length_delimited_to_vec()
}

fn addr20(bytes: &[u8]) -> Option<[u8; 20]> {
    <[u8; 20]>::try_from(bytes).ok()
}

/// The verified votes of `commit` (extensions of height `ext_height`). Every committed
/// vote with an extension must carry a valid CometBFT extension signature by a genesis
/// validator — a proposer cannot drop or forge one. Individual enclave results that no
/// longer verify against state (request closed since, enclave expired) are left out.
fn verified_votes(
    ctx: &mut Context<'_>,
    dir: &dyn EnclaveDirectory,
    chain_id: &str,
    ext_height: u64,
    commit: &ExtendedCommitInfo,
    set: &[ValidatorKey],
) -> Result<Vec<Vote>, AppError> {
    let mut votes = Vec::new();
    for v in &commit.votes {
        if v.block_id_flag != BlockIdFlag::Commit as i32 || v.vote_extension.is_empty() {
            continue;
        }
        let address = v
            .validator
            .as_ref()
            .and_then(|val| addr20(&val.address))
            .ok_or_else(|| err("a vote has no 20-byte validator address"))?;
        let val = set
            .iter()
            .find(|k| k.address == address)
            .ok_or_else(|| err("a vote from a validator outside the validator set"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&val.pub_key)
            .map_err(|_| err("validator key is not Ed25519"))?;
        let sig = ed25519_dalek::Signature::from_slice(&v.extension_signature)
            .map_err(|_| err("vote extension signature is missing or malformed"))?;
        let msg = extension_sign_bytes(&v.vote_extension, ext_height, commit.round, chain_id);
        key.verify(&msg, &sig)
            .map_err(|_| err("vote extension signature does not verify"))?;
        let Ok(ext) = ScoreVoteExtension::decode(v.vote_extension.as_ref()) else {
            continue;
        };
        if ext.height != ext_height {
            continue;
        }
        // Each result on its own: one stale result (request closed since, enclave
        // expired) must not void the others. One result per request per validator (the
        // first): a repeated request id must not count a validator's power twice.
        let mut scores: Vec<super::proto::EnclaveScore> = Vec::new();
        for s in ext.scores {
            if !scores.iter().any(|k| k.request_id == s.request_id)
                && extension::verify_score(ctx, dir, chain_id, ext_height, &address, &s).is_ok()
            {
                scores.push(s);
            }
        }
        if !scores.is_empty() {
            votes.push(Vote {
                validator: address,
                power: val.power,
                scores,
            });
        }
    }
    Ok(votes)
}

fn derive(
    ctx: &mut Context<'_>,
    dir: &dyn EnclaveDirectory,
    chain_id: &str,
    height: u64,
    commit: &ExtendedCommitInfo,
) -> Result<Vec<AggregatedScore>, AppError> {
    let set = validators::load(ctx)?;
    if set.is_empty() || height < 2 {
        return Ok(Vec::new());
    }
    let votes = verified_votes(ctx, dir, chain_id, height.saturating_sub(1), commit, &set)?;
    Ok(aggregate(
        &votes,
        validators::total_power(&set),
        SCORE_TOLERANCE,
    ))
}

/// PrepareProposal at `height`: the injected transaction for the extended commit of
/// `height - 1`, or `None` when no request reached a consensus.
pub fn prepare(
    ctx: &mut Context<'_>,
    dir: &dyn EnclaveDirectory,
    chain_id: &str,
    height: u64,
    commit: &ExtendedCommitInfo,
) -> Result<Option<Vec<u8>>, AppError> {
    let results = derive(ctx, dir, chain_id, height, commit)?;
    if results.is_empty() {
        return Ok(None);
    }
    let mut tx = INJECTED_PREFIX.to_vec();
    InjectedScores {
        extended_commit: commit.encode_to_vec(),
        results,
    }
    .encode(&mut tx)
    .map_err(|e| err(format!("encoding the injected transaction: {e}")))?;
    Ok(Some(tx))
}

/// ProcessProposal and FinalizeBlock: the injected transaction must carry exactly the
/// block's last commit (same round, same validators and flags, in order) and results
/// that re-derive from it. Returns the results to apply.
pub fn check(
    ctx: &mut Context<'_>,
    dir: &dyn EnclaveDirectory,
    chain_id: &str,
    height: u64,
    tx: &[u8],
    decided: &CommitInfo,
) -> Result<Vec<AggregatedScore>, AppError> {
    let body = tx
        .strip_prefix(INJECTED_PREFIX)
        .ok_or_else(|| err("not an injected transaction"))?;
    let injected = InjectedScores::decode(body)
        .map_err(|e| err(format!("injected transaction does not decode: {e}")))?;
    let commit = ExtendedCommitInfo::decode(injected.extended_commit.as_slice())
        .map_err(|e| err(format!("injected commit does not decode: {e}")))?;
    let same_votes = commit.round == decided.round
        && commit.votes.len() == decided.votes.len()
        && commit.votes.iter().zip(&decided.votes).all(|(a, b)| {
            a.block_id_flag == b.block_id_flag
                && a.validator.as_ref().map(|v| &v.address)
                    == b.validator.as_ref().map(|v| &v.address)
        });
    if !same_votes {
        return Err(err("injected commit is not the block's last commit"));
    }
    let expected = derive(ctx, dir, chain_id, height, &commit)?;
    if expected.is_empty() || expected != injected.results {
        return Err(err(
            "injected results do not re-derive from the vote extensions",
        ));
    }
    Ok(expected)
}

/// Applies consensus results: scores through the identity keeper, participation and
/// deviation counters per validator, events.
pub fn apply(ctx: &mut Context<'_>, results: &[AggregatedScore]) -> Result<(), AppError> {
    for r in results {
        let outcome = ve_identity::keeper::VerificationOutcome {
            score: r.score,
            model_version: r.model_version.clone(),
            input_hash: r.input_hash.clone(),
            failed_scopes: vec![],
            reason_codes: r.reason_codes.clone(),
        };
        // A request can leave the queue between the extensions and this block (timed
        // out, identity locked): skip it, never fail the other results.
        if let Err(e) = ve_identity::keeper::apply_verification_result(ctx, &r.request_id, &outcome)
        {
            ctx.emit(
                Event::new("veid_consensus_score_skipped")
                    .attr("request_id", &r.request_id)
                    .attr("reason", &e.message),
            );
            continue;
        }
        for (list, agreed) in [(&r.agreeing, true), (&r.deviating, false)] {
            for v in list {
                bump_participation(ctx, v, agreed)?;
                if !agreed {
                    ctx.emit(
                        Event::new("veid_score_deviation")
                            .attr("request_id", &r.request_id)
                            .attr("validator", hex::encode_upper(v)),
                    );
                }
            }
        }
        ctx.emit(
            Event::new("veid_consensus_score")
                .attr("request_id", &r.request_id)
                .attr("score", r.score.to_string())
                .attr("model_version", &r.model_version)
                .attr("agreeing_power", r.agreeing_power.to_string())
                .attr("total_power", r.total_power.to_string()),
        );
    }
    Ok(())
}

/// `scoring/participation/<20-byte validator>` → agreed u64 BE ‖ deviated u64 BE.
pub fn participation_key(validator: &[u8]) -> Vec<u8> {
    let mut k = b"scoring/participation/".to_vec();
    k.extend_from_slice(validator);
    k
}

/// (results that agreed, results that deviated) of a validator so far.
pub fn participation(
    store: &mut impl ve_module::Store,
    validator: &[u8],
) -> Result<(u64, u64), AppError> {
    let Some(b) = store.get(&participation_key(validator))? else {
        return Ok((0, 0));
    };
    let mut a = [0u8; 8];
    let mut d = [0u8; 8];
    if b.len() != 16 {
        return Err(err("stored participation record is corrupt"));
    }
    a.copy_from_slice(&b[..8]);
    d.copy_from_slice(&b[8..]);
    Ok((u64::from_be_bytes(a), u64::from_be_bytes(d)))
}

fn bump_participation(ctx: &mut Context<'_>, v: &[u8], agreed: bool) -> Result<(), AppError> {
    let (mut a, mut d) = participation(ctx, v)?;
    if agreed {
        a = a.saturating_add(1);
    } else {
        d = d.saturating_add(1);
    }
    let mut b = a.to_be_bytes().to_vec();
    b.extend_from_slice(&d.to_be_bytes());
    ctx.put(participation_key(v), b)
}
