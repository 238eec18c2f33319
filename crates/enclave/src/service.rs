//! Scoring inside the enclave: open the request's scopes, run the models, wipe the
//! plaintext, sign the result.
//!
//! Scoring takes longer than a consensus step may wait, so it runs on a worker thread:
//! the first `score` call for a request queues it and answers [`ScoreOutcome::Pending`];
//! later calls (the next heights' vote extensions) answer from the cache, signed for the
//! height asked. Only the integer result is cached — never plaintext.

use crate::sealing::Home;
use crate::{EnclaveError, EnclaveIdentity, ScoreOffset};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use ve_crypto::attested::score_sign_bytes;
use ve_crypto::envelope::{open, RecipientSecretKey};
use ve_proto::virtengine::consensus::v1::EnclaveScore;
use ve_proto::virtengine::identity::v1::ScopeType;
use ve_scoring::{Scorer, ScoringInput};

/// Domain of the simulated measurement.
const SIM_MEASUREMENT_DOMAIN: &[u8] = b"virtengine/enclave-sim-measurement/v1";
/// Results kept for requests (a finished request leaves the chain's queue and is no
/// longer asked for; the oldest entries are dropped beyond this).
const CACHE_LIMIT: usize = 4096;

/// One sealed scope of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeIn {
    pub scope_id: String,
    pub scope_type: i32,
    pub envelope: Vec<u8>,
}

/// A verification request as the node forwards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreRequest {
    pub request_id: String,
    pub account: String,
    /// Block time of the request (the date expiry and age are judged against).
    pub reference_time: i64,
    pub scopes: Vec<ScopeIn>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScoreOutcome {
    Ready(EnclaveScore),
    /// Queued or being scored: ask again at a later height.
    Pending,
    /// This enclave cannot score the request (e.g. the scopes are not sealed to it).
    Failed(String),
}

#[derive(Clone, Debug)]
enum Computed {
    Done {
        account: String,
        score: u32,
        reason_codes: Vec<String>,
        input_hash: [u8; 32],
    },
    Failed(String),
    Queued,
}

pub struct Enclave {
    x25519: RecipientSecretKey,
    signing: SigningKey,
    identity: EnclaveIdentity,
    scorer: Scorer,
    cache: Mutex<BTreeMap<String, Computed>>,
    work: Mutex<Option<mpsc::Sender<ScoreRequest>>>,
    /// Test fault: sign deviant scores ([`Enclave::sign_deviant_scores`]).
    deviant: OnceLock<ScoreOffset>,
}

impl Enclave {
    /// Unseals the keys in `home`, loads the models in `models`, and starts the worker.
    pub fn open(home: &Path, models: &Path) -> Result<Arc<Self>, EnclaveError> {
        let secrets = Home(home.to_path_buf()).unseal()?;
        let scorer = Scorer::load(models).map_err(|e| EnclaveError::Models(e.to_string()))?;
        let exe = std::env::current_exe().map_err(|e| EnclaveError::io(Path::new("."), e))?;
        let binary = std::fs::read(&exe).map_err(|e| EnclaveError::io(&exe, e))?;
        let enclave = Arc::new(Self::new(&secrets, scorer, Sha256::digest(&binary).into()));
        let (tx, rx) = mpsc::channel::<ScoreRequest>();
        if let Ok(mut w) = enclave.work.lock() {
            *w = Some(tx);
        }
        let worker = Arc::downgrade(&enclave);
        std::thread::Builder::new()
            .name("enclave-scorer".into())
            .spawn(move || {
                while let Ok(req) = rx.recv() {
                    let Some(e) = worker.upgrade() else { break };
                    let c = e.compute(&req);
                    e.remember(&req.request_id, c);
                }
            })
            .map_err(|e| EnclaveError::io(home, e))?;
        Ok(enclave)
    }

    fn new(secrets: &crate::sealing::Secrets, scorer: Scorer, binary_digest: [u8; 32]) -> Self {
        let x25519 = RecipientSecretKey::from_bytes(*secrets.x25519);
        let signing = SigningKey::from_bytes(&secrets.ed25519);
        let model_hash = scorer.model_hash();
        let mut m = Sha256::new();
        m.update(SIM_MEASUREMENT_DOMAIN);
        m.update(binary_digest);
        m.update(model_hash);
        let identity = EnclaveIdentity {
            platform: "simulated".into(),
            x25519_public_key: *x25519.public_key().as_bytes(),
            signing_public_key: signing.verifying_key().to_bytes(),
            measurement: m.finalize().into(),
            model_hash,
        };
        Self {
            x25519,
            signing,
            identity,
            scorer,
            cache: Mutex::new(BTreeMap::new()),
            work: Mutex::new(None),
            deviant: OnceLock::new(),
        }
    }

    pub fn identity(&self) -> &EnclaveIdentity {
        &self.identity
    }

    /// The keys the one-time-code verifier this service hosts works with (`enclave run
    /// --otp-listen`): this enclave's own, so TOTP / email secrets sealed to the enclave
    /// open here, and the chain checks attestations against this enclave's registered
    /// signing key under `operator`, the validator operator it is registered for.
    pub fn otp_verifier_keys(&self, operator: &ve_types::Address) -> ve_mfa_verifier::VerifierKeys {
        ve_mfa_verifier::VerifierKeys::for_enclave(
            operator,
            self.signing.clone(),
            self.x25519.clone(),
        )
    }

