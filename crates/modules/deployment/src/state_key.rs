//! Every key the deployment module writes. The layout of state is a public API.
//! Ids are fixed width (20-byte owner, big-endian dseq and gseq), so prefixes nest.

use crate::types::{DeploymentId, GroupId};
use ve_types::Address;

/// `deployment/params` → `Params`.
pub const PARAMS: &[u8] = b"deployment/params";
pub const DEPLOYMENT_PREFIX: &[u8] = b"deployment/dep/";
pub const GROUP_PREFIX: &[u8] = b"deployment/group/";

/// `deployment/dep/<owner 20>` — one owner's deployments.
pub fn deployments_of(owner: &Address) -> Vec<u8> {
    [DEPLOYMENT_PREFIX, owner.as_bytes().as_slice()].concat()
}

/// `deployment/dep/<owner 20><dseq 8>` → `Deployment`.
pub fn deployment(id: &DeploymentId) -> Vec<u8> {
    [deployments_of(&id.owner).as_slice(), &id.dseq.to_be_bytes()].concat()
}

/// `deployment/group/<owner 20><dseq 8>` — a deployment's groups, in gseq order.
pub fn groups_of(id: &DeploymentId) -> Vec<u8> {
    [
        GROUP_PREFIX,
        id.owner.as_bytes().as_slice(),
        &id.dseq.to_be_bytes(),
    ]
    .concat()
}

/// `deployment/group/<owner 20><dseq 8><gseq 4>` → `Group`.
pub fn group(id: &GroupId) -> Vec<u8> {
    [
        groups_of(&id.deployment()).as_slice(),
        &id.gseq.to_be_bytes(),
    ]
    .concat()
}
