//! TXT lookups at one configured nameserver.

use crate::AttestError;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use std::net::SocketAddr;
use std::time::Duration;

/// A stub resolver that asks exactly one nameserver (UDP, then TCP) and caches nothing:
/// an attestation must reflect the zone as it is now, not a cached negative answer from
/// before the provider published its record.
#[derive(Clone)]
pub struct Resolver {
    inner: TokioResolver,
    nameserver: SocketAddr,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("nameserver", &self.nameserver)
            .finish()
    }
}

impl Resolver {
    pub fn new(nameserver: SocketAddr) -> Result<Self, AttestError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = nameserver.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = nameserver.port();
        let ns = NameServerConfig::new(nameserver.ip(), true, vec![udp, tcp]);
        let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        let opts = builder.options_mut();
        opts.cache_size = 0;
        opts.timeout = Duration::from_secs(3);
        opts.attempts = 2;
        let inner = builder.build().map_err(|e| AttestError::Lookup {
            record: String::new(),
            reason: format!("resolver for {nameserver}: {e}"),
        })?;
        Ok(Self { inner, nameserver })
    }

    pub fn nameserver(&self) -> SocketAddr {
        self.nameserver
    }

    /// Every TXT value at `name` (each record's character-strings joined, as DNS tools
    /// show them). A name with no TXT records yields an empty list, not an error.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, AttestError> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = match self.inner.lookup(fqdn.as_str(), RecordType::TXT).await {
            Ok(l) => l,
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => return Ok(Vec::new()),
            Err(e) => {
                return Err(AttestError::Lookup {
                    record: name.to_string(),
                    reason: format!("{e} (nameserver {})", self.nameserver),
                })
            }
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }
}
