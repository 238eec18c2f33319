//! Security gating through mock consensus (issue #11 item 4): every gated message of the
//! composed app, sent by a correctly signed account that lacks the role / tier / MFA session /
//! authority, is refused with the gate's code — alone (direct), after a harmless bank send in
//! the same tx (batched: the whole tx fails and the send is rolled back), and wrapped in the
//! only wrapper messages a Cosmos client could try (authz `MsgExec`, gov `MsgSubmitProposal`),
//! which this chain does not route at all (`sdk` code 6, unknown message type).
//!
//! Gating lives in the handlers (`ve_module::gate::{RoleGate, MfaGate}`,
//! `ve_identity::IdentityGate`, module authority checks), not in the ante handler or a
//! dispatcher: a wrapper message added later that dispatches its inner messages through the
//! router inherits every gate below for free (it must pass the inner message's signer, not
//! its own, which the router's `signers` check already enforces).
//!
//! | message | gate (refusal) | tested |
//! |---|---|---|
//! | `cosmos.bank.v1beta1.MsgSend` >= 10,000 VE | MFA `LargeTransfer` (mfa 14 no VEID score / 13 no session) | here |
//! | `cosmos.bank.v1beta1.MsgMultiSend` >= threshold | MFA `LargeTransfer` (mfa 14/13) | here |
//! | `virtengine.roles.v1.MsgAssignRole` | genesis account or administrator (roles 4), then MFA `RoleChange` | here |
//! | `virtengine.roles.v1.MsgRevokeRole` | genesis account or administrator (roles 4), then MFA `RoleChange` | here |
//! | `virtengine.roles.v1.MsgSetAccountState` | genesis account or administrator (roles 11), then MFA `AccountRecovery` | here |
//! | `virtengine.roles.v1.MsgNominateAdmin` | genesis account (roles 15), then MFA `RoleChange` | here |
//! | `virtengine.roles.v1.MsgUpdateParams` | gov or genesis account (roles 17) | here |
//! | `virtengine.mfa.v1.MsgUpdateParams` | gov, genesis account or administrator (mfa 24) | here |
//! | `virtengine.mfa.v1.MsgUpdateSensitiveTxConfig` | same (mfa 24) | here |
//! | `virtengine.mfa.v1.MsgRevokeFactor` / `MsgSetMfaPolicy` (policy change) | MFA `MfaChange` | `roles_rbac.rs`, `mfa_gating.rs` |
//! | `virtengine.mfa.v1.MsgAddTrustedDevice` | MFA `TrustedDeviceChange` | `mfa_gating.rs::trusted_device_needs_a_session_to_add…` |
//! | `virtengine.config.v1.MsgRegisterApprovedClient` / `MsgUpdateApprovedClient` / `MsgRotateClientKey` / `MsgSuspend…`/`MsgRevoke…`/`MsgReactivate…` / `MsgUpdateParams` | gov or config admin (config 2) | here (register, suspend, params) |
//! | `virtengine.enclave.v1.MsgAddMeasurement` / `MsgRevokeMeasurement` / `MsgUpdateParams` | gov or administrator (enclave 3) | here |
//! | `virtengine.enclave.v1.MsgRegisterEnclaveIdentity` / `MsgReattest` / `MsgRotateEnclaveKeys` | validator operator (enclave 2) | `enclave_registry.rs` |
//! | `virtengine.identity.v1.MsgUpdateParams` | gov or config admin (identity Unauthorized) | here |
//! | `virtengine.identity.v1.MsgReviewAppeal` | role Moderator (identity 48) | here |
//! | `virtengine.identity.v1.MsgRebindWallet` | MFA `IdentityRebind` | `identity_veid.rs` / `identity_lifecycle.rs` |
//! | `virtengine.identity.v1.MsgCompleteBorderlineFallback` | MFA (fallback action) | `identity_lifecycle.rs` |
//! | `virtengine.encryption.v1.MsgRotateRecipientKey` | MFA `KeyRotation` for accounts with a policy | `mfa_gating.rs::encryption_key_rotation_is_gated…` |
//! | `virtengine.provider.v1.MsgCreateProvider` | tier Standard (identity 28), then MFA `ProviderRegistration` | here (tier); MFA in `provider_lifecycle.rs` |
//! | `virtengine.provider.v1.MsgAddAttestor` / `MsgRemoveAttestor` | gov or administrator (provider 17) | here |
//! | `virtengine.offering.v1.MsgCreateOffering` | registered provider, tier Standard (identity 28) | `offering_catalogue.rs` |
//! | `virtengine.offering.v1.MsgOrderOffering` | offering's tier (identity 28) and MFA `HighValueOrder` if required | `offering_catalogue.rs` |
//! | `virtengine.market.v1.MsgWithdrawLease` | MFA `Withdrawal` on the withdrawn value | `market_lifecycle.rs` |
//! | `virtengine.market.v1.MsgCloseLease` | lease tenant or provider (market Unauthorized) | `market_lifecycle.rs` |
//! | `virtengine.market.v1.MsgRecordLeaseUsage` | the lease's provider (router `signers`), sequence and plausibility bounds (market 25-29) | `market_usage.rs` |
//! | owner-only messages (provider update/delete, deployment, cert, audit, escrow) | signer must be the owner (router `signers`) | module app tests |
//!
//! MFA sessions of another account, for another action, expired or consumed are refused in
//! `mfa_gating.rs` (`session_of_another_account_is_refused`, `session_for_another_action_is_refused`,
//! `expired_session_is_refused_and_cleaned_up_by_end_block`,
//! `consumed_single_use_session_is_refused_and_a_batched_tx_is_gated_per_message`) and not
//! repeated here. Oversized and deeply nested inputs: `decode_robustness.rs`; replay:
//! `tx_pipeline.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mfa_common;
use mfa_common::*;
use prost::Message;
use ve_proto::virtengine as v;
use ve_proto::Any;

