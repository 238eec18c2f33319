//! Ids and the stateless validation of group specs.

use crate::{proto, DeploymentError};
use std::fmt;
use ve_types::{Address, Coin};

/// `owner/dseq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeploymentId {
    pub owner: Address,
    pub dseq: u64,
}

/// `owner/dseq/gseq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupId {
    pub owner: Address,
    pub dseq: u64,
    pub gseq: u32,
}

pub fn parse_addr(s: &str) -> Result<Address, DeploymentError> {
    s.parse()
        .map_err(|e| DeploymentError::InvalidAddress(s.to_string(), format!("{e}")))
}

impl DeploymentId {
    pub fn from_proto(p: Option<&proto::DeploymentId>) -> Result<Self, DeploymentError> {
        let p = p.ok_or_else(|| DeploymentError::InvalidId("missing deployment id".into()))?;
        if p.dseq == 0 {
            return Err(DeploymentError::InvalidId("dseq must be positive".into()));
        }
        Ok(Self {
            owner: parse_addr(&p.owner)?,
            dseq: p.dseq,
        })
    }
    pub fn to_proto(&self) -> proto::DeploymentId {
        proto::DeploymentId {
            owner: self.owner.to_string(),
            dseq: self.dseq,
        }
    }
    pub fn group(&self, gseq: u32) -> GroupId {
        GroupId {
            owner: self.owner,
            dseq: self.dseq,
            gseq,
        }
    }
    /// The escrow account paying for this deployment.
    pub fn escrow_account(&self) -> ve_escrow::AccountId {
        ve_escrow::AccountId {
            scope: crate::ESCROW_SCOPE.to_string(),
            xid: format!("{}/{}", self.owner, self.dseq),
        }
    }
    /// The deployment of an escrow account id, if it is one.
    pub fn from_escrow_account(id: &ve_escrow::AccountId) -> Option<Self> {
        if id.scope != crate::ESCROW_SCOPE {
            return None;
        }
        let (owner, dseq) = id.xid.split_once('/')?;
        Some(Self {
            owner: owner.parse().ok()?,
            dseq: dseq.parse().ok()?,
        })
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.dseq)
    }
}

impl GroupId {
    pub fn from_proto(p: Option<&proto::GroupId>) -> Result<Self, DeploymentError> {
        let p = p.ok_or_else(|| DeploymentError::InvalidId("missing group id".into()))?;
        if p.dseq == 0 || p.gseq == 0 {
            return Err(DeploymentError::InvalidId(
                "dseq and gseq must be positive".into(),
            ));
        }
        Ok(Self {
            owner: parse_addr(&p.owner)?,
            dseq: p.dseq,
            gseq: p.gseq,
        })
    }
    pub fn to_proto(&self) -> proto::GroupId {
        proto::GroupId {
            owner: self.owner.to_string(),
            dseq: self.dseq,
            gseq: self.gseq,
        }
    }
    pub fn deployment(&self) -> DeploymentId {
        DeploymentId {
            owner: self.owner,
            dseq: self.dseq,
        }
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.owner, self.dseq, self.gseq)
    }
}

/// A coin from the wire; a missing or malformed one is an error naming `what`.
pub fn coin(c: Option<&ve_proto::cosmos::base::v1beta1::Coin>, what: &str) -> Result<Coin, String> {
    let c = c.ok_or_else(|| format!("missing {what}"))?;
    Coin::from_parts(&c.denom, &c.amount).map_err(|e| format!("{what}: {e}"))
}

pub fn proto_coin(c: &Coin) -> ve_proto::cosmos::base::v1beta1::Coin {
    ve_proto::cosmos::base::v1beta1::Coin {
        denom: c.denom.clone(),
        amount: c.amount.to_string(),
    }
}

/// Longest group name and attribute key/value.
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_ATTR_LEN: usize = 128;
pub const MAX_ATTRIBUTES: usize = 32;
pub const MAX_ENDPOINTS: usize = 32;

fn check_attributes(
    group: &str,
    attrs: &[ve_proto::virtengine::base::v1::Attribute],
) -> Result<(), DeploymentError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(DeploymentError::InvalidGroups(format!(
            "group {group:?}: at most {MAX_ATTRIBUTES} attributes"
        )));
    }
    for a in attrs {
        if a.key.is_empty() || a.key.len() > MAX_ATTR_LEN || a.value.len() > MAX_ATTR_LEN {
            return Err(DeploymentError::InvalidGroups(format!(
                "group {group:?}: attribute keys must be 1-{MAX_ATTR_LEN} bytes and values at most {MAX_ATTR_LEN}"
            )));
        }
    }
    Ok(())
}

