//! Shared fixtures for the roles and mfa app tests: a chain with a genesis account, funded
//! users, identity scores set through the harness's system step, a software WebAuthn
//! authenticator and helpers that sign transactions carrying the MfaProof extension.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prost::Message;
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::{AppGenesis, BlockOutcome};
use ve_client::tx::{mfa_proof, TxBuilder};
use ve_crypto::PrivateKey;
use ve_mfa::proto as mp;
use ve_mfa::testing::{Format, SoftAuthenticator};
use ve_proto::cosmos::base::abci::v1beta1::TxMsgData;
use ve_proto::Any;
use ve_types::{Address, Coin, Coins};

pub const FEE: u128 = 60_000;
pub const GAS: u64 = 2_000_000;
/// 100,000 VE each: enough for transfers above the 10,000 VE large-transfer threshold.
pub const START: u128 = 100_000_000_000;
pub const VE: u128 = 1_000_000;
pub const RP_ID: &str = "virtengine.com";
pub const ORIGIN: &str = "https://virtengine.com";
/// Genesis account numbers: module accounts come first, then users in order.
pub const FIRST_USER_NUMBER: u64 = 7;

pub struct User {
    pub key: PrivateKey,
    pub address: Address,
    pub number: u64,
    pub sequence: u64,
}

impl User {
    pub fn new(seed: u8, number: u64) -> Self {
        let key = PrivateKey::from_bytes(&[seed; 32]).unwrap();
        let address = key.public_key().address();
        Self {
            key,
            address,
            number,
            sequence: 0,
        }
    }

    /// Signs `msgs` with `session_ids` in the MfaProof extension (none: no extension).
    pub fn tx(&mut self, msgs: Vec<Any>, session_ids: &[String]) -> Vec<u8> {
        let mut b = TxBuilder::new()
            .fee(vec![Coin::new("uve", FEE)])
            .gas_limit(GAS);
        for m in msgs {
            b = b.msg(m);
        }
        let ext = if session_ids.is_empty() {
            vec![]
        } else {
            vec![mfa_proof(session_ids)]
        };
        let bytes = b
            .sign_direct_with_extensions(&self.key, TEST_CHAIN_ID, self.number, self.sequence, &ext)
            .bytes;
        self.sequence += 1;
        bytes
    }

    pub fn s(&self) -> String {
        self.address.to_string()
    }
}

pub struct Chain {
    pub node: TestNode,
    /// users[0] is the genesis account (roles); users[1..] are ordinary accounts.
    pub users: Vec<User>,
}

/// `n` funded users; users[0] is a genesis account. `edit` adjusts the genesis.
pub fn chain_with(n: u8, edit: impl FnOnce(&mut AppGenesis)) -> Chain {
    let mut genesis = AppGenesis::default();
    let users: Vec<User> = (0..n)
        .map(|i| User::new(i + 1, FIRST_USER_NUMBER + u64::from(i)))
        .collect();
    for u in &users {
        genesis
            .add_account(
                u.address,
                &Coins::from_list([Coin::new("uve", START)]).unwrap(),
            )
            .unwrap();
    }
    genesis.roles.genesis_accounts = vec![users[0].address];
    edit(&mut genesis);
    Chain {
        node: TestNode::new(&genesis).unwrap(),
        users,
    }
}

pub fn chain(n: u8) -> Chain {
    chain_with(n, |_| {})
}

/// One tx result: code, codespace, log, and the msg responses' values.
#[derive(Debug)]
pub struct Res {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub responses: Vec<Vec<u8>>,
    pub events: Vec<ve_module::Event>,
}

impl Res {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "tx failed: {} {}: {}",
            self.codespace, self.code, self.log
        );
        self
    }
    pub fn refused(&self, codespace: &str, code: u32) -> &Self {
        assert_eq!(
            (self.codespace.as_str(), self.code),
            (codespace, code),
            "expected {codespace} {code}, got: {}",
            self.log
        );
        self
    }
    pub fn response<M: Message + Default>(&self, i: usize) -> M {
        M::decode(self.responses[i].as_slice()).unwrap()
    }
    pub fn has_event(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e.kind == kind)
    }
}