fn a<M: Message>(url: &str, m: &M) -> Any {
    Any {
        type_url: url.into(),
        value: m.encode_to_vec(),
    }
}

/// The module's current params (so an UpdateParams passes its stateless check and reaches
/// the authority gate).
fn params<R: Message + Default>(c: &Chain, module: &str) -> R {
    let r = c.node.app().query(
        &format!("/virtengine.{module}.v1.Query/Params"),
        &[],
        0,
        false,
    );
    assert_eq!(r.code, 0, "{module} params: {}", r.log);
    R::decode(r.value.as_slice()).unwrap()
}

/// A valid 32-byte Ed25519 public key: the compressed base point.
fn ed25519_pub(_seed: u8) -> Vec<u8> {
    let mut k = vec![0x66; 32];
    k[0] = 0x58;
    k
}

/// Builds a case's message for sender `u`.
type Build = Box<dyn Fn(&Chain, usize) -> Any>;

/// One gated message: built for the unprivileged sender `u`, refused with (codespace, code).
struct Case {
    name: &'static str,
    msg: Build,
    codespace: &'static str,
    code: u32,
}

const LARGE: u128 = 10_000 * VE;

fn cases(c: &Chain) -> Vec<Case> {
    let roles_params = params::<v::roles::v1::QueryParamsResponse>(c, "roles").params;
    let mfa_params = params::<v::mfa::v1::QueryParamsResponse>(c, "mfa").params;
    let config_params = params::<v::config::v1::QueryParamsResponse>(c, "config").params;
    let enclave_params = params::<v::enclave::v1::QueryParamsResponse>(c, "enclave").params;
    let identity_params = params::<v::identity::v1::QueryParamsResponse>(c, "identity").params;
    // Switching the large-transfer gate off.
    let sensitive = Some(v::mfa::v1::SensitiveTxConfig {
        transaction_type: v::mfa::v1::SensitiveTxType::LargeTransfer as i32,
        enabled: false,
        ..Default::default()
    });
    vec![
        Case {
            name: "bank MsgSend above the large-transfer threshold",
            msg: Box::new(|c, u| send_msg(&c.users[u], &c.users[0].address, LARGE)),
            codespace: "mfa",
            code: 14,
        },
        Case {
            name: "bank MsgMultiSend above the large-transfer threshold",
            msg: Box::new(|c, u| {
                use ve_proto::cosmos::bank::v1beta1::{Input, MsgMultiSend, Output};
                use ve_proto::cosmos::base::v1beta1::Coin;
                let coins = vec![Coin {
                    denom: "uve".into(),
                    amount: LARGE.to_string(),
                }];
                a(
                    "/cosmos.bank.v1beta1.MsgMultiSend",
                    &MsgMultiSend {
                        inputs: vec![Input {
                            address: c.users[u].s(),
                            coins: coins.clone(),
                        }],
                        outputs: vec![Output {
                            address: c.users[0].s(),
                            coins,
                        }],
                    },
                )
            }),
            codespace: "mfa",
            code: 14,
        },
        Case {
            name: "roles MsgAssignRole by a non-admin",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.roles.v1.MsgAssignRole",
                    &v::roles::v1::MsgAssignRole {
                        sender: c.users[u].s(),
                        address: c.users[u].s(),
                        role: "moderator".into(),
                    },
                )
            }),
            codespace: "roles",
            code: 4,
        },
        Case {
            name: "roles MsgRevokeRole by a non-admin",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.roles.v1.MsgRevokeRole",
                    &v::roles::v1::MsgRevokeRole {
                        sender: c.users[u].s(),
                        address: c.users[0].s(),
                        role: "moderator".into(),
                    },
                )
            }),
            codespace: "roles",
            code: 4,
        },
        Case {
            name: "roles MsgSetAccountState by a non-admin",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.roles.v1.MsgSetAccountState",
                    &v::roles::v1::MsgSetAccountState {
                        sender: c.users[u].s(),
                        address: c.users[u + 1].s(),
                        state: "suspended".into(),
                        reason: "takeover".into(),
                    },
                )
            }),
            codespace: "roles",
            code: 11,
        },
        Case {
            name: "roles MsgNominateAdmin by a non-genesis account",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.roles.v1.MsgNominateAdmin",
                    &v::roles::v1::MsgNominateAdmin {
                        sender: c.users[u].s(),
                        address: c.users[u].s(),
                    },
                )
            }),
            codespace: "roles",
            code: 15,
        },
        Case {
            name: "roles MsgUpdateParams by a non-authority",
            msg: Box::new(move |c, u| {
                a(
                    "/virtengine.roles.v1.MsgUpdateParams",
                    &v::roles::v1::MsgUpdateParams {
                        authority: c.users[u].s(),
                        params: roles_params,
                    },
                )
            }),
            codespace: "roles",
            code: 17,
        },
        Case {
            name: "mfa MsgUpdateParams by a non-authority",
            msg: Box::new(move |c, u| {
                a(
                    "/virtengine.mfa.v1.MsgUpdateParams",
                    &v::mfa::v1::MsgUpdateParams {
                        authority: c.users[u].s(),
                        params: mfa_params.clone(),
                    },
                )
            }),
            codespace: "mfa",
            code: 24,
        },
        Case {
            name: "mfa MsgUpdateSensitiveTxConfig by a non-authority (disable a gate)",
            msg: Box::new(move |c, u| {
                let cfg = sensitive.clone();
                a(
                    "/virtengine.mfa.v1.MsgUpdateSensitiveTxConfig",
                    &v::mfa::v1::MsgUpdateSensitiveTxConfig {
                        authority: c.users[u].s(),
                        config: cfg,
                    },
                )
            }),
            codespace: "mfa",
            code: 24,
        },
        Case {
            name: "config MsgRegisterApprovedClient by a non-authority",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.config.v1.MsgRegisterApprovedClient",
                    &v::config::v1::MsgRegisterApprovedClient {
                        authority: c.users[u].s(),
                        client_id: "rogue-capture".into(),
                        name: "rogue".into(),
                        description: String::new(),
                        public_key: ed25519_pub(0x51),
                        key_type: v::config::v1::KeyType::Ed25519 as i32,
                        min_version: "1.0.0".into(),
                        max_version: "2.0.0".into(),
                        allowed_scopes: vec!["id_document".into()],
                    },
                )
            }),
            codespace: "config",
            code: 2,
        },
        Case {
            name: "config MsgSuspendApprovedClient by a non-authority",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.config.v1.MsgSuspendApprovedClient",
                    &v::config::v1::MsgSuspendApprovedClient {
                        authority: c.users[u].s(),
                        client_id: "any-client".into(),
                        reason: "grief".into(),
                    },
                )
            }),
            codespace: "config",
            code: 2,
        },
        Case {
            name: "config MsgUpdateParams by a non-authority",
            msg: Box::new(move |c, u| {
                a(
                    "/virtengine.config.v1.MsgUpdateParams",
                    &v::config::v1::MsgUpdateParams {
                        authority: c.users[u].s(),
                        params: config_params.clone(),
                    },
                )
            }),
            codespace: "config",
            code: 2,
        },
        Case {
            name: "enclave MsgAddMeasurement by a non-authority",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.enclave.v1.MsgAddMeasurement",
                    &v::enclave::v1::MsgAddMeasurement {
                        authority: c.users[u].s(),
                        platform: v::enclave::v1::Platform::Simulated as i32,
                        measurement: vec![0xAB; 32],
                        description: "rogue enclave".into(),
                    },
                )
            }),
            codespace: "enclave",
            code: 3,
        },
        Case {
            name: "enclave MsgRevokeMeasurement by a non-authority",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.enclave.v1.MsgRevokeMeasurement",
                    &v::enclave::v1::MsgRevokeMeasurement {
                        authority: c.users[u].s(),
                        platform: v::enclave::v1::Platform::Simulated as i32,
                        measurement: vec![0xAB; 32],
                        reason: "grief".into(),
                    },
                )
            }),
            codespace: "enclave",
            code: 3,
        },
        Case {
            name: "enclave MsgUpdateParams by a non-authority",
            msg: Box::new(move |c, u| {
                a(
                    "/virtengine.enclave.v1.MsgUpdateParams",
                    &v::enclave::v1::MsgUpdateParams {
                        authority: c.users[u].s(),
                        params: enclave_params.clone(),
                    },
                )
            }),
            codespace: "enclave",
            code: 3,
        },
        Case {
            name: "identity MsgUpdateParams by a non-authority",
            msg: Box::new(move |c, u| {
                a(
                    "/virtengine.identity.v1.MsgUpdateParams",
                    &v::identity::v1::MsgUpdateParams {
                        authority: c.users[u].s(),
                        params: identity_params.clone(),
                    },
                )
            }),
            codespace: "identity",
            code: IDENTITY_UNAUTHORIZED,
        },
        Case {
            name: "identity MsgReviewAppeal by a non-moderator",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.identity.v1.MsgReviewAppeal",
                    &v::identity::v1::MsgReviewAppeal {
                        reviewer: c.users[u].s(),
                        appeal_id: "0123456789abcdef0123456789abcdef".into(),
                        approve: true,
                        reason: "self-approved".into(),
                        score_adjustment: 100,
                    },
                )
            }),
            codespace: "identity",
            code: 48,
        },
        Case {
            name: "provider MsgCreateProvider below tier Standard",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.provider.v1.MsgCreateProvider",
                    &v::provider::v1::MsgCreateProvider {
                        owner: c.users[u].s(),
                        host_uri: "https://provider.example.com:8443".into(),
                        attributes: vec![v::base::v1::Attribute {
                            key: "region".into(),
                            value: "eu-west".into(),
                        }],
                        info: Some(v::provider::v1::Info {
                            email: "ops@example.com".into(),
                            website: "https://example.com".into(),
                        }),
                        public_key: vec![],
                    },
                )
            }),
            codespace: "identity",
            code: 28,
        },
        Case {
            name: "provider MsgAddAttestor by a non-authority",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.provider.v1.MsgAddAttestor",
                    &v::provider::v1::MsgAddAttestor {
                        authority: c.users[u].s(),
                        public_key: ed25519_pub(0x52),
                        description: "rogue attestor".into(),
                    },
                )
            }),
            codespace: "provider",
            code: 17,
        },
        Case {
            name: "provider MsgRemoveAttestor by a non-authority",
            msg: Box::new(|c, u| {
                a(
                    "/virtengine.provider.v1.MsgRemoveAttestor",
                    &v::provider::v1::MsgRemoveAttestor {
                        authority: c.users[u].s(),
                        public_key: ed25519_pub(0x53),
                    },
                )
            }),
            codespace: "provider",
            code: 17,
        },
    ]
}

