//! Chain I/O through `ve-client`: committed block results, the facts the bid decision
//! needs, and signed bid transactions (SIGN_MODE_DIRECT with the provider's keyring key).

use ve_client::{Client, Gas, QueryClient, TxBuilder, TxResponse};
use ve_crypto::PrivateKey;
use ve_proto::virtengine::audit::v1 as audit;
use ve_proto::virtengine::identity::v1 as identity;
use ve_proto::virtengine::market::v1 as market;
use ve_proto::virtengine::mfa::v1 as mfa;
use ve_proto::virtengine::provider::v1 as provider;
use ve_types::{Address, Coin};

use crate::decision::{OrderFacts, ProviderFacts, TenantFacts, Unit};
use crate::error::DaemonError;
use crate::events::{market_events, ChainEvent, OrderKey};
use crate::ingest::BlockSource;
use crate::resources::Resources;

/// An order as the chain reports it now.
#[derive(Debug, Clone)]
pub struct ChainOrder {
    pub open: bool,
    pub facts: OrderFacts,
}

#[derive(Debug)]
pub struct Chain {
    pub client: Client,
    pub key: PrivateKey,
    pub provider: Address,
    pub fees: Coin,
    pub gas: u64,
}

fn order_id(k: &OrderKey) -> market::OrderId {
    market::OrderId {
        owner: k.owner.clone(),
        dseq: k.dseq,
        gseq: k.gseq,
        oseq: k.oseq,
    }
}

fn proto_coin(c: &Coin) -> ve_proto::cosmos::base::v1beta1::Coin {
    ve_proto::cosmos::base::v1beta1::Coin {
        denom: c.denom.clone(),
        amount: c.amount.to_string(),
    }
}

/// The decision's view of an order's group spec.
pub fn order_facts(o: &market::Order) -> Result<OrderFacts, DaemonError> {
    let spec = o
        .spec
        .clone()
        .ok_or(DaemonError::Missing("the order's group spec"))?;
    let mut units = Vec::with_capacity(spec.resources.len());
    for u in &spec.resources {
        let r = u.resources.clone().unwrap_or_default();
        let price = u.price.clone().unwrap_or_default();
        units.push(Unit {
            resources: Resources {
                cpu_millicores: r.cpu_millicores,
                memory_bytes: r.memory_bytes,
                storage_bytes: r.storage_bytes,
                gpus: u64::from(r.gpu_count),
            },
            count: u.count,
            price_amount: price
                .amount
                .parse()
                .map_err(|_| DaemonError::Missing("a valid unit price"))?,
            price_denom: price.denom,
        });
    }
    Ok(OrderFacts {
        requirements: spec.requirements.unwrap_or_default(),
        units,
    })
}

