//! Identity scoring consensus (DESIGN §2.5; spec §6.1 steps 9-12): how enclave scores
//! become state without any single key deciding them.
//!
//! 1. `ExtendVote(H)`: the node asks its enclave service ([`ScoreSource`]) to score up to
//!    [`MAX_REQUESTS_PER_BLOCK`] queued verification requests and puts the enclave-signed
//!    results in its vote extension ([`extension::build`]).
//! 2. `VerifyVoteExtension(H)`: structure, height, request still open, and each enclave
//!    signature against the sending validator's registered enclave
//!    ([`extension::verify`]). Never a judgement on the score itself.
//! 3. `PrepareProposal(H+1)`: the proposer aggregates the extensions of the commit of H
//!    ([`aggregate::aggregate`]: power-weighted median, agreement within
//!    [`SCORE_TOLERANCE`], quorum of more than 2/3 of the voting power) and injects the
//!    extended commit and the results as the block's first transaction ([`inject`]).
//! 4. `ProcessProposal(H+1)` and `FinalizeBlock(H+1)`: every node re-verifies the
//!    extension signatures (CometBFT's canonical vote-extension bytes, validator keys from
//!    InitChain), checks the votes are exactly the block's last commit, re-aggregates and
//!    compares. FinalizeBlock then applies the results through the identity keeper.

pub mod aggregate;
pub mod extension;
pub mod fault;
pub mod inject;
mod node;
pub mod validators;

use ve_module::Context;
use ve_types::AppError;

pub use ve_proto::virtengine::consensus::v1 as proto;

/// Requests scored per block (spec: ≤ 10).
pub const MAX_REQUESTS_PER_BLOCK: usize = 10;
/// Scores within this many points of the median agree (spec docs: ±2 points).
pub const SCORE_TOLERANCE: u32 = 2;
/// Largest vote extension accepted.
pub const MAX_EXTENSION_BYTES: usize = 64 * 1024;
/// Marks the injected transaction. `0xff` can never start a protobuf `TxRaw` (field 31,
/// wire type 7 does not exist), so no user transaction decodes with this prefix, and the
/// mempool refuses anything that starts with it.
pub const INJECTED_PREFIX: &[u8] = b"\xffVEID-SCORES/1";

/// One scope as the enclave receives it: still sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeInput {
    pub scope_id: String,
    pub scope_type: i32,
    pub envelope: Vec<u8>,
}

/// A queued verification request, with its scopes, as the enclave service scores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoringRequest {
    pub request_id: String,
    pub account: String,
    pub scopes: Vec<ScopeInput>,
    /// Block time (unix seconds) at which the request was made: the date document expiry
    /// and age are judged against (never the enclave's own clock).
    pub reference_time: i64,
}

/// The node's local enclave service. Runs outside consensus (ExtendVote), so it may be
/// slow, fail or disagree: a failure just leaves the request out of this vote extension.
pub trait ScoreSource: Send + Sync {
    /// Scores `request` for a vote extension at `height`; the result must be signed over
    /// [`sign::score_sign_bytes`] for `(chain_id, height)`.
    fn score(
        &self,
        chain_id: &str,
        height: u64,
        request: &ScoringRequest,
    ) -> Result<proto::EnclaveScore, String>;
}

/// A validator's enclave as consensus sees it: registered, unexpired, allow-listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnclaveView {
    /// The current signing key, and during a rotation overlap the previous one.
    pub signing_keys: Vec<[u8; 32]>,
    pub measurement: Vec<u8>,
}

/// The enclave registry, read deterministically from state.
pub trait EnclaveDirectory: Send + Sync {
    /// The enclave of the validator with consensus address `validator`, if it may sign
    /// results at the current block.
    fn enclave_of(
        &self,
        ctx: &mut Context<'_>,
        validator: &[u8; 20],
    ) -> Result<Option<EnclaveView>, AppError>;
}
