//! CreateProvider against test gates: the handler asks the identity gate for tier Standard
//! and the MFA gate for `ProviderRegistration` of the owner, and writes nothing unless both
//! agree. (The app tests prove the same with the real identity and mfa modules.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use ve_identity::proto::IdentityTier;
use ve_identity::{IdentityGate, ScoreView};
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::{BlockInfo, Context, GasConfig, GasMeter, MsgHandler};
use ve_provider::proto::{Info, MsgCreateProvider};
use ve_provider::{ActiveLeases, AttestorAuthority, CreateProviderHandler, Gates};
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

struct Tier(IdentityTier);
impl IdentityGate for Tier {
    fn score(&self, _: &mut Context<'_>, _: &Address) -> Result<Option<ScoreView>, AppError> {
        Ok(None)
    }
    fn tier(&self, _: &mut Context<'_>, _: &Address) -> Result<IdentityTier, AppError> {
        Ok(self.0)
    }
    fn require_tier(
        &self,
        _: &mut Context<'_>,
        _: &Address,
        min: IdentityTier,
    ) -> Result<(), AppError> {
        if (self.0 as i32) < (min as i32) {
            return Err(AppError::new("identity", 28, "tier too low"));
        }
        Ok(())
    }
}

/// Records what it was asked; grants only if `allow`.
struct Mfa {
    allow: bool,
    asked: Mutex<Vec<(Address, SensitiveAction, u128)>>,
}
impl MfaGate for Mfa {
    fn require_mfa(
        &self,
        _: &mut Context<'_>,
        a: &Address,
        act: SensitiveAction,
        v: u128,
    ) -> Result<(), AppError> {
        self.asked.lock().unwrap().push((*a, act, v));
        if self.allow {
            Ok(())
        } else {
            Err(AppError::new("mfa", 2, "no session"))
        }
    }
}

struct NoLeases;
impl ActiveLeases for NoLeases {
    fn active_lease_count(&self, _: &mut Context<'_>, _: &Address) -> Result<u64, AppError> {
        Ok(0)
    }
}
struct NoAdmins;
impl AttestorAuthority for NoAdmins {
    fn is_authority(&self, _: &mut Context<'_>, _: &Address) -> Result<bool, AppError> {
        Ok(false)
    }
}

fn run(tier: IdentityTier, mfa: Arc<Mfa>) -> (Result<Vec<u8>, AppError>, bool) {
    let owner = Address([5; 20]);
    let h = CreateProviderHandler {
        gates: Gates {
            identity: Arc::new(Tier(tier)),
            mfa,
            leases: Arc::new(NoLeases),
            attestor_authority: Arc::new(NoAdmins),
            gov: Address([9; 20]),
        },
    };
    let msg = MsgCreateProvider {
        owner: owner.to_string(),
        host_uri: "https://p.example.com".into(),
        attributes: vec![],
        info: Some(Info::default()),
        public_key: vec![],
    };
    h.check_stateless(&msg).unwrap();
    let mut state = Delta::new(Empty);
    let (mut gas, cfg, mut events) = (GasMeter::infinite(), GasConfig::default(), Vec::new());
    let block = BlockInfo {
        height: 3,
        time_unix: 1_700_000_000,
        chain_id: "t".into(),
    };
    let mut child = Delta::new(&state);
    let r = {
        let mut ctx = Context::new(&mut child, &mut gas, &cfg, &mut events, &block);
        h.execute(&mut ctx, &msg)
    };
    if r.is_ok() {
        let ch = child.into_changes();
        state.apply(ch);
    }
    let stored = state
        .get(&ve_provider::state_key::provider(&owner))
        .unwrap()
        .is_some();
    (r, stored)
}

#[test]
fn below_tier_standard_is_refused_before_mfa_is_asked() {
    let mfa = Arc::new(Mfa {
        allow: true,
        asked: Mutex::new(vec![]),
    });
    let (r, stored) = run(IdentityTier::Basic, mfa.clone());
    assert_eq!(r.unwrap_err().code, 28);
    assert!(!stored);
    assert!(mfa.asked.lock().unwrap().is_empty());
}

#[test]
fn without_an_mfa_session_nothing_is_written() {
    let mfa = Arc::new(Mfa {
        allow: false,
        asked: Mutex::new(vec![]),
    });
    let (r, stored) = run(IdentityTier::Standard, mfa.clone());
    assert_eq!(r.unwrap_err().codespace, "mfa");
    assert!(!stored);
}

#[test]
fn tier_standard_and_a_session_register_and_the_gate_saw_provider_registration() {
    let mfa = Arc::new(Mfa {
        allow: true,
        asked: Mutex::new(vec![]),
    });
    let (r, stored) = run(IdentityTier::Premium, mfa.clone());
    r.unwrap();
    assert!(stored);
    assert_eq!(
        mfa.asked.lock().unwrap().as_slice(),
        &[(Address([5; 20]), SensitiveAction::ProviderRegistration, 0)]
    );
}
