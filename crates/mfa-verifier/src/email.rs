//! Sending email codes over SMTP with `lettre`.
//!
//! Plain SMTP to the configured relay (`smtp://host:port`): the relay is expected on the
//! same host or a trusted network (a local MTA that does TLS onward). TLS to the relay is
//! not built in yet.

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::error::VerifierError;

/// Where mail goes and who it is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
}

impl SmtpConfig {
    /// Parses `smtp://host:port` (port defaults to 25).
    pub fn from_url(url: &str, from: &str) -> Result<Self, VerifierError> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| {
            VerifierError::Config(format!(
                "--smtp {url:?}: expected smtp://host:port (plain SMTP to a trusted relay)"
            ))
        })?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| VerifierError::Config(format!("--smtp {url:?}: bad port")))?,
            ),
            None => (rest, 25),
        };
        if host.is_empty() {
            return Err(VerifierError::Config(format!("--smtp {url:?}: no host")));
        }
        Ok(Self {
            host: host.to_string(),
            port,
            from: from.to_string(),
        })
    }
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig) -> Result<Self, VerifierError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| VerifierError::Config(format!("--smtp-from {:?}: {e}", cfg.from)))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Self { transport, from })
    }

    /// Sends the one-time code for `challenge_id` to `to`.
    pub async fn send_code(
        &self,
        to: &str,
        code: &str,
        challenge_id: &str,
        ttl_secs: u64,
    ) -> Result<(), VerifierError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| VerifierError::Mail(format!("recipient address: {e}")))?;
        let minutes = ttl_secs.div_ceil(60);
        let body = format!(
            "Your VirtEngine verification code is: {code}\n\n\
             It answers MFA challenge {challenge_id} and expires in {minutes} minute(s).\n\
             If you did not ask for it, someone may be using your account key: do not share it.\n"
        );
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("VirtEngine verification code {code}"))
            .body(body)
            .map_err(|e| VerifierError::Mail(e.to_string()))?;
        self.transport
            .send(msg)
            .await
            .map_err(|e| VerifierError::Mail(e.to_string()))?;
        Ok(())
    }
}

/// `bob@example.org` → `b**@example.org`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            let stars = "*".repeat(local.chars().count().saturating_sub(1).clamp(1, 8));
            format!("{first}{stars}@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_and_addresses_mask() {
        let c = SmtpConfig::from_url("smtp://127.0.0.1:2525", "v@localhost").unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 2525));
        assert_eq!(SmtpConfig::from_url("smtp://mx", "a@b").unwrap().port, 25);
        assert!(SmtpConfig::from_url("http://mx", "a@b").is_err());
        assert_eq!(mask("bob@example.org"), "b**@example.org");
        assert_eq!(mask("b@x.y"), "b*@x.y");
    }
}
