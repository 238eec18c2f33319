//! One handler per message: stateless checks, then stateful checks, then effects.
//! Registration is gated here (VEID tier, MFA), not in an ante step, so no dispatch path
//! can skip it.

use crate::proto::*;
use crate::{attributes, domain, events, state, ActiveLeases, AttestorAuthority, ProviderError};
use prost::Message;
use std::sync::Arc;
use ve_identity::proto::IdentityTier;
use ve_identity::IdentityGate;
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::{Context, MsgHandler};
use ve_proto::virtengine::base::v1::Attribute;
use ve_types::{Address, AppError};

/// Gas charged for one Ed25519 attestation check.
pub const ATTESTATION_VERIFY_GAS: u64 = 2_000;
/// Longest host URI / website accepted.
pub const MAX_URI_LEN: usize = 256;
/// Longest attestor description.
pub const MAX_DESCRIPTION_LEN: usize = 256;
/// Clock skew allowed between an attestor's lookup time and block time.
pub const ATTESTATION_SKEW_SECONDS: i64 = 300;

/// What provider handlers reach outside the module, as the app wires it.
#[derive(Clone)]
pub struct Gates {
    pub identity: Arc<dyn IdentityGate>,
    pub mfa: Arc<dyn MfaGate>,
    pub leases: Arc<dyn ActiveLeases>,
    pub attestor_authority: Arc<dyn AttestorAuthority>,
    /// The gov module account: always an attestor authority.
    pub gov: Address,
}

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| ProviderError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

/// Checks a host URI and returns its host: `https://<host>[:port]`, optional `/` path,
/// no credentials, query or fragment. Plain `http` only for a loopback host (localnets and
/// tests: the traffic never leaves the machine); a public provider needs TLS.
pub fn validate_host_uri(s: &str) -> Result<String, AppError> {
    let bad =
        |m: &str| -> AppError { ProviderError::InvalidHostUri(s.to_string(), m.into()).into() };
    if s.is_empty() || s.len() > MAX_URI_LEN {
        return Err(bad("must be 1..=256 characters"));
    }
    let u = url::Url::parse(s).map_err(|e| bad(&e.to_string()))?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if !(u.scheme() == "https" || (u.scheme() == "http" && loopback)) {
        return Err(bad(
            "scheme must be https (plain http only for a loopback host such as 127.0.0.1)",
        ));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if !(u.path().is_empty() || u.path() == "/") {
        return Err(bad("must not have a path: give scheme, host and port only"));
    }
    let host = u.host_str().ok_or_else(|| bad("has no host"))?;
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    Ok(host.to_string())
}

fn validate_info(info: Option<&Info>) -> Result<(), AppError> {
    let Some(info) = info else { return Ok(()) };
    let bad = |m: String| -> AppError { ProviderError::InvalidInfo(m).into() };
    let e = &info.email;
    if !e.is_empty() {
        let ok = e.len() <= 254
            && !e.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains('@') && !d.starts_with('.') && !d.ends_with('.'));
        if !ok {
            return Err(bad(format!(
                "email {e:?} is not an address like ops@example.com"
            )));
        }
    }
    let w = &info.website;
    if !w.is_empty() {
        let ok = w.len() <= MAX_URI_LEN
            && url::Url::parse(w)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            return Err(bad(format!(
                "website {w:?} must be an http(s) URL of at most 256 characters"
            )));
        }
    }
    Ok(())
}

fn validate_public_key(k: &[u8]) -> Result<(), AppError> {
    let ok = match k.len() {
        0 => true,
        32 => ed25519_dalek::VerifyingKey::from_bytes(&<[u8; 32]>::try_from(k).unwrap_or([0; 32]))
            .is_ok(),
        33 => matches!(k.first(), Some(0x02 | 0x03)),
        _ => false,
    };
    if !ok {
        return Err(ProviderError::InvalidPublicKey(format!(
            "expected empty, a 32-byte Ed25519 key or a 33-byte compressed secp256k1 key, got {} bytes",
            k.len()
        ))
        .into());
    }
    Ok(())
}

fn check_fields(
    host_uri: &str,
    info: Option<&Info>,
    public_key: &[u8],
) -> Result<String, AppError> {
    let host = validate_host_uri(host_uri)?;
    validate_info(info)?;
    validate_public_key(public_key)?;
    Ok(host)
}

fn checked_attributes(
    ctx: &mut Context<'_>,
    attrs: &[Attribute],
) -> Result<Vec<Attribute>, AppError> {
    let limits = state::params(ctx)?.limits();
    attributes::validate(attrs, &limits).map_err(|e| ProviderError::InvalidAttributes(e).into())
}

