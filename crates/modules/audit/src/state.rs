//! Typed access to audit state. No other code reads or writes `audit/` keys.

use crate::proto::AuditedAttributes;
use crate::{state_key, AuditError};
use prost::Message;
use ve_module::Store;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_types::{Address, AppError};

pub fn from_bytes(b: &[u8]) -> Result<AuditedAttributes, AppError> {
    AuditedAttributes::decode(b).map_err(|e| AuditError::Corrupt(format!("record: {e}")).into())
}

pub fn record(
    store: &mut impl Store,
    owner: &Address,
    auditor: &Address,
) -> Result<Option<AuditedAttributes>, AppError> {
    store
        .get(&state_key::record(owner, auditor))?
        .map(|b| from_bytes(&b))
        .transpose()
}

pub fn set_record(
    store: &mut impl Store,
    owner: &Address,
    auditor: &Address,
    r: &AuditedAttributes,
) -> Result<(), AppError> {
    store.put(state_key::record(owner, auditor), r.encode_to_vec())?;
    store.put(state_key::auditor_index(auditor, owner), Vec::new())
}

pub fn delete_record(
    store: &mut impl Store,
    owner: &Address,
    auditor: &Address,
) -> Result<(), AppError> {
    store.delete(state_key::record(owner, auditor))?;
    store.delete(state_key::auditor_index(auditor, owner))
}

/// The signed attributes of the auditors `requirements.signed_by` names, for `provider`.
pub fn audited_for_requirements(
    store: &mut impl Store,
    provider: &Address,
    requirements: &PlacementRequirements,
) -> Result<Vec<(Address, Vec<Attribute>)>, AppError> {
    let mut out: Vec<(Address, Vec<Attribute>)> = Vec::new();
    let Some(sb) = requirements.signed_by.as_ref() else {
        return Ok(out);
    };
    for s in sb.all_of.iter().chain(sb.any_of.iter()) {
        let Ok(auditor) = s.parse::<Address>() else {
            continue;
        };
        if out.iter().any(|(a, _)| *a == auditor) {
            continue;
        }
        if let Some(r) = record(store, provider, &auditor)? {
            out.push((auditor, r.attributes));
        }
    }
    Ok(out)
}
