//! Domain verification payloads. The token is derived from chain data only (no
//! randomness in consensus code): `hex(SHA-256("virtengine/provider/domain-token/v1\n" ||
//! chain_id || "\n" || owner || "\n" || domain || "\n" || height || "\n" || block_time))`.
//! It need not be secret: it binds the owner to the domain; publishing it proves control
//! of the zone. The attestor signs [`attestation_payload`].

use sha2::{Digest, Sha256};

/// DNS name of the TXT record a provider publishes.
pub fn record_name(domain: &str) -> String {
    format!("_virtengine-verification.{domain}")
}

/// The exact TXT record value.
pub fn record_value(token: &str) -> String {
    format!("virtengine-verification={token}")
}

/// The challenge token for a request made at `height` / `time`.
pub fn token(chain_id: &str, owner: &str, domain: &str, height: u64, time: i64) -> String {
    let mut h = Sha256::new();
    h.update(b"virtengine/provider/domain-token/v1\n");
    h.update(chain_id.as_bytes());
    h.update(b"\n");
    h.update(owner.as_bytes());
    h.update(b"\n");
    h.update(domain.as_bytes());
    h.update(b"\n");
    h.update(height.to_string().as_bytes());
    h.update(b"\n");
    h.update(time.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// What an attestor signs (Ed25519, the raw bytes, no extra hashing):
/// `virtengine/provider/dns-attestation/v1\n<chain_id>\n<owner>\n<domain>\n<token>\n<observed_at>`.
pub fn attestation_payload(
    chain_id: &str,
    owner: &str,
    domain: &str,
    token: &str,
    observed_at: i64,
) -> Vec<u8> {
    format!(
        "virtengine/provider/dns-attestation/v1\n{chain_id}\n{owner}\n{domain}\n{token}\n{observed_at}"
    )
    .into_bytes()
}

/// Syntax of a DNS name: 1..=253 characters, labels 1..=63 of `[a-z0-9-]` not starting or
/// ending with `-`, at least two labels, lowercase, not all-numeric top label.
pub fn validate_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() || domain.len() > 253 {
        return Err("must be 1..=253 characters".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("must have at least two labels (e.g. provider.example.com)".into());
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Err("every label must be 1..=63 characters".into());
        }
        if !l
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("labels use only lowercase letters, digits and '-'".into());
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err("labels may not start or end with '-'".into());
        }
    }
    if labels
        .last()
        .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("an IP address cannot be verified through DNS".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_changes_with_every_input() {
        let t = token("c", "ve1a", "p.example.com", 5, 100);
        assert_eq!(t.len(), 64);
        assert_ne!(t, token("c", "ve1b", "p.example.com", 5, 100));
        assert_ne!(t, token("c", "ve1a", "q.example.com", 5, 100));
        assert_ne!(t, token("c", "ve1a", "p.example.com", 6, 100));
        assert_ne!(t, token("d", "ve1a", "p.example.com", 5, 100));
    }

    #[test]
    fn domains_are_checked() {
        assert!(validate_domain("provider.example.com").is_ok());
        assert!(validate_domain("localhost").is_err());
        assert!(validate_domain("10.0.0.1").is_err());
        assert!(validate_domain("-a.example.com").is_err());
        assert!(validate_domain("A.example.com").is_err());
    }
}
