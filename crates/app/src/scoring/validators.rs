//! The validator set, as CometBFT gave it at InitChain: consensus address, Ed25519 key,
//! power. There is no staking module yet, so the set never changes after genesis; vote
//! extension signatures are checked against it.

use sha2::{Digest, Sha256};
use ve_module::Store;
use ve_types::AppError;

/// `scoring/validators` → 20-byte address ‖ 32-byte key ‖ power u64 BE, per validator,
/// in address order.
pub const VALIDATORS_KEY: &[u8] = b"scoring/validators";
const ENTRY: usize = 20 + 32 + 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorKey {
    pub address: [u8; 20],
    pub pub_key: [u8; 32],
    pub power: u64,
}

/// CometBFT's consensus address of an Ed25519 key: the first 20 bytes of its SHA-256.
pub fn address_of(pub_key: &[u8; 32]) -> [u8; 20] {
    let digest = Sha256::digest(pub_key);
    let mut a = [0u8; 20];
    a.copy_from_slice(&digest[..20]);
    a
}

fn err(msg: impl Into<String>) -> AppError {
    AppError::new("scoring", 1, msg)
}

/// Stores the genesis validator set (sorted by address; duplicates refused).
pub fn save(store: &mut impl Store, keys: &[([u8; 32], u64)]) -> Result<(), AppError> {
    let mut set: Vec<ValidatorKey> = keys
        .iter()
        .map(|(k, p)| ValidatorKey {
            address: address_of(k),
            pub_key: *k,
            power: *p,
        })
        .collect();
    set.sort_by_key(|a| a.address);
    if set.windows(2).any(|w| w[0].address == w[1].address) {
        return Err(err("the genesis validator set lists a key twice"));
    }
    let mut bytes = Vec::with_capacity(set.len().saturating_mul(ENTRY));
    for v in &set {
        bytes.extend_from_slice(&v.address);
        bytes.extend_from_slice(&v.pub_key);
        bytes.extend_from_slice(&v.power.to_be_bytes());
    }
    store.put(VALIDATORS_KEY.to_vec(), bytes)
}

/// The stored validator set (empty before InitChain gave one).
pub fn load(store: &mut impl Store) -> Result<Vec<ValidatorKey>, AppError> {
    let Some(bytes) = store.get(VALIDATORS_KEY)? else {
        return Ok(Vec::new());
    };
    if bytes.len() % ENTRY != 0 {
        return Err(err("stored validator set is corrupt"));
    }
    Ok(bytes
        .chunks_exact(ENTRY)
        .map(|c| {
            let mut address = [0u8; 20];
            let mut pub_key = [0u8; 32];
            let mut power = [0u8; 8];
            address.copy_from_slice(&c[..20]);
            pub_key.copy_from_slice(&c[20..52]);
            power.copy_from_slice(&c[52..]);
            ValidatorKey {
                address,
                pub_key,
                power: u64::from_be_bytes(power),
            }
        })
        .collect())
}

/// Sum of all powers, saturating (CometBFT caps total power far below u64::MAX).
pub fn total_power(set: &[ValidatorKey]) -> u64 {
    set.iter().fold(0u64, |a, v| a.saturating_add(v.power))
}
