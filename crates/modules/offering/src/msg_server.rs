//! One handler per message: stateless checks, then stateful checks, then effects. Order
//! gating (tenant tier, MFA) happens here, where the order is executed.

use crate::proto::*;
use crate::{events, state, OfferingError, ProviderRegistry, MAX_ACTIVE_OFFERINGS_PER_PROVIDER};
use prost::Message;
use std::sync::Arc;
use ve_deployment::{proto as dproto, DeploymentCreator, NewDeployment};
use ve_identity::proto::IdentityTier;
use ve_identity::IdentityGate;
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::{Context, MsgHandler};
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_provider::attributes::{self, Limits};
use ve_types::{Address, AppError, Coin};

pub const MAX_NAME_LEN: usize = 64;
pub const MAX_DESCRIPTION_LEN: usize = 512;
pub const MAX_UNITS: u32 = 1_000;

/// What offering handlers reach outside the module, as the app wires it.
#[derive(Clone)]
pub struct Gates {
    pub identity: Arc<dyn IdentityGate>,
    pub mfa: Arc<dyn MfaGate>,
    pub providers: Arc<dyn ProviderRegistry>,
    pub deployments: Arc<dyn DeploymentCreator>,
}

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| OfferingError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

fn bad(m: impl Into<String>) -> AppError {
    OfferingError::InvalidOffering(m.into()).into()
}

pub(crate) fn id(provider: &str, seq: u64) -> String {
    format!("{provider}/{seq}")
}

pub fn category_name(c: i32) -> &'static str {
    match Category::try_from(c) {
        Ok(Category::Compute) => "compute",
        Ok(Category::Storage) => "storage",
        Ok(Category::Gpu) => "gpu",
        Ok(Category::Hpc) => "hpc",
        Ok(Category::Tee) => "tee",
        _ => "unspecified",
    }
}

pub fn tier_from_u32(t: u32) -> Option<IdentityTier> {
    match t {
        0 => Some(IdentityTier::Unverified),
        1 => Some(IdentityTier::Basic),
        2 => Some(IdentityTier::Standard),
        3 => Some(IdentityTier::Premium),
        _ => None,
    }
}

fn parse_price(c: Option<&ProtoCoin>, what: &str) -> Result<Coin, AppError> {
    let c = c.ok_or_else(|| bad(format!("{what} is missing")))?;
    let coin = Coin::from_parts(&c.denom, &c.amount).map_err(|e| bad(format!("{what}: {e}")))?;
    if coin.amount == 0 {
        return Err(bad(format!("{what} must be positive")));
    }
    Ok(coin)
}

/// The fields shared by create and update.
pub(crate) struct Fields<'a> {
    pub category: i32,
    pub name: &'a str,
    pub description: &'a str,
    pub price: Option<&'a ProtoCoin>,
    pub resources: Option<&'a ResourceTemplate>,
    pub min_tier: u32,
    pub attributes: &'a [Attribute],
}

/// Checks an offering's fields; returns the sorted attributes.
pub(crate) fn check_fields(f: &Fields<'_>) -> Result<Vec<Attribute>, AppError> {
    let category = Category::try_from(f.category).map_err(|_| bad("unknown category"))?;
    if category == Category::Unspecified {
        return Err(bad("category must be compute, storage, gpu, hpc or tee"));
    }
    if f.name.trim().is_empty()
        || f.name.len() > MAX_NAME_LEN
        || f.name.chars().any(char::is_control)
    {
        return Err(bad(format!(
            "name must be 1..={MAX_NAME_LEN} printable bytes"
        )));
    }
    if f.description.len() > MAX_DESCRIPTION_LEN {
        return Err(bad(format!(
            "description is limited to {MAX_DESCRIPTION_LEN} bytes"
        )));
    }
    parse_price(f.price, "price_per_block")?;
    let r = f.resources.ok_or_else(|| bad("resources are missing"))?;
    if r.cpu_millicores == 0 || r.memory_bytes == 0 {
        return Err(bad(
            "resources need cpu_millicores > 0 and memory_bytes > 0",
        ));
    }
    if category == Category::Gpu && r.gpu_count == 0 {
        return Err(bad("a gpu offering needs gpu_count >= 1"));
    }
    if category == Category::Storage && r.storage_bytes == 0 {
        return Err(bad("a storage offering needs storage_bytes > 0"));
    }
    if r.gpu_model.len() > MAX_NAME_LEN {
        return Err(bad("gpu_model is limited to 64 bytes"));
    }
    if tier_from_u32(f.min_tier).is_none() {
        return Err(bad("min_tier must be 0 (unverified) .. 3 (premium)"));
    }
    attributes::validate(f.attributes, &Limits::default()).map_err(bad)
}

