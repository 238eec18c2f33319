//! Keeper behaviour on an in-memory state: revocation and the simulated switch act on
//! the active set at once; authority over the allow-list is the gov account or an
//! administrator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use ve_attestation::{key_binding, simulated};
use ve_enclave_registry::proto::*;
use ve_enclave_registry::*;
use ve_module::gate::{Role, RoleGate};
use ve_module::{BlockInfo, Context, GasConfig, GasMeter, MsgHandler};
use ve_storage::{Delta, KvPairs, StateRead, StorageError};
use ve_types::{Address, AppError};

struct Empty;

impl StateRead for Empty {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn range(&self, _s: &[u8], _e: Option<&[u8]>, _l: usize) -> Result<KvPairs, StorageError> {
        Ok(Vec::new())
    }
}

/// The administrators of this test chain (what the roles module answers).
struct Admins(Vec<Address>);

impl RoleGate for Admins {
    fn has_role(&self, _: &mut Context<'_>, a: &Address, r: Role) -> Result<bool, AppError> {
        Ok(r == Role::Administrator && self.0.contains(a))
    }
    fn require_role(&self, c: &mut Context<'_>, a: &Address, r: Role) -> Result<(), AppError> {
        if self.has_role(c, a, r)? {
            Ok(())
        } else {
            Err(AppError::new("roles", 1, "missing role"))
        }
    }
}

struct Chain {
    state: Delta<Empty>,
    height: u64,
}

impl Chain {
    fn exec<T>(
        &mut self,
        f: impl FnOnce(&mut Context<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut gas = GasMeter::infinite();
        let cfg = GasConfig::default();
        let mut events = Vec::new();
        let block = BlockInfo {
            height: self.height,
            time_unix: 1_700_000_000,
            chain_id: "t".into(),
        };
        let mut ctx = Context::new(&mut self.state, &mut gas, &cfg, &mut events, &block);
        f(&mut ctx)
    }
}

fn addr(b: u8) -> Address {
    Address::from_slice(&[b; 20]).unwrap()
}

const BUILD: [u8; 32] = [0xA1; 32];

fn platform_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x51; 32])
}

fn setup() -> (Chain, Authority, ed25519_dalek::SigningKey) {
    let mut c = Chain {
        state: Delta::new(Empty),
        height: 10,
    };
    let genesis = EnclaveGenesis {
        params: EnclaveParams {
            validator_operators: vec![addr(1)],
            allow_simulated: true,
            simulated_platform_key: hex::encode(platform_key().verifying_key().to_bytes()),
            consensus_bindings: vec![ValidatorBinding {
                operator: addr(1),
                consensus_address: hex::encode([0xC1; 20]),
            }],
            ..EnclaveParams::default()
        },
        measurements: vec![GenesisMeasurement {
            platform: "simulated".into(),
            measurement: hex::encode(BUILD),
            description: String::new(),
        }],
    };
    c.exec(|ctx| genesis::init_genesis(ctx, &genesis)).unwrap();
    let enclave_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let x = [9u8; 32];
    let ed = enclave_key.verifying_key().to_bytes();
    let msg = MsgRegisterEnclaveIdentity {
        validator: addr(1).to_string(),
        platform: Platform::Simulated as i32,
        x25519_public_key: x.to_vec(),
        ed25519_public_key: ed.to_vec(),
        attestation_report: simulated::sign(&platform_key(), &BUILD, &key_binding(&x, &ed)),
        attestation_chain: vec![],
    };
    c.exec(|ctx| RegisterEnclaveIdentityHandler.execute(ctx, &msg))
        .unwrap();
    let authority = Authority {
        gov: addr(0xAA),
        roles: Arc::new(Admins(vec![addr(0xAD)])),
    };
    (c, authority, enclave_key)
}

fn signed(c: &mut Chain, key: &ed25519_dalek::SigningKey) -> bool {
    use ed25519_dalek::Signer;
    let h = c.height;
    let sig = key.sign(b"m").to_bytes();
    c.exec(|ctx| verify_enclave_signature(ctx, h, &addr(1), b"m", &sig))
        .unwrap()
}

fn active(c: &mut Chain) -> usize {
    let h = c.height;
    c.exec(|ctx| active_enclave_keys(ctx, h)).unwrap().len()
}

