//! audit genesis: auditor-signed attribute records.

use crate::msg_server::limits;
use crate::proto::AuditedAttributes;
use crate::{state, AuditError};
use std::collections::{BTreeMap, BTreeSet};
use ve_module::Store;
use ve_proto::virtengine::base::v1::Attribute;
use ve_provider::attributes;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditGenesis {
    pub records: Vec<GenesisRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisRecord {
    pub owner: Address,
    pub auditor: Address,
    pub attributes: BTreeMap<String, String>,
}

impl AuditGenesis {
    fn build(&self) -> Result<Vec<(Address, Address, AuditedAttributes)>, AuditError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for g in &self.records {
            if !seen.insert((g.owner, g.auditor)) {
                return Err(AuditError::InvalidGenesis(format!(
                    "record ({}, {}) listed twice",
                    g.owner, g.auditor
                )));
            }
            let attrs: Vec<Attribute> = g
                .attributes
                .iter()
                .map(|(k, v)| Attribute {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect();
            if attrs.is_empty() {
                return Err(AuditError::InvalidGenesis("empty attribute record".into()));
            }
            let attrs =
                attributes::validate(&attrs, &limits()).map_err(AuditError::InvalidGenesis)?;
            out.push((
                g.owner,
                g.auditor,
                AuditedAttributes {
                    owner: g.owner.to_string(),
                    auditor: g.auditor.to_string(),
                    attributes: attrs,
                    updated_height: 0,
                },
            ));
        }
        Ok(out)
    }

    pub fn validate(&self) -> Result<(), AuditError> {
        self.build().map(|_| ())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &AuditGenesis) -> Result<(), AppError> {
    for (owner, auditor, r) in genesis.build()? {
        state::set_record(store, &owner, &auditor, &r)?;
    }
    Ok(())
}