pub fn results(out: &BlockOutcome) -> Vec<Res> {
    out.results()
        .zip(out.tx_events_and_data())
        .map(|((code, codespace, log), (events, data))| Res {
            code,
            codespace: codespace.to_string(),
            log: log.to_string(),
            responses: TxMsgData::decode(data)
                .map(|d| d.msg_responses.into_iter().map(|a| a.value).collect())
                .unwrap_or_default(),
            events: events.to_vec(),
        })
        .collect()
}

impl Chain {
    /// Re-reads user `u`'s sequence from the chain (after a tx refused before the
    /// sequence was consumed, e.g. by a stateless check).
    pub fn resync(&mut self, u: usize) {
        use ve_proto::cosmos::auth::v1beta1::{
            BaseAccount, QueryAccountRequest, QueryAccountResponse,
        };
        let r: QueryAccountResponse = self.query(
            "/cosmos.auth.v1beta1.Query/Account",
            &QueryAccountRequest {
                address: self.users[u].s(),
            },
        );
        self.users[u].sequence = BaseAccount::decode(r.account.unwrap().value.as_slice())
            .unwrap()
            .sequence;
    }

    /// Sends, then resyncs the sequence (for txs expected to fail).
    pub fn try_send(&mut self, u: usize, msgs: Vec<Any>, sessions: &[String]) -> Res {
        let r = self.send(u, msgs, sessions);
        self.resync(u);
        r
    }

    pub fn block(&mut self, txs: &[Vec<u8>]) -> Vec<Res> {
        let out = self.node.execute_block(txs).unwrap();
        results(&out)
    }

    /// One tx by user `u` in its own block.
    pub fn send(&mut self, u: usize, msgs: Vec<Any>, sessions: &[String]) -> Res {
        let tx = self.users[u].tx(msgs, sessions);
        self.block(&[tx]).remove(0)
    }

    pub fn query<Q: Message, R: Message + Default>(&self, path: &str, req: &Q) -> R {
        let r = self.node.app().query(path, &req.encode_to_vec(), 0, false);
        assert_eq!(r.code, 0, "{path}: {}", r.log);
        R::decode(r.value.as_slice()).unwrap()
    }

    /// Sets a verified VEID score through the keeper (as the scoring consensus will).
    pub fn set_score(&mut self, u: usize, score: u32) {
        let addr = self.users[u].address;
        self.node
            .execute_block_with_system(&[], &move |ctx| {
                ve_identity::keeper::set_score(
                    ctx,
                    &addr,
                    score,
                    ve_identity::proto::AccountStatus::Verified,
                    "test-model",
                    &[],
                )
                .map(|_| ())
            })
            .unwrap();
    }

    pub fn balance(&self, addr: &Address) -> u128 {
        use ve_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
        let r: QueryBalanceResponse = self.query(
            "/cosmos.bank.v1beta1.Query/Balance",
            &QueryBalanceRequest {
                address: addr.to_string(),
                denom: "uve".into(),
            },
        );
        r.balance.unwrap().amount.parse().unwrap()
    }

    pub fn session(&self, id: &str) -> mp::QueryAuthorizationSessionResponse {
        self.query(
            "/virtengine.mfa.v1.Query/AuthorizationSession",
            &mp::QueryAuthorizationSessionRequest {
                session_id: id.into(),
            },
        )
    }

    pub fn challenge(&self, id: &str) -> mp::Challenge {
        let r: mp::QueryChallengeResponse = self.query(
            "/virtengine.mfa.v1.Query/Challenge",
            &mp::QueryChallengeRequest {
                challenge_id: id.into(),
            },
        );
        r.challenge.unwrap()
    }