#[test]
fn revoking_the_measurement_drops_the_enclave_from_the_active_set() {
    let (mut c, authority, key) = setup();
    assert_eq!(active(&mut c), 1);
    assert!(signed(&mut c, &key));
    let revoke = MsgRevokeMeasurement {
        authority: addr(0xAA).to_string(),
        platform: Platform::Simulated as i32,
        measurement: BUILD.to_vec(),
        reason: "CVE in the scoring enclave".into(),
    };
    let h = RevokeMeasurementHandler {
        authority: authority.clone(),
    };
    c.exec(|ctx| h.execute(ctx, &revoke)).unwrap();
    assert_eq!(active(&mut c), 0);
    assert!(!signed(&mut c, &key));
    let err = c
        .exec(|ctx| {
            check_enclave_signature(ctx, 10, &addr(1), b"m", &[0; 64]).map_err(AppError::from)
        })
        .unwrap_err();
    assert_eq!(err.code, 17, "{err:?}");
}

#[test]
fn only_gov_or_an_administrator_changes_the_allow_list() {
    let (mut c, authority, _) = setup();
    let add = |who: Address| MsgAddMeasurement {
        authority: who.to_string(),
        platform: Platform::Sgx as i32,
        measurement: vec![0x11; 32],
        description: "v2".into(),
    };
    let h = AddMeasurementHandler { authority };
    let err = c.exec(|ctx| h.execute(ctx, &add(addr(1)))).unwrap_err();
    assert_eq!((err.codespace, err.code), ("enclave", 3));
    c.exec(|ctx| h.execute(ctx, &add(addr(0xAD)))).unwrap();
    let err = c.exec(|ctx| h.execute(ctx, &add(addr(0xAA)))).unwrap_err();
    assert_eq!(err.code, 13, "already listed: {err:?}");
}

#[test]
fn disabling_the_simulated_platform_drops_simulated_enclaves() {
    let (mut c, authority, key) = setup();
    let mut p = c.exec(|ctx| state::params(ctx)).unwrap();
    p.allow_simulated = false;
    let msg = MsgUpdateParams {
        authority: addr(0xAA).to_string(),
        params: Some(p.to_proto()),
    };
    let h = UpdateParamsHandler { authority };
    c.exec(|ctx| h.execute(ctx, &msg)).unwrap();
    assert_eq!(active(&mut c), 0);
    assert!(!signed(&mut c, &key));
}

#[test]
fn params_refuse_simulated_without_a_platform_key() {
    let p = EnclaveParams {
        allow_simulated: true,
        ..EnclaveParams::default()
    };
    assert!(p.validate().is_err());
    assert!(EnclaveParams::default().validate().is_ok());
    assert!(!EnclaveParams::default().allow_simulated, "mainnet default");
}

#[test]
fn vote_extension_signer_finds_its_enclave_through_the_consensus_binding() {
    let (mut c, _, key) = setup();
    let found = c
        .exec(|ctx| enclave_of_consensus(ctx, 10, &[0xC1; 20]))
        .unwrap()
        .unwrap();
    assert_eq!(found.ed25519_public_key, key.verifying_key().to_bytes());
    assert_eq!(found.measurement, BUILD.to_vec());
    assert_eq!(found.previous_ed25519_public_key, None);
    assert!(c
        .exec(|ctx| enclave_of_consensus(ctx, 10, &[0xC2; 20]))
        .unwrap()
        .is_none());
    // Once expired, the validator has no enclave to sign with.
    let expiry = c.height + EnclaveParams::default().identity_validity_blocks;
    assert!(c
        .exec(|ctx| enclave_of_consensus(ctx, expiry, &[0xC1; 20]))
        .unwrap()
        .is_none());
}

#[test]
fn consensus_bindings_must_name_operators_once() {
    let op = addr(1);
    let bind = |o: Address, c: u8| ValidatorBinding {
        operator: o,
        consensus_address: hex::encode([c; 20]),
    };
    let p = |b: Vec<ValidatorBinding>| EnclaveParams {
        validator_operators: vec![op, addr(2)],
        consensus_bindings: b,
        ..EnclaveParams::default()
    };
    assert!(p(vec![bind(op, 1), bind(addr(2), 2)]).validate().is_ok());
    assert!(
        p(vec![bind(addr(3), 1)]).validate().is_err(),
        "not an operator"
    );
    assert!(
        p(vec![bind(op, 1), bind(addr(2), 1)]).validate().is_err(),
        "address twice"
    );
    assert!(
        p(vec![bind(op, 1), bind(op, 2)]).validate().is_err(),
        "operator twice"
    );
}
