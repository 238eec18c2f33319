//! Intel SGX DCAP quote v3 with an ECDSA-P256 attestation key and the PCK certificate
//! chain embedded in the quote (certification data type 5).
//!
//! Layout (Intel SGX ECDSA Quote Library reference, "Quote Format"):
//! ```text
//! 0    header (48): version u16 = 3, att_key_type u16 = 2 (ECDSA-256-with-P-256),
//!                   tee_type u32 = 0 (SGX), qe_svn, pce_svn, qe_vendor_id[16], user_data[20]
//! 48   ISV enclave report body (384): attributes @+48, MRENCLAVE @+64, MRSIGNER @+128,
//!                   isv_prod_id @+256, isv_svn @+258, report_data[64] @+320
//! 432  signature_data_len u32
//! 436  isv_signature[64] (r||s over bytes 0..432), attestation_key[64] (x||y),
//!      qe_report body[384], qe_report_signature[64] (by the PCK key),
//!      qe_auth_data_len u16, qe_auth_data, cert_data_type u16 (5), cert_data_size u32,
//!      cert_data (PEM: PCK leaf, intermediate CA, Intel SGX Root CA)
//! ```
//! Checks, in order: header; PCK chain to the pinned Intel SGX Root CA at `at`; QE report
//! signature by the PCK key; QE is Intel's (QE MRSIGNER); the QE report binds the
//! attestation key (`qe.report_data = SHA-256(attestation_key ‖ qe_auth_data) ‖ 0^32`);
//! the ISV signature over header + report body by the attestation key.
//!
//! Not checked (needs Intel PCS collateral the chain does not carry): TCB level of the
//! platform (TCB info), QE identity TCB, PCK CRL revocation. See docs/enclave.md.

use crate::error::{malformed, AttestationError, Result};
use crate::{x509, Evidence, Platform, TrustAnchors};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use sha2::{Digest, Sha256};

const P: &str = "sgx";
const HEADER_LEN: usize = 48;
const BODY_LEN: usize = 384;
const SIGNED_LEN: usize = HEADER_LEN + BODY_LEN;
/// MRSIGNER of Intel's production Quoting Enclave.
pub const INTEL_QE_MRSIGNER: [u8; 32] = [
    0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
    0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff,
];
/// SGX attribute flag: enclave launched in debug mode.
const FLAG_DEBUG: u64 = 0x02;

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| malformed(P, format!("{what}: length overflow")))?;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or_else(|| malformed(P, format!("truncated at {what}")))?;
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let s = self.take(2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let s = self.take(4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

fn arr<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&s[..N]);
    a
}

/// Fields of a report body (ISV or QE).
struct ReportBody {
    attributes_flags: u64,
    mrenclave: [u8; 32],
    mrsigner: [u8; 32],
    isv_prod_id: u16,
    isv_svn: u16,
    report_data: [u8; 64],
}

fn parse_body(b: &[u8]) -> Result<ReportBody> {
    if b.len() != BODY_LEN {
        return Err(malformed(P, "report body is not 384 bytes"));
    }
    Ok(ReportBody {
        attributes_flags: u64::from_le_bytes(arr(&b[48..56])),
        mrenclave: arr(&b[64..96]),
        mrsigner: arr(&b[128..160]),
        isv_prod_id: u16::from_le_bytes([b[256], b[257]]),
        isv_svn: u16::from_le_bytes([b[258], b[259]]),
        report_data: arr(&b[320..384]),
    })
}

/// Parsed, not yet verified, quote.
pub struct Quote<'a> {
    pub signed: &'a [u8],
    isv: ReportBody,
    isv_signature: &'a [u8],
    attestation_key: &'a [u8],
    qe_report: &'a [u8],
    qe_signature: &'a [u8],
    qe_auth_data: &'a [u8],
    pck_chain_pem: &'a [u8],
}