    /// Creates a challenge; returns its response.
    pub fn create_challenge(
        &mut self,
        u: usize,
        factor: mp::FactorType,
        action: mp::SensitiveTxType,
        session_id: &str,
    ) -> mp::MsgCreateChallengeResponse {
        let msg = mp::MsgCreateChallenge {
            sender: self.users[u].s(),
            factor_type: factor as i32,
            transaction_type: action as i32,
            session_id: session_id.into(),
            ..Default::default()
        };
        let r = self.send(u, vec![any(&msg)], &[]);
        r.ok();
        r.response(0)
    }

    pub fn verify(&mut self, msg: mp::MsgVerifyChallenge) -> mp::MsgVerifyChallengeResponse {
        let u = self.users.iter().position(|x| x.s() == msg.sender).unwrap();
        let r = self.send(u, vec![any(&msg)], &[]);
        r.ok();
        r.response(0)
    }

    /// Registers a FIDO2 credential for user `u` (registration challenge + enrolment).
    pub fn enroll_fido2(&mut self, u: usize, auth: &mut SoftAuthenticator, format: Format) -> Res {
        let msg = mp::MsgCreateChallenge {
            sender: self.users[u].s(),
            factor_type: mp::FactorType::Fido2 as i32,
            registration: true,
            ..Default::default()
        };
        let r = self.send(u, vec![any(&msg)], &[]);
        r.ok();
        let ch: mp::MsgCreateChallengeResponse = r.response(0);
        let (client_data_json, attestation_object) =
            auth.register(&ch.challenge_data, format).unwrap();
        let enroll = mp::MsgEnrollFactor {
            sender: self.users[u].s(),
            factor_type: mp::FactorType::Fido2 as i32,
            label: "security key".into(),
            fido2_registration: Some(mp::Fido2Registration {
                challenge_id: ch.challenge_id,
                client_data_json,
                attestation_object,
            }),
            ..Default::default()
        };
        self.send(u, vec![any(&enroll)], &[])
    }

    /// Answers a FIDO2 challenge with the authenticator.
    pub fn verify_fido2(
        &mut self,
        u: usize,
        auth: &mut SoftAuthenticator,
        ch: &mp::MsgCreateChallengeResponse,
    ) -> mp::MsgVerifyChallengeResponse {
        let a = auth.assert(&ch.challenge_data).unwrap();
        self.verify(mp::MsgVerifyChallenge {
            sender: self.users[u].s(),
            challenge_id: ch.challenge_id.clone(),
            fido2: Some(mp::Fido2Assertion {
                credential_id: a.credential_id,
                client_data_json: a.client_data_json,
                authenticator_data: a.authenticator_data,
                signature: a.signature,
            }),
            ..Default::default()
        })
    }

    /// VEID challenge, then a FIDO2 challenge added to the same session: a VEID+FIDO2
    /// session for `action`. Returns the session id.
    pub fn veid_fido2_session(
        &mut self,
        u: usize,
        auth: &mut SoftAuthenticator,
        action: mp::SensitiveTxType,
    ) -> String {
        let ch = self.create_challenge(u, mp::FactorType::Veid, action, "");
        let v = self.verify(mp::MsgVerifyChallenge {
            sender: self.users[u].s(),
            challenge_id: ch.challenge_id,
            ..Default::default()
        });
        assert_eq!(
            v.outcome,
            mp::VerifyOutcome::Verified as i32,
            "{}",
            v.reason
        );
        let ch = self.create_challenge(u, mp::FactorType::Fido2, action, &v.session_id);
        let v2 = self.verify_fido2(u, auth, &ch);
        assert_eq!(
            v2.outcome,
            mp::VerifyOutcome::Verified as i32,
            "{}",
            v2.reason
        );
        assert_eq!(
            v2.session_id, v.session_id,
            "the FIDO2 factor joins the VEID session"
        );
        v2.session_id
    }
}

pub fn authenticator(seed: &[u8]) -> SoftAuthenticator {
    SoftAuthenticator::es256(seed, RP_ID, ORIGIN).unwrap()
}

pub fn send_msg(from: &User, to: &Address, amount: u128) -> Any {
    ve_client::tx::msg_send(&from.address, to, &[Coin::new("uve", amount)])
}

