//! AWS Nitro Enclaves attestation document: a COSE_Sign1 (RFC 9052, tag 18 optional)
//! whose payload is a CBOR map {module_id, digest "SHA384", timestamp (ms), pcrs
//! {index: bstr}, certificate (leaf DER), cabundle [root, …, intermediate], public_key?,
//! user_data?, nonce?}. The signature is ES384 (raw r ‖ s) by the leaf certificate over
//! the COSE Sig_structure ["Signature1", protected, h'', payload]. The chain
//! leaf → cabundle must end at the pinned AWS Nitro root (G1).
//!
//! Measurement = PCR0 (enclave image), signer = PCR8 (signing certificate) when present,
//! report data = user_data. A debug-mode enclave reports all-zero PCRs.

use crate::error::{malformed, AttestationError, Result};
use crate::{x509, Evidence, Platform, TrustAnchors};
use ciborium::Value;
use ring::signature::{UnparsedPublicKey, ECDSA_P384_SHA384_FIXED};

const P: &str = "nitro";
const COSE_ALG_ES384: i128 = -35;
const MAX_PCRS: usize = 32;

/// Parsed, not yet verified, document.
#[derive(Debug)]
pub struct Document {
    pub module_id: String,
    pub timestamp_ms: u64,
    /// (index, value) in index order.
    pub pcrs: Vec<(u64, Vec<u8>)>,
    pub certificate: Vec<u8>,
    pub cabundle: Vec<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
    protected: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn bytes(v: Value, what: &str) -> Result<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(malformed(P, format!("{what} is not a byte string"))),
    }
}

fn opt_bytes(v: Value, what: &str) -> Result<Option<Vec<u8>>> {
    match v {
        Value::Null => Ok(None),
        other => bytes(other, what).map(Some),
    }
}

fn decode(b: &[u8], what: &str) -> Result<Value> {
    ciborium::de::from_reader(b).map_err(|e| malformed(P, format!("{what}: CBOR: {e}")))
}

