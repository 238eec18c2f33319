//! `virtengine.take.v1.Query`.

use crate::proto::QueryParamsResponse;
use crate::state;
use prost::Message;
use ve_module::QueryContext;
use ve_types::AppError;

pub const PARAMS: &str = "/virtengine.take.v1.Query/Params";

/// Routes a query path owned by take; `None` if the path is not take's.
pub fn route(
    ctx: &QueryContext<'_>,
    path: &str,
    _data: &[u8],
) -> Option<Result<Vec<u8>, AppError>> {
    match path {
        PARAMS => Some(params(ctx)),
        _ => None,
    }
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let p = state::params(&mut ctx.store())?;
    Ok(QueryParamsResponse {
        params: Some(p.to_proto()),
    }
    .encode_to_vec())
}
