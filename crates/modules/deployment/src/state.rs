//! Typed access to deployment state. No other code reads or writes `deployment/` keys.

use crate::types::{DeploymentId, GroupId};
use crate::{proto, state_key, DeploymentError, DeploymentParams};
use prost::Message;
use ve_module::Store;
use ve_types::AppError;

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    DeploymentError::Corrupt(format!("{what}: {e}")).into()
}

pub fn params(store: &mut impl Store) -> Result<DeploymentParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(DeploymentParams::from_proto(
            &proto::Params::decode(b.as_slice()).map_err(|e| corrupt("params", e))?,
        )?),
        None => Ok(DeploymentParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &DeploymentParams) -> Result<(), AppError> {
    p.validate()?;
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn decode_deployment(b: &[u8]) -> Result<proto::Deployment, AppError> {
    proto::Deployment::decode(b).map_err(|e| corrupt("deployment", e))
}

pub fn decode_group(b: &[u8]) -> Result<proto::Group, AppError> {
    proto::Group::decode(b).map_err(|e| corrupt("group", e))
}

pub fn deployment(
    store: &mut impl Store,
    id: &DeploymentId,
) -> Result<Option<proto::Deployment>, AppError> {
    store
        .get(&state_key::deployment(id))?
        .map(|b| decode_deployment(&b))
        .transpose()
}

pub fn set_deployment(store: &mut impl Store, d: &proto::Deployment) -> Result<(), AppError> {
    let id = DeploymentId::from_proto(d.id.as_ref())?;
    store.put(state_key::deployment(&id), d.encode_to_vec())
}

pub fn group(store: &mut impl Store, id: &GroupId) -> Result<Option<proto::Group>, AppError> {
    store
        .get(&state_key::group(id))?
        .map(|b| decode_group(&b))
        .transpose()
}

pub fn set_group(store: &mut impl Store, g: &proto::Group) -> Result<(), AppError> {
    let id = GroupId::from_proto(g.id.as_ref())?;
    store.put(state_key::group(&id), g.encode_to_vec())
}

/// A deployment's groups in gseq order (bounded by the hard group limit).
pub fn groups(store: &mut impl Store, id: &DeploymentId) -> Result<Vec<proto::Group>, AppError> {
    let limit = usize::try_from(crate::params::HARD_MAX_GROUPS).unwrap_or(64);
    store
        .prefix(&state_key::groups_of(id), limit)?
        .iter()
        .map(|(_, v)| decode_group(v))
        .collect()
}
