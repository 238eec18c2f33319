//! The attestor against a real DNS server (hickory-server, in process, on 127.0.0.1) and
//! the provider module's real message handlers: the chain issues a challenge, the zone
//! publishes it (or not), the attestor service resolves and signs (or refuses), and the
//! chain's `MsgConfirmDomainVerification` handler accepts or refuses the attestation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use hickory_server::Server;
use prost::Message;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use ve_dns_attestor::{service, AttestError, Attestation, Attestor, Challenge, Resolver};
use ve_module::{BlockInfo, Context, Event, GasConfig, GasMeter, MsgHandler};
use ve_provider::genesis::{GenesisAttestor, GenesisProvider, ProviderGenesis};
use ve_provider::proto as pp;
use ve_provider::{ConfirmDomainVerificationHandler, RequestDomainVerificationHandler};
use ve_storage::{Delta, KvPairs, StateRead, StorageError};
use ve_types::{Address, AppError};

const CHAIN_ID: &str = "virtengine-test-1";
const DOMAIN: &str = "provider.example.com";

struct Empty;

impl StateRead for Empty {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn range(&self, _: &[u8], _: Option<&[u8]>, _: usize) -> Result<KvPairs, StorageError> {
        Ok(Vec::new())
    }
}

/// A chain with one provider at `https://provider.example.com` and one registered
/// attestor, running the provider module's handlers at block time `now`.
struct Chain {
    state: Delta<Empty>,
    height: u64,
}

impl Chain {
    fn new(attestor_key: &str) -> Self {
        let mut c = Self {
            state: Delta::new(Empty),
            height: 1,
        };
        let g = ProviderGenesis {
            attestors: vec![GenesisAttestor {
                public_key: attestor_key.to_string(),
                description: "test attestor".into(),
            }],
            providers: vec![GenesisProvider {
                owner: owner(),
                host_uri: format!("https://{DOMAIN}"),
                attributes: Default::default(),
                email: String::new(),
                website: String::new(),
                public_key: String::new(),
            }],
            ..Default::default()
        };
        c.tx(|ctx| ve_provider::genesis::init_genesis(ctx, &g))
            .unwrap();
        c
    }

    fn tx<R>(
        &mut self,
        f: impl FnOnce(&mut Context<'_>) -> Result<R, AppError>,
    ) -> Result<R, AppError> {
        self.height += 1;
        let block = BlockInfo {
            height: self.height,
            time_unix: service::unix_now(),
            chain_id: CHAIN_ID.into(),
        };
        let (mut gas, cfg, mut events) = (
            GasMeter::infinite(),
            GasConfig::default(),
            Vec::<Event>::new(),
        );
        let mut child = Delta::new(&self.state);
        let r = f(&mut Context::new(
            &mut child,
            &mut gas,
            &cfg,
            &mut events,
            &block,
        ));
        if r.is_ok() {
            let changes = child.into_changes();
            self.state.apply(changes);
        }
        r
    }

    /// `MsgRequestDomainVerification`: the token the chain issued.
    fn request(&mut self) -> String {
        let msg = pp::MsgRequestDomainVerification {
            owner: owner().to_string(),
            domain: DOMAIN.into(),
        };
        let out = self
            .tx(|ctx| RequestDomainVerificationHandler.execute(ctx, &msg))
            .unwrap();
        pp::MsgRequestDomainVerificationResponse::decode(out.as_slice())
            .unwrap()
            .token
    }

    /// `MsgConfirmDomainVerification` with an attestation, as the provider submits it.
    fn confirm(&mut self, a: &Attestation) -> Result<(), AppError> {
        let msg = pp::MsgConfirmDomainVerification {
            owner: a.owner.clone(),
            attestor_public_key: hex::decode(&a.attestor_public_key).unwrap(),
            observed_at: a.observed_at,
            signature: hex::decode(&a.signature).unwrap(),
        };
        self.tx(|ctx| {
            ConfirmDomainVerificationHandler.check_stateless(&msg)?;
            ConfirmDomainVerificationHandler
                .execute(ctx, &msg)
                .map(|_| ())
        })
    }

    fn host_trusted(&mut self) -> bool {
        self.tx(|ctx| ve_provider::state::provider(ctx, &owner()))
            .unwrap()
            .unwrap()
            .host_trusted
    }
}

fn owner() -> Address {
    Address([7; 20])
}

fn record_name() -> String {
    format!("_virtengine-verification.{DOMAIN}.")
}

/// An authoritative server for example.com on 127.0.0.1 (UDP and TCP, one port) holding
/// the given TXT records.
async fn dns_server(txt: &[(String, String)]) -> SocketAddr {
    let origin = Name::from_ascii("example.com.").unwrap();
    let mut zone = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
        origin.clone(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    );
    let soa = SOA::new(
        Name::from_ascii("ns.example.com.").unwrap(),
        Name::from_ascii("admin.example.com.").unwrap(),
        1,
        3600,
        600,
        86_400,
        60,
    );
    assert!(zone.upsert_mut(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1));
    for (name, value) in txt {
        let r = Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            60,
            RData::TXT(TXT::new(vec![value.clone()])),
        );
        assert!(zone.upsert_mut(r, 1));
    }
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = udp.local_addr().unwrap();
    let tcp = tokio::net::TcpListener::bind(addr).await.unwrap();
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 65_535);
    tokio::spawn(async move { server.block_until_done().await });
    addr
}