fn existing(ctx: &mut Context<'_>, owner: &Address) -> Result<Provider, AppError> {
    state::provider(ctx, owner)?
        .ok_or_else(|| ProviderError::ProviderNotFound(owner.to_string()).into())
}

fn status_name(s: i32) -> &'static str {
    match VerificationStatus::try_from(s) {
        Ok(VerificationStatus::Pending) => "pending",
        Ok(VerificationStatus::Verified) => "verified",
        Ok(VerificationStatus::Expired) => "expired",
        Ok(VerificationStatus::Revoked) => "revoked",
        _ => "unspecified",
    }
}

/// `/virtengine.provider.v1.MsgCreateProvider`.
pub struct CreateProviderHandler {
    pub gates: Gates,
}

impl MsgHandler for CreateProviderHandler {
    type Msg = MsgCreateProvider;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgCreateProvider"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgCreateProviderResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        check_fields(&msg.host_uri, msg.info.as_ref(), &msg.public_key).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let owner = parse_addr(&msg.owner)?;
        check_fields(&msg.host_uri, msg.info.as_ref(), &msg.public_key)?;
        let attrs = checked_attributes(ctx, &msg.attributes)?;
        if state::provider(ctx, &owner)?.is_some() {
            return Err(ProviderError::ProviderExists(owner.to_string()).into());
        }
        self.gates
            .identity
            .require_tier(ctx, &owner, IdentityTier::Standard)?;
        self.gates
            .mfa
            .require_mfa(ctx, &owner, SensitiveAction::ProviderRegistration, 0)?;
        let height = ctx.block().height;
        let p = Provider {
            owner: owner.to_string(),
            host_uri: msg.host_uri.clone(),
            attributes: attrs,
            info: Some(msg.info.clone().unwrap_or_default()),
            public_key: msg.public_key.clone(),
            host_trusted: false,
            created_height: height,
            updated_height: height,
        };
        state::set_provider(ctx, &owner, &p)?;
        ctx.emit(events::provider_created(&p.owner, &p.host_uri));
        Ok(MsgCreateProviderResponse {}.encode_to_vec())
    }
}

/// `/virtengine.provider.v1.MsgUpdateProvider`: replaces every field; a new host drops
/// the domain verification.
pub struct UpdateProviderHandler;

impl MsgHandler for UpdateProviderHandler {
    type Msg = MsgUpdateProvider;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgUpdateProvider"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgUpdateProviderResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        check_fields(&msg.host_uri, msg.info.as_ref(), &msg.public_key).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let owner = parse_addr(&msg.owner)?;
        let new_host = check_fields(&msg.host_uri, msg.info.as_ref(), &msg.public_key)?;
        let attrs = checked_attributes(ctx, &msg.attributes)?;
        let mut p = existing(ctx, &owner)?;
        let old_host = validate_host_uri(&p.host_uri).unwrap_or_default();
        if old_host != new_host {
            p.host_trusted = false;
            if let Some(mut v) = state::verification(ctx, &owner)? {
                if v.status != VerificationStatus::Revoked as i32 {
                    v.status = VerificationStatus::Revoked as i32;
                    state::set_verification(ctx, &owner, &v)?;
                    ctx.emit(events::verification_revoked(
                        &p.owner,
                        &v.domain,
                        "host changed",
                    ));
                }
            }
        }
        p.host_uri = msg.host_uri.clone();
        p.attributes = attrs;
        p.info = Some(msg.info.clone().unwrap_or_default());
        p.public_key = msg.public_key.clone();
        p.updated_height = ctx.block().height;
        state::set_provider(ctx, &owner, &p)?;
        ctx.emit(events::provider_updated(
            &p.owner,
            &p.host_uri,
            p.host_trusted,
        ));
        Ok(MsgUpdateProviderResponse {}.encode_to_vec())
    }
}

/// `/virtengine.provider.v1.MsgDeleteProvider`: refused while leases are active.
pub struct DeleteProviderHandler {
    pub leases: Arc<dyn ActiveLeases>,
}

impl MsgHandler for DeleteProviderHandler {
    type Msg = MsgDeleteProvider;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgDeleteProvider"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgDeleteProviderResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let owner = parse_addr(&msg.owner)?;
        existing(ctx, &owner)?;
        let active = self.leases.active_lease_count(ctx, &owner)?;
        if active > 0 {
            return Err(ProviderError::HasActiveLeases(owner.to_string(), active).into());
        }
        state::delete_provider(ctx, &owner)?;
        state::delete_verification(ctx, &owner)?;
        ctx.emit(events::provider_deleted(&owner.to_string()));
        Ok(MsgDeleteProviderResponse {}.encode_to_vec())
    }
}

/// `/virtengine.provider.v1.MsgRequestDomainVerification`.
pub struct RequestDomainVerificationHandler;

