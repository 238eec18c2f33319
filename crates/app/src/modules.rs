//! The one place where modules are composed: message routes, genesis order, query routes,
//! and the narrow keeper adapters modules use to reach each other.

use crate::genesis::AppGenesis;
use std::sync::Arc;
use ve_module::{Context, QueryContext, Router, Store};
use ve_types::{Address, AppError};

/// bank reaches auth only through this adapter: a transfer to a new address creates
/// its account.
struct AuthAccounts;

impl ve_bank::msg_server::AccountKeeper for AuthAccounts {
    fn ensure_account(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<(), AppError> {
        ve_auth::state::ensure_account(ctx, addr).map(|_| ())
    }
}

/// Builds the message router. Adding a module means adding its handlers here.
pub(crate) fn router() -> Result<Router, String> {
    let blocked = ve_auth::genesis::blocked_addresses();
    let accounts: Arc<dyn ve_bank::msg_server::AccountKeeper> = Arc::new(AuthAccounts);
    let mut r = Router::new();
    r.add(ve_bank::MsgSendHandler {
        blocked: blocked.clone(),
        accounts: accounts.clone(),
    })?;
    r.add(ve_bank::MsgMultiSendHandler { blocked, accounts })?;
    r.add(ve_encryption::RegisterKeyHandler)?;
    r.add(ve_encryption::RevokeKeyHandler)?;
    r.add(ve_encryption::RotateKeyHandler)?;
    Ok(r)
}

/// Writes genesis, module by module, in a fixed order.
pub(crate) fn init_genesis(store: &mut impl Store, genesis: &AppGenesis) -> Result<(), AppError> {
    genesis
        .validate()
        .map_err(|e| AppError::new("genesis", 1, e))?;
    genesis.fee.min_gas_price.save(store)?;
    ve_auth::genesis::init_genesis(store, &genesis.auth)?;
    ve_bank::genesis::init_genesis(store, &genesis.bank)?;
    ve_encryption::genesis::init_genesis(store, &genesis.encryption)?;
    Ok(())
}

/// Begin-block hooks, in the written order. Each must bound its own work per block.
pub(crate) fn begin_block(_ctx: &mut Context<'_>) -> Result<(), AppError> {
    Ok(())
}

/// End-block hooks, in the written order. Each must bound its own work per block
/// (a cursor or a queue with a per-block cap), never loop over user-growable state.
pub(crate) fn end_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    ve_encryption::end_block(ctx)?;
    Ok(())
}

/// Routes a gRPC-method query path to the module that owns it.
pub(crate) fn route_query(
    ctx: &QueryContext<'_>,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, AppError> {
    if let Some(r) = ve_auth::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_bank::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_encryption::query::route(ctx, path, data) {
        return r;
    }
    Err(AppError::new(
        ve_module::SDK_CODESPACE,
        6,
        format!("unknown query path {path:?}"),
    ))
}
