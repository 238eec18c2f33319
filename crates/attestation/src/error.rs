/// Why a report was refused. Each variant names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    #[error("malformed {platform} report: {reason}")]
    Malformed {
        platform: &'static str,
        reason: String,
    },
    #[error("unsupported {platform} report: {reason}")]
    Unsupported {
        platform: &'static str,
        reason: String,
    },
    #[error("{platform}: certificate {index} ({subject}) is not valid at unix time {at} (valid {not_before}..={not_after})")]
    CertificateExpired {
        platform: &'static str,
        index: usize,
        subject: String,
        at: i64,
        not_before: i64,
        not_after: i64,
    },
    #[error("{platform}: certificate chain does not verify: {reason}")]
    BadChain {
        platform: &'static str,
        reason: String,
    },
    #[error("{platform}: the chain does not end at a pinned vendor root certificate")]
    UntrustedRoot { platform: &'static str },
    #[error("{platform}: signature over {what} does not verify")]
    BadSignature {
        platform: &'static str,
        what: &'static str,
    },
    #[error("{platform}: {reason}")]
    PolicyViolation {
        platform: &'static str,
        reason: String,
    },
    #[error("simulated attestation is disabled on this chain (params.allow_simulated = false); register a hardware report (SGX, SEV-SNP or Nitro)")]
    SimulatedNotAllowed,
    #[error("no simulated platform key is configured: set params.simulated_platform_key")]
    NoSimulatedKey,
}

pub type Result<T> = std::result::Result<T, AttestationError>;

pub(crate) fn malformed(platform: &'static str, reason: impl Into<String>) -> AttestationError {
    AttestationError::Malformed {
        platform,
        reason: reason.into(),
    }
}
