//! The VEID scoring consensus decoders on untrusted bytes: vote extensions
//! (`ve_app::scoring::extension::verify`, what VerifyVoteExtension sees from any
//! validator) and the injected scores transaction (`ve_app::scoring::inject::check`, what
//! ProcessProposal sees from any proposer). Never a panic; an extension that verifies
//! carries only results signed by the validator's registered enclave over exactly the
//! signed fields, for open requests.
//!
//! Input: `selector (1 byte) || bytes`; selector bit 0 picks inject::check (with the
//! injected-tx prefix added) instead of extension::verify.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use ve_app::scoring::proto::{EnclaveScore, ScoreVoteExtension};
use ve_app::scoring::{extension, inject, EnclaveDirectory, EnclaveView, INJECTED_PREFIX};
use ve_crypto::attested::score_sign_bytes;
use ve_fuzz::{write_seeds, EmptyState};
use ve_identity::proto::{RequestStatus, VerificationRequest};
use ve_module::{BlockInfo, Context, GasConfig, GasMeter};
use ve_proto::tendermint_proto::v0_38::abci::CommitInfo;
use ve_storage::Delta;
use ve_types::AppError;

const CHAIN: &str = "virtengine-fuzz";
const HEIGHT: u64 = 12;
const VALIDATOR: [u8; 20] = [9; 20];
const MEASUREMENT: [u8; 32] = [0xAB; 32];
const ACCOUNT: &str = "ve1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du";
const REQUESTS: [&str; 2] = [
    "0123456789abcdef0123456789abcdef",
    "fedcba9876543210fedcba9876543210",
];

fn enclave() -> SigningKey {
    SigningKey::from_bytes(&[0x77; 32])
}

struct Dir;

impl EnclaveDirectory for Dir {
    fn enclave_of(
        &self,
        _ctx: &mut Context<'_>,
        validator: &[u8; 20],
    ) -> Result<Option<EnclaveView>, AppError> {
        Ok((*validator == VALIDATOR).then(|| EnclaveView {
            signing_keys: vec![enclave().verifying_key().to_bytes()],
            measurement: MEASUREMENT.to_vec(),
        }))
    }
}

fn signed(request_id: &str, score: u32) -> EnclaveScore {
    let mut s = EnclaveScore {
        request_id: request_id.into(),
        account: ACCOUNT.into(),
        score,
        reason_codes: vec!["SUCCESS".into()],
        model_version: "v1".into(),
        input_hash: vec![1; 32],
        measurement: MEASUREMENT.to_vec(),
        enclave_pubkey: enclave().verifying_key().to_bytes().to_vec(),
        signature: vec![],
    };
    s.signature = enclave()
        .sign(&score_sign_bytes(CHAIN, HEIGHT, &s))
        .to_bytes()
        .to_vec();
    s
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let one = ScoreVoteExtension {
        height: HEIGHT,
        scores: vec![signed(REQUESTS[0], 80)],
    };
    let two = ScoreVoteExtension {
        height: HEIGHT,
        scores: vec![signed(REQUESTS[0], 80), signed(REQUESTS[1], 35)],
    };
    let ext = |e: &ScoreVoteExtension| [&[0u8][..], &e.encode_to_vec()].concat();
    vec![
        ("one".into(), ext(&one)),
        ("two".into(), ext(&two)),
        ("empty".into(), vec![0]),
        (
            "injected".into(),
            [&[1u8][..], &one.encode_to_vec()].concat(),
        ),
    ]
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let Some((&sel, bytes)) = data.split_first() else {
            return;
        };
        let mut store = Delta::new(EmptyState);
        let mut gas = GasMeter::infinite();
        let gas_config = GasConfig::default();
        let mut events = Vec::new();
        let block = BlockInfo {
            height: HEIGHT,
            time_unix: 1_795_660_021,
            chain_id: CHAIN.into(),
        };
        let mut ctx = Context::new(&mut store, &mut gas, &gas_config, &mut events, &block);
        for id in REQUESTS {
            let r = VerificationRequest {
                request_id: id.into(),
                account: ACCOUNT.into(),
                status: RequestStatus::Pending as i32,
                ..Default::default()
            };
            if ve_identity::state::set_request(&mut ctx, &r).is_err() {
                return;
            }
        }
        if sel & 1 == 0 {
            if let Ok(ext) = extension::verify(&mut ctx, &Dir, CHAIN, HEIGHT, &VALIDATOR, bytes) {
                assert_eq!(ext.height, HEIGHT);
                for s in &ext.scores {
                    assert!(s.score <= 100);
                    assert!(REQUESTS.contains(&s.request_id.as_str()));
                    // Strict Ed25519: the only signature over these fields is the genuine one.
                    let genuine = enclave().sign(&score_sign_bytes(CHAIN, HEIGHT, s));
                    assert_eq!(s.signature, genuine.to_bytes().to_vec(), "a forged result verified");
                }
            }
        } else {
            let tx = [INJECTED_PREFIX, bytes].concat();
            assert!(inject::is_injected(&tx));
            // No validator set in this state: nothing can re-derive, so nothing is accepted.
            assert!(inject::check(&mut ctx, &Dir, CHAIN, HEIGHT, &tx, &CommitInfo::default()).is_err());
            let _ = inject::is_injected(bytes);
        }
    }
);
