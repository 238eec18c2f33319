//! What the daemon asks a back end to run: a lease's manifest group as plain services.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::BackendError;

/// The chain's lease id (any printable ASCII without spaces, e.g.
/// `owner/dseq/gseq/oseq/provider`). One lease = at most one workload in a back end.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LeaseId(String);

impl LeaseId {
    pub const MAX_LEN: usize = 256;

    pub fn new(id: impl Into<String>) -> Result<Self, BackendError> {
        let id = id.into();
        if id.is_empty() || id.len() > Self::MAX_LEN {
            return Err(BackendError::InvalidSpec(format!(
                "lease id must be 1-{} characters, got {}",
                Self::MAX_LEN,
                id.len()
            )));
        }
        if !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BackendError::InvalidSpec(format!(
                "lease id {id:?} must be printable ASCII without spaces"
            )));
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short file-system and cgroup safe name: 16 hex digits of SHA-256(lease id).
    /// Lease ids contain `/`, so they cannot name directories directly.
    pub fn key(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..8])
    }
}

impl fmt::Display for LeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resource quantities, integers only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// 1000 = one CPU core.
    pub cpu_millicores: u64,
    pub memory_bytes: u64,
    pub storage_bytes: u64,
    pub gpu_count: u32,
}

impl Resources {
    pub fn saturating_add(self, o: Self) -> Self {
        Self {
            cpu_millicores: self.cpu_millicores.saturating_add(o.cpu_millicores),
            memory_bytes: self.memory_bytes.saturating_add(o.memory_bytes),
            storage_bytes: self.storage_bytes.saturating_add(o.storage_bytes),
            gpu_count: self.gpu_count.saturating_add(o.gpu_count),
        }
    }

    pub fn saturating_sub(self, o: Self) -> Self {
        Self {
            cpu_millicores: self.cpu_millicores.saturating_sub(o.cpu_millicores),
            memory_bytes: self.memory_bytes.saturating_sub(o.memory_bytes),
            storage_bytes: self.storage_bytes.saturating_sub(o.storage_bytes),
            gpu_count: self.gpu_count.saturating_sub(o.gpu_count),
        }
    }

    /// True if every quantity of `need` fits into `self`.
    pub fn fits(&self, need: &Self) -> bool {
        need.cpu_millicores <= self.cpu_millicores
            && need.memory_bytes <= self.memory_bytes
            && need.storage_bytes <= self.storage_bytes
            && need.gpu_count <= self.gpu_count
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

/// A port a service listens on and wants reachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    /// The port the manifest names (the "container port").
    pub port: u16,
    pub protocol: Protocol,
    /// Reachable from outside the provider (SDL `global: true`).
    pub global: bool,
}

/// One service of a workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// DNS-label-like: `[a-z0-9-]`, 1-63 characters.
    pub name: String,
    /// Image name (a tag after `:` is accepted; back ends define what it resolves to).
    pub image: String,
    /// Entry point; empty = the image's default.
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// `KEY=VALUE` entries.
    pub env: Vec<String>,
    pub resources: Resources,
    pub ports: Vec<PortSpec>,
}

/// Everything a lease runs: the services of one manifest group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub services: Vec<ServiceSpec>,
}

