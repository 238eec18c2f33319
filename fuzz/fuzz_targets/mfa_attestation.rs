//! One-time-code factor attestations (TOTP / email / SMS results signed by a validator
//! enclave, checked by `MsgVerifyChallenge` against the enclave registry) on untrusted
//! bytes: never a panic, and only the genuine signature over the genuine payload verifies
//! for the registered enclave — under no other operator address.
//!
//! Input: `signature (64) || verified (1) || factor_type (4, be) || otp_step (8, be) ||
//! challenge_data (32) || chain_id (rest, UTF-8)`.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use ve_enclave_registry::proto::{EnclaveIdentity, MeasurementRecord, Platform};
use ve_enclave_registry::{state, verify_enclave_signature, EnclaveParams};
use ve_fuzz::{write_seeds, EmptyState};
use ve_mfa::attestation::{payload, AttestationInput};
use ve_module::{BlockInfo, Context, GasConfig, GasMeter};
use ve_storage::Delta;
use ve_types::Address;

const CHALLENGE_ID: &str = "0123456789abcdef0123456789abcdef";
const FACTOR_ID: &str = "fedcba9876543210fedcba9876543210";
const ACCOUNT: Address = Address([7; 20]);
const OPERATOR: Address = Address([9; 20]);
const MEASUREMENT: [u8; 32] = [0xAB; 32];
const HEIGHT: u64 = 10;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[0x5A; 32])
}

/// Runs `f` on a state where OPERATOR's simulated enclave (signing key [`key`]) is active.
fn with_registry<T>(f: impl FnOnce(&mut Context<'_>) -> T) -> T {
    let mut store = Delta::new(EmptyState);
    let mut gas = GasMeter::infinite();
    let gas_config = GasConfig::default();
    let mut events = Vec::new();
    let block = BlockInfo {
        height: HEIGHT,
        time_unix: 1_795_660_021,
        chain_id: "virtengine-fuzz".into(),
    };
    let mut ctx = Context::new(&mut store, &mut gas, &gas_config, &mut events, &block);
    let params = EnclaveParams {
        allow_simulated: true,
        ..EnclaveParams::default()
    };
    state::set_params(&mut ctx, &params).unwrap();
    state::set_measurement(
        &mut ctx,
        &MeasurementRecord {
            platform: Platform::Simulated as i32,
            measurement: MEASUREMENT.to_vec(),
            ..Default::default()
        },
    )
    .unwrap();
    state::set_identity(
        &mut ctx,
        &OPERATOR,
        &EnclaveIdentity {
            validator: OPERATOR.to_string(),
            platform: Platform::Simulated as i32,
            ed25519_public_key: key().verifying_key().to_bytes().to_vec(),
            measurement: MEASUREMENT.to_vec(),
            expiry_height: HEIGHT + 1,
            ..Default::default()
        },
    )
    .unwrap();
    f(&mut ctx)
}

fn verifies(by: &Address, i: &AttestationInput<'_>, sig: &[u8]) -> bool {
    with_registry(|ctx| verify_enclave_signature(ctx, HEIGHT, by, &payload(i), sig).unwrap())
}

fn input<'a>(
    chain_id: &'a str,
    data: &'a [u8],
    factor_type: u32,
    verified: bool,
    otp_step: u64,
) -> AttestationInput<'a> {
    AttestationInput {
        chain_id,
        challenge_id: CHALLENGE_ID,
        account: &ACCOUNT,
        factor_type,
        factor_id: FACTOR_ID,
        challenge_data: data,
        verified,
        otp_step,
    }
}

fn genuine(chain_id: &str, verified: bool, step: u64) -> Vec<u8> {
    let cd = [0x33u8; 32];
    let i = input(chain_id, &cd, 1, verified, step);
    let sig = key().sign(&payload(&i)).to_bytes();
    let mut v = sig.to_vec();
    v.push(u8::from(verified));
    v.extend_from_slice(&1u32.to_be_bytes());
    v.extend_from_slice(&step.to_be_bytes());
    v.extend_from_slice(&cd);
    v.extend_from_slice(chain_id.as_bytes());
    v
}

fuzz_target!(
    init: {
        write_seeds(|| {
            vec![
                ("verified".into(), genuine("virtengine-1", true, 59_000_000)),
                ("failed".into(), genuine("virtengine-1", false, 0)),
                ("empty-chain".into(), genuine("", true, 1)),
            ]
        });
    },
    |data: &[u8]| {
        if data.len() < 64 + 1 + 4 + 8 + 32 {
            // Short signatures must be refused, not panic.
            assert!(!verifies(&OPERATOR, &input("c", &[0; 32], 1, true, 0), data));
            return;
        }
        let (sig, rest) = data.split_at(64);
        let verified = rest[0] & 1 == 1;
        let factor_type = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let mut step = [0u8; 8];
        step.copy_from_slice(&rest[5..13]);
        let (cd, chain) = rest[13..].split_at(32);
        let Ok(chain_id) = std::str::from_utf8(chain) else {
            return;
        };
        let i = input(chain_id, cd, factor_type, verified, u64::from_be_bytes(step));
        if verifies(&OPERATOR, &i, sig) {
            // Ed25519 strict verification: exactly one signature per message and key.
            assert_eq!(sig, key().sign(&payload(&i)).to_bytes().as_slice(), "a forged attestation verified");
        }
        // No other operator's enclave signed it.
        assert!(!verifies(&ACCOUNT, &i, sig));
    }
);