/// identity's `Unauthorized` code (not a user of the table above can be the authority).
const IDENTITY_UNAUTHORIZED: u32 = 27;

/// The unprivileged account every case signs with (users[0] is the genesis account).
const MALLORY: usize = 1;

#[test]
fn every_gated_message_sent_directly_without_the_gate_is_refused() {
    let mut c = chain(4);
    c.block(&[]); // queries read committed state
    let table = cases(&c);
    for case in &table {
        let m = (case.msg)(&c, MALLORY);
        let before = c.balance(&c.users[MALLORY].address);
        let r = c.send(MALLORY, vec![m], &[]);
        assert_eq!(
            (r.codespace.as_str(), r.code),
            (case.codespace, case.code),
            "{}: {}",
            case.name,
            r.log
        );
        // Only the fee left the account.
        assert_eq!(
            c.balance(&c.users[MALLORY].address),
            before - FEE,
            "{}",
            case.name
        );
    }
}

#[test]
fn every_gated_message_batched_after_a_harmless_send_fails_the_whole_tx_and_rolls_the_send_back() {
    let mut c = chain(4);
    c.block(&[]); // queries read committed state
    let table = cases(&c);
    let bystander = c.users[3].address;
    for case in &table {
        let harmless = send_msg(&c.users[MALLORY], &bystander, 1_000);
        let gated = (case.msg)(&c, MALLORY);
        let before = c.balance(&c.users[MALLORY].address);
        let bystander_before = c.balance(&bystander);
        let r = c.send(MALLORY, vec![harmless, gated], &[]);
        assert_eq!(
            (r.codespace.as_str(), r.code),
            (case.codespace, case.code),
            "{}: {}",
            case.name,
            r.log
        );
        assert_eq!(c.balance(&bystander), bystander_before, "{}", case.name);
        assert_eq!(
            c.balance(&c.users[MALLORY].address),
            before - FEE,
            "{}",
            case.name
        );
    }
}

