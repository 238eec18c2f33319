//! VirtEngine's simulated platform. It proves NOTHING about hardware: anyone holding the
//! simulated platform key can produce any measurement. It exists so that localnets and
//! tests run the same registration path without a TEE, and the chain accepts it only
//! while `params.allow_simulated` is true (false in the mainnet genesis template).
//!
//! Format (fixed binary, 178 bytes):
//! ```text
//! 0    magic        "VE-SIMULATED-TEE" (16 ASCII bytes)
//! 16   version      u16 big-endian = 1
//! 18   measurement  32 bytes
//! 50   report_data  64 bytes
//! 114  signature    64 bytes: Ed25519 by the simulated platform key over bytes 0..114
//! ```

use crate::error::{malformed, AttestationError, Result};
use crate::{Evidence, Platform, TrustAnchors};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

const P: &str = "simulated";
pub const MAGIC: &[u8; 16] = b"VE-SIMULATED-TEE";
pub const VERSION: u16 = 1;
pub const REPORT_LEN: usize = 178;
const SIGNED_LEN: usize = 114;

/// Parsed, not yet verified, report: (measurement, report data, signature).
pub fn parse(report: &[u8]) -> Result<([u8; 32], [u8; 64], [u8; 64])> {
    if report.len() != REPORT_LEN {
        return Err(malformed(
            P,
            format!("report is {} bytes; expected {REPORT_LEN}", report.len()),
        ));
    }
    if &report[..16] != MAGIC {
        return Err(malformed(P, "bad magic"));
    }
    let version = u16::from_be_bytes([report[16], report[17]]);
    if version != VERSION {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!("version {version}; only 1 is supported"),
        });
    }
    let mut m = [0u8; 32];
    m.copy_from_slice(&report[18..50]);
    let mut d = [0u8; 64];
    d.copy_from_slice(&report[50..114]);
    let mut s = [0u8; 64];
    s.copy_from_slice(&report[114..178]);
    Ok((m, d, s))
}

/// Builds a simulated report (used by the enclave service in simulated mode and by tests).
pub fn sign(platform_key: &SigningKey, measurement: &[u8; 32], report_data: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(REPORT_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(measurement);
    out.extend_from_slice(report_data);
    let sig = platform_key.sign(&out);
    out.extend_from_slice(&sig.to_bytes());
    out
}

pub fn verify(report: &[u8], anchors: &TrustAnchors) -> Result<Evidence> {
    if !anchors.allow_simulated {
        return Err(AttestationError::SimulatedNotAllowed);
    }
    let key = anchors
        .simulated_key
        .ok_or(AttestationError::NoSimulatedKey)?;
    let (measurement, report_data, sig) = parse(report)?;
    let vk = VerifyingKey::from_bytes(&key).map_err(|_| AttestationError::BadChain {
        platform: P,
        reason: "the simulated platform key is not a valid Ed25519 key".into(),
    })?;
    vk.verify_strict(&report[..SIGNED_LEN], &Signature::from_bytes(&sig))
        .map_err(|_| AttestationError::BadSignature {
            platform: P,
            what: "the simulated report (simulated platform key)",
        })?;
    Ok(Evidence {
        platform: Platform::Simulated,
        measurement: measurement.to_vec(),
        signer: Vec::new(),
        report_data: report_data.to_vec(),
        debug: false,
        product_id: 0,
        svn: 0,
        not_after: i64::MAX,
    })
}