/// The `Any` type URL of a message (our protos carry no `prost::Name`).
pub trait Url {
    const URL: &'static str;
}

macro_rules! urls {
    ($($t:ty => $u:literal),* $(,)?) => { $(impl Url for $t { const URL: &'static str = $u; })* };
}

urls! {
    mp::MsgCreateChallenge => "/virtengine.mfa.v1.MsgCreateChallenge",
    mp::MsgVerifyChallenge => "/virtengine.mfa.v1.MsgVerifyChallenge",
    mp::MsgEnrollFactor => "/virtengine.mfa.v1.MsgEnrollFactor",
    mp::MsgSetMfaPolicy => "/virtengine.mfa.v1.MsgSetMfaPolicy",
    mp::MsgAddTrustedDevice => "/virtengine.mfa.v1.MsgAddTrustedDevice",
    mp::MsgRevokeFactor => "/virtengine.mfa.v1.MsgRevokeFactor",
    ve_roles::proto::MsgAssignRole => "/virtengine.roles.v1.MsgAssignRole",
    ve_roles::proto::MsgRevokeRole => "/virtengine.roles.v1.MsgRevokeRole",
    ve_roles::proto::MsgSetAccountState => "/virtengine.roles.v1.MsgSetAccountState",
    ve_roles::proto::MsgNominateAdmin => "/virtengine.roles.v1.MsgNominateAdmin",
    ve_proto::virtengine::encryption::v1::MsgRegisterRecipientKey => "/virtengine.encryption.v1.MsgRegisterRecipientKey",
    ve_proto::virtengine::encryption::v1::MsgRotateRecipientKey => "/virtengine.encryption.v1.MsgRotateRecipientKey",
    ve_proto::cosmos::bank::v1beta1::MsgMultiSend => "/cosmos.bank.v1beta1.MsgMultiSend",
    ve_provider::proto::MsgCreateProvider => "/virtengine.provider.v1.MsgCreateProvider",
    ve_provider::proto::MsgUpdateProvider => "/virtengine.provider.v1.MsgUpdateProvider",
    ve_provider::proto::MsgDeleteProvider => "/virtengine.provider.v1.MsgDeleteProvider",
    ve_provider::proto::MsgRequestDomainVerification => "/virtengine.provider.v1.MsgRequestDomainVerification",
    ve_provider::proto::MsgConfirmDomainVerification => "/virtengine.provider.v1.MsgConfirmDomainVerification",
    ve_provider::proto::MsgRevokeDomainVerification => "/virtengine.provider.v1.MsgRevokeDomainVerification",
    ve_provider::proto::MsgAddAttestor => "/virtengine.provider.v1.MsgAddAttestor",
    ve_provider::proto::MsgRemoveAttestor => "/virtengine.provider.v1.MsgRemoveAttestor",
    ve_audit::proto::MsgSignProviderAttributes => "/virtengine.audit.v1.MsgSignProviderAttributes",
    ve_audit::proto::MsgDeleteProviderAttributes => "/virtengine.audit.v1.MsgDeleteProviderAttributes",
    ve_cert::proto::MsgCreateCertificate => "/virtengine.cert.v1.MsgCreateCertificate",
    ve_cert::proto::MsgRevokeCertificate => "/virtengine.cert.v1.MsgRevokeCertificate",
    ve_offering::proto::MsgCreateOffering => "/virtengine.offering.v1.MsgCreateOffering",
    ve_offering::proto::MsgUpdateOffering => "/virtengine.offering.v1.MsgUpdateOffering",
    ve_offering::proto::MsgDeactivateOffering => "/virtengine.offering.v1.MsgDeactivateOffering",
    ve_offering::proto::MsgOrderOffering => "/virtengine.offering.v1.MsgOrderOffering",
}

pub fn any<M: Message + Url>(m: &M) -> Any {
    Any {
        type_url: M::URL.to_string(),
        value: m.encode_to_vec(),
    }
}
