//! The node's ScoreSource: its enclave service over the unix socket.
//!
//! ExtendVote runs outside the replicated state machine (each validator's extension is
//! its own), so waiting here on wall-clock time is allowed: it only delays this
//! validator's vote.

#![allow(clippy::disallowed_methods)] // Instant::now: a wait budget for the local enclave.

use base64::Engine as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ve_app::scoring::proto::EnclaveScore;
use ve_app::scoring::{ScoreSource, ScoringRequest};
use ve_enclave::api::{Client, RequestJson, ScopeJson};

/// How long ExtendVote waits for the enclave per call; scoring itself runs in the
/// background there, so this only bounds a hung socket.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one ExtendVote waits in total for requests the enclave is still scoring.
/// Scoring a document and a selfie takes about a second; waiting for it puts a fresh
/// request into this height's extension (its score finalizes in the next block) instead
/// of the next height's, while a slow or stuck enclave delays this validator's vote by at
/// most this much. What is not ready by then is asked for again at the next height.
const SCORING_WAIT: Duration = Duration::from_secs(4);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

pub struct EnclaveSource {
    client: Client,
    /// The height being extended and when its wait budget runs out.
    deadline: Mutex<Option<(u64, Instant)>>,
}

impl EnclaveSource {
    pub fn new(socket: &str) -> Self {
        Self {
            client: Client::new(socket, CALL_TIMEOUT),
            deadline: Mutex::new(None),
        }
    }

    /// The end of `height`'s wait budget (set by its first request).
    fn deadline(&self, height: u64) -> Instant {
        let now = Instant::now();
        let Ok(mut d) = self.deadline.lock() else {
            return now;
        };
        match *d {
            Some((h, at)) if h == height => at,
            _ => {
                let at = now + SCORING_WAIT;
                *d = Some((height, at));
                at
            }
        }
    }
}

impl ScoreSource for EnclaveSource {
    fn score(
        &self,
        chain_id: &str,
        height: u64,
        r: &ScoringRequest,
    ) -> Result<EnclaveScore, String> {
        let envelopes: Vec<String> = r
            .scopes
            .iter()
            .map(|s| base64::engine::general_purpose::STANDARD.encode(&s.envelope))
            .collect();
        let request = || RequestJson {
            request_id: r.request_id.clone(),
            account: r.account.clone(),
            reference_time: r.reference_time,
            scopes: r
                .scopes
                .iter()
                .zip(&envelopes)
                .map(|(s, envelope)| ScopeJson {
                    scope_id: s.scope_id.clone(),
                    scope_type: s.scope_type,
                    envelope: envelope.clone(),
                })
                .collect(),
        };
        let deadline = self.deadline(height);
        loop {
            if let Some(score) = self.client.score(chain_id, height, request())? {
                return Ok(score);
            }
            if Instant::now() >= deadline {
                return Err("the enclave is still scoring this request".to_string());
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}
