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

/// The enclave registry as the scoring consensus reads it: consensus address → operator
/// (`enclave.params.consensus_bindings`) → that operator's active enclave.
struct RegistryEnclaves;

impl crate::scoring::EnclaveDirectory for RegistryEnclaves {
    fn enclave_of(
        &self,
        ctx: &mut Context<'_>,
        validator: &[u8; 20],
    ) -> Result<Option<crate::scoring::EnclaveView>, AppError> {
        let height = ctx.block().height;
        Ok(
            ve_enclave_registry::enclave_of_consensus(ctx, height, validator)?.map(|e| {
                crate::scoring::EnclaveView {
                    signing_keys: std::iter::once(e.ed25519_public_key)
                        .chain(e.previous_ed25519_public_key)
                        .collect(),
                    measurement: e.measurement,
                }
            }),
        )
    }
}

pub(crate) fn enclave_directory() -> Arc<dyn crate::scoring::EnclaveDirectory> {
    Arc::new(RegistryEnclaves)
}

/// Builds the message router. Adding a module means adding its handlers here.
pub(crate) fn router() -> Result<Router, String> {
    let blocked = blocked_addresses();
    let accounts: Arc<dyn ve_bank::msg_server::AccountKeeper> = Arc::new(AuthAccounts);
    let mut r = Router::new();
    // The MFA proof travels as a tx extension option; sensitive handlers read it.
    r.allow_extension(ve_mfa::PROOF_TYPE_URL);
    r.add(ve_bank::MsgSendHandler {
        blocked: blocked.clone(),
        accounts: accounts.clone(),
        mfa: mfa_gate(),
    })?;
    r.add(ve_bank::MsgMultiSendHandler {
        blocked,
        accounts,
        mfa: mfa_gate(),
    })?;
    r.add(ve_encryption::RegisterKeyHandler)?;
    r.add(ve_encryption::RevokeKeyHandler)?;
    r.add(ve_encryption::RotateKeyHandler { mfa: mfa_gate() })?;
    add_roles_mfa_routes(&mut r)?;
    add_config_routes(&mut r)?;
    add_identity_routes(&mut r)?;
    add_escrow_routes(&mut r)?;
    add_marketplace_routes(&mut r)?;
    add_enclave_routes(&mut r)?;
    add_catalogue_routes(&mut r)?;
    add_hpc_routes(&mut r)?;
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
    ve_roles::genesis::init_genesis(store, &genesis.roles)?;
    ve_mfa::genesis::init_genesis(store, &genesis.mfa)?;
    ve_encryption::genesis::init_genesis(store, &genesis.encryption)?;
    ve_config::genesis::init_genesis(store, &genesis.config)?;
    ve_identity::genesis::init_genesis(store, &genesis.identity)?;
    init_escrow_genesis(store, genesis)?;
    ve_deployment::genesis::init_genesis(store, &genesis.deployment)?;
    ve_market::genesis::init_genesis(store, &genesis.market)?;
    ve_enclave_registry::genesis::init_genesis(store, &genesis.enclave)?;
    init_catalogue_genesis(store, genesis)?;
    ve_hpc::genesis::init_genesis(store, &genesis.hpc)?;
    Ok(())
}

/// Begin-block hooks, in the written order. Each must bound its own work per block.
pub(crate) fn begin_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    ve_identity::begin_block(ctx)?;
    ve_mfa::begin_block(ctx)?;
    Ok(())
}

/// End-block hooks, in the written order. Each must bound its own work per block
/// (a cursor or a queue with a per-block cap), never loop over user-growable state.
pub(crate) fn end_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    ve_identity::end_block(ctx)?;
    ve_encryption::end_block(ctx)?;
    ve_mfa::end_block(ctx)?;
    ve_escrow::end_block(ctx, &escrow_keeper())?;
    ve_hpc::end_block(ctx, &hpc_keeper())?;
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
    if let Some(r) = ve_roles::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_mfa::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_encryption::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_config::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_identity::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_escrow::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_take::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_deployment::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_enclave_registry::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_market::query::route(ctx, path, data) {
        return r;
    }
    if let Some(r) = route_catalogue_query(ctx, path, data) {
        return r;
    }
    if let Some(r) = ve_hpc::query::route(ctx, path, data) {
        return r;
    }
    Err(AppError::new(
        ve_module::SDK_CODESPACE,
        6,
        format!("unknown query path {path:?}"),
    ))
}