fn attestor(ns: SocketAddr) -> Attestor {
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    Attestor::new(key, CHAIN_ID, Resolver::new(ns).unwrap())
}

fn challenge(token: &str) -> Challenge {
    Challenge {
        owner: owner().to_string(),
        domain: DOMAIN.into(),
        token: token.into(),
    }
}

/// Starts the HTTP service on 127.0.0.1 and returns its base URL.
async fn start_service(a: Attestor) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(service::serve(listener, Arc::new(a)));
    url
}

#[tokio::test]
async fn published_token_is_attested_by_the_service_and_accepted_on_chain() {
    let a = attestor("127.0.0.1:9".parse().unwrap());
    let mut chain = Chain::new(&a.public_key_hex());
    let token = chain.request();
    let ns = dns_server(&[(record_name(), format!("virtengine-verification={token}"))]).await;
    let url = start_service(attestor(ns)).await;

    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/attest"))
        .json(&challenge(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let att: Attestation = resp.json().await.unwrap();
    assert!(!chain.host_trusted());
    chain.confirm(&att).unwrap();
    assert!(
        chain.host_trusted(),
        "the chain trusts the host after the attestation"
    );
}

#[tokio::test]
async fn missing_record_is_refused_and_nothing_is_signed() {
    let a = attestor("127.0.0.1:9".parse().unwrap());
    let mut chain = Chain::new(&a.public_key_hex());
    let token = chain.request();
    // The zone exists but holds no challenge record.
    let ns = dns_server(&[]).await;
    let err = attestor(ns)
        .attest(&challenge(&token), 0)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AttestError::TokenMissing { ref found, .. } if found.is_empty()),
        "{err}"
    );

    let url = start_service(attestor(ns)).await;
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/attest"))
        .json(&challenge(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("does not hold"),
        "{body}"
    );
    assert!(!chain.host_trusted());
}

#[tokio::test]
async fn wrong_token_is_refused_by_the_attestor_and_a_signature_over_it_by_the_chain() {
    let a = attestor("127.0.0.1:9".parse().unwrap());
    let mut chain = Chain::new(&a.public_key_hex());
    let stale = chain.request();
    // A second request replaces the challenge; the zone still shows the first token.
    let token = chain.request();
    assert_ne!(stale, token);
    let ns = dns_server(&[(record_name(), format!("virtengine-verification={stale}"))]).await;
    let att = attestor(ns);
    let err = att
        .attest(&challenge(&token), service::unix_now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AttestError::TokenMissing { ref found, .. } if found.len() == 1),
        "{err}"
    );

    // What the record does show (the stale token) can be attested, but the chain holds
    // the new token: the signature does not cover it and is refused (provider code 15).
    let signed_stale = att
        .attest(&challenge(&stale), service::unix_now())
        .await
        .unwrap();
    let e = chain.confirm(&signed_stale).unwrap_err();
    assert_eq!((e.codespace, e.code), ("provider", 15), "{e:?}");
    assert!(!chain.host_trusted());
}

#[tokio::test]
async fn unreachable_nameserver_is_a_lookup_error_not_a_refusal() {
    // Nothing listens on the discard port: the resolver times out.
    let err = attestor("127.0.0.1:9".parse().unwrap())
        .attest(&challenge(&"ab".repeat(32)), 0)
        .await
        .unwrap_err();
    assert!(matches!(err, AttestError::Lookup { .. }), "{err}");
    assert!(!err.is_client_error());
}
