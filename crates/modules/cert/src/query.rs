//! `virtengine.cert.v1.Query`. Filters: owner (prefix), serial (point read, needs owner),
//! state (applied to each page, so a filtered page may hold fewer than `limit` entries;
//! keep following `next_key`).

use crate::msg_server::{parse_addr, validate_serial};
use crate::proto::*;
use crate::{state, state_key, CertError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const CERTIFICATES: &str = "/virtengine.cert.v1.Query/Certificates";

/// Routes a query path owned by cert; `None` if the path is not cert's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        CERTIFICATES => certificates(ctx, data),
        _ => return None,
    })
}

fn state_filter(s: &str) -> Result<Option<i32>, AppError> {
    match s {
        "" => Ok(None),
        "valid" => Ok(Some(CertificateState::Valid as i32)),
        "revoked" => Ok(Some(CertificateState::Revoked as i32)),
        other => Err(CertError::InvalidRequest(format!(
            "state filter {other:?} must be \"valid\", \"revoked\" or empty"
        ))
        .into()),
    }
}

pub fn certificates(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req = QueryCertificatesRequest::decode(data)
        .map_err(|e| CertError::InvalidRequest(e.to_string()))?;
    let filter = req.filter.unwrap_or_default();
    let want_state = state_filter(&filter.state)?;
    let keep = |c: &Certificate| want_state.is_none_or(|s| c.state == s);
    if !filter.serial.is_empty() {
        validate_serial(&filter.serial)?;
        let owner = parse_addr(&filter.owner)
            .map_err(|_| CertError::InvalidRequest("a serial filter needs the owner too".into()))?;
        let certificates: Vec<Certificate> = state::cert(&mut ctx.store(), &owner, &filter.serial)?
            .into_iter()
            .filter(keep)
            .collect();
        return Ok(QueryCertificatesResponse {
            certificates,
            pagination: None,
        }
        .encode_to_vec());
    }
    let prefix = if filter.owner.is_empty() {
        state_key::CERT_PREFIX.to_vec()
    } else {
        state_key::of_owner(&parse_addr(&filter.owner)?)
    };
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut certificates = Vec::with_capacity(entries.len());
    for (_, v) in entries {
        let c = state::from_bytes(&v)?;
        if keep(&c) {
            certificates.push(c);
        }
    }
    Ok(QueryCertificatesResponse {
        certificates,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}