/// `/virtengine.offering.v1.MsgCreateOffering`.
pub struct CreateOfferingHandler {
    pub gates: Gates,
}

impl MsgHandler for CreateOfferingHandler {
    type Msg = MsgCreateOffering;
    fn type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgCreateOffering"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgCreateOfferingResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.provider)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.provider)?;
        check_fields(&fields_of_create(msg)).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let provider = parse_addr(&msg.provider)?;
        let attrs = check_fields(&fields_of_create(msg))?;
        if !self.gates.providers.is_provider(ctx, &provider)? {
            return Err(OfferingError::NotAProvider(provider.to_string()).into());
        }
        // Spec §5.1: only an eligible (verified, score >= 70) provider publishes.
        self.gates
            .identity
            .require_tier(ctx, &provider, IdentityTier::Standard)?;
        let active = state::active_count(ctx, &provider)?;
        if active >= MAX_ACTIVE_OFFERINGS_PER_PROVIDER {
            return Err(OfferingError::TooManyOfferings(provider.to_string(), active).into());
        }
        let seq = state::last_seq(ctx, &provider)?
            .checked_add(1)
            .ok_or_else(|| OfferingError::Overflow("offering sequence".into()))?;
        let height = ctx.block().height;
        let o = Offering {
            provider: provider.to_string(),
            seq,
            state: OfferingState::Active as i32,
            category: msg.category,
            name: msg.name.clone(),
            description: msg.description.clone(),
            price_per_block: msg.price_per_block.clone(),
            resources: msg.resources.clone(),
            min_tier: msg.min_tier,
            require_mfa: msg.require_mfa,
            attributes: attrs,
            created_height: height,
            updated_height: height,
            order_count: 0,
        };
        state::set_offering(ctx, &provider, &o)?;
        state::set_last_seq(ctx, &provider, seq)?;
        state::set_active_count(ctx, &provider, active.saturating_add(1))?;
        ctx.emit(events::created(&o.provider, seq, category_name(o.category)));
        Ok(MsgCreateOfferingResponse { seq }.encode_to_vec())
    }
}

fn fields_of_create(msg: &MsgCreateOffering) -> Fields<'_> {
    Fields {
        category: msg.category,
        name: &msg.name,
        description: &msg.description,
        price: msg.price_per_block.as_ref(),
        resources: msg.resources.as_ref(),
        min_tier: msg.min_tier,
        attributes: &msg.attributes,
    }
}

fn active_offering(
    ctx: &mut Context<'_>,
    provider: &Address,
    seq: u64,
) -> Result<Offering, AppError> {
    let o = state::offering(ctx, provider, seq)?
        .ok_or_else(|| OfferingError::OfferingNotFound(id(&provider.to_string(), seq)))?;
    if o.state != OfferingState::Active as i32 {
        return Err(OfferingError::OfferingInactive(id(&o.provider, seq)).into());
    }
    Ok(o)
}

/// `/virtengine.offering.v1.MsgUpdateOffering`: replaces the mutable fields (category
/// stays).
pub struct UpdateOfferingHandler;

impl UpdateOfferingHandler {
    fn fields<'a>(msg: &'a MsgUpdateOffering, category: i32) -> Fields<'a> {
        Fields {
            category,
            name: &msg.name,
            description: &msg.description,
            price: msg.price_per_block.as_ref(),
            resources: msg.resources.as_ref(),
            min_tier: msg.min_tier,
            attributes: &msg.attributes,
        }
    }
}

impl MsgHandler for UpdateOfferingHandler {
    type Msg = MsgUpdateOffering;
    fn type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgUpdateOffering"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgUpdateOfferingResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.provider)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.provider)?;
        // Category-specific rules are checked in execute, against the stored category.
        check_fields(&Self::fields(msg, Category::Compute as i32)).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let provider = parse_addr(&msg.provider)?;
        let mut o = active_offering(ctx, &provider, msg.seq)?;
        let attrs = check_fields(&Self::fields(msg, o.category))?;
        o.name = msg.name.clone();
        o.description = msg.description.clone();
        o.price_per_block = msg.price_per_block.clone();
        o.resources = msg.resources.clone();
        o.min_tier = msg.min_tier;
        o.require_mfa = msg.require_mfa;
        o.attributes = attrs;
        o.updated_height = ctx.block().height;
        state::set_offering(ctx, &provider, &o)?;
        ctx.emit(events::updated(&o.provider, o.seq));
        Ok(MsgUpdateOfferingResponse {}.encode_to_vec())
    }
}