/// The gov module account: always an authority for config and identity admin messages.
fn gov_address() -> Address {
    ve_auth::state::module_account_address("gov")
}

fn add_config_routes(r: &mut Router) -> Result<(), String> {
    let gov = gov_address();
    r.add(ve_config::RegisterClientHandler { gov })?;
    r.add(ve_config::UpdateClientHandler { gov })?;
    r.add(ve_config::RotateClientKeyHandler { gov })?;
    r.add(ve_config::SuspendClientHandler { gov })?;
    r.add(ve_config::ReactivateClientHandler { gov })?;
    r.add(ve_config::RevokeClientHandler { gov })?;
    r.add(ve_config::UpdateParamsHandler { gov })?;
    Ok(())
}

/// identity reaches auth, config and encryption only through these adapters.
struct IdentityAccounts;

impl ve_identity::AccountKeys for IdentityAccounts {
    fn account_pub_key(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
    ) -> Result<Option<Vec<u8>>, AppError> {
        Ok(ve_auth::state::get_account(ctx, addr)?.and_then(|a| a.pub_key))
    }
}

struct IdentityClients;

impl ve_identity::ClientRegistry for IdentityClients {
    fn verify_client_signature(
        &self,
        ctx: &mut Context<'_>,
        check: &ve_identity::ClientCheck<'_>,
    ) -> Result<u32, AppError> {
        let height = ctx.block().height;
        ve_config::verify_client_signature(
            ctx,
            height,
            &ve_config::ClientSignatureCheck {
                client_id: check.client_id,
                client_version: check.client_version,
                scope_type: check.scope_type,
                message: check.digest,
                signature: check.signature,
            },
        )
        .map_err(AppError::from)
    }
}

struct IdentityEnvelopes;

impl ve_identity::EnvelopeValidator for IdentityEnvelopes {
    fn validate_envelope(
        &self,
        ctx: &mut Context<'_>,
        envelope: &[u8],
    ) -> Result<Vec<String>, AppError> {
        ve_encryption::validate_envelope_metered(ctx, envelope)
            .map(|v| v.recipients)
            .map_err(AppError::from)
    }
}

struct ConfigAdmins {
    gov: Address,
}

impl ve_identity::AdminAuthority for ConfigAdmins {
    fn is_authority(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError> {
        ve_config::is_authority(ctx, &self.gov, addr).map_err(AppError::from)
    }
}

/// The enclave registry as identity and mfa see it: each active validator enclave's
/// X25519 key (by envelope fingerprint) is a recipient of identity scopes and of TOTP /
/// email secrets; its Ed25519 key signs scores and factor attestations.
struct RegistryRecipients;

fn enclave_fingerprints(ctx: &mut Context<'_>) -> Result<Vec<String>, AppError> {
    let height = ctx.block().height;
    Ok(ve_enclave_registry::active_enclave_keys(ctx, height)?
        .iter()
        .map(|k| ve_crypto::envelope::fingerprint(&k.x25519_public_key))
        .collect())
}

impl ve_identity::EnclaveRecipients for RegistryRecipients {
    fn enclave_recipient_fingerprints(
        &self,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<String>, AppError> {
        enclave_fingerprints(ctx)
    }
}

impl ve_mfa::EnclaveVerifiers for RegistryRecipients {
    fn recipient_fingerprints(&self, ctx: &mut Context<'_>) -> Result<Vec<String>, AppError> {
        enclave_fingerprints(ctx)
    }

