//! The escrow hooks of deployment and bid accounts.
//!
//! Escrow calls these while it is working on an account, so they never call escrow on
//! that same account (escrow pays out and refunds on its own); they may close *other*
//! accounts (bid deposits).

use crate::keeper::Keeper;
use ve_deployment::DeploymentId;
use ve_escrow::{Account, EscrowHooks, Payment};
use ve_module::Context;
use ve_types::AppError;

/// The keepers the hooks act through.
pub struct Hooks {
    pub market: Keeper,
    pub deployment: ve_deployment::Keeper,
}

/// Escrow hooks built on demand by `F` (the app's constructor), so the escrow keeper,
/// which holds the hooks, and the market and deployment keepers, which hold the escrow
/// keeper, need not own each other.
pub struct EscrowHooksFn<F>(pub F);

impl<F: Fn() -> Hooks + Send + Sync> EscrowHooks for EscrowHooksFn<F> {
    fn on_account_overdrawn(&self, ctx: &mut Context<'_>, a: &Account) -> Result<(), AppError> {
        match DeploymentId::from_escrow_account(&a.id) {
            Some(id) => (self.0)().deployment.on_account_overdrawn(ctx, &id),
            None => Ok(()),
        }
    }
    fn on_account_resumed(&self, ctx: &mut Context<'_>, a: &Account) -> Result<(), AppError> {
        match DeploymentId::from_escrow_account(&a.id) {
            Some(id) => (self.0)().deployment.on_account_resumed(ctx, &id),
            None => Ok(()),
        }
    }
    fn on_account_closed(&self, ctx: &mut Context<'_>, a: &Account) -> Result<(), AppError> {
        match DeploymentId::from_escrow_account(&a.id) {
            Some(id) => (self.0)().deployment.on_account_closed(ctx, &id),
            None => Ok(()),
        }
    }
    fn on_payment_closed(&self, ctx: &mut Context<'_>, p: &Payment) -> Result<(), AppError> {
        match DeploymentId::from_escrow_account(&p.account_id) {
            Some(id) => (self.0)().market.on_payment_closed(ctx, &id, &p.id),
            None => Ok(()),
        }
    }
}
