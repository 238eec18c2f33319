//! SDL: the YAML deployment file a tenant writes (close to Akash SDL v2), validated into
//! the groups of a `MsgCreateDeployment` and into the **manifest** a provider deploys.
//!
//! ```yaml
//! version: "2.0"
//! services:
//!   web:
//!     image: nginx:1.25
//!     env: [GREETING=hello]
//!     expose:
//!       - port: 80
//!         to: [{ global: true }]
//! profiles:
//!   compute:
//!     web:
//!       resources:
//!         cpu: { units: 0.5 }
//!         memory: { size: 512Mi }
//!         storage: { size: 1Gi }
//!   placement:
//!     dc1:
//!       attributes: { region: eu-west }
//!       pricing:
//!         web: { denom: uve, amount: 1000 }
//! deployment:
//!   web:
//!     dc1: { profile: web, count: 1 }
//! ```
//!
//! One group per placement; one resource unit per service deployed there. The manifest
//! hash put on chain is SHA-256 over [`Manifest::canonical_json`] (see
//! `docs/marketplace.md`); the provider daemon recomputes it from the manifest the tenant
//! sends and refuses a mismatch. No floating point: decimal quantities are parsed from
//! their text.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements, SignedBy};
use ve_proto::virtengine::deployment::v1::{
    endpoint::Kind, Endpoint, GroupSpec, ResourceUnit, Resources,
};

/// Largest SDL file accepted, in bytes.
pub const MAX_SDL_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdlError {
    #[error("invalid SDL YAML: {0}")]
    Yaml(String),
    #[error("invalid SDL: {0}")]
    Invalid(String),
}

fn invalid<T>(m: impl Into<String>) -> Result<T, SdlError> {
    Err(SdlError::Invalid(m.into()))
}