    /// FAULT INJECTION (tests of the scoring consensus only): from now on every result
    /// carries `(score + offset) mod 101`, correctly signed, instead of the score the
    /// models computed. Refused unless this enclave runs on the simulated platform.
    pub fn sign_deviant_scores(&self, offset: u32) -> Result<ScoreOffset, EnclaveError> {
        let fault = ScoreOffset::new(offset, &self.identity.platform)?;
        self.deviant
            .set(fault)
            .map_err(|_| EnclaveError::FaultRefused("a score offset is already set".into()))?;
        tracing::warn!(
            offset,
            "FAULT INJECTION: this enclave signs DEVIANT scores (score + {offset} mod 101); test use only"
        );
        Ok(fault)
    }

    fn remember(&self, id: &str, c: Computed) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT && !cache.contains_key(id) {
                if let Some(first) = cache.keys().next().cloned() {
                    cache.remove(&first);
                }
            }
            cache.insert(id.to_string(), c);
        }
    }

    /// The signed result for `req` at `height`, or `Pending` while it is being scored.
    pub fn score(&self, chain_id: &str, height: u64, req: &ScoreRequest) -> ScoreOutcome {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&req.request_id).cloned());
        match cached {
            Some(Computed::Done {
                account,
                score,
                reason_codes,
                input_hash,
            }) if account == req.account => ScoreOutcome::Ready(self.sign(
                chain_id,
                height,
                &req.request_id,
                account,
                score,
                reason_codes,
                input_hash,
            )),
            Some(Computed::Done { .. }) => {
                ScoreOutcome::Failed("request id reused for another account".into())
            }
            Some(Computed::Failed(e)) => ScoreOutcome::Failed(e),
            Some(Computed::Queued) => ScoreOutcome::Pending,
            None => {
                self.remember(&req.request_id, Computed::Queued);
                let sent = self
                    .work
                    .lock()
                    .ok()
                    .and_then(|w| w.as_ref().map(|tx| tx.send(req.clone()).is_ok()))
                    .unwrap_or(false);
                if !sent {
                    // No worker (tests): score inline.
                    let c = self.compute(req);
                    self.remember(&req.request_id, c);
                    return self.score(chain_id, height, req);
                }
                ScoreOutcome::Pending
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sign(
        &self,
        chain_id: &str,
        height: u64,
        request_id: &str,
        account: String,
        score: u32,
        reason_codes: Vec<String>,
        input_hash: [u8; 32],
    ) -> EnclaveScore {
        let score = match self.deviant.get() {
            Some(fault) => {
                let deviant = fault.apply(score);
                tracing::warn!(
                    request = request_id,
                    score,
                    deviant,
                    "FAULT INJECTION: signing a deviant score"
                );
                deviant
            }
            None => score,
        };
        let mut s = EnclaveScore {
            request_id: request_id.to_string(),
            account,
            score,
            reason_codes,
            model_version: hex::encode(self.identity.model_hash),
            input_hash: input_hash.to_vec(),
            measurement: self.identity.measurement.to_vec(),
            enclave_pubkey: self.identity.signing_public_key.to_vec(),
            signature: vec![],
        };
        s.signature = self
            .signing
            .sign(&score_sign_bytes(chain_id, height, &s))
            .to_bytes()
            .to_vec();
        s
    }

    /// Decrypts and scores; plaintext lives only inside this call (zeroized on drop).
    fn compute(&self, req: &ScoreRequest) -> Computed {
        let mut document = None;
        let mut selfie = None;
        for s in &req.scopes {
            let opened = match open(&s.envelope, &self.x25519) {
                Ok(o) => o,
                Err(e) => {
                    return Computed::Failed(format!(
                        "scope {} is not sealed to this enclave: {e}",
                        s.scope_id
                    ))
                }
            };
            if s.scope_type == ScopeType::IdDocument as i32 && document.is_none() {
                document = Some(opened.payload);
            } else if s.scope_type == ScopeType::Selfie as i32 && selfie.is_none() {
                selfie = Some(opened.payload);
            }
        }
        let reference_date = crate::date::yyyymmdd(req.reference_time);
        let (Some(document), Some(selfie)) = (document, selfie) else {
            let mut h = Sha256::new();
            h.update(req.account.as_bytes());
            for s in &req.scopes {
                h.update(Sha256::digest(&s.envelope));
            }
            return Computed::Done {
                account: req.account.clone(),
                score: 0,
                reason_codes: vec!["INSUFFICIENT_SCOPES".into()],
                input_hash: h.finalize().into(),
            };
        };
        let input = ScoringInput {
            document_image: &document,
            selfie_image: &selfie,
            reference_date,
            claimed_name: None,
            claimed_date_of_birth: None,
        };
        match self.scorer.score(&input) {
            Ok(r) => Computed::Done {
                account: req.account.clone(),
                score: u32::from(r.score),
                reason_codes: r
                    .reason_codes
                    .iter()
                    .map(|c| c.as_str().to_string())
                    .collect(),
                input_hash: r.input_hash,
            },
            Err(e) => {
                tracing::info!(request = %req.request_id, error = %e, "scoring failed: score 0");
                Computed::Done {
                    account: req.account.clone(),
                    score: 0,
                    reason_codes: vec!["UNREADABLE_INPUT".into()],
                    input_hash: ve_scoring::input_hash(&input),
                }
            }
        }
    }
}
