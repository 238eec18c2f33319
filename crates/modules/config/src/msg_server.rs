//! One handler per message: stateless checks, then the authority, then stateful checks,
//! then effects. Every handler is signed by `authority` (see [`crate::keeper::is_authority`]).

use crate::proto::*;
use crate::{events, keeper, semver, state, ConfigError};
use prost::Message;
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

pub const MAX_NAME_LEN: usize = 128;
pub const MAX_DESCRIPTION_LEN: usize = 512;
pub const MAX_REASON_LEN: usize = 512;
pub const MAX_ALLOWED_SCOPES: usize = 16;

/// Scope type names a client may be approved for. Identity's `ScopeType` names, in
/// the same order (an app test checks the two lists agree).
pub const SCOPE_TYPE_NAMES: &[&str] = &[
    "id_document",
    "selfie",
    "face_video",
    "biometric",
    "sso_metadata",
    "email_proof",
    "sms_proof",
    "domain_verify",
    "ad_sso",
    "biometric_hardware",
    "device_attestation",
    "social_media",
];

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse().map_err(|e| {
        ConfigError::InvalidAddress(s.chars().take(100).collect(), format!("{e}")).into()
    })
}

/// `^[A-Za-z][A-Za-z0-9_-]{2,63}$`
pub fn check_client_id(id: &str) -> Result<(), ConfigError> {
    let b = id.as_bytes();
    let ok = (3..=64).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidClientId(id.chars().take(64).collect()))
    }
}

fn check_len(field: &'static str, s: &str, min: usize, max: usize) -> Result<(), ConfigError> {
    if s.len() < min || s.len() > max {
        return Err(ConfigError::InvalidField {
            field,
            reason: format!("{} bytes; must be {min}..={max}", s.len()),
        });
    }
    Ok(())
}

fn check_versions(min: &str, max: &str) -> Result<(), ConfigError> {
    if !min.is_empty() {
        semver::parse(min)?;
    }
    if !max.is_empty() {
        let hi = semver::parse(max)?;
        if !min.is_empty() && hi < semver::parse(min)? {
            return Err(ConfigError::InvalidField {
                field: "max_version",
                reason: "below min_version".into(),
            });
        }
    }
    Ok(())
}

fn check_scopes(scopes: &[String]) -> Result<(), ConfigError> {
    if scopes.len() > MAX_ALLOWED_SCOPES {
        return Err(ConfigError::InvalidField {
            field: "allowed_scopes",
            reason: format!("at most {MAX_ALLOWED_SCOPES} entries"),
        });
    }
    for (i, s) in scopes.iter().enumerate() {
        if !SCOPE_TYPE_NAMES.contains(&s.as_str()) {
            return Err(ConfigError::InvalidField {
                field: "allowed_scopes",
                reason: format!(
                    "unknown scope type {:?}; use one of {}",
                    s.chars().take(32).collect::<String>(),
                    SCOPE_TYPE_NAMES.join(", ")
                ),
            });
        }
        if scopes.iter().take(i).any(|p| p == s) {
            return Err(ConfigError::InvalidField {
                field: "allowed_scopes",
                reason: format!("{s} listed twice"),
            });
        }
    }
    Ok(())
}

/// Refuses unless `authority` may change the registry.
fn require_authority(
    ctx: &mut Context<'_>,
    gov: &Address,
    authority: &Address,
) -> Result<(), AppError> {
    if keeper::is_authority(ctx, gov, authority)? {
        Ok(())
    } else {
        Err(ConfigError::Unauthorized(authority.to_string()).into())
    }
}

fn load(ctx: &mut Context<'_>, client_id: &str) -> Result<ApprovedClient, AppError> {
    check_client_id(client_id)?;
    Ok(state::client(ctx, client_id)?
        .ok_or_else(|| ConfigError::ClientNotFound(client_id.to_string()))?)
}

fn audit(
    ctx: &mut Context<'_>,
    client_id: &str,
    action: &str,
    actor: &Address,
    reason: &str,
) -> Result<(), AppError> {
    let e = AuditEntry {
        client_id: client_id.to_string(),
        action: action.to_string(),
        actor: actor.to_string(),
        height: ctx.block().height,
        time: ctx.block().time_unix,
        reason: reason.to_string(),
    };
    state::append_audit(ctx, &e)
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "config")
}

macro_rules! authority_signer {
    () => {
        fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
            Ok(vec![parse_addr(&msg.authority)?])
        }
    };
}

/// `/virtengine.config.v1.MsgRegisterApprovedClient`.
pub struct RegisterClientHandler {
    pub gov: Address,
}

