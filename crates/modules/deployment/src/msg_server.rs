//! One handler per message: stateless checks, then stateful checks, then effects.
//! Every message is signed by the deployment's owner.

use crate::keeper::{Keeper, NewDeployment};
use crate::proto::*;
use crate::types::{self, DeploymentId, GroupId};
use crate::DeploymentError;
use prost::Message;
use ve_escrow::Funding;
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "deployment")
}

/// Most bytes of groups a create message may carry (before any state is read).
pub const MAX_GROUPS_BYTES: usize = 64 * 1024;

pub struct CreateDeploymentHandler {
    pub keeper: Keeper,
}

fn new_deployment(msg: &MsgCreateDeployment) -> Result<NewDeployment, AppError> {
    let id = DeploymentId::from_proto(msg.id.as_ref())?;
    let deposit =
        types::coin(msg.deposit.as_ref(), "deposit").map_err(DeploymentError::InvalidDeposit)?;
    Ok(NewDeployment {
        owner: id.owner,
        dseq: id.dseq,
        groups: msg.groups.clone(),
        hash: msg.hash.clone(),
        deposit,
        provider: None,
    })
}

/// Where the first deposit comes from: the owner's balance, or `from_grant`'s balance
/// through its deposit grant to the owner (the owner signs as the grantee).
fn funding(msg: &MsgCreateDeployment, owner: &Address) -> Result<Funding, AppError> {
    if msg.from_grant.is_empty() {
        return Ok(Funding::Balance(*owner));
    }
    let granter = types::parse_addr(&msg.from_grant)?;
    if granter == *owner {
        return Err(DeploymentError::InvalidDeposit(
            "from_grant names the owner: leave it empty to pay from the owner's balance".into(),
        )
        .into());
    }
    Ok(Funding::Grant {
        granter,
        grantee: *owner,
    })
}

impl MsgHandler for CreateDeploymentHandler {
    type Msg = MsgCreateDeployment;
    fn type_url(&self) -> &'static str {
        "/virtengine.deployment.v1.MsgCreateDeployment"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.deployment.v1.MsgCreateDeploymentResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![DeploymentId::from_proto(msg.id.as_ref())?.owner])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        let n = new_deployment(msg)?;
        funding(msg, &n.owner)?;
        if crate::keeper::groups_len(&n.groups) > MAX_GROUPS_BYTES {
            return Err(DeploymentError::InvalidGroups(format!(
                "groups take more than {MAX_GROUPS_BYTES} bytes"
            ))
            .into());
        }
        types::validate_hash(&n.hash)?;
        types::validate_groups(
            &n.groups,
            &n.deposit.denom,
            crate::params::HARD_MAX_GROUPS,
            crate::params::HARD_MAX_UNITS,
        )?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let n = new_deployment(msg)?;
        let funding = funding(msg, &n.owner)?;
        self.keeper.create_funded(ctx, &n, &funding)?;
        ctx.emit(message_event(&n.owner));
        Ok(MsgCreateDeploymentResponse {}.encode_to_vec())
    }
}

pub struct UpdateDeploymentHandler {
    pub keeper: Keeper,
}

impl MsgHandler for UpdateDeploymentHandler {
    type Msg = MsgUpdateDeployment;
    fn type_url(&self) -> &'static str {
        "/virtengine.deployment.v1.MsgUpdateDeployment"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.deployment.v1.MsgUpdateDeploymentResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![DeploymentId::from_proto(msg.id.as_ref())?.owner])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        DeploymentId::from_proto(msg.id.as_ref())?;
        types::validate_hash(&msg.hash)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = DeploymentId::from_proto(msg.id.as_ref())?;
        self.keeper.update(ctx, &id, &msg.hash)?;
        ctx.emit(message_event(&id.owner));
        Ok(MsgUpdateDeploymentResponse {}.encode_to_vec())
    }
}

pub struct CloseDeploymentHandler {
    pub keeper: Keeper,
}

impl MsgHandler for CloseDeploymentHandler {
    type Msg = MsgCloseDeployment;
    fn type_url(&self) -> &'static str {
        "/virtengine.deployment.v1.MsgCloseDeployment"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.deployment.v1.MsgCloseDeploymentResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![DeploymentId::from_proto(msg.id.as_ref())?.owner])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        DeploymentId::from_proto(msg.id.as_ref())?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = DeploymentId::from_proto(msg.id.as_ref())?;
        self.keeper.close(ctx, &id)?;
        ctx.emit(message_event(&id.owner));
        Ok(MsgCloseDeploymentResponse {}.encode_to_vec())
    }
}

macro_rules! group_handler {
    ($name:ident, $msg:ty, $resp:ty, $url:literal, $resp_url:literal, $method:ident) => {
        pub struct $name {
            pub keeper: Keeper,
        }

        impl MsgHandler for $name {
            type Msg = $msg;
            fn type_url(&self) -> &'static str {
                $url
            }
            fn response_type_url(&self) -> &'static str {
                $resp_url
            }
            fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
                Ok(vec![GroupId::from_proto(msg.id.as_ref())?.owner])
            }
            fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
                GroupId::from_proto(msg.id.as_ref())?;
                Ok(())
            }
            fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
                let id = GroupId::from_proto(msg.id.as_ref())?;
                self.keeper.$method(ctx, &id)?;
                ctx.emit(message_event(&id.owner));
                Ok(<$resp>::default().encode_to_vec())
            }
        }
    };
}

group_handler!(
    CloseGroupHandler,
    MsgCloseGroup,
    MsgCloseGroupResponse,
    "/virtengine.deployment.v1.MsgCloseGroup",
    "/virtengine.deployment.v1.MsgCloseGroupResponse",
    close_group
);
group_handler!(
    PauseGroupHandler,
    MsgPauseGroup,
    MsgPauseGroupResponse,
    "/virtengine.deployment.v1.MsgPauseGroup",
    "/virtengine.deployment.v1.MsgPauseGroupResponse",
    pause_group
);
group_handler!(
    StartGroupHandler,
    MsgStartGroup,
    MsgStartGroupResponse,
    "/virtengine.deployment.v1.MsgStartGroup",
    "/virtengine.deployment.v1.MsgStartGroupResponse",
    start_group
);
