//! The enclave service's JSON protocol on untrusted lines (`ve_enclave::api`): the
//! requests a process that can reach the socket sends (`Call`, with base64 envelopes) and
//! the replies the node reads back (`Reply`, whose hex fields become an `EnclaveScore`).
//! Never a panic; whatever parses re-serialises and parses to the same value.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use ve_enclave::api::{Call, Reply};
use ve_fuzz::write_seeds;
use ve_proto::virtengine::consensus::v1::EnclaveScore;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let h = |b: u8| hex::encode([b; 32]);
    vec![
        ("identity".into(), br#"{"op":"identity"}"#.to_vec()),
        (
            "score".into(),
            br#"{"op":"score","chain_id":"virtengine-1","height":12,"request":{"request_id":"0123456789abcdef0123456789abcdef","account":"ve1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du","reference_time":1700000000,"scopes":[{"scope_id":"doc","scope_type":1,"envelope":"aGVsbG8="}]}}"#.to_vec(),
        ),
        (
            "reply-score".into(),
            format!(
                r#"{{"score":{{"request_id":"r","account":"a","score":80,"reason_codes":["SUCCESS"],"model_version":"v1","input_hash":"{}","measurement":"{}","enclave_pubkey":"{}","signature":"{}{}"}}}}"#,
                h(1), h(2), h(3), h(4), h(5)
            )
            .into_bytes(),
        ),
        (
            "reply-identity".into(),
            format!(
                r#"{{"identity":{{"platform":"simulated","x25519_public_key":"{}","signing_public_key":"{}","measurement":"{}","model_hash":"{}"}}}}"#,
                h(1), h(2), h(3), h(4)
            )
            .into_bytes(),
        ),
        ("reply-pending".into(), br#"{"pending":true}"#.to_vec()),
    ]
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let Ok(line) = std::str::from_utf8(data) else {
            return;
        };
        // Service side: a request line.
        if let Ok(call) = serde_json::from_str::<Call>(line) {
            if let Ok(again) = serde_json::to_string(&call) {
                let back = serde_json::from_str::<Call>(&again);
                assert!(back.is_ok(), "a parsed request does not round-trip: {again}");
            }
            if let Call::Score { request, .. } = call {
                for s in &request.scopes {
                    let _ = base64::engine::general_purpose::STANDARD.decode(&s.envelope);
                }
            }
        }
        // Node side: a reply line.
        if let Ok(reply) = serde_json::from_str::<Reply>(line) {
            if let Ok(again) = serde_json::to_string(&reply) {
                assert!(serde_json::from_str::<Reply>(&again).is_ok(), "reply round-trip: {again}");
            }
            if let Some(s) = reply.score {
                if let Ok(e) = EnclaveScore::try_from(s) {
                    let back = ve_enclave::api::ScoreJson::from(&e);
                    assert_eq!(EnclaveScore::try_from(back).ok(), Some(e));
                }
            }
        }
    }
);