    fn verify_signature(
        &self,
        ctx: &mut Context<'_>,
        validator: &Address,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<bool, AppError> {
        use ve_enclave_registry::EnclaveRegistry;
        ve_enclave_registry::EnclaveKeeper.verify_enclave_signature(ctx, validator, msg, sig)
    }
}

fn identity_keepers() -> ve_identity::Keepers {
    ve_identity::Keepers {
        accounts: Arc::new(IdentityAccounts),
        clients: Arc::new(IdentityClients),
        envelopes: Arc::new(IdentityEnvelopes),
        authority: Arc::new(ConfigAdmins { gov: gov_address() }),
        enclaves: Arc::new(RegistryRecipients),
    }
}

fn add_identity_routes(r: &mut Router) -> Result<(), String> {
    let keepers = identity_keepers();
    r.add(ve_identity::UploadScopeHandler {
        keepers: keepers.clone(),
    })?;
    r.add(ve_identity::RevokeScopeHandler)?;
    r.add(ve_identity::RequestVerificationHandler)?;
    r.add(ve_identity::UpdateParamsHandler { keepers })?;
    add_identity_wallet_routes(r, identity_role_gate(), identity_mfa_gate())
}

/// identity's wallet, consent, borderline and appeal messages, with the gates they check.
pub(crate) fn add_identity_wallet_routes(
    r: &mut Router,
    roles: Arc<dyn ve_module::gate::RoleGate>,
    mfa: Arc<dyn ve_module::gate::MfaGate>,
) -> Result<(), String> {
    r.add(ve_identity::CreateWalletHandler)?;
    r.add(ve_identity::RebindWalletHandler { mfa: mfa.clone() })?;
    r.add(ve_identity::UpdateConsentSettingsHandler)?;
    r.add(ve_identity::GrantScopeConsentHandler)?;
    r.add(ve_identity::RevokeScopeConsentHandler)?;
    r.add(ve_identity::CompleteBorderlineFallbackHandler { mfa })?;
    r.add(ve_identity::SubmitAppealHandler)?;
    r.add(ve_identity::ReviewAppealHandler { roles })?;
    Ok(())
}

fn identity_role_gate() -> Arc<dyn ve_module::gate::RoleGate> {
    role_gate()
}

fn identity_mfa_gate() -> Arc<dyn ve_module::gate::MfaGate> {
    mfa_gate()
}

// --- roles + mfa ----------------------------------------------------------------------

/// The roles gate every module that checks roles or account state receives.
pub(crate) fn role_gate() -> Arc<dyn ve_module::gate::RoleGate> {
    Arc::new(ve_roles::RolesKeeper)
}

/// mfa reaches identity (VEID score), roles (account state, administrators) and the
/// enclave registry (one-time-code attestations) here.
fn mfa_keeper() -> ve_mfa::MfaKeeper {
    ve_mfa::MfaKeeper {
        keepers: ve_mfa::Keepers {
            identity: Arc::new(ve_identity::IdentityKeeper),
            roles: role_gate(),
            enclaves: Arc::new(RegistryRecipients),
            gov: gov_address(),
        },
    }
}

/// The one gate sensitive handlers call: account state, VEID minimum, MFA session from
/// the tx's MfaProof extension option (docs/mfa.md).
pub(crate) fn mfa_gate() -> Arc<dyn ve_module::gate::MfaGate> {
    Arc::new(mfa_keeper())
}

fn add_roles_mfa_routes(r: &mut Router) -> Result<(), String> {
    r.add(ve_roles::AssignRoleHandler { mfa: mfa_gate() })?;
    r.add(ve_roles::RevokeRoleHandler { mfa: mfa_gate() })?;
    r.add(ve_roles::SetAccountStateHandler { mfa: mfa_gate() })?;
    r.add(ve_roles::NominateAdminHandler { mfa: mfa_gate() })?;
    r.add(ve_roles::UpdateParamsHandler { gov: gov_address() })?;
    let keeper = mfa_keeper;
    r.add(ve_mfa::EnrollFactorHandler { keeper: keeper() })?;
    r.add(ve_mfa::RevokeFactorHandler { keeper: keeper() })?;
    r.add(ve_mfa::SetMfaPolicyHandler { keeper: keeper() })?;
    r.add(ve_mfa::CreateChallengeHandler { keeper: keeper() })?;
    r.add(ve_mfa::VerifyChallengeHandler { keeper: keeper() })?;
    r.add(ve_mfa::AddTrustedDeviceHandler { keeper: keeper() })?;
    r.add(ve_mfa::RemoveTrustedDeviceHandler)?;
    r.add(ve_mfa::RevokeSessionHandler)?;
    r.add(ve_mfa::UpdateSensitiveTxConfigHandler { keeper: keeper() })?;
    r.add(ve_mfa::UpdateParamsHandler { keeper: keeper() })?;
    Ok(())
}

/// The gating API other modules' handlers receive (`Arc<dyn IdentityGate>`).
#[allow(dead_code)]
pub(crate) fn identity_gate() -> Arc<dyn ve_identity::IdentityGate> {
    Arc::new(ve_identity::IdentityKeeper)
}

/// Module accounts declared by modules beyond auth's genesis list (created on first use so
/// genesis account numbers do not move). Blocked from user sends like the rest.
const EXTRA_MODULE_ACCOUNTS: &[&str] = &[ve_take::COMMUNITY_POOL, ve_hpc::MODULE_ACCOUNT];

/// Addresses bank refuses to send to: every module account.
fn blocked_addresses() -> std::collections::BTreeSet<Address> {
    let mut blocked = ve_auth::genesis::blocked_addresses();
    blocked.extend(EXTRA_MODULE_ACCOUNTS.iter().map(|n| Address::module(n)));
    blocked
}

/// escrow reaches bank through this adapter: one coin between two accounts, creating the
/// recipient's account if needed (a refund to a fresh sponsor address).
struct EscrowBank;

impl ve_escrow::BankKeeper for EscrowBank {
    fn send(
        &self,
        ctx: &mut Context<'_>,
        from: &Address,
        to: &Address,
        coin: &ve_types::Coin,
    ) -> Result<(), AppError> {
        ensure_recipient(ctx, to)?;
        let coins = ve_types::Coins::from_list([coin.clone()])
            .map_err(|e| AppError::new("escrow", 6, e.to_string()))?;
        ve_bank::msg_server::send_coins(ctx, from, to, &coins)
    }
}

/// escrow reaches take through this adapter: the payout split and the community pool.
struct EscrowTake;

impl ve_escrow::TakeKeeper for EscrowTake {
    fn split(
        &self,
        ctx: &mut Context<'_>,
        denom: &str,
        amount: u128,
    ) -> Result<(u128, u128), AppError> {
        ve_take::state::split_payout(ctx, denom, amount)
    }
    fn fee_collector(&self) -> Address {
        Address::module(ve_take::COMMUNITY_POOL)
    }
}

/// The escrow keeper as the app wires it. deployment and market will take it (as
/// `ve_escrow::EscrowKeeper`) and pass their hooks here.
pub(crate) fn escrow_keeper() -> ve_escrow::Keeper {
    ve_escrow::Keeper::new(
        Arc::new(EscrowBank),
        Arc::new(EscrowTake),
        Arc::new(ve_market::EscrowHooksFn(marketplace_hooks)),
    )
}

fn add_escrow_routes(r: &mut Router) -> Result<(), String> {
    r.add(ve_escrow::DepositHandler {
        keeper: escrow_keeper(),
    })?;
    r.add(ve_escrow::WithdrawPaymentHandler {
        keeper: escrow_keeper(),
    })?;
    r.add(ve_escrow::DepositFromGrantHandler {
        keeper: escrow_keeper(),
    })?;
    r.add(ve_escrow::GrantDepositHandler)?;
    r.add(ve_escrow::RevokeDepositGrantHandler)?;
    Ok(())
}

/// The recipient's account, created if missing: as a module account for the module
/// accounts declared here (created on first use, so genesis account numbers do not move),
/// as a base account otherwise.
fn ensure_recipient(ctx: &mut Context<'_>, to: &Address) -> Result<(), AppError> {
    if ve_auth::state::get_account(ctx, to)?.is_some() {
        return Ok(());
    }
    match EXTRA_MODULE_ACCOUNTS
        .iter()
        .find(|n| Address::module(n) == *to)
    {
        Some(name) => ve_auth::state::new_module_account(ctx, name).map(|_| ()),
        None => ve_auth::state::new_account(ctx, to).map(|_| ()),
    }
}

/// take and escrow genesis.
fn init_escrow_genesis(store: &mut impl Store, genesis: &AppGenesis) -> Result<(), AppError> {
    ve_take::genesis::init_genesis(store, &genesis.take)?;
    ve_escrow::genesis::init_genesis(store, &genesis.escrow)
}

// --- marketplace: deployment + market ------------------------------------------------

/// market reaches provider and audit through this adapter: a registered provider's own
/// attributes, and the placement rule over them plus the auditors' signed attributes.
struct MarketProviders;

impl ve_market::ProviderDirectory for MarketProviders {
    fn provider_attributes(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
    ) -> Result<Option<Vec<ve_proto::virtengine::base::v1::Attribute>>, AppError> {
        Ok(ve_provider::state::provider(ctx, provider)?.map(|p| p.attributes))
    }
    fn satisfies(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
        attributes: &[ve_proto::virtengine::base::v1::Attribute],
        requirements: &ve_proto::virtengine::base::v1::PlacementRequirements,
    ) -> Result<bool, AppError> {
        use ve_audit::PlacementCheck;
        ve_audit::AuditKeeper.provider_satisfies(ctx, provider, attributes, requirements)
    }
}

fn market_providers() -> Arc<dyn ve_market::ProviderDirectory> {
    Arc::new(MarketProviders)
}

fn market_mfa() -> Arc<dyn ve_module::gate::MfaGate> {
    mfa_gate()
}

pub(crate) fn market_keeper() -> ve_market::Keeper {
    ve_market::Keeper::new(ve_market::Keepers {
        escrow: Arc::new(escrow_keeper()),
        providers: market_providers(),
        mfa: market_mfa(),
    })
}

/// The deployment keeper; also the `ve_deployment::DeploymentCreator` for offering.
pub(crate) fn deployment_keeper() -> ve_deployment::Keeper {
    ve_deployment::Keeper::new(ve_deployment::Keepers {
        escrow: Arc::new(escrow_keeper()),
        market: Arc::new(market_keeper()),
        mfa: market_mfa(),
        identity: identity_gate(),
    })
}

/// Escrow's hooks: deployment accounts drive groups and leases.
fn marketplace_hooks() -> ve_market::Hooks {
    ve_market::Hooks {
        market: market_keeper(),
        deployment: deployment_keeper(),
    }
}

fn add_marketplace_routes(r: &mut Router) -> Result<(), String> {
    let d = deployment_keeper();
    r.add(ve_deployment::CreateDeploymentHandler { keeper: d.clone() })?;
    r.add(ve_deployment::UpdateDeploymentHandler { keeper: d.clone() })?;
    r.add(ve_deployment::CloseDeploymentHandler { keeper: d.clone() })?;
    r.add(ve_deployment::CloseGroupHandler { keeper: d.clone() })?;
    r.add(ve_deployment::PauseGroupHandler { keeper: d.clone() })?;
    r.add(ve_deployment::StartGroupHandler { keeper: d })?;
    let m = market_keeper();
    r.add(ve_market::CreateBidHandler { keeper: m.clone() })?;
    r.add(ve_market::CloseBidHandler { keeper: m.clone() })?;
    r.add(ve_market::CreateLeaseHandler { keeper: m.clone() })?;
    r.add(ve_market::CloseLeaseHandler { keeper: m.clone() })?;
    r.add(ve_market::WithdrawLeaseHandler { keeper: m.clone() })?;
    r.add(ve_market::RecordLeaseUsageHandler { keeper: m })?;
    Ok(())
}

// --- marketplace: provider, audit, cert, offering --------------------------------------

/// provider asks the market whether a provider still has active (or funds-paused) leases.
struct ProviderLeases;

impl ve_provider::ActiveLeases for ProviderLeases {
    fn active_lease_count(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
    ) -> Result<u64, AppError> {
        ve_market::active_lease_count(ctx, provider)
    }
}

/// DNS attestors are managed by administrators (roles) besides the gov account.
struct AttestorAdmins;

impl ve_provider::AttestorAuthority for AttestorAdmins {
    fn is_authority(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError> {
        role_gate().has_role(ctx, addr, ve_module::gate::Role::Administrator)
    }
}

/// audit and offering ask the provider module whether an address is a provider.
struct RegisteredProviders;

impl ve_audit::ProviderRegistry for RegisteredProviders {
    fn is_provider(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError> {
        Ok(ve_provider::state::provider(ctx, addr)?.is_some())
    }
}

impl ve_offering::ProviderRegistry for RegisteredProviders {
    fn is_provider(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError> {
        Ok(ve_provider::state::provider(ctx, addr)?.is_some())
    }
}

fn provider_gates() -> ve_provider::Gates {
    ve_provider::Gates {
        identity: identity_gate(),
        mfa: mfa_gate(),
        leases: Arc::new(ProviderLeases),
        attestor_authority: Arc::new(AttestorAdmins),
        gov: gov_address(),
    }
}

fn offering_gates() -> ve_offering::Gates {
    ve_offering::Gates {
        identity: identity_gate(),
        mfa: mfa_gate(),
        providers: Arc::new(RegisteredProviders),
        deployments: Arc::new(deployment_keeper()),
    }
}

fn add_catalogue_routes(r: &mut Router) -> Result<(), String> {
    let g = provider_gates();
    r.add(ve_provider::CreateProviderHandler { gates: g.clone() })?;
    r.add(ve_provider::UpdateProviderHandler)?;
    r.add(ve_provider::DeleteProviderHandler {
        leases: g.leases.clone(),
    })?;
    r.add(ve_provider::RequestDomainVerificationHandler)?;
    r.add(ve_provider::ConfirmDomainVerificationHandler)?;
    r.add(ve_provider::RevokeDomainVerificationHandler)?;
    r.add(ve_provider::AddAttestorHandler { gates: g.clone() })?;
    r.add(ve_provider::RemoveAttestorHandler { gates: g })?;
    r.add(ve_audit::SignProviderAttributesHandler {
        providers: Arc::new(RegisteredProviders),
    })?;
    r.add(ve_audit::DeleteProviderAttributesHandler)?;
    r.add(ve_cert::CreateCertificateHandler)?;
    r.add(ve_cert::RevokeCertificateHandler)?;
    let o = offering_gates();
    r.add(ve_offering::CreateOfferingHandler { gates: o.clone() })?;
    r.add(ve_offering::UpdateOfferingHandler)?;
    r.add(ve_offering::DeactivateOfferingHandler)?;
    r.add(ve_offering::OrderOfferingHandler { gates: o })?;
    Ok(())
}

fn init_catalogue_genesis(store: &mut impl Store, genesis: &AppGenesis) -> Result<(), AppError> {
    ve_provider::genesis::init_genesis(store, &genesis.provider)?;
    ve_audit::genesis::init_genesis(store, &genesis.audit)?;
    ve_cert::genesis::init_genesis(store, &genesis.cert)?;
    ve_offering::genesis::init_genesis(store, &genesis.offering)
}

fn route_catalogue_query(
    ctx: &QueryContext<'_>,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, AppError>> {
    ve_provider::query::route(ctx, path, data)
        .or_else(|| ve_audit::query::route(ctx, path, data))
        .or_else(|| ve_cert::query::route(ctx, path, data))
        .or_else(|| ve_offering::query::route(ctx, path, data))
}

// --- enclave registry -----------------------------------------------------------------

/// enclave: validators register attested enclaves; the allow-list and params are changed
/// by the gov module account or an administrator (the roles gate).
fn add_enclave_routes(r: &mut Router) -> Result<(), String> {
    let authority = ve_enclave_registry::Authority {
        gov: gov_address(),
        roles: identity_role_gate(),
    };
    r.add(ve_enclave_registry::RegisterEnclaveIdentityHandler)?;
    r.add(ve_enclave_registry::ReattestHandler)?;
    r.add(ve_enclave_registry::RotateEnclaveKeysHandler)?;
    r.add(ve_enclave_registry::AddMeasurementHandler {
        authority: authority.clone(),
    })?;
    r.add(ve_enclave_registry::RevokeMeasurementHandler {
        authority: authority.clone(),
    })?;
    r.add(ve_enclave_registry::UpdateParamsHandler { authority })?;
    Ok(())
}

// --- hpc ------------------------------------------------------------------------------

/// hpc locks job prices in escrow, forwards settled bills through bank (the escrow bank
/// adapter), gates on identity, MFA and roles (dispute moderators), and pays the
/// platform share to the community pool.
pub(crate) fn hpc_keeper() -> ve_hpc::Keeper {
    ve_hpc::Keeper::new(ve_hpc::Keepers {
        escrow: Arc::new(escrow_keeper()),
        bank: Arc::new(EscrowBank),
        identity: identity_gate(),
        mfa: mfa_gate(),
        roles: role_gate(),
        platform: Address::module(ve_take::COMMUNITY_POOL),
    })
}

fn add_hpc_routes(r: &mut Router) -> Result<(), String> {
    let keeper = hpc_keeper();
    r.add(ve_hpc::RegisterClusterHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::ClusterHeartbeatHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::UpdateNodeMetadataHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::CreateOfferingHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::SubmitJobHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::ReportJobStatusHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::ReportJobUsageHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::CancelJobHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::FlagDisputeHandler {
        keeper: keeper.clone(),
    })?;
    r.add(ve_hpc::ResolveDisputeHandler { keeper })?;
    Ok(())
}