impl MsgHandler for RegisterClientHandler {
    type Msg = MsgRegisterApprovedClient;
    fn type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgRegisterApprovedClient"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgRegisterApprovedClientResponse"
    }
    authority_signer!();
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        check_client_id(&msg.client_id)?;
        check_len("name", &msg.name, 1, MAX_NAME_LEN)?;
        check_len("description", &msg.description, 0, MAX_DESCRIPTION_LEN)?;
        keeper::check_public_key(msg.key_type, &msg.public_key)?;
        check_versions(&msg.min_version, &msg.max_version)?;
        check_scopes(&msg.allowed_scopes)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        require_authority(ctx, &self.gov, &authority)?;
        if state::client(ctx, &msg.client_id)?.is_some() {
            return Err(ConfigError::ClientExists(msg.client_id.clone()).into());
        }
        let params = state::params(ctx)?;
        let count = state::client_count(ctx)?;
        if count >= params.max_clients {
            return Err(ConfigError::TooManyClients(params.max_clients).into());
        }
        let min_version = if msg.min_version.is_empty() {
            params.default_min_version.clone()
        } else {
            msg.min_version.clone()
        };
        check_versions(&min_version, &msg.max_version)?;
        let height = ctx.block().height;
        let c = ApprovedClient {
            client_id: msg.client_id.clone(),
            name: msg.name.clone(),
            description: msg.description.clone(),
            public_key: msg.public_key.clone(),
            key_type: msg.key_type,
            key_version: 1,
            min_version,
            max_version: msg.max_version.clone(),
            allowed_scopes: msg.allowed_scopes.clone(),
            status: ClientStatus::Active as i32,
            registered_by: authority.to_string(),
            registered_at: height,
            last_updated_at: height,
            last_updated_by: authority.to_string(),
            ..Default::default()
        };
        state::set_client(ctx, &c, None)?;
        state::set_client_count(
            ctx,
            count
                .checked_add(1)
                .ok_or(ConfigError::Overflow("client count"))?,
        )?;
        audit(ctx, &c.client_id, "registered", &authority, "")?;
        ctx.emit(events::client_registered(&c, &msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgRegisterApprovedClientResponse {}.encode_to_vec())
    }
}

/// `/virtengine.config.v1.MsgUpdateApprovedClient`: descriptive fields, versions, scopes.
pub struct UpdateClientHandler {
    pub gov: Address,
}

impl MsgHandler for UpdateClientHandler {
    type Msg = MsgUpdateApprovedClient;
    fn type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgUpdateApprovedClient"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgUpdateApprovedClientResponse"
    }
    authority_signer!();
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        check_client_id(&msg.client_id)?;
        check_len("name", &msg.name, 1, MAX_NAME_LEN)?;
        check_len("description", &msg.description, 0, MAX_DESCRIPTION_LEN)?;
        check_len("min_version", &msg.min_version, 1, 32)?;
        check_versions(&msg.min_version, &msg.max_version)?;
        check_scopes(&msg.allowed_scopes)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        require_authority(ctx, &self.gov, &authority)?;
        let mut c = load(ctx, &msg.client_id)?;
        if c.status == ClientStatus::Revoked as i32 {
            return Err(ConfigError::InvalidTransition {
                client_id: c.client_id,
                status: "revoked",
                action: "update",
            }
            .into());
        }
        c.name = msg.name.clone();
        c.description = msg.description.clone();
        c.min_version = msg.min_version.clone();
        c.max_version = msg.max_version.clone();
        c.allowed_scopes = msg.allowed_scopes.clone();
        c.last_updated_at = ctx.block().height;
        c.last_updated_by = authority.to_string();
        state::set_client(ctx, &c, Some(c.status))?;
        audit(ctx, &c.client_id, "updated", &authority, "")?;
        ctx.emit(events::client_updated(&c, &msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgUpdateApprovedClientResponse {}.encode_to_vec())
    }
}

/// `/virtengine.config.v1.MsgRotateClientKey`: the new key is valid at once; the old one
/// until `height + overlap`. A key rotated out earlier than that is dropped.
pub struct RotateClientKeyHandler {
    pub gov: Address,
}

impl MsgHandler for RotateClientKeyHandler {
    type Msg = MsgRotateClientKey;
    fn type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgRotateClientKey"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgRotateClientKeyResponse"
    }
    authority_signer!();
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        check_client_id(&msg.client_id)?;
        keeper::check_public_key(msg.new_key_type, &msg.new_public_key)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        require_authority(ctx, &self.gov, &authority)?;
        let mut c = load(ctx, &msg.client_id)?;
        if c.status == ClientStatus::Revoked as i32 {
            return Err(ConfigError::InvalidTransition {
                client_id: c.client_id,
                status: "revoked",
                action: "key rotation",
            }
            .into());
        }
        if c.public_key == msg.new_public_key {
            return Err(ConfigError::SameKey.into());
        }
        let overlap = if msg.overlap_blocks == 0 {
            state::params(ctx)?.key_rotation_overlap_blocks
        } else {
            msg.overlap_blocks
        };
        let height = ctx.block().height;
        c.previous_public_key = std::mem::take(&mut c.public_key);
        c.previous_key_type = c.key_type;
        c.previous_key_valid_until = height
            .checked_add(overlap)
            .ok_or(ConfigError::Overflow("overlap end height"))?;
        c.public_key = msg.new_public_key.clone();
        c.key_type = msg.new_key_type;
        c.key_version = c
            .key_version
            .checked_add(1)
            .ok_or(ConfigError::Overflow("key version"))?;
        c.last_updated_at = height;
        c.last_updated_by = authority.to_string();
        state::set_client(ctx, &c, Some(c.status))?;
        audit(ctx, &c.client_id, "key_rotated", &authority, "")?;
        ctx.emit(events::client_key_rotated(&c, &msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgRotateClientKeyResponse {
            key_version: c.key_version,
            previous_key_valid_until: c.previous_key_valid_until,
        }
        .encode_to_vec())
    }
}

