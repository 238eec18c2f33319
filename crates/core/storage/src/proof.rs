//! ICS-23 proof specification and verification helpers for this store's proofs.

use ics23::{CommitmentProof, HostFunctionsManager, ProofSpec};

/// The ICS-23 spec of the JMT (SHA-256, jmt's leaf/internal domain separators). Light
/// clients (e.g. IBC) verify [`crate::Snapshot::get_with_proof`] proofs against this spec.
pub fn ics23_spec() -> ProofSpec {
    jmt::ics23_spec()
}

/// True if `proof` shows `key = value` under `root`.
pub fn verify_membership(
    proof: &CommitmentProof,
    root: &[u8; 32],
    key: &[u8],
    value: &[u8],
) -> bool {
    ics23::verify_membership::<HostFunctionsManager>(
        proof,
        &ics23_spec(),
        &root.to_vec(),
        key,
        value,
    )
}

/// True if `proof` shows `key` is absent under `root`.
pub fn verify_non_membership(proof: &CommitmentProof, root: &[u8; 32], key: &[u8]) -> bool {
    ics23::verify_non_membership::<HostFunctionsManager>(proof, &ics23_spec(), &root.to_vec(), key)
}
