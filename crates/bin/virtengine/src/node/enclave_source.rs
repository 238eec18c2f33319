//! The node's ScoreSource: its enclave service over the unix socket.

use base64::Engine as _;
use std::time::Duration;
use ve_app::scoring::proto::EnclaveScore;
use ve_app::scoring::{ScoreSource, ScoringRequest};
use ve_enclave::api::{Client, RequestJson, ScopeJson};

/// How long ExtendVote waits for the enclave per request; scoring itself runs in the
/// background there, so this only bounds a hung socket.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

pub struct EnclaveSource(Client);

impl EnclaveSource {
    pub fn new(socket: &str) -> Self {
        Self(Client::new(socket, CALL_TIMEOUT))
    }
}

impl ScoreSource for EnclaveSource {
    fn score(
        &self,
        chain_id: &str,
        height: u64,
        r: &ScoringRequest,
    ) -> Result<EnclaveScore, String> {
        let request = RequestJson {
            request_id: r.request_id.clone(),
            account: r.account.clone(),
            reference_time: r.reference_time,
            scopes: r
                .scopes
                .iter()
                .map(|s| ScopeJson {
                    scope_id: s.scope_id.clone(),
                    scope_type: s.scope_type,
                    envelope: base64::engine::general_purpose::STANDARD.encode(&s.envelope),
                })
                .collect(),
        };
        self.0
            .score(chain_id, height, request)?
            .ok_or_else(|| "the enclave is still scoring this request".to_string())
    }
}
