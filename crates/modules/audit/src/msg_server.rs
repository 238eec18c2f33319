//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::proto::*;
use crate::{events, state, AuditError, ProviderRegistry};
use prost::Message;
use std::sync::Arc;
use ve_module::{Context, MsgHandler};
use ve_proto::virtengine::base::v1::Attribute;
use ve_provider::attributes::{self, Limits};
use ve_types::{Address, AppError};

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| AuditError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

/// Limits on what one auditor may sign for one provider (after merging).
pub fn limits() -> Limits {
    Limits::default()
}

fn checked(attrs: &[Attribute]) -> Result<Vec<Attribute>, AppError> {
    if attrs.is_empty() {
        return Err(AuditError::InvalidAttributes("sign at least one attribute".into()).into());
    }
    attributes::validate(attrs, &limits()).map_err(|e| AuditError::InvalidAttributes(e).into())
}

/// `/virtengine.audit.v1.MsgSignProviderAttributes` (signer: auditor).
pub struct SignProviderAttributesHandler {
    pub providers: Arc<dyn ProviderRegistry>,
}

impl MsgHandler for SignProviderAttributesHandler {
    type Msg = MsgSignProviderAttributes;
    fn type_url(&self) -> &'static str {
        "/virtengine.audit.v1.MsgSignProviderAttributes"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.audit.v1.MsgSignProviderAttributesResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.auditor)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        parse_addr(&msg.auditor)?;
        checked(&msg.attributes).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let owner = parse_addr(&msg.owner)?;
        let auditor = parse_addr(&msg.auditor)?;
        let new = checked(&msg.attributes)?;
        if !self.providers.is_provider(ctx, &owner)? {
            return Err(AuditError::ProviderNotFound(owner.to_string()).into());
        }
        let mut merged = state::record(ctx, &owner, &auditor)?
            .map(|r| r.attributes)
            .unwrap_or_default();
        merged.retain(|a| !new.iter().any(|n| n.key == a.key));
        merged.extend(new.iter().cloned());
        let merged =
            attributes::validate(&merged, &limits()).map_err(AuditError::InvalidAttributes)?;
        let r = AuditedAttributes {
            owner: owner.to_string(),
            auditor: auditor.to_string(),
            attributes: merged,
            updated_height: ctx.block().height,
        };
        state::set_record(ctx, &owner, &auditor, &r)?;
        let keys: Vec<String> = new.iter().map(|a| a.key.clone()).collect();
        ctx.emit(events::signed(&r.owner, &r.auditor, &keys));
        Ok(MsgSignProviderAttributesResponse {}.encode_to_vec())
    }
}

/// `/virtengine.audit.v1.MsgDeleteProviderAttributes` (signer: auditor). Empty `keys`
/// deletes the whole record.
pub struct DeleteProviderAttributesHandler;

impl MsgHandler for DeleteProviderAttributesHandler {
    type Msg = MsgDeleteProviderAttributes;
    fn type_url(&self) -> &'static str {
        "/virtengine.audit.v1.MsgDeleteProviderAttributes"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.audit.v1.MsgDeleteProviderAttributesResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.auditor)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        parse_addr(&msg.auditor)?;
        let l = limits();
        if msg.keys.len() > usize::try_from(l.max_count).unwrap_or(usize::MAX) {
            return Err(AuditError::InvalidAttributes("too many keys".into()).into());
        }
        for k in &msg.keys {
            attributes::validate_key(k, l.max_key_len).map_err(AuditError::InvalidAttributes)?;
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.owner)?;
        let auditor = parse_addr(&msg.auditor)?;
        let mut r =
            state::record(ctx, &owner, &auditor)?.ok_or_else(|| AuditError::RecordNotFound {
                owner: owner.to_string(),
                auditor: auditor.to_string(),
            })?;
        for k in &msg.keys {
            if !r.attributes.iter().any(|a| &a.key == k) {
                return Err(AuditError::AttributeNotFound {
                    owner: owner.to_string(),
                    auditor: auditor.to_string(),
                    key: k.clone(),
                }
                .into());
            }
        }
        r.attributes
            .retain(|a| !msg.keys.is_empty() && !msg.keys.contains(&a.key));
        if r.attributes.is_empty() {
            state::delete_record(ctx, &owner, &auditor)?;
        } else {
            r.updated_height = ctx.block().height;
            state::set_record(ctx, &owner, &auditor, &r)?;
        }
        ctx.emit(events::deleted(&r.owner, &r.auditor, &msg.keys));
        Ok(MsgDeleteProviderAttributesResponse {}.encode_to_vec())
    }
}