impl MsgHandler for RequestDomainVerificationHandler {
    type Msg = MsgRequestDomainVerification;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgRequestDomainVerification"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgRequestDomainVerificationResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        domain::validate_domain(&msg.domain)
            .map_err(|e| ProviderError::InvalidDomain(msg.domain.clone(), e).into())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.owner)?;
        let mut p = existing(ctx, &owner)?;
        let host = validate_host_uri(&p.host_uri)?;
        if host != msg.domain {
            return Err(ProviderError::InvalidDomain(
                msg.domain.clone(),
                format!("must be the host of the provider's host URI ({host})"),
            )
            .into());
        }
        let params = state::params(ctx)?;
        let (height, chain_id) = (ctx.block().height, ctx.block().chain_id.clone());
        let now = ve_identity::keeper::now(ctx)?;
        let token = domain::token(&chain_id, &p.owner, &msg.domain, height, now);
        let expires_at = now.saturating_add(params.verification_ttl_seconds);
        let v = DomainVerification {
            provider: p.owner.clone(),
            domain: msg.domain.clone(),
            token: token.clone(),
            record_name: domain::record_name(&msg.domain),
            record_value: domain::record_value(&token),
            status: VerificationStatus::Pending as i32,
            requested_height: height,
            requested_at: now,
            expires_at,
            verified_at: 0,
            attestor: String::new(),
        };
        state::set_verification(ctx, &owner, &v)?;
        if p.host_trusted {
            p.host_trusted = false;
            state::set_provider(ctx, &owner, &p)?;
        }
        ctx.emit(events::verification_requested(
            &p.owner,
            &v.domain,
            &v.record_name,
            expires_at,
        ));
        Ok(MsgRequestDomainVerificationResponse {
            token,
            record_name: v.record_name,
            record_value: v.record_value,
            expires_at,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.provider.v1.MsgConfirmDomainVerification`: a registered attestor's signed
/// DNS lookup marks the host URI trusted.
pub struct ConfirmDomainVerificationHandler;

impl MsgHandler for ConfirmDomainVerificationHandler {
    type Msg = MsgConfirmDomainVerification;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgConfirmDomainVerification"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgConfirmDomainVerificationResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner)?;
        state::key32(&msg.attestor_public_key)?;
        if msg.signature.len() != 64 {
            return Err(ProviderError::BadAttestation.into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.owner)?;
        let mut p = existing(ctx, &owner)?;
        let mut v = state::verification(ctx, &owner)?
            .ok_or_else(|| ProviderError::VerificationNotFound(owner.to_string()))?;
        if v.status != VerificationStatus::Pending as i32 {
            return Err(ProviderError::VerificationNotPending(
                owner.to_string(),
                status_name(v.status).into(),
            )
            .into());
        }
        let chain_id = ctx.block().chain_id.clone();
        let now = ve_identity::keeper::now(ctx)?;
        if now > v.expires_at {
            return Err(ProviderError::VerificationExpired(owner.to_string()).into());
        }
        let key = state::key32(&msg.attestor_public_key)?;
        let key_hex = hex::encode(key);
        if state::attestor(ctx, &key)?.is_none() {
            return Err(ProviderError::UnknownAttestor(key_hex).into());
        }
        let max_age = state::params(ctx)?.attestation_max_age_seconds;
        let from = v.requested_at.max(now.saturating_sub(max_age));
        let to = now.saturating_add(ATTESTATION_SKEW_SECONDS);
        if msg.observed_at < from || msg.observed_at > to {
            return Err(ProviderError::StaleAttestation {
                observed_at: msg.observed_at,
                from,
                to,
            }
            .into());
        }
        ctx.consume_gas(ATTESTATION_VERIFY_GAS, "attestation signature")?;
        let payload =
            domain::attestation_payload(&chain_id, &p.owner, &v.domain, &v.token, msg.observed_at);
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&key)
            .map_err(|_| ProviderError::UnknownAttestor(key_hex.clone()))?;
        let sig = ed25519_dalek::Signature::from_slice(&msg.signature)
            .map_err(|_| ProviderError::BadAttestation)?;
        vk.verify_strict(&payload, &sig)
            .map_err(|_| ProviderError::BadAttestation)?;
        v.status = VerificationStatus::Verified as i32;
        v.verified_at = now;
        v.attestor = key_hex.clone();
        state::set_verification(ctx, &owner, &v)?;
        p.host_trusted = true;
        p.updated_height = ctx.block().height;
        state::set_provider(ctx, &owner, &p)?;
        ctx.emit(events::verification_confirmed(
            &p.owner, &v.domain, &key_hex,
        ));
        Ok(MsgConfirmDomainVerificationResponse {}.encode_to_vec())
    }
}

/// `/virtengine.provider.v1.MsgRevokeDomainVerification`.
pub struct RevokeDomainVerificationHandler;

impl MsgHandler for RevokeDomainVerificationHandler {
    type Msg = MsgRevokeDomainVerification;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgRevokeDomainVerification"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgRevokeDomainVerificationResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.owner)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.owner).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let owner = parse_addr(&msg.owner)?;
        let mut p = existing(ctx, &owner)?;
        let mut v = state::verification(ctx, &owner)?
            .ok_or_else(|| ProviderError::VerificationNotFound(owner.to_string()))?;
        if v.status == VerificationStatus::Revoked as i32 {
            return Err(
                ProviderError::VerificationNotPending(owner.to_string(), "revoked".into()).into(),
            );
        }
        v.status = VerificationStatus::Revoked as i32;
        state::set_verification(ctx, &owner, &v)?;
        if p.host_trusted {
            p.host_trusted = false;
            p.updated_height = ctx.block().height;
            state::set_provider(ctx, &owner, &p)?;
        }
        ctx.emit(events::verification_revoked(&p.owner, &v.domain, "owner"));
        Ok(MsgRevokeDomainVerificationResponse {}.encode_to_vec())
    }
}

fn require_authority(ctx: &mut Context<'_>, gates: &Gates, who: &Address) -> Result<(), AppError> {
    if *who == gates.gov || gates.attestor_authority.is_authority(ctx, who)? {
        return Ok(());
    }
    Err(ProviderError::Unauthorized(who.to_string()).into())
}

/// `/virtengine.provider.v1.MsgAddAttestor`: administrator or gov.
pub struct AddAttestorHandler {
    pub gates: Gates,
}

impl MsgHandler for AddAttestorHandler {
    type Msg = MsgAddAttestor;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgAddAttestor"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgAddAttestorResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        let key = state::key32(&msg.public_key)?;
        if ed25519_dalek::VerifyingKey::from_bytes(&key).is_err() {
            return Err(ProviderError::InvalidPublicKey("not a valid Ed25519 point".into()).into());
        }
        if msg.description.len() > MAX_DESCRIPTION_LEN {
            return Err(ProviderError::InvalidRequest(
                "description is longer than 256 bytes".into(),
            )
            .into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let who = parse_addr(&msg.authority)?;
        require_authority(ctx, &self.gates, &who)?;
        let key = state::key32(&msg.public_key)?;
        if state::attestor(ctx, &key)?.is_some() {
            return Err(ProviderError::AttestorExists(hex::encode(key)).into());
        }
        if state::attestors(ctx)?.len() >= state::MAX_ATTESTORS {
            return Err(ProviderError::InvalidRequest(
                "the attestor list is full (256): remove one first".into(),
            )
            .into());
        }
        state::set_attestor(
            ctx,
            &Attestor {
                public_key: key.to_vec(),
                description: msg.description.clone(),
                added_by: who.to_string(),
                added_height: ctx.block().height,
            },
        )?;
        ctx.emit(events::attestor_added(&hex::encode(key), &who.to_string()));
        Ok(MsgAddAttestorResponse {}.encode_to_vec())
    }
}

/// `/virtengine.provider.v1.MsgRemoveAttestor`: administrator or gov.
pub struct RemoveAttestorHandler {
    pub gates: Gates,
}

impl MsgHandler for RemoveAttestorHandler {
    type Msg = MsgRemoveAttestor;
    fn type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgRemoveAttestor"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.provider.v1.MsgRemoveAttestorResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        state::key32(&msg.public_key).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let who = parse_addr(&msg.authority)?;
        require_authority(ctx, &self.gates, &who)?;
        let key = state::key32(&msg.public_key)?;
        if state::attestor(ctx, &key)?.is_none() {
            return Err(ProviderError::UnknownAttestor(hex::encode(key)).into());
        }
        state::delete_attestor(ctx, &key)?;
        ctx.emit(events::attestor_removed(
            &hex::encode(key),
            &who.to_string(),
        ));
        Ok(MsgRemoveAttestorResponse {}.encode_to_vec())
    }
}

#[cfg(test)]
mod host_uri_tests {
    use super::validate_host_uri;

    #[test]
    fn plain_http_is_accepted_only_for_a_loopback_host() {
        for ok in [
            "https://provider.example.com:8443",
            "http://127.0.0.1:8443",
            "http://[::1]:8443",
            "http://localhost:8443/",
        ] {
            assert!(validate_host_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://provider.example.com",
            "http://10.0.0.1:8443",
            "ftp://127.0.0.1",
            "http://127.0.0.1:8443/api",
        ] {
            assert!(validate_host_uri(bad).is_err(), "{bad}");
        }
    }
}