impl WorkloadSpec {
    /// Converts the manifest group a lease was won for. A service with `count > 1` becomes
    /// replicas `name`, `name-2`, ... (each its own service with its own endpoints).
    pub fn from_manifest_group(group: &ve_sdl::ManifestGroup) -> Result<Self, BackendError> {
        let mut services = Vec::new();
        for s in &group.services {
            let mut ports = Vec::with_capacity(s.expose.len());
            for e in &s.expose {
                let port = u16::try_from(e.port)
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| {
                        BackendError::InvalidSpec(format!(
                            "service {}: port {} is not in 1-65535",
                            s.name, e.port
                        ))
                    })?;
                let protocol = match e.proto.to_ascii_lowercase().as_str() {
                    "" | "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    other => {
                        return Err(BackendError::InvalidSpec(format!(
                            "service {}: unknown protocol {other:?}",
                            s.name
                        )))
                    }
                };
                ports.push(PortSpec {
                    port,
                    protocol,
                    global: e.global,
                });
            }
            for replica in 1..=s.count.max(1) {
                let name = if replica == 1 {
                    s.name.clone()
                } else {
                    format!("{}-{replica}", s.name)
                };
                services.push(ServiceSpec {
                    name,
                    image: s.image.clone(),
                    command: s.command.clone(),
                    args: s.args.clone(),
                    env: s.env.clone(),
                    resources: Resources {
                        cpu_millicores: s.cpu_millicores,
                        memory_bytes: s.memory_bytes,
                        storage_bytes: s.storage_bytes,
                        gpu_count: s.gpu_count,
                    },
                    ports: ports.clone(),
                });
            }
        }
        let spec = Self { services };
        spec.validate()?;
        Ok(spec)
    }

    /// Checks names, resources and ports. Back ends call this before doing anything.
    pub fn validate(&self) -> Result<(), BackendError> {
        let bad = |m: String| Err(BackendError::InvalidSpec(m));
        if self.services.is_empty() {
            return bad("a workload needs at least one service".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.services {
            let name_ok = !s.name.is_empty()
                && s.name.len() <= 63
                && s.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !name_ok {
                return bad(format!(
                    "service name {:?} must be 1-63 characters of a-z, 0-9 and -",
                    s.name
                ));
            }
            if !names.insert(s.name.as_str()) {
                return bad(format!("service name {:?} appears twice", s.name));
            }
            if s.image.is_empty() {
                return bad(format!("service {}: image is empty", s.name));
            }
            if s.resources.cpu_millicores == 0 || s.resources.memory_bytes == 0 {
                return bad(format!("service {}: cpu and memory must be > 0", s.name));
            }
            if let Some(e) = s
                .env
                .iter()
                .find(|e| !e.contains('=') || e.starts_with('='))
            {
                return bad(format!(
                    "service {}: env entry {e:?} is not KEY=VALUE",
                    s.name
                ));
            }
            let mut ports = std::collections::BTreeSet::new();
            for p in &s.ports {
                if p.port == 0 || !ports.insert((p.port, p.protocol as u8)) {
                    return bad(format!(
                        "service {}: port {} is 0 or repeated",
                        s.name, p.port
                    ));
                }
            }
        }
        Ok(())
    }

    /// Sum of all services' resources.
    pub fn total_resources(&self) -> Resources {
        self.services.iter().fold(Resources::default(), |acc, s| {
            acc.saturating_add(s.resources)
        })
    }

    /// SHA-256 of the canonical JSON: provisioning the same lease with the same hash is a
    /// no-op; with a different hash it is a [`BackendError::SpecConflict`].
    pub fn hash(&self) -> String {
        // Plain structs of strings, integers and vectors always serialise.
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> ve_sdl::ManifestGroup {
        ve_sdl::ManifestGroup {
            name: "dc1".into(),
            services: vec![ve_sdl::ManifestService {
                name: "web".into(),
                image: "busybox:1.35".into(),
                command: vec![],
                args: vec![],
                env: vec!["A=1".into()],
                count: 2,
                cpu_millicores: 500,
                memory_bytes: 1 << 26,
                storage_bytes: 1 << 30,
                gpu_count: 0,
                gpu_model: String::new(),
                expose: vec![ve_sdl::ManifestExpose {
                    port: 80,
                    external_port: 0,
                    proto: "TCP".into(),
                    global: true,
                    services: vec![],
                    ip: String::new(),
                }],
            }],
        }
    }

    #[test]
    fn manifest_group_becomes_one_service_per_replica() {
        let spec = WorkloadSpec::from_manifest_group(&group()).unwrap();
        let names: Vec<_> = spec.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["web", "web-2"]);
        assert_eq!(spec.services[1].ports[0].protocol, Protocol::Tcp);
        assert_eq!(spec.total_resources().cpu_millicores, 1000);
    }

    #[test]
    fn bad_ports_and_protocols_are_invalid_specs() {
        let mut g = group();
        g.services[0].expose[0].port = 70000;
        assert!(matches!(
            WorkloadSpec::from_manifest_group(&g),
            Err(BackendError::InvalidSpec(_))
        ));
        let mut g = group();
        g.services[0].expose[0].proto = "sctp".into();
        assert!(WorkloadSpec::from_manifest_group(&g).is_err());
        let mut g = group();
        g.services[0].env = vec!["NOEQUALS".into()];
        assert!(WorkloadSpec::from_manifest_group(&g).is_err());
    }

    #[test]
    fn spec_hash_changes_with_any_field() {
        let a = WorkloadSpec::from_manifest_group(&group()).unwrap();
        let mut b = a.clone();
        b.services[0].env.push("B=2".into());
        assert_eq!(a.hash(), a.clone().hash());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn lease_ids_must_be_printable_and_keys_are_path_safe() {
        assert!(LeaseId::new("").is_err());
        assert!(LeaseId::new("a b").is_err());
        assert!(LeaseId::new("x".repeat(257)).is_err());
        let key = LeaseId::new("owner/1/1/1/provider").unwrap().key();
        assert_eq!(key.len(), 16);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