/// A group's per-block price cap: the sum of price × count over its units. Checks that
/// every unit is well formed and priced in `denom`.
pub fn group_price(
    spec: &proto::GroupSpec,
    denom: &str,
    max_units: u32,
) -> Result<u128, DeploymentError> {
    let name = &spec.name;
    let bad = |m: String| DeploymentError::InvalidGroups(format!("group {name:?}: {m}"));
    if spec.name.is_empty() || spec.name.len() > MAX_NAME_LEN {
        return Err(DeploymentError::InvalidGroups(format!(
            "group names must be 1-{MAX_NAME_LEN} bytes"
        )));
    }
    if spec.resources.is_empty() {
        return Err(bad("needs at least one resource unit".into()));
    }
    if let Some(req) = &spec.requirements {
        check_attributes(name, &req.attributes)?;
        if let Some(sb) = &req.signed_by {
            if sb.all_of.len().saturating_add(sb.any_of.len()) > MAX_ATTRIBUTES {
                return Err(bad(format!("at most {MAX_ATTRIBUTES} auditors")));
            }
            for a in sb.all_of.iter().chain(&sb.any_of) {
                parse_addr(a)?;
            }
        }
    }
    let mut total: u128 = 0;
    let mut units: u32 = 0;
    for u in &spec.resources {
        let r = u
            .resources
            .as_ref()
            .ok_or_else(|| bad("resource unit without resources".into()))?;
        if r.cpu_millicores == 0 || r.memory_bytes == 0 {
            return Err(bad("every unit needs cpu and memory".into()));
        }
        if r.endpoints.len() > MAX_ENDPOINTS {
            return Err(bad(format!("at most {MAX_ENDPOINTS} endpoints per unit")));
        }
        if r.gpu_model.len() > MAX_ATTR_LEN {
            return Err(bad("gpu model name too long".into()));
        }
        if u.count == 0 {
            return Err(bad("unit count must be positive".into()));
        }
        units = units
            .checked_add(u.count)
            .ok_or_else(|| bad("too many units".into()))?;
        let price = coin(u.price.as_ref(), "price").map_err(bad)?;
        if price.denom != denom {
            return Err(bad(format!(
                "price denom {} differs from the deposit denom {denom}: a deployment is priced in one denom",
                price.denom
            )));
        }
        if price.amount == 0 {
            return Err(bad("price must be positive".into()));
        }
        let full = price
            .amount
            .checked_mul(u128::from(u.count))
            .ok_or_else(|| bad("price overflow".into()))?;
        total = total
            .checked_add(full)
            .ok_or_else(|| bad("price overflow".into()))?;
    }
    if units > max_units {
        return Err(bad(format!("at most {max_units} units per group")));
    }
    Ok(total)
}

/// Checks a deployment's groups: non-empty, unique names, one denom, each valid.
pub fn validate_groups(
    groups: &[proto::GroupSpec],
    denom: &str,
    max_groups: u32,
    max_units: u32,
) -> Result<(), DeploymentError> {
    if groups.is_empty() {
        return Err(DeploymentError::InvalidGroups(
            "a deployment needs at least one group".into(),
        ));
    }
    if groups.len() > usize::try_from(max_groups).unwrap_or(usize::MAX) {
        return Err(DeploymentError::InvalidGroups(format!(
            "at most {max_groups} groups per deployment"
        )));
    }
    let mut names = std::collections::BTreeSet::new();
    for g in groups {
        if !names.insert(g.name.as_str()) {
            return Err(DeploymentError::InvalidGroups(format!(
                "group name {:?} is used twice",
                g.name
            )));
        }
        group_price(g, denom, max_units)?;
    }
    Ok(())
}

pub fn validate_hash(hash: &[u8]) -> Result<(), DeploymentError> {
    if hash.len() != 32 {
        return Err(DeploymentError::InvalidHash(format!(
            "{} bytes: the manifest hash is a 32-byte SHA-256 (see docs/marketplace.md)",
            hash.len()
        )));
    }
    Ok(())
}

pub fn deployment_state_name(s: i32) -> &'static str {
    match proto::DeploymentState::try_from(s) {
        Ok(proto::DeploymentState::Active) => "active",
        Ok(proto::DeploymentState::Closed) => "closed",
        _ => "invalid",
    }
}

pub fn group_state_name(s: i32) -> &'static str {
    match proto::GroupState::try_from(s) {
        Ok(proto::GroupState::Open) => "open",
        Ok(proto::GroupState::Paused) => "paused",
        Ok(proto::GroupState::InsufficientFunds) => "insufficient_funds",
        Ok(proto::GroupState::Closed) => "closed",
        _ => "invalid",
    }
}