/// Parses a quote without verifying anything (the fuzz target's entry point).
pub fn parse(quote: &[u8]) -> Result<Quote<'_>> {
    let mut r = Reader { b: quote, pos: 0 };
    let version = r.u16("version")?;
    let key_type = r.u16("attestation key type")?;
    let tee_type = r.u32("tee type")?;
    if version != 3 {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!("quote version {version}; only version 3 is supported"),
        });
    }
    if key_type != 2 {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!("attestation key type {key_type}; only 2 (ECDSA P-256) is supported"),
        });
    }
    if tee_type != 0 {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!("tee type {tee_type:#x} is not SGX"),
        });
    }
    r.take(HEADER_LEN - 8, "header")?;
    let isv = parse_body(r.take(BODY_LEN, "report body")?)?;
    let signed = quote
        .get(..SIGNED_LEN)
        .ok_or_else(|| malformed(P, "truncated"))?;
    let sig_len = usize::try_from(r.u32("signature data length")?)
        .map_err(|_| malformed(P, "signature data length"))?;
    let sig_data = r.take(sig_len, "signature data")?;
    if r.pos != quote.len() {
        return Err(malformed(P, "trailing bytes after the signature data"));
    }
    let mut s = Reader {
        b: sig_data,
        pos: 0,
    };
    let isv_signature = s.take(64, "ISV signature")?;
    let attestation_key = s.take(64, "attestation key")?;
    let qe_report = s.take(BODY_LEN, "QE report")?;
    let qe_signature = s.take(64, "QE report signature")?;
    let auth_len = usize::from(s.u16("QE auth data length")?);
    let qe_auth_data = s.take(auth_len, "QE auth data")?;
    let cert_type = s.u16("certification data type")?;
    if cert_type != 5 {
        return Err(AttestationError::Unsupported {
            platform: P,
            reason: format!(
                "certification data type {cert_type}; only 5 (PCK certificate chain in the quote) is supported"
            ),
        });
    }
    let cert_len = usize::try_from(s.u32("certification data size")?)
        .map_err(|_| malformed(P, "certification data size"))?;
    let pck_chain_pem = s.take(cert_len, "certification data")?;
    Ok(Quote {
        signed,
        isv,
        isv_signature,
        attestation_key,
        qe_report,
        qe_signature,
        qe_auth_data,
        pck_chain_pem,
    })
}

/// Verifies a quote at unix time `at` against the pinned Intel roots.
pub fn verify(quote: &[u8], anchors: &TrustAnchors, at: i64) -> Result<Evidence> {
    let q = parse(quote)?;
    // Intel pads the PEM chain with a trailing NUL.
    let pem = q
        .pck_chain_pem
        .strip_suffix(&[0u8])
        .unwrap_or(q.pck_chain_pem);
    let chain = x509::pem_to_der(P, pem)?;
    let pck = x509::verify_chain(P, &chain, &anchors.sgx_roots, at)?;
    if pck.leaf_curve != x509::Curve::P256 {
        return Err(AttestationError::BadChain {
            platform: P,
            reason: "PCK key is not P-256".into(),
        });
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &pck.leaf_key)
        .verify(q.qe_report, q.qe_signature)
        .map_err(|_| AttestationError::BadSignature {
            platform: P,
            what: "the QE report (PCK key)",
        })?;
    let qe = parse_body(q.qe_report)?;
    if qe.mrsigner != INTEL_QE_MRSIGNER {
        return Err(AttestationError::PolicyViolation {
            platform: P,
            reason: "the quoting enclave is not signed by Intel".into(),
        });
    }
    let mut h = Sha256::new();
    h.update(q.attestation_key);
    h.update(q.qe_auth_data);
    let binding = h.finalize();
    if qe.report_data[..32] != binding[..] || qe.report_data[32..].iter().any(|b| *b != 0) {
        return Err(AttestationError::BadSignature {
            platform: P,
            what: "the attestation key binding (QE report data)",
        });
    }
    let mut ak = Vec::with_capacity(65);
    ak.push(0x04);
    ak.extend_from_slice(q.attestation_key);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &ak)
        .verify(q.signed, q.isv_signature)
        .map_err(|_| AttestationError::BadSignature {
            platform: P,
            what: "the enclave report (attestation key)",
        })?;
    Ok(Evidence {
        platform: Platform::Sgx,
        measurement: q.isv.mrenclave.to_vec(),
        signer: q.isv.mrsigner.to_vec(),
        report_data: q.isv.report_data.to_vec(),
        debug: q.isv.attributes_flags & FLAG_DEBUG != 0,
        product_id: u32::from(q.isv.isv_prod_id),
        svn: u32::from(q.isv.isv_svn),
        not_after: pck.not_after,
    })
}