/// Parses a document without verifying anything (the fuzz target's entry point).
pub fn parse(doc: &[u8]) -> Result<Document> {
    let v = match decode(doc, "COSE_Sign1")? {
        Value::Tag(18, inner) => *inner,
        other => other,
    };
    let Value::Array(parts) = v else {
        return Err(malformed(P, "COSE_Sign1 is not an array"));
    };
    let [protected, _unprotected, payload, signature]: [Value; 4] = parts
        .try_into()
        .map_err(|_| malformed(P, "COSE_Sign1 must have 4 elements"))?;
    let protected = bytes(protected, "protected header")?;
    let payload = bytes(payload, "payload")?;
    let signature = bytes(signature, "signature")?;
    let Value::Map(hdr) = decode(&protected, "protected header")? else {
        return Err(malformed(P, "protected header is not a map"));
    };
    let alg = hdr.iter().find_map(|(k, v)| match (k, v) {
        (Value::Integer(k), Value::Integer(a)) if i128::from(*k) == 1 => Some(i128::from(*a)),
        _ => None,
    });
    if alg != Some(COSE_ALG_ES384) {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: "COSE algorithm is not ES384".into(),
        });
    }
    let Value::Map(fields) = decode(&payload, "payload")? else {
        return Err(malformed(P, "payload is not a map"));
    };
    let mut d = Document {
        module_id: String::new(),
        timestamp_ms: 0,
        pcrs: Vec::new(),
        certificate: Vec::new(),
        cabundle: Vec::new(),
        public_key: None,
        user_data: None,
        nonce: None,
        protected,
        payload,
        signature,
    };
    let mut digest_ok = false;
    for (k, v) in fields {
        let Value::Text(k) = k else {
            return Err(malformed(P, "payload key is not text"));
        };
        match k.as_str() {
            "module_id" => match v {
                Value::Text(s) => d.module_id = s,
                _ => return Err(malformed(P, "module_id is not text")),
            },
            "digest" => digest_ok = v == Value::Text("SHA384".into()),
            "timestamp" => {
                d.timestamp_ms = match v {
                    Value::Integer(i) => {
                        u64::try_from(i).map_err(|_| malformed(P, "timestamp out of range"))?
                    }
                    _ => return Err(malformed(P, "timestamp is not an integer")),
                }
            }
            "pcrs" => {
                let Value::Map(m) = v else {
                    return Err(malformed(P, "pcrs is not a map"));
                };
                if m.len() > MAX_PCRS {
                    return Err(malformed(P, "too many PCRs"));
                }
                for (i, val) in m {
                    let Value::Integer(i) = i else {
                        return Err(malformed(P, "PCR index is not an integer"));
                    };
                    let i = u64::try_from(i).map_err(|_| malformed(P, "PCR index"))?;
                    d.pcrs.push((i, bytes(val, "PCR value")?));
                }
                d.pcrs.sort_by_key(|(i, _)| *i);
            }
            "certificate" => d.certificate = bytes(v, "certificate")?,
            "cabundle" => {
                let Value::Array(a) = v else {
                    return Err(malformed(P, "cabundle is not an array"));
                };
                if a.len() >= x509::MAX_CHAIN_LEN {
                    return Err(malformed(P, "cabundle too long"));
                }
                d.cabundle = a
                    .into_iter()
                    .map(|c| bytes(c, "cabundle entry"))
                    .collect::<Result<_>>()?;
            }
            "public_key" => d.public_key = opt_bytes(v, "public_key")?,
            "user_data" => d.user_data = opt_bytes(v, "user_data")?,
            "nonce" => d.nonce = opt_bytes(v, "nonce")?,
            _ => {}
        }
    }
    if !digest_ok {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: "digest is not SHA384".into(),
        });
    }
    if d.certificate.is_empty() || d.cabundle.is_empty() {
        return Err(malformed(P, "certificate or cabundle missing"));
    }
    Ok(d)
}

fn sig_structure(protected: &[u8], payload: &[u8]) -> Result<Vec<u8>> {
    let v = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]);
    let mut out = Vec::with_capacity(payload.len().saturating_add(64));
    ciborium::ser::into_writer(&v, &mut out)
        .map_err(|e| malformed(P, format!("Sig_structure: {e}")))?;
    Ok(out)
}

/// Verifies a document at unix time `at` against the pinned AWS roots.
pub fn verify(doc: &[u8], anchors: &TrustAnchors, at: i64) -> Result<Evidence> {
    let d = parse(doc)?;
    let mut chain = Vec::with_capacity(d.cabundle.len().saturating_add(1));
    chain.push(d.certificate.clone());
    chain.extend(d.cabundle.iter().rev().cloned());
    let leaf = x509::verify_chain(P, &chain, &anchors.nitro_roots, at)?;
    if leaf.leaf_curve != x509::Curve::P384 {
        return Err(AttestationError::BadChain {
            platform: P,
            reason: "signing certificate key is not P-384".into(),
        });
    }
    let tbs = sig_structure(&d.protected, &d.payload)?;
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &leaf.leaf_key)
        .verify(&tbs, &d.signature)
        .map_err(|_| AttestationError::BadSignature {
            platform: P,
            what: "the COSE_Sign1 document (leaf certificate)",
        })?;
    let pcr = |i: u64| d.pcrs.iter().find(|(k, _)| *k == i).map(|(_, v)| v.clone());
    let pcr0 = pcr(0).ok_or_else(|| malformed(P, "PCR0 missing"))?;
    Ok(Evidence {
        platform: Platform::Nitro,
        debug: pcr0.iter().all(|b| *b == 0),
        measurement: pcr0,
        signer: pcr(8).unwrap_or_default(),
        report_data: d.user_data.clone().unwrap_or_default(),
        product_id: 0,
        svn: 0,
        not_after: leaf.not_after,
    })
}