/// `cosmos.authz.v1beta1.MsgExec` (grantee = 1, msgs = 2).
#[derive(Clone, PartialEq, Message)]
struct MsgExec {
    #[prost(string, tag = "1")]
    grantee: String,
    #[prost(message, repeated, tag = "2")]
    msgs: Vec<Any>,
}

/// `cosmos.gov.v1.MsgSubmitProposal` (messages = 1, initial_deposit = 2, proposer = 3, ...).
#[derive(Clone, PartialEq, Message)]
struct MsgSubmitProposal {
    #[prost(message, repeated, tag = "1")]
    messages: Vec<Any>,
    #[prost(string, tag = "3")]
    proposer: String,
    #[prost(string, tag = "5")]
    title: String,
}

#[test]
fn every_gated_message_nested_in_authz_exec_or_a_gov_proposal_is_refused_as_an_unknown_type() {
    let mut c = chain(4);
    c.block(&[]); // queries read committed state
    let table = cases(&c);
    let bystander = c.users[3].address;
    for case in &table {
        let inner = (case.msg)(&c, MALLORY);
        let wrappers = [
            a(
                "/cosmos.authz.v1beta1.MsgExec",
                &MsgExec {
                    grantee: c.users[MALLORY].s(),
                    msgs: vec![inner.clone()],
                },
            ),
            a(
                "/cosmos.gov.v1.MsgSubmitProposal",
                &MsgSubmitProposal {
                    messages: vec![inner.clone()],
                    proposer: c.users[MALLORY].s(),
                    title: "x".into(),
                },
            ),
        ];
        for w in wrappers {
            let url = w.type_url.clone();
            let harmless = send_msg(&c.users[MALLORY], &bystander, 1_000);
            let bystander_before = c.balance(&bystander);
            let r = c.send(MALLORY, vec![harmless, w], &[]);
            assert_eq!(r.code, 6, "{} in {url}: {}", case.name, r.log);
            assert!(
                r.log.contains("unrecognized message type"),
                "{} in {url}: {}",
                case.name,
                r.log
            );
            assert_eq!(c.balance(&bystander), bystander_before);
        }
    }
}

