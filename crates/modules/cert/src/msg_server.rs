//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::proto::*;
use crate::{check, events, state, CertError};
use prost::Message;
use ve_module::{Context, MsgHandler};
use ve_types::{Address, AppError};

/// Gas for parsing and verifying one certificate (ECDSA P-256).
pub const CERT_VERIFY_GAS: u64 = 5_000;

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| CertError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

pub(crate) fn validate_serial(s: &str) -> Result<(), AppError> {
    if s.is_empty()
        || s.len() > 49
        || !s.chars().all(|c| c.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(CertError::InvalidRequest(format!(
            "serial {s:?} must be a decimal number without leading zeros"
        ))
        .into());
    }
    Ok(())
}

/// `/virtengine.cert.v1.MsgCreateCertificate`.
pub struct CreateCertificateHandler;

impl MsgHandler for CreateCertificateHandler {
    type Msg = MsgCreateCertificate;
    fn type_url(&self) -> &'static str {
        "/virtengine.cert.v1.MsgCreateCertificate"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.cert.v1.MsgCreateCertificateResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        if msg.cert.len() > check::MAX_PEM_LEN || msg.pubkey.len() > check::MAX_PEM_LEN {
            return Err(CertError::InvalidCertificate(format!(
                "certificate and key are limited to {} bytes each",
                check::MAX_PEM_LEN
            ))
            .into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.owner)?;
        ctx.consume_gas(CERT_VERIFY_GAS, "certificate check")?;
        let now = ve_identity::keeper::now(ctx)?;
        let checked = check::parse_and_check(&msg.owner, &msg.cert, &msg.pubkey, now)?;
        if state::cert(ctx, &owner, &checked.serial)?.is_some() {
            return Err(CertError::CertificateExists {
                owner: owner.to_string(),
                serial: checked.serial,
            }
            .into());
        }
        let c = Certificate {
            owner: owner.to_string(),
            serial: checked.serial.clone(),
            state: CertificateState::Valid as i32,
            cert: msg.cert.clone(),
            pubkey: msg.pubkey.clone(),
            not_before: checked.not_before,
            not_after: checked.not_after,
            created_height: ctx.block().height,
            revoked_height: 0,
        };
        state::set_cert(ctx, &owner, &c)?;
        ctx.emit(events::created(&c.owner, &c.serial, c.not_after));
        Ok(MsgCreateCertificateResponse {
            serial: checked.serial,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.cert.v1.MsgRevokeCertificate`.
pub struct RevokeCertificateHandler;

impl MsgHandler for RevokeCertificateHandler {
    type Msg = MsgRevokeCertificate;
    fn type_url(&self) -> &'static str {
        "/virtengine.cert.v1.MsgRevokeCertificate"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.cert.v1.MsgRevokeCertificateResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        validate_serial(&msg.serial)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.owner)?;
        let mut c = state::cert(ctx, &owner, &msg.serial)?.ok_or_else(|| {
            CertError::CertificateNotFound {
                owner: owner.to_string(),
                serial: msg.serial.clone(),
            }
        })?;
        if c.state == CertificateState::Revoked as i32 {
            return Err(CertError::AlreadyRevoked {
                owner: owner.to_string(),
                serial: msg.serial.clone(),
            }
            .into());
        }
        c.state = CertificateState::Revoked as i32;
        c.revoked_height = ctx.block().height;
        state::set_cert(ctx, &owner, &c)?;
        ctx.emit(events::revoked(&c.owner, &c.serial));
        Ok(MsgRevokeCertificateResponse {}.encode_to_vec())
    }
}