// ---- the YAML document ----------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: String,
    services: BTreeMap<String, Service>,
    profiles: Profiles,
    deployment: BTreeMap<String, BTreeMap<String, DeployTo>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Service {
    image: String,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    expose: Vec<Expose>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expose {
    port: u32,
    #[serde(rename = "as", default)]
    as_port: Option<u32>,
    #[serde(default)]
    proto: Option<String>,
    #[serde(default)]
    to: Vec<ExposeTo>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExposeTo {
    #[serde(default)]
    global: bool,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    ip: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profiles {
    compute: BTreeMap<String, Compute>,
    placement: BTreeMap<String, Placement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Compute {
    resources: ResourcesDoc,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesDoc {
    cpu: CpuDoc,
    memory: SizeDoc,
    #[serde(default)]
    storage: Option<StorageDoc>,
    #[serde(default)]
    gpu: Option<GpuDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CpuDoc {
    units: serde_yaml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeDoc {
    size: serde_yaml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StorageDoc {
    One(SizeDoc),
    Many(Vec<NamedSize>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedSize {
    #[serde(default)]
    name: Option<String>,
    size: serde_yaml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GpuDoc {
    units: u32,
    /// Akash shape `{vendor: {nvidia: [{model: a100}]}}`; the first model is required.
    #[serde(default)]
    attributes: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Placement {
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default, rename = "signedBy")]
    signed_by: Option<SignedByDoc>,
    pricing: BTreeMap<String, PriceDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedByDoc {
    #[serde(default, rename = "allOf")]
    all_of: Vec<String>,
    #[serde(default, rename = "anyOf")]
    any_of: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceDoc {
    denom: String,
    amount: serde_yaml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployTo {
    profile: String,
    count: u32,
}

// ---- the manifest (what the provider runs; hashed on chain) ---------------------------

/// The manifest: every group with its services, in name order, with every quantity an
/// integer. Its canonical JSON is what the on-chain hash covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub groups: Vec<ManifestGroup>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestGroup {
    /// The placement name; also the group name on chain.
    pub name: String,
    pub services: Vec<ManifestService>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestService {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub count: u32,
    pub cpu_millicores: u64,
    pub memory_bytes: u64,
    pub storage_bytes: u64,
    pub gpu_count: u32,
    pub gpu_model: String,
    pub expose: Vec<ManifestExpose>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestExpose {
    pub port: u32,
    pub external_port: u32,
    pub proto: String,
    pub global: bool,
    pub services: Vec<String>,
    pub ip: String,
}

impl Manifest {
    /// The canonical encoding: compact JSON (no whitespace) of this structure, fields in
    /// declaration order, groups and services sorted by name, lists otherwise in file
    /// order, UTF-8.
    pub fn canonical_json(&self) -> Vec<u8> {
        // Serialising plain structs of strings, integers and vectors cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// SHA-256 of [`Self::canonical_json`]: the `hash` of `MsgCreateDeployment`.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_json()).into()
    }
}

/// A parsed and validated SDL file.
#[derive(Clone, Debug, PartialEq)]
pub struct Sdl {
    pub manifest: Manifest,
    /// The groups of `MsgCreateDeployment`, in the manifest's group order.
    pub groups: Vec<GroupSpec>,
}

impl Sdl {
    pub fn hash(&self) -> [u8; 32] {
        self.manifest.hash()
    }
}

// ---- quantities -------------------------------------------------------------------------

fn scalar_text(v: &serde_yaml::Value, what: &str) -> Result<String, SdlError> {
    match v {
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::String(s) => Ok(s.trim().to_string()),
        _ => invalid(format!("{what} must be a number or a string")),
    }
}

/// `int[.frac]` × 10^scale, exactly; refuses digits beyond the scale.
fn decimal_scaled(s: &str, scale: u32, what: &str) -> Result<u128, SdlError> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (!frac.is_empty() && !digits(frac)) {
        return invalid(format!("{what}: {s:?} is not a decimal number"));
    }
    if frac.len() > scale as usize {
        return invalid(format!("{what}: {s:?} has too many decimals"));
    }
    let too_big = || SdlError::Invalid(format!("{what}: {s:?} is too large"));
    let mut v: u128 = int.parse().map_err(|_| too_big())?;
    let mut f: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| too_big())?
    };
    for _ in 0..scale {
        v = v.checked_mul(10).ok_or_else(too_big)?;
    }
    for _ in frac.len()..scale as usize {
        f = f.checked_mul(10).ok_or_else(too_big)?;
    }
    v.checked_add(f).ok_or_else(too_big)
}

/// CPU units: cores (`1`, `0.5`) or millicores (`500m`).
pub fn parse_cpu(s: &str) -> Result<u64, SdlError> {
    let m = match s.strip_suffix('m') {
        Some(milli) => decimal_scaled(milli, 0, "cpu")?,
        None => decimal_scaled(s, 3, "cpu")?,
    };
    if m == 0 {
        return invalid("cpu units must be positive");
    }
    u64::try_from(m).or_else(|_| invalid("cpu too large"))
}

/// Sizes: bytes, or a number with k/M/G/T (powers of 1000) or Ki/Mi/Gi/Ti (of 1024).
pub fn parse_size(s: &str) -> Result<u64, SdlError> {
    const UNITS: [(&str, u128); 10] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("K", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("B", 1),
    ];
    let (num, mult) = UNITS
        .iter()
        .find_map(|(u, m)| s.strip_suffix(u).map(|n| (n.trim(), *m)))
        .unwrap_or((s, 1));
    // Up to 3 decimals (e.g. 1.5Gi).
    let milli = decimal_scaled(num, 3, "size")?;
    let bytes = milli
        .checked_mul(mult)
        .map(|b| b / 1000)
        .ok_or_else(|| SdlError::Invalid(format!("size {s:?} too large")))?;
    u64::try_from(bytes).or_else(|_| invalid(format!("size {s:?} too large")))
}

fn gpu_model(v: &Option<serde_yaml::Value>) -> Result<String, SdlError> {
    // {vendor: {nvidia: [{model: a100}]}} → "nvidia/a100"; no attributes → any.
    let Some(v) = v else {
        return Ok(String::new());
    };
    let vendor = v
        .get("vendor")
        .and_then(|x| x.as_mapping())
        .ok_or_else(|| SdlError::Invalid("gpu attributes need vendor".into()))?;
    let Some((name, models)) = vendor.iter().next() else {
        return invalid("gpu vendor is empty");
    };
    let name = name
        .as_str()
        .ok_or_else(|| SdlError::Invalid("gpu vendor name".into()))?;
    let model = models
        .as_sequence()
        .and_then(|s| s.first())
        .and_then(|m| m.get("model"))
        .and_then(|m| m.as_str());
    Ok(match model {
        Some(m) => format!("{name}/{m}"),
        None => name.to_string(),
    })
}

fn name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

// ---- parse ------------------------------------------------------------------------------

/// Parses and validates an SDL file.
pub fn parse(yaml: &str) -> Result<Sdl, SdlError> {
    if yaml.len() > MAX_SDL_BYTES {
        return invalid(format!("the file is larger than {MAX_SDL_BYTES} bytes"));
    }
    let doc: Doc = serde_yaml::from_str(yaml).map_err(|e| SdlError::Yaml(e.to_string()))?;
    if doc.version != "2.0" {
        return invalid(format!(
            "version {:?}: only \"2.0\" is supported",
            doc.version
        ));
    }
    if doc.services.is_empty() {
        return invalid("no services");
    }
    for (name, s) in &doc.services {
        if !name_ok(name) {
            return invalid(format!("service name {name:?}: use 1-63 of a-z, 0-9 and -"));
        }
        if s.image.trim().is_empty() {
            return invalid(format!("service {name}: image is required"));
        }
        for e in &s.env {
            if !e.contains('=') {
                return invalid(format!("service {name}: env {e:?} must be KEY=value"));
            }
        }
        for x in &s.expose {
            if x.port == 0 || x.port > 65_535 {
                return invalid(format!("service {name}: port {} out of range", x.port));
            }
            for t in &x.to {
                if let Some(other) = &t.service {
                    if !doc.services.contains_key(other) {
                        return invalid(format!(
                            "service {name}: exposes to unknown service {other}"
                        ));
                    }
                }
            }
        }
    }
    // placement → services deployed there.
    let mut by_placement: BTreeMap<&str, Vec<(&str, &DeployTo)>> = BTreeMap::new();
    for (svc, targets) in &doc.deployment {
        if !doc.services.contains_key(svc) {
            return invalid(format!("deployment names unknown service {svc}"));
        }
        if targets.is_empty() {
            return invalid(format!("deployment of {svc} names no placement"));
        }
        for (placement, to) in targets {
            if !doc.profiles.placement.contains_key(placement) {
                return invalid(format!(
                    "deployment of {svc} names unknown placement {placement}"
                ));
            }
            if !doc.profiles.compute.contains_key(&to.profile) {
                return invalid(format!(
                    "deployment of {svc} names unknown compute profile {}",
                    to.profile
                ));
            }
            if to.count == 0 {
                return invalid(format!("deployment of {svc}: count must be positive"));
            }
            by_placement
                .entry(placement.as_str())
                .or_default()
                .push((svc.as_str(), to));
        }
    }
    if by_placement.is_empty() {
        return invalid("deployment section is empty");
    }
    let mut groups = Vec::new();
    let mut mgroups = Vec::new();
    for (pname, services) in by_placement {
        let placement = doc
            .profiles
            .placement
            .get(pname)
            .ok_or_else(|| SdlError::Invalid(format!("placement {pname}")))?;
        let mut units = Vec::new();
        let mut msvcs = Vec::new();
        for (svc_name, to) in services {
            let svc = doc
                .services
                .get(svc_name)
                .ok_or_else(|| SdlError::Invalid(format!("service {svc_name}")))?;
            let compute = doc
                .profiles
                .compute
                .get(&to.profile)
                .ok_or_else(|| SdlError::Invalid(format!("profile {}", to.profile)))?;
            let r = &compute.resources;
            let cpu = parse_cpu(&scalar_text(&r.cpu.units, "cpu units")?)?;
            let memory = parse_size(&scalar_text(&r.memory.size, "memory size")?)?;
            if memory == 0 {
                return invalid(format!("profile {}: memory must be positive", to.profile));
            }
            let storage = match &r.storage {
                None => 0,
                Some(StorageDoc::One(s)) => parse_size(&scalar_text(&s.size, "storage size")?)?,
                Some(StorageDoc::Many(list)) => {
                    let mut total: u64 = 0;
                    for s in list {
                        let _ = &s.name;
                        total = total
                            .checked_add(parse_size(&scalar_text(&s.size, "storage size")?)?)
                            .ok_or_else(|| SdlError::Invalid("storage too large".into()))?;
                    }
                    total
                }
            };
            let (gpu_count, gpu_model) = match &r.gpu {
                None => (0, String::new()),
                Some(g) => (g.units, gpu_model(&g.attributes)?),
            };
            let price = placement.pricing.get(&to.profile).ok_or_else(|| {
                SdlError::Invalid(format!(
                    "placement {pname} has no pricing for profile {}",
                    to.profile
                ))
            })?;
            let amount = decimal_scaled(&scalar_text(&price.amount, "price amount")?, 0, "price")?;
            if amount == 0 {
                return invalid(format!("placement {pname}: price must be positive"));
            }
            let mut endpoints = Vec::new();
            let mut mexpose = Vec::new();
            for x in &svc.expose {
                let global = x.to.iter().any(|t| t.global);
                let ip = x.to.iter().find_map(|t| t.ip.clone()).unwrap_or_default();
                let external = x.as_port.unwrap_or(x.port);
                let proto = x
                    .proto
                    .clone()
                    .unwrap_or_else(|| "tcp".into())
                    .to_lowercase();
                if proto != "tcp" && proto != "udp" {
                    return invalid(format!("service {svc_name}: proto must be tcp or udp"));
                }
                if !ip.is_empty() {
                    endpoints.push(Endpoint {
                        kind: Kind::LeasedIp as i32,
                        sequence_number: 0,
                    });
                } else if global {
                    let kind = if external == 80 && proto == "tcp" {
                        Kind::SharedHttp
                    } else {
                        Kind::RandomPort
                    };
                    endpoints.push(Endpoint {
                        kind: kind as i32,
                        sequence_number: 0,
                    });
                }
                mexpose.push(ManifestExpose {
                    port: x.port,
                    external_port: external,
                    proto,
                    global,
                    services: x.to.iter().filter_map(|t| t.service.clone()).collect(),
                    ip,
                });
            }
            units.push(ResourceUnit {
                resources: Some(Resources {
                    cpu_millicores: cpu,
                    memory_bytes: memory,
                    storage_bytes: storage,
                    gpu_count,
                    gpu_model: gpu_model.clone(),
                    endpoints,
                }),
                count: to.count,
                price: Some(ProtoCoin {
                    denom: price.denom.clone(),
                    amount: amount.to_string(),
                }),
            });
            msvcs.push(ManifestService {
                name: svc_name.to_string(),
                image: svc.image.clone(),
                command: svc.command.clone(),
                args: svc.args.clone(),
                env: svc.env.clone(),
                count: to.count,
                cpu_millicores: cpu,
                memory_bytes: memory,
                storage_bytes: storage,
                gpu_count,
                gpu_model,
                expose: mexpose,
            });
        }
        let denoms: std::collections::BTreeSet<&str> = units
            .iter()
            .filter_map(|u| u.price.as_ref().map(|p| p.denom.as_str()))
            .collect();
        if denoms.len() != 1 {
            return invalid(format!("placement {pname}: every price must use one denom"));
        }
        groups.push(GroupSpec {
            name: pname.to_string(),
            requirements: Some(PlacementRequirements {
                signed_by: placement.signed_by.as_ref().map(|s| SignedBy {
                    all_of: s.all_of.clone(),
                    any_of: s.any_of.clone(),
                }),
                attributes: placement
                    .attributes
                    .iter()
                    .map(|(k, v)| Attribute {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
            }),
            resources: units,
        });
        mgroups.push(ManifestGroup {
            name: pname.to_string(),
            services: msvcs,
        });
    }
    Ok(Sdl {
        manifest: Manifest {
            version: doc.version,
            groups: mgroups,
        },
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/deployment.yaml");

    #[test]
    fn example_parses_into_groups_priced_per_unit() {
        let sdl = parse(EXAMPLE).unwrap();
        assert_eq!(sdl.groups.len(), 1);
        let g = &sdl.groups[0];
        assert_eq!(g.name, "dc1");
        let u = &g.resources[0];
        let r = u.resources.as_ref().unwrap();
        assert_eq!(r.cpu_millicores, 500);
        assert_eq!(r.memory_bytes, 512 * 1024 * 1024);
        assert_eq!(r.storage_bytes, 1 << 30);
        assert_eq!(u.price.as_ref().unwrap().amount, "1000");
        assert_eq!(r.endpoints[0].kind, Kind::SharedHttp as i32);
    }

    #[test]
    fn hash_is_sha256_of_canonical_json_and_changes_with_content() {
        let a = parse(EXAMPLE).unwrap();
        let expect: [u8; 32] = Sha256::digest(a.manifest.canonical_json()).into();
        assert_eq!(a.hash(), expect);
        let b = parse(&EXAMPLE.replace("nginx:1.25", "nginx:1.26")).unwrap();
        assert_ne!(a.hash(), b.hash());
        // Reordering YAML keys does not change the manifest.
        let json = String::from_utf8(a.manifest.canonical_json()).unwrap();
        assert!(json.starts_with("{\"version\":\"2.0\",\"groups\":[{\"name\":\"dc1\""));
    }

    #[test]
    fn quantities_parse_exactly_without_floats() {
        assert_eq!(parse_cpu("0.5").unwrap(), 500);
        assert_eq!(parse_cpu("250m").unwrap(), 250);
        assert_eq!(parse_cpu("2").unwrap(), 2000);
        assert!(parse_cpu("0").is_err());
        assert!(parse_cpu("0.0005").is_err());
        assert_eq!(parse_size("1Gi").unwrap(), 1 << 30);
        assert_eq!(parse_size("1.5Gi").unwrap(), 3 << 29);
        assert_eq!(parse_size("512M").unwrap(), 512_000_000);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn bad_documents_name_the_problem() {
        let e = parse(&EXAMPLE.replace("profile: web", "profile: nope")).unwrap_err();
        assert!(
            e.to_string().contains("unknown compute profile nope"),
            "{e}"
        );
        let e = parse(&EXAMPLE.replace("version: \"2.0\"", "version: \"1.0\"")).unwrap_err();
        assert!(e.to_string().contains("version"), "{e}");
        assert!(matches!(parse("services: ["), Err(SdlError::Yaml(_))));
    }
}
