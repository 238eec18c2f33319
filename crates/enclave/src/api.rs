//! The node ↔ enclave protocol: one JSON object per line over a unix socket that only
//! the service's user can open (mode 0600).
//!
//! ```text
//! → {"op":"identity"}
//! ← {"identity":{"platform":"simulated","x25519_public_key":"…",…}}
//! → {"op":"score","chain_id":"…","height":12,"request":{"request_id":"…","account":"ve1…",
//!    "reference_time":1700000000,"scopes":[{"scope_id":"doc","scope_type":1,"envelope":"<base64>"}]}}
//! ← {"score":{…signed result…}} | {"pending":true} | {"error":"…"}
//! ```

#[cfg(feature = "scorer")]
use crate::service::{Enclave, ScopeIn, ScoreOutcome, ScoreRequest};
#[cfg(feature = "scorer")]
use crate::EnclaveError;
use crate::EnclaveIdentity;
#[cfg(feature = "scorer")]
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
#[cfg(feature = "scorer")]
use std::os::unix::net::UnixListener;
use std::os::unix::net::UnixStream;
#[cfg(feature = "scorer")]
use std::path::Path;
#[cfg(feature = "scorer")]
use std::sync::Arc;
use std::time::Duration;
use ve_proto::virtengine::consensus::v1::EnclaveScore;

/// Longest request line accepted (a request carries up to 50 scopes of ≤ 1 MiB).
const MAX_LINE: usize = 96 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct ScopeJson {
    pub scope_id: String,
    pub scope_type: i32,
    /// Base64 of the sealed envelope.
    pub envelope: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RequestJson {
    pub request_id: String,
    pub account: String,
    pub reference_time: i64,
    pub scopes: Vec<ScopeJson>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Call {
    Identity,
    Score {
        chain_id: String,
        height: u64,
        request: RequestJson,
    },
}

/// A signed result, hex-encoded.
#[derive(Debug, Serialize, Deserialize)]
pub struct ScoreJson {
    pub request_id: String,
    pub account: String,
    pub score: u32,
    pub reason_codes: Vec<String>,
    pub model_version: String,
    pub input_hash: String,
    pub measurement: String,
    pub enclave_pubkey: String,
    pub signature: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<EnclaveIdentity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<ScoreJson>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&EnclaveScore> for ScoreJson {
    fn from(s: &EnclaveScore) -> Self {
        Self {
            request_id: s.request_id.clone(),
            account: s.account.clone(),
            score: s.score,
            reason_codes: s.reason_codes.clone(),
            model_version: s.model_version.clone(),
            input_hash: hex::encode(&s.input_hash),
            measurement: hex::encode(&s.measurement),
            enclave_pubkey: hex::encode(&s.enclave_pubkey),
            signature: hex::encode(&s.signature),
        }
    }
}

impl TryFrom<ScoreJson> for EnclaveScore {
    type Error = String;
    fn try_from(s: ScoreJson) -> Result<Self, String> {
        let h = |v: &str| hex::decode(v).map_err(|e| format!("bad hex from enclave: {e}"));
        Ok(Self {
            input_hash: h(&s.input_hash)?,
            measurement: h(&s.measurement)?,
            enclave_pubkey: h(&s.enclave_pubkey)?,
            signature: h(&s.signature)?,
            request_id: s.request_id,
            account: s.account,
            score: s.score,
            reason_codes: s.reason_codes,
            model_version: s.model_version,
        })
    }
}

#[cfg(feature = "scorer")]
fn handle(enclave: &Enclave, line: &str) -> Reply {
    let call: Call = match serde_json::from_str(line) {
        Ok(c) => c,
        Err(e) => {
            return Reply {
                error: Some(format!("bad request: {e}")),
                ..Reply::default()
            }
        }
    };
    match call {
        Call::Identity => Reply {
            identity: Some(enclave.identity().clone()),
            ..Reply::default()
        },
        Call::Score {
            chain_id,
            height,
            request,
        } => {
            let mut scopes = Vec::with_capacity(request.scopes.len());
            for s in request.scopes {
                match base64::engine::general_purpose::STANDARD.decode(&s.envelope) {
                    Ok(envelope) => scopes.push(ScopeIn {
                        scope_id: s.scope_id,
                        scope_type: s.scope_type,
                        envelope,
                    }),
                    Err(e) => {
                        return Reply {
                            error: Some(format!("scope {}: bad base64: {e}", s.scope_id)),
                            ..Reply::default()
                        }
                    }
                }
            }
            let req = ScoreRequest {
                request_id: request.request_id,
                account: request.account,
                reference_time: request.reference_time,
                scopes,
            };
            match enclave.score(&chain_id, height, &req) {
                ScoreOutcome::Ready(s) => Reply {
                    score: Some(ScoreJson::from(&s)),
                    ..Reply::default()
                },
                ScoreOutcome::Pending => Reply {
                    pending: true,
                    ..Reply::default()
                },
                ScoreOutcome::Failed(e) => Reply {
                    error: Some(e),
                    ..Reply::default()
                },
            }
        }
    }
}

#[cfg(feature = "scorer")]
fn serve_conn(enclave: &Enclave, stream: UnixStream) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match (&mut reader).take(MAX_LINE as u64).read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let reply = handle(enclave, line.trim_end());
        let Ok(mut out) = serde_json::to_vec(&reply) else {
            return;
        };
        out.push(b'\n');
        if writer.write_all(&out).is_err() {
            return;
        }
    }
}

use std::io::Read as _;

#[cfg(feature = "scorer")]
/// Serves `enclave` on `socket` until the process ends (a stale socket file is replaced).
pub fn serve(enclave: Arc<Enclave>, socket: &Path) -> Result<(), EnclaveError> {
    use std::os::unix::fs::PermissionsExt;
    if socket.exists() {
        std::fs::remove_file(socket).map_err(|e| EnclaveError::io(socket, e))?;
    }
    let listener = UnixListener::bind(socket).map_err(|e| EnclaveError::io(socket, e))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| EnclaveError::io(socket, e))?;
    for stream in listener.incoming().flatten() {
        let e = enclave.clone();
        std::thread::spawn(move || serve_conn(&e, stream));
    }
    Ok(())
}