impl Chain {
    fn q(&self) -> QueryClient<'_> {
        self.client.query()
    }

    /// The order now, `None` if the chain does not know it.
    pub async fn order(&self, k: &OrderKey) -> Result<Option<ChainOrder>, DaemonError> {
        let r: Result<market::QueryOrderResponse, _> = self
            .q()
            .query(
                "/virtengine.market.v1.Query/Order",
                &market::QueryOrderRequest {
                    id: Some(order_id(k)),
                },
            )
            .await;
        let o = match r {
            Ok(r) => r.order.ok_or(DaemonError::Missing("the order"))?,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(ChainOrder {
            open: o.state == market::OrderState::Open as i32,
            facts: order_facts(&o)?,
        }))
    }

    /// Our bid on `k`, if the chain has one (in any state).
    pub async fn our_bid(&self, k: &OrderKey) -> Result<Option<market::Bid>, DaemonError> {
        let r: Result<market::QueryBidResponse, _> = self
            .q()
            .query(
                "/virtengine.market.v1.Query/Bid",
                &market::QueryBidRequest {
                    id: Some(self.bid_id(k)),
                },
            )
            .await;
        match r {
            Ok(r) => Ok(r.bid),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Our registered attributes and every auditor's signed attributes for us.
    pub async fn provider_facts(&self) -> Result<ProviderFacts, DaemonError> {
        let owner = self.provider.to_string();
        let p: provider::QueryProviderResponse = self
            .q()
            .query(
                "/virtengine.provider.v1.Query/Provider",
                &provider::QueryProviderRequest {
                    owner: owner.clone(),
                },
            )
            .await?;
        let p = p
            .provider
            .ok_or(DaemonError::Missing("our provider record"))?;
        let a: audit::QueryProvidersResponse = self
            .q()
            .query(
                "/virtengine.audit.v1.Query/ProviderAttributes",
                &audit::QueryProviderAttributesRequest {
                    owner,
                    pagination: None,
                },
            )
            .await?;
        let audited = a
            .providers
            .into_iter()
            .filter_map(|r| Some((r.auditor.parse::<Address>().ok()?, r.attributes)))
            .collect();
        Ok(ProviderFacts {
            attributes: p.attributes,
            audited,
        })
    }

    /// The tenant's VEID tier and whether it has an active MFA factor.
    pub async fn tenant_facts(&self, owner: &str) -> Result<TenantFacts, DaemonError> {
        let s: identity::QueryScoreResponse = self
            .q()
            .query(
                "/virtengine.identity.v1.Query/Score",
                &identity::QueryScoreRequest {
                    account: owner.to_string(),
                },
            )
            .await?;
        let f: mfa::QueryFactorEnrollmentsResponse = self
            .q()
            .query(
                "/virtengine.mfa.v1.Query/FactorEnrollments",
                &mfa::QueryFactorEnrollmentsRequest {
                    address: owner.to_string(),
                },
            )
            .await?;
        Ok(TenantFacts {
            veid_tier: if s.found {
                u8::try_from(s.tier).unwrap_or(0)
            } else {
                0
            },
            mfa_enrolled: f
                .enrollments
                .iter()
                .any(|e| e.status == mfa::FactorStatus::Active as i32),
        })
    }

    pub(crate) fn bid_id(&self, k: &OrderKey) -> market::BidId {
        market::BidId {
            owner: k.owner.clone(),
            dseq: k.dseq,
            gseq: k.gseq,
            oseq: k.oseq,
            provider: self.provider.to_string(),
        }
    }

    pub(crate) async fn send(&self, msg: ve_proto::Any) -> Result<TxResponse, DaemonError> {
        let tx = TxBuilder::new().msg(msg).fee(vec![self.fees.clone()]);
        Ok(self
            .client
            .sign_and_broadcast(&self.key, tx, Gas::Fixed(self.gas))
            .await?)
    }

    /// Signs and broadcasts `MsgCreateBid` and waits for its block.
    pub async fn create_bid(
        &self,
        k: &OrderKey,
        price: &Coin,
        deposit: &Coin,
    ) -> Result<TxResponse, DaemonError> {
        let msg = ve_proto::to_any(
            "/virtengine.market.v1.MsgCreateBid",
            &market::MsgCreateBid {
                id: Some(self.bid_id(k)),
                price: Some(proto_coin(price)),
                deposit: Some(proto_coin(deposit)),
                resources_offer: vec![],
            },
        );
        self.send(msg).await
    }

    /// Withdraws our open bid (refunds its deposit).
    pub async fn close_bid(&self, k: &OrderKey) -> Result<TxResponse, DaemonError> {
        let msg = ve_proto::to_any(
            "/virtengine.market.v1.MsgCloseBid",
            &market::MsgCloseBid {
                id: Some(self.bid_id(k)),
                reason: 0,
            },
        );
        self.send(msg).await
    }
}

impl BlockSource for &Chain {
    async fn settled_height(&self) -> Result<u64, DaemonError> {
        Ok(self
            .client
            .rpc
            .status()
            .await?
            .latest_height()
            .saturating_sub(1))
    }

    async fn events_at(&self, height: u64) -> Result<Vec<ChainEvent>, DaemonError> {
        let r = self.client.rpc.block_results(Some(height)).await?;
        Ok(market_events(&r, &self.provider.to_string()))
    }
}
