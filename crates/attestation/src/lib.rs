//! TEE attestation verification for VirtEngine's enclave registry.
//!
//! One entry point, [`verify`], takes a platform, the report bytes, an optional
//! certificate chain, the trust anchors and the time to verify at (unix seconds — on
//! chain, the block time; never the wall clock), and returns the [`Evidence`] the report
//! proves: measurement, signer, report data, debug flag. Supported:
//!
//! * [`sgx`]: Intel SGX DCAP quote v3, ECDSA P-256, PCK chain in the quote (type 5);
//! * [`snp`]: AMD SEV-SNP report v2/v3, VCEK → ASK → ARK (Milan, Genoa);
//! * [`nitro`]: AWS Nitro attestation document (COSE_Sign1, ES384, AWS root G1);
//! * [`simulated`]: our own Ed25519-signed format that proves nothing about hardware.
//!
//! Enclaves bind their public keys into the report with [`key_binding`].

pub mod error;
pub mod nitro;
pub mod sgx;
pub mod simulated;
pub mod snp;
pub mod x509;

pub use error::{AttestationError, Result};
use sha2::{Digest, Sha512};

/// TEE platforms. The numbers are those of `virtengine.enclave.v1.Platform`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    Sgx = 1,
    SevSnp = 2,
    Nitro = 3,
    Simulated = 4,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Sgx => "sgx",
            Platform::SevSnp => "sev-snp",
            Platform::Nitro => "nitro",
            Platform::Simulated => "simulated",
        }
    }

    pub fn from_i32(v: i32) -> Option<Platform> {
        match v {
            1 => Some(Platform::Sgx),
            2 => Some(Platform::SevSnp),
            3 => Some(Platform::Nitro),
            4 => Some(Platform::Simulated),
            _ => None,
        }
    }

    /// Length of this platform's measurement (MRENCLAVE 32, SNP MEASUREMENT 48, PCR0 48).
    pub fn measurement_len(self) -> usize {
        match self {
            Platform::Sgx | Platform::Simulated => 32,
            Platform::SevSnp | Platform::Nitro => 48,
        }
    }
}

/// What a verified report proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub platform: Platform,
    /// MRENCLAVE (SGX), MEASUREMENT (SNP), PCR0 (Nitro), or the simulated measurement.
    pub measurement: Vec<u8>,
    /// MRSIGNER (SGX), ID key digest (SNP), PCR8 (Nitro); empty if none.
    pub signer: Vec<u8>,
    /// REPORT_DATA (64 bytes on SGX, SNP and simulated), user_data (Nitro).
    pub report_data: Vec<u8>,
    /// The enclave runs in debug mode: its memory is readable by the host.
    pub debug: bool,
    pub product_id: u32,
    pub svn: u32,
    /// Earliest `notAfter` of the certificate chain (unix seconds); `i64::MAX` if none.
    pub not_after: i64,
}

/// Roots and keys a report must chain to.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    /// DER of accepted Intel SGX root certificates.
    pub sgx_roots: Vec<Vec<u8>>,
    /// DER of accepted AMD ARKs.
    pub snp_arks: Vec<Vec<u8>>,
    /// DER of accepted AWS Nitro roots.
    pub nitro_roots: Vec<Vec<u8>>,
    /// Whether the simulated platform is accepted at all.
    pub allow_simulated: bool,
    /// Ed25519 public key of the simulated platform.
    pub simulated_key: Option<[u8; 32]>,
}

/// Intel SGX Root CA (SHA-256 of DER 44a0196b…74d3).
pub const INTEL_SGX_ROOT_CA_DER: &[u8] = include_bytes!("../roots/intel_sgx_root_ca.der");
/// AMD ARK-Milan (SHA-256 of DER 69d063b4…0bcd).
pub const AMD_ARK_MILAN_DER: &[u8] = include_bytes!("../roots/amd_ark_milan.der");
/// AMD ARK-Genoa (SHA-256 of DER 4c6598d1…b2f1).
pub const AMD_ARK_GENOA_DER: &[u8] = include_bytes!("../roots/amd_ark_genoa.der");
/// AWS Nitro Enclaves root G1 (SHA-256 of DER 641a0321…bb5b).
pub const AWS_NITRO_ROOT_G1_DER: &[u8] = include_bytes!("../roots/aws_nitro_root_g1.der");

impl TrustAnchors {
    /// The pinned vendor roots; no simulated platform.
    pub fn vendor_roots() -> Self {
        Self {
            sgx_roots: vec![INTEL_SGX_ROOT_CA_DER.to_vec()],
            snp_arks: vec![AMD_ARK_MILAN_DER.to_vec(), AMD_ARK_GENOA_DER.to_vec()],
            nitro_roots: vec![AWS_NITRO_ROOT_G1_DER.to_vec()],
            allow_simulated: false,
            simulated_key: None,
        }
    }

    /// The vendor roots plus the simulated platform.
    pub fn with_simulated(mut self, allow: bool, key: Option<[u8; 32]>) -> Self {
        self.allow_simulated = allow;
        self.simulated_key = key;
        self
    }
}

/// Verifies `report` for `platform` at unix time `at`. `chain` is only used by SEV-SNP
/// (DER [VCEK, ASK] or [VCEK, ASK, ARK]); SGX and Nitro carry their chains inside.
pub fn verify(
    platform: Platform,
    report: &[u8],
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: i64,
) -> Result<Evidence> {
    match platform {
        Platform::Sgx => sgx::verify(report, anchors, at),
        Platform::SevSnp => snp::verify(report, chain, anchors, at),
        Platform::Nitro => nitro::verify(report, anchors, at),
        Platform::Simulated => simulated::verify(report, anchors),
    }
}

/// Domain tag of [`key_binding`].
pub const KEY_BINDING_DOMAIN: &[u8] = b"virtengine/enclave-keys/v1";

/// The report data an enclave must put in its report to bind its keys:
/// `SHA-512("virtengine/enclave-keys/v1" ‖ x25519_public ‖ ed25519_public)` (64 bytes;
/// the whole REPORT_DATA on SGX/SNP/simulated, the user_data on Nitro).
pub fn key_binding(x25519_public: &[u8; 32], ed25519_public: &[u8; 32]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(KEY_BINDING_DOMAIN);
    h.update(x25519_public);
    h.update(ed25519_public);
    let d = h.finalize();
    let mut out = [0u8; 64];
    out.copy_from_slice(&d);
    out
}