/// The status transitions: active → suspended | revoked; suspended → active | revoked.
fn change_status(
    ctx: &mut Context<'_>,
    gov: &Address,
    authority_s: &str,
    client_id: &str,
    reason: &str,
    to: ClientStatus,
) -> Result<(), AppError> {
    let authority = parse_addr(authority_s)?;
    require_authority(ctx, gov, &authority)?;
    let mut c = load(ctx, client_id)?;
    let from = c.status;
    let (allowed, action, audit_action, kind) = match to {
        ClientStatus::Suspended => (
            from == ClientStatus::Active as i32,
            "suspension",
            "suspended",
            events::CLIENT_SUSPENDED,
        ),
        ClientStatus::Active => (
            from == ClientStatus::Suspended as i32,
            "reactivation",
            "reactivated",
            events::CLIENT_REACTIVATED,
        ),
        ClientStatus::Revoked => (
            from == ClientStatus::Active as i32 || from == ClientStatus::Suspended as i32,
            "revocation",
            "revoked",
            events::CLIENT_REVOKED,
        ),
        ClientStatus::Unspecified => (false, "status change", "", ""),
    };
    if !allowed {
        return Err(ConfigError::InvalidTransition {
            client_id: c.client_id,
            status: state::status_name(from),
            action,
        }
        .into());
    }
    let height = ctx.block().height;
    c.status = to as i32;
    c.status_reason = reason.to_string();
    c.last_updated_at = height;
    c.last_updated_by = authority.to_string();
    match to {
        ClientStatus::Suspended => c.suspended_at = height,
        ClientStatus::Revoked => c.revoked_at = height,
        _ => {}
    }
    state::set_client(ctx, &c, Some(from))?;
    audit(ctx, &c.client_id, audit_action, &authority, reason)?;
    ctx.emit(events::client_status(kind, &c, authority_s));
    ctx.emit(message_event(&authority));
    Ok(())
}

macro_rules! status_handler {
    ($name:ident, $msg:ty, $resp:ty, $url:literal, $resp_url:literal, $to:expr) => {
        #[doc = concat!("`", $url, "`.")]
        pub struct $name {
            pub gov: Address,
        }
        impl MsgHandler for $name {
            type Msg = $msg;
            fn type_url(&self) -> &'static str {
                $url
            }
            fn response_type_url(&self) -> &'static str {
                $resp_url
            }
            authority_signer!();
            fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
                parse_addr(&msg.authority)?;
                check_client_id(&msg.client_id)?;
                check_len("reason", &msg.reason, 0, MAX_REASON_LEN)?;
                Ok(())
            }
            fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
                self.check_stateless(msg)?;
                change_status(
                    ctx,
                    &self.gov,
                    &msg.authority,
                    &msg.client_id,
                    &msg.reason,
                    $to,
                )?;
                Ok(<$resp>::default().encode_to_vec())
            }
        }
    };
}

status_handler!(
    SuspendClientHandler,
    MsgSuspendApprovedClient,
    MsgSuspendApprovedClientResponse,
    "/virtengine.config.v1.MsgSuspendApprovedClient",
    "/virtengine.config.v1.MsgSuspendApprovedClientResponse",
    ClientStatus::Suspended
);
status_handler!(
    ReactivateClientHandler,
    MsgReactivateApprovedClient,
    MsgReactivateApprovedClientResponse,
    "/virtengine.config.v1.MsgReactivateApprovedClient",
    "/virtengine.config.v1.MsgReactivateApprovedClientResponse",
    ClientStatus::Active
);
status_handler!(
    RevokeClientHandler,
    MsgRevokeApprovedClient,
    MsgRevokeApprovedClientResponse,
    "/virtengine.config.v1.MsgRevokeApprovedClient",
    "/virtengine.config.v1.MsgRevokeApprovedClientResponse",
    ClientStatus::Revoked
);

/// `/virtengine.config.v1.MsgUpdateParams`: replaces the params (validated).
pub struct UpdateParamsHandler {
    pub gov: Address,
}

impl MsgHandler for UpdateParamsHandler {
    type Msg = MsgUpdateParams;
    fn type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgUpdateParams"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.config.v1.MsgUpdateParamsResponse"
    }
    authority_signer!();
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        let p = msg
            .params
            .as_ref()
            .ok_or_else(|| ConfigError::InvalidParams("params missing".into()))?;
        crate::ConfigParams::from_proto(p)?.validate()?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        require_authority(ctx, &self.gov, &authority)?;
        let p = crate::ConfigParams::from_proto(
            msg.params
                .as_ref()
                .ok_or_else(|| ConfigError::InvalidParams("params missing".into()))?,
        )?;
        state::set_params(ctx, &p)?;
        ctx.emit(events::params_updated(&msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgUpdateParamsResponse {}.encode_to_vec())
    }
}
