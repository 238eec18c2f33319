//! AMD SEV-SNP attestation report (versions 2 and 3; AMD SEV-SNP ABI spec, Table 22),
//! signed with ECDSA P-384 / SHA-384 by the chip's VCEK, whose chain is
//! VCEK → ASK → ARK (RSASSA-PSS); the ARK must be a pinned AMD root (Milan or Genoa).
//!
//! Layout used: version u32 @0x00, guest_svn u32 @0x04, policy u64 @0x08 (bit 19 = debug
//! allowed), signature_algo u32 @0x34 (1 = ECDSA P-384 SHA-384), flags u32 @0x48 (bits
//! 2..4: signing key, 0 = VCEK), report_data[64] @0x50, measurement[48] @0x90,
//! id_key_digest[48] @0xE0, chip_id[64] @0x1A0, signature @0x2A0 (r[72] ‖ s[72], little
//! endian); the signed part is bytes 0x000..0x2A0. Report size 0x4A0.
//!
//! Also checked: the VCEK's hwID extension equals the report's CHIP_ID. Not checked: the
//! VCEK's TCB extensions against REPORTED_TCB, and the ASK/VCEK CRL (needs AMD KDS).

use crate::error::{malformed, AttestationError, Result};
use crate::{x509, Evidence, Platform, TrustAnchors};
use ring::signature::{UnparsedPublicKey, ECDSA_P384_SHA384_FIXED};

const P: &str = "sev-snp";
pub const REPORT_LEN: usize = 0x4A0;
const SIGNED_LEN: usize = 0x2A0;
const POLICY_DEBUG: u64 = 1 << 19;
const OID_HWID: &str = "1.3.6.1.4.1.3704.1.4";

/// Parsed, not yet verified, report.
pub struct Report<'a> {
    pub version: u32,
    pub guest_svn: u32,
    pub policy: u64,
    pub report_data: &'a [u8],
    pub measurement: &'a [u8],
    pub id_key_digest: &'a [u8],
    pub chip_id: &'a [u8],
    signed: &'a [u8],
    /// Big-endian r ‖ s, 96 bytes.
    signature: Vec<u8>,
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

fn le_scalar_to_be(le: &[u8]) -> Result<[u8; 48]> {
    // 72-byte little-endian field; a P-384 scalar uses the low 48 bytes.
    if le[48..].iter().any(|b| *b != 0) {
        return Err(malformed(P, "signature component wider than 384 bits"));
    }
    let mut be = [0u8; 48];
    for (i, b) in le[..48].iter().enumerate() {
        be[47 - i] = *b;
    }
    Ok(be)
}

/// Parses a report without verifying anything (the fuzz target's entry point).
pub fn parse(report: &[u8]) -> Result<Report<'_>> {
    if report.len() != REPORT_LEN {
        return Err(malformed(
            P,
            format!("report is {} bytes; expected {REPORT_LEN}", report.len()),
        ));
    }
    let version = u32_at(report, 0x00);
    if !(2..=3).contains(&version) {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!("report version {version}; versions 2 and 3 are supported"),
        });
    }
    let algo = u32_at(report, 0x34);
    if algo != 1 {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!(
                "signature algorithm {algo}; only 1 (ECDSA P-384 SHA-384) is supported"
            ),
        });
    }
    let signing_key = (u32_at(report, 0x48) >> 2) & 0x7;
    if signing_key != 0 {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: "report is not signed by a VCEK (VLEK reports are not supported)".into(),
        });
    }
    let mut policy = [0u8; 8];
    policy.copy_from_slice(&report[0x08..0x10]);
    let mut signature = Vec::with_capacity(96);
    signature.extend_from_slice(&le_scalar_to_be(&report[0x2A0..0x2E8])?);
    signature.extend_from_slice(&le_scalar_to_be(&report[0x2E8..0x330])?);
    Ok(Report {
        version,
        guest_svn: u32_at(report, 0x04),
        policy: u64::from_le_bytes(policy),
        report_data: &report[0x50..0x90],
        measurement: &report[0x90..0xC0],
        id_key_digest: &report[0xE0..0x110],
        chip_id: &report[0x1A0..0x1E0],
        signed: &report[..SIGNED_LEN],
        signature,
    })
}

fn vcek_hwid(der: &[u8]) -> Result<Option<Vec<u8>>> {
    let cert = x509::parse(P, der)?;
    for ext in cert.extensions() {
        if ext.oid.to_id_string() == OID_HWID {
            let v = ext.value;
            // The value is an OCTET STRING (04 40 ‖ 64 bytes); accept the bare 64 bytes too.
            let raw = match v {
                [0x04, 0x40, rest @ ..] if rest.len() == 64 => rest,
                _ if v.len() == 64 => v,
                _ => return Err(malformed(P, "VCEK hwID extension is not 64 bytes")),
            };
            return Ok(Some(raw.to_vec()));
        }
    }
    Ok(None)
}

/// Verifies `report` with `chain` = [VCEK, ASK] or [VCEK, ASK, ARK] (DER) at unix time `at`.
pub fn verify(
    report: &[u8],
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: i64,
) -> Result<Evidence> {
    let r = parse(report)?;
    let verified = match chain.len() {
        2 => {
            // The ARK is pinned: try each pinned root as the chain's end.
            let mut last = AttestationError::UntrustedRoot { platform: P };
            let mut ok = None;
            for ark in &anchors.snp_arks {
                let mut full = chain.to_vec();
                full.push(ark.clone());
                match x509::verify_chain(P, &full, &anchors.snp_arks, at) {
                    Ok(v) => {
                        ok = Some(v);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            ok.ok_or(last)?
        }
        3 => x509::verify_chain(P, chain, &anchors.snp_arks, at)?,
        n => {
            return Err(malformed(
                P,
                format!("chain has {n} certificates; supply [VCEK, ASK] or [VCEK, ASK, ARK]"),
            ))
        }
    };
    if verified.leaf_curve != x509::Curve::P384 {
        return Err(AttestationError::BadChain {
            platform: P,
            reason: "VCEK key is not P-384".into(),
        });
    }
    if let Some(hwid) = vcek_hwid(&verified.leaf_der)? {
        if hwid.as_slice() != r.chip_id {
            return Err(AttestationError::PolicyViolation {
                platform: P,
                reason: "the VCEK belongs to another chip (hwID differs from CHIP_ID)".into(),
            });
        }
    }
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &verified.leaf_key)
        .verify(r.signed, &r.signature)
        .map_err(|_| AttestationError::BadSignature {
            platform: P,
            what: "the attestation report (VCEK)",
        })?;
    Ok(Evidence {
        platform: Platform::SevSnp,
        measurement: r.measurement.to_vec(),
        signer: r.id_key_digest.to_vec(),
        report_data: r.report_data.to_vec(),
        debug: r.policy & POLICY_DEBUG != 0,
        product_id: 0,
        svn: r.guest_svn,
        not_after: verified.not_after,
    })
}
