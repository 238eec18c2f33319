//! `virtengine.offering.v1.Query`. Category / active filters apply to each page, so a
//! filtered page may hold fewer than `limit` entries: keep following `next_key`.

use crate::msg_server::{id, parse_addr};
use crate::proto::*;
use crate::{state, state_key, OfferingError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const OFFERING: &str = "/virtengine.offering.v1.Query/Offering";
pub const OFFERINGS: &str = "/virtengine.offering.v1.Query/Offerings";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| OfferingError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by offering; `None` if the path is not offering's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        OFFERING => offering(ctx, data),
        OFFERINGS => offerings(ctx, data),
        _ => return None,
    })
}

pub fn offering(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryOfferingRequest = decode(data)?;
    let provider = parse_addr(&req.provider)?;
    let o = state::offering(&mut ctx.store(), &provider, req.seq)?
        .ok_or_else(|| OfferingError::OfferingNotFound(id(&req.provider, req.seq)))?;
    Ok(QueryOfferingResponse { offering: Some(o) }.encode_to_vec())
}

pub fn offerings(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryOfferingsRequest = decode(data)?;
    let prefix = if req.provider.is_empty() {
        state_key::OFFERING_PREFIX.to_vec()
    } else {
        state_key::of_provider(&parse_addr(&req.provider)?)
    };
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut offerings = Vec::with_capacity(entries.len());
    for (_, v) in entries {
        let o = state::from_bytes(&v)?;
        let category_ok =
            req.category == Category::Unspecified as i32 || o.category == req.category;
        let state_ok = !req.active_only || o.state == OfferingState::Active as i32;
        if category_ok && state_ok {
            offerings.push(o);
        }
    }
    Ok(QueryOfferingsResponse {
        offerings,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}