/// `/virtengine.offering.v1.MsgDeactivateOffering`.
pub struct DeactivateOfferingHandler;

impl MsgHandler for DeactivateOfferingHandler {
    type Msg = MsgDeactivateOffering;
    fn type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgDeactivateOffering"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgDeactivateOfferingResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.provider)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.provider).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let provider = parse_addr(&msg.provider)?;
        let mut o = active_offering(ctx, &provider, msg.seq)?;
        o.state = OfferingState::Inactive as i32;
        o.updated_height = ctx.block().height;
        state::set_offering(ctx, &provider, &o)?;
        let active = state::active_count(ctx, &provider)?;
        state::set_active_count(ctx, &provider, active.saturating_sub(1))?;
        ctx.emit(events::deactivated(&o.provider, o.seq));
        Ok(MsgDeactivateOfferingResponse {}.encode_to_vec())
    }
}

/// The deployment an order creates: one group named `offering-<seq>` holding `units` of
/// the template at the offering's price per unit per block, reserved for `provider` (the
/// offering's).
pub fn deployment_for(
    o: &Offering,
    provider: &Address,
    tenant: &Address,
    dseq: u64,
    units: u32,
    deposit: Coin,
    hash: Vec<u8>,
) -> NewDeployment {
    let r = o.resources.clone().unwrap_or_default();
    NewDeployment {
        owner: *tenant,
        dseq,
        groups: vec![dproto::GroupSpec {
            name: format!("offering-{}", o.seq),
            requirements: Some(PlacementRequirements::default()),
            resources: vec![dproto::ResourceUnit {
                resources: Some(dproto::Resources {
                    cpu_millicores: r.cpu_millicores,
                    memory_bytes: r.memory_bytes,
                    storage_bytes: r.storage_bytes,
                    gpu_count: r.gpu_count,
                    gpu_model: r.gpu_model,
                    endpoints: vec![],
                }),
                count: units,
                price: o.price_per_block.clone(),
            }],
        }],
        hash,
        deposit,
        // The order is for this provider's offering: no other provider may take it.
        provider: Some(*provider),
    }
}

/// `/virtengine.offering.v1.MsgOrderOffering`: gated on the offering's minimum tier and
/// MFA requirement, then creates the tenant's deployment.
pub struct OrderOfferingHandler {
    pub gates: Gates,
}

impl MsgHandler for OrderOfferingHandler {
    type Msg = MsgOrderOffering;
    fn type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgOrderOffering"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.offering.v1.MsgOrderOfferingResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.tenant)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.tenant)?;
        parse_addr(&msg.provider)?;
        let order = |m: &str| -> AppError { OfferingError::InvalidOrder(m.into()).into() };
        if msg.units == 0 || msg.units > MAX_UNITS {
            return Err(order("units must be 1..=1000"));
        }
        if msg.manifest_hash.len() != 32 {
            return Err(order(
                "manifest_hash must be the 32-byte SHA-256 of the manifest",
            ));
        }
        parse_price(msg.deposit.as_ref(), "deposit")
            .map_err(|e| OfferingError::InvalidOrder(e.message))?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let tenant = parse_addr(&msg.tenant)?;
        let provider = parse_addr(&msg.provider)?;
        let deposit = parse_price(msg.deposit.as_ref(), "deposit")
            .map_err(|e| OfferingError::InvalidOrder(e.message))?;
        let mut o = active_offering(ctx, &provider, msg.seq)?;
        let min = tier_from_u32(o.min_tier)
            .ok_or_else(|| OfferingError::Corrupt("offering min_tier".into()))?;
        self.gates.identity.require_tier(ctx, &tenant, min)?;
        if o.require_mfa {
            // The offering demands a session for every order, so no value threshold may
            // waive it: ask as for the highest value.
            self.gates
                .mfa
                .require_mfa(ctx, &tenant, SensitiveAction::HighValueOrder, u128::MAX)?;
        }
        let dseq = if msg.dseq == 0 {
            ctx.block().height
        } else {
            msg.dseq
        };
        let req = deployment_for(
            &o,
            &provider,
            &tenant,
            dseq,
            msg.units,
            deposit,
            msg.manifest_hash.clone(),
        );
        let created = self.gates.deployments.create_deployment(ctx, &req)?;
        o.order_count = o.order_count.saturating_add(1);
        state::set_offering(ctx, &provider, &o)?;
        ctx.emit(events::ordered(
            &o.provider,
            o.seq,
            &tenant.to_string(),
            created.dseq,
            msg.units,
        ));
        Ok(MsgOrderOfferingResponse {
            owner: created.owner.to_string(),
            dseq: created.dseq,
        }
        .encode_to_vec())
    }
}
