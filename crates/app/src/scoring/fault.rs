//! Fault injection for tests of the scoring consensus (docs/scoring-consensus.md,
//! "Fault-injection switches"): a node that tampers the injected scoring transaction of
//! its own proposals, so a localnet can show that the other validators reject them.
//!
//! The switch is node-local (app.toml `[fault]`), but it is honoured only while the
//! chain's enclave registry allows simulated enclaves — read from committed state at each
//! proposal — so it can never act on a network that trusts real TEEs.

use super::proto::InjectedScores;
use super::INJECTED_PREFIX;
use prost::Message;
use ve_module::Context;
use ve_types::AppError;

/// Node-local fault switches (all off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Change the first result's score in the injected transaction of this node's
    /// proposals (after aggregation), so the proposal no longer re-derives.
    pub tamper_injected_scores: bool,
}

impl Faults {
    pub fn any(&self) -> bool {
        self.tamper_injected_scores
    }
}

/// Whether the chain state allows test faults: its enclave registry accepts simulated
/// enclaves (localnets), which proves nothing about hardware anyway.
pub fn allowed(ctx: &mut Context<'_>) -> Result<bool, AppError> {
    Ok(ve_enclave_registry::state::params(ctx)?.allow_simulated)
}

/// PrepareProposal's fault: `tx` (the injected transaction) with the first result's
/// score moved by 50 (mod 101), if the switch is on and the chain allows it; otherwise
/// `tx` unchanged.
pub fn tamper_injected(
    ctx: &mut Context<'_>,
    faults: Faults,
    height: u64,
    tx: Vec<u8>,
) -> Result<Vec<u8>, AppError> {
    if !faults.tamper_injected_scores {
        return Ok(tx);
    }
    if !allowed(ctx)? {
        tracing::error!(
            height,
            "fault switch tamper_injected_scores IGNORED: the chain does not allow simulated enclaves"
        );
        return Ok(tx);
    }
    let Some(mut injected) = tx
        .strip_prefix(INJECTED_PREFIX)
        .and_then(|b| InjectedScores::decode(b).ok())
    else {
        return Ok(tx);
    };
    let Some(first) = injected.results.first_mut() else {
        return Ok(tx);
    };
    let honest = first.score;
    first.score = honest.saturating_add(50) % 101;
    tracing::warn!(
        height,
        request = %first.request_id,
        honest,
        tampered = first.score,
        "FAULT INJECTION: proposing a TAMPERED injected scoring transaction"
    );
    let mut out = INJECTED_PREFIX.to_vec();
    injected
        .encode(&mut out)
        .map_err(|e| AppError::new("scoring", 4, format!("re-encoding: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::proto::AggregatedScore;
    use ve_module::{BlockInfo, GasConfig, GasMeter};
    use ve_storage::{Delta, KvPairs, StateRead, StorageError};

    struct Empty;

    impl StateRead for Empty {
        fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(None)
        }
        fn range(&self, _s: &[u8], _e: Option<&[u8]>, _l: usize) -> Result<KvPairs, StorageError> {
            Ok(Vec::new())
        }
    }

    fn injected(score: u32) -> Vec<u8> {
        let mut tx = INJECTED_PREFIX.to_vec();
        InjectedScores {
            extended_commit: vec![1, 2, 3],
            results: vec![AggregatedScore {
                request_id: "r1".into(),
                score,
                ..AggregatedScore::default()
            }],
        }
        .encode(&mut tx)
        .unwrap();
        tx
    }

    /// Runs `tamper_injected` on a chain whose enclave params allow simulated enclaves or
    /// not (`None`: no params stored, i.e. the defaults).
    fn tamper_on_chain(allow_simulated: Option<bool>, faults: Faults, tx: Vec<u8>) -> Vec<u8> {
        let mut state = Delta::new(&Empty);
        let mut gas = GasMeter::infinite();
        let cfg = GasConfig::default();
        let mut events = Vec::new();
        let block = BlockInfo {
            height: 5,
            time_unix: 1_700_000_000,
            chain_id: "t".into(),
        };
        let mut ctx = Context::new(&mut state, &mut gas, &cfg, &mut events, &block);
        if let Some(allow) = allow_simulated {
            let p = ve_enclave_registry::EnclaveParams {
                allow_simulated: allow,
                ..Default::default()
            };
            ve_enclave_registry::state::set_params(&mut ctx, &p).unwrap();
        }
        tamper_injected(&mut ctx, faults, 5, tx).unwrap()
    }

    const ON: Faults = Faults {
        tamper_injected_scores: true,
    };

    #[test]
    fn tampering_is_ignored_unless_the_chain_allows_simulated_enclaves() {
        assert_eq!(tamper_on_chain(Some(false), ON, injected(80)), injected(80));
        // The default params (mainnet template) do not allow them either.
        assert_eq!(tamper_on_chain(None, ON, injected(80)), injected(80));
    }

    #[test]
    fn tampering_changes_the_first_score_where_simulated_enclaves_are_allowed() {
        assert_eq!(tamper_on_chain(Some(true), ON, injected(80)), injected(29));
        assert_eq!(tamper_on_chain(Some(true), ON, injected(20)), injected(70));
    }

    #[test]
    fn a_node_without_the_switch_never_tampers() {
        let off = Faults::default();
        assert!(!off.any());
        assert_eq!(tamper_on_chain(Some(true), off, injected(80)), injected(80));
    }
}