/// The node's side of the socket.
pub struct Client {
    socket: std::path::PathBuf,
    timeout: Duration,
}

impl Client {
    pub fn new(socket: impl Into<std::path::PathBuf>, timeout: Duration) -> Self {
        Self {
            socket: socket.into(),
            timeout,
        }
    }

    fn call(&self, call: &Call) -> Result<Reply, String> {
        let mut s = UnixStream::connect(&self.socket)
            .map_err(|e| format!("enclave service at {}: {e}", self.socket.display()))?;
        s.set_read_timeout(Some(self.timeout))
            .map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(self.timeout))
            .map_err(|e| e.to_string())?;
        let mut line = serde_json::to_vec(call).map_err(|e| e.to_string())?;
        line.push(b'\n');
        s.write_all(&line)
            .map_err(|e| format!("writing to the enclave: {e}"))?;
        let mut reply = String::new();
        BufReader::new(s)
            .take(MAX_LINE as u64)
            .read_line(&mut reply)
            .map_err(|e| format!("reading from the enclave: {e}"))?;
        serde_json::from_str(&reply).map_err(|e| format!("bad reply from the enclave: {e}"))
    }

    pub fn identity(&self) -> Result<EnclaveIdentity, String> {
        let r = self.call(&Call::Identity)?;
        r.identity
            .ok_or_else(|| r.error.unwrap_or_else(|| "no identity in reply".into()))
    }

    /// `Ok(None)` while the enclave is still scoring.
    pub fn score(
        &self,
        chain_id: &str,
        height: u64,
        request: RequestJson,
    ) -> Result<Option<EnclaveScore>, String> {
        let r = self.call(&Call::Score {
            chain_id: chain_id.to_string(),
            height,
            request,
        })?;
        if let Some(e) = r.error {
            return Err(e);
        }
        if r.pending {
            return Ok(None);
        }
        r.score
            .ok_or_else(|| "empty reply from the enclave".to_string())
            .and_then(EnclaveScore::try_from)
            .map(Some)
    }
}
