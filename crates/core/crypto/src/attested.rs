//! The bytes an identity-scoring enclave signs for one result (the enclave service signs,
//! the chain verifies: one definition for both). The chain id and height are bound in, so a
//! result cannot be replayed on another chain or at another height; every field the
//! chain acts on is bound, so none can be changed after signing.

use sha2::{Digest, Sha256};
use ve_proto::virtengine::consensus::v1::EnclaveScore;

const DOMAIN: &[u8] = b"virtengine/enclave-score/v1";

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// SHA-256 over the domain tag and every bound field, each length-prefixed.
pub fn score_sign_bytes(chain_id: &str, height: u64, s: &EnclaveScore) -> [u8; 32] {
    let mut h = Sha256::new();
    field(&mut h, DOMAIN);
    field(&mut h, chain_id.as_bytes());
    h.update(height.to_be_bytes());
    field(&mut h, s.request_id.as_bytes());
    field(&mut h, s.account.as_bytes());
    h.update(s.score.to_be_bytes());
    h.update((s.reason_codes.len() as u64).to_be_bytes());
    for r in &s.reason_codes {
        field(&mut h, r.as_bytes());
    }
    field(&mut h, s.model_version.as_bytes());
    field(&mut h, &s.input_hash);
    field(&mut h, &s.measurement);
    field(&mut h, &s.enclave_pubkey);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EnclaveScore {
        EnclaveScore {
            request_id: "r1".into(),
            account: "ve1x".into(),
            score: 80,
            reason_codes: vec!["SUCCESS".into()],
            model_version: "ab".into(),
            input_hash: vec![1; 32],
            measurement: vec![2; 32],
            enclave_pubkey: vec![3; 32],
            signature: vec![],
        }
    }

    #[test]
    fn every_bound_field_changes_the_sign_bytes() {
        let base = score_sign_bytes("c", 5, &sample());
        type Edit = Box<dyn Fn(&mut EnclaveScore)>;
        let edits: Vec<Edit> = vec![
            Box::new(|s| s.request_id.push('x')),
            Box::new(|s| s.account.push('x')),
            Box::new(|s| s.score += 1),
            Box::new(|s| s.reason_codes.push("X".into())),
            Box::new(|s| s.model_version.push('x')),
            Box::new(|s| s.input_hash[0] ^= 1),
            Box::new(|s| s.measurement[0] ^= 1),
            Box::new(|s| s.enclave_pubkey[0] ^= 1),
        ];
        for (i, e) in edits.iter().enumerate() {
            let mut s = sample();
            e(&mut s);
            assert_ne!(score_sign_bytes("c", 5, &s), base, "edit {i}");
        }
        assert_ne!(score_sign_bytes("c", 6, &sample()), base);
        assert_ne!(score_sign_bytes("d", 5, &sample()), base);
        // The signature itself is not signed.
        let mut s = sample();
        s.signature = vec![9; 64];
        assert_eq!(score_sign_bytes("c", 5, &s), base);
    }
}