#[test]
fn the_same_messages_succeed_for_an_account_that_holds_the_gate() {
    // No sensitive-tx configs: the role/authority rules alone (MFA is covered elsewhere).
    let mut c = chain_with(4, |g| g.mfa.sensitive_tx_configs = Some(vec![]));
    c.block(&[]);
    let table = cases(&c);
    let genesis = 0;
    let pick = |name: &str| table.iter().find(|t| t.name == name).unwrap();

    // Refused for mallory, accepted for the genesis account.
    for name in [
        "roles MsgNominateAdmin by a non-genesis account",
        "roles MsgUpdateParams by a non-authority",
        "mfa MsgUpdateParams by a non-authority",
    ] {
        let case = pick(name);
        let r = c.send(MALLORY, vec![(case.msg)(&c, MALLORY)], &[]);
        assert_eq!(
            (r.codespace.as_str(), r.code),
            (case.codespace, case.code),
            "{name}: {}",
            r.log
        );
        c.send(genesis, vec![(case.msg)(&c, genesis)], &[]).ok();
    }
    // The genesis account makes users[2] an administrator, which may then assign a role.
    c.send(
        genesis,
        vec![a(
            "/virtengine.roles.v1.MsgNominateAdmin",
            &v::roles::v1::MsgNominateAdmin {
                sender: c.users[genesis].s(),
                address: c.users[2].s(),
            },
        )],
        &[],
    )
    .ok();
    let assign = pick("roles MsgAssignRole by a non-admin");
    c.send(MALLORY, vec![(assign.msg)(&c, MALLORY)], &[])
        .refused("roles", 4);
    c.send(2, vec![(assign.msg)(&c, 2)], &[]).ok();
    // An administrator is also an enclave and provider-attestor authority.
    for name in [
        "enclave MsgAddMeasurement by a non-authority",
        "provider MsgAddAttestor by a non-authority",
    ] {
        let case = pick(name);
        c.send(MALLORY, vec![(case.msg)(&c, MALLORY)], &[])
            .refused(case.codespace, case.code);
        c.send(2, vec![(case.msg)(&c, 2)], &[]).ok();
    }
}

#[test]
fn a_large_send_is_refused_without_a_session_and_accepted_with_one() {
    use ve_mfa::proto::SensitiveTxType as T;
    let mut c = chain(4);
    c.set_score(MALLORY, 80);
    let mut auth = authenticator(b"mallory");
    c.enroll_fido2(MALLORY, &mut auth, ve_mfa::testing::Format::None)
        .ok();
    let to = c.users[3].address;
    let before = c.balance(&to);
    c.send(MALLORY, vec![send_msg(&c.users[MALLORY], &to, LARGE)], &[])
        .refused("mfa", 13);
    let sid = c.veid_fido2_session(MALLORY, &mut auth, T::LargeTransfer);
    c.send(
        MALLORY,
        vec![send_msg(&c.users[MALLORY], &to, LARGE)],
        &[sid],
    )
    .ok();
    assert_eq!(c.balance(&to), before + LARGE);
}
