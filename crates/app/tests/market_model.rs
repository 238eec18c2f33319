//! Model-based property test over deployment + market + escrow: random sequences of
//! create / bid / lease / wait / withdraw / top-up / close-lease / close-deployment, run
//! through mock consensus and through a small reference model that predicts, for every
//! step, whether it succeeds and every balance afterwards (tenant, sponsor, providers,
//! escrow module, community pool, fees). Deposits are large enough that no account runs
//! dry (overdraft and grace are covered by market_lifecycle). The sum over all of them
//! never changes: no uve is created or lost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use market_common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const PROVIDERS: usize = 2;
const TAKE_BPS: u128 = 200;

#[derive(Clone, Debug)]
enum Op {
    Create {
        dseq: u64,
        deposit: u128,
    },
    Bid {
        dseq: u64,
        p: usize,
        price: u128,
    },
    Lease {
        dseq: u64,
        p: usize,
    },
    Wait {
        blocks: u64,
    },
    Withdraw {
        dseq: u64,
        p: usize,
    },
    TopUp {
        dseq: u64,
        amount: u128,
    },
    CloseLease {
        dseq: u64,
        p: usize,
        by_provider: bool,
    },
    CloseDeployment {
        dseq: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let dseq = 1u64..=3;
    let p = 0..PROVIDERS;
    prop_oneof![
        (dseq.clone(), 1_000_000u128..3_000_000)
            .prop_map(|(dseq, deposit)| Op::Create { dseq, deposit }),
        (dseq.clone(), p.clone(), 1u128..=1_200).prop_map(|(dseq, p, price)| Op::Bid {
            dseq,
            p,
            price
        }),
        (dseq.clone(), p.clone()).prop_map(|(dseq, p)| Op::Lease { dseq, p }),
        (1u64..=6).prop_map(|blocks| Op::Wait { blocks }),
        (dseq.clone(), p.clone()).prop_map(|(dseq, p)| Op::Withdraw { dseq, p }),
        (dseq.clone(), 1u128..200_000).prop_map(|(dseq, amount)| Op::TopUp { dseq, amount }),
        (dseq.clone(), p.clone(), any::<bool>()).prop_map(|(dseq, p, by_provider)| {
            Op::CloseLease {
                dseq,
                p,
                by_provider,
            }
        }),
        dseq.prop_map(|dseq| Op::CloseDeployment { dseq }),
    ]
}

/// Who holds money in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Tenant,
    Sponsor,
    Provider(usize),
    Escrow,
    Pool,
    Fees,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum BidSt {
    Open,
    Active,
    Done,
}

#[derive(Clone, Debug)]
struct LeaseM {
    p: usize,
    rate: u128,
    settled_at: u64,
    accrued: u128,
}

#[derive(Clone, Debug)]
struct DepM {
    active: bool,
    /// (depositor, unspent), oldest first.
    deposits: Vec<(Who, u128)>,
    oseq: u32,
    order_open: bool,
    bids: BTreeMap<usize, BidSt>,
    lease: Option<LeaseM>,
}

#[derive(Default)]
struct Model {
    bal: BTreeMap<Who, u128>,
    deps: BTreeMap<u64, DepM>,
    /// Bid prices by (dseq, oseq, provider).
    prices: BTreeMap<(u64, u32, usize), u128>,
}

impl Model {
    fn mv(&mut self, from: Who, to: Who, amount: u128) {
        *self.bal.get_mut(&from).unwrap() -= amount;
        *self.bal.entry(to).or_default() += amount;
    }

    /// Settles the deployment's lease at `h`: accrued funds leave the deposits (FIFO).
    fn settle(&mut self, dseq: u64, h: u64) {
        let d = self.deps.get_mut(&dseq).unwrap();
        let Some(l) = d.lease.as_mut() else { return };
        let mut due = l.rate * u128::from(h - l.settled_at);
        l.settled_at = h;
        l.accrued += due;
        for (_, left) in d.deposits.iter_mut() {
            let take = due.min(*left);
            *left -= take;
            due -= take;
        }
        assert_eq!(due, 0, "the model test must never run an account dry");
    }

    fn payout(&mut self, dseq: u64) {
        let l = self.deps[&dseq].lease.clone().unwrap();
        let fee = l.accrued * TAKE_BPS / 10_000;
        self.mv(Who::Escrow, Who::Provider(l.p), l.accrued - fee);
        self.mv(Who::Escrow, Who::Pool, fee);
        self.deps
            .get_mut(&dseq)
            .unwrap()
            .lease
            .as_mut()
            .unwrap()
            .accrued = 0;
    }

    /// Ends the lease: final payout, winning bid deposit back, order closed.
    fn end_lease(&mut self, dseq: u64, h: u64) {
        self.settle(dseq, h);
        self.payout(dseq);
        let l = self.deps.get_mut(&dseq).unwrap().lease.take().unwrap();
        self.mv(Who::Escrow, Who::Provider(l.p), BID_DEPOSIT);
        let d = self.deps.get_mut(&dseq).unwrap();
        d.bids.insert(l.p, BidSt::Done);
        d.order_open = false;
    }

    fn refund_open_bids(&mut self, dseq: u64) {
        let open: Vec<usize> = self.deps[&dseq]
            .bids
            .iter()
            .filter(|(_, s)| **s == BidSt::Open)
            .map(|(p, _)| *p)
            .collect();
        for p in open {
            self.mv(Who::Escrow, Who::Provider(p), BID_DEPOSIT);
            self.deps
                .get_mut(&dseq)
                .unwrap()
                .bids
                .insert(p, BidSt::Done);
        }
    }

    /// Applies `op` at height `h` (after the fee was paid); returns whether it succeeds.
    fn apply(&mut self, op: &Op, h: u64) -> bool {
        match *op {
            Op::Wait { .. } => true,
            Op::Create { dseq, deposit } => {
                if self.deps.contains_key(&dseq) {
                    return false;
                }
                self.mv(Who::Tenant, Who::Escrow, deposit);
                self.deps.insert(
                    dseq,
                    DepM {
                        active: true,
                        deposits: vec![(Who::Tenant, deposit)],
                        oseq: 1,
                        order_open: true,
                        bids: BTreeMap::new(),
                        lease: None,
                    },
                );
                true
            }
            Op::Bid { dseq, p, price } => {
                let Some(d) = self.deps.get(&dseq) else {
                    return false;
                };
                if !d.active || !d.order_open || d.bids.contains_key(&p) || price > PRICE_CAP {
                    return false;
                }
                let oseq = d.oseq;
                self.mv(Who::Provider(p), Who::Escrow, BID_DEPOSIT);
                self.prices.insert((dseq, oseq, p), price);
                self.deps
                    .get_mut(&dseq)
                    .unwrap()
                    .bids
                    .insert(p, BidSt::Open);
                true
            }
            Op::Lease { dseq, p } => {
                let Some(d) = self.deps.get(&dseq) else {
                    return false;
                };
                if !d.active
                    || !d.order_open
                    || d.lease.is_some()
                    || d.bids.get(&p) != Some(&BidSt::Open)
                {
                    return false;
                }
                let rate = self.prices[&(dseq, d.oseq, p)];
                let d = self.deps.get_mut(&dseq).unwrap();
                d.bids.insert(p, BidSt::Active);
                d.order_open = false;
                d.lease = Some(LeaseM {
                    p,
                    rate,
                    settled_at: h,
                    accrued: 0,
                });
                self.refund_open_bids(dseq);
                true
            }
            Op::Withdraw { dseq, p } => {
                let Some(d) = self.deps.get(&dseq) else {
                    return false;
                };
                if d.lease.as_ref().is_none_or(|l| l.p != p) {
                    return false;
                }
                self.settle(dseq, h);
                self.payout(dseq);
                true
            }
            Op::TopUp { dseq, amount } => {
                let Some(d) = self.deps.get(&dseq) else {
                    return false;
                };
                if !d.active {
                    return false;
                }
                self.settle(dseq, h);
                self.mv(Who::Sponsor, Who::Escrow, amount);
                let d = self.deps.get_mut(&dseq).unwrap();
                match d.deposits.iter_mut().find(|(w, _)| *w == Who::Sponsor) {
                    Some((_, left)) => *left += amount,
                    None => d.deposits.push((Who::Sponsor, amount)),
                }
                true
            }
            Op::CloseLease { dseq, p, .. } => {
                let Some(d) = self.deps.get(&dseq) else {
                    return false;
                };
                if d.lease.as_ref().is_none_or(|l| l.p != p) {
                    return false;
                }
                self.end_lease(dseq, h);
                let d = self.deps.get_mut(&dseq).unwrap();
                d.oseq += 1;
                d.order_open = true;
                d.bids.clear();
                true
            }
            Op::CloseDeployment { dseq } => {
                let Some(d) = self.deps.get(&dseq) else {
                    return false;
                };
                if !d.active {
                    return false;
                }
                if d.lease.is_some() {
                    self.end_lease(dseq, h);
                }
                self.refund_open_bids(dseq);
                let d = self.deps.get_mut(&dseq).unwrap();
                d.active = false;
                d.order_open = false;
                let refunds = std::mem::take(&mut d.deposits);
                for (who, left) in refunds {
                    self.mv(Who::Escrow, who, left);
                }
                true
            }
        }
    }
}

struct World {
    m: Market,
    model: Model,
}

fn addr(m: &Market, w: Who) -> ve_types::Address {
    match w {
        Who::Tenant => m.tenant.address,
        Who::Sponsor => m.sponsor.address,
        Who::Provider(i) => m.providers[i].address,
        Who::Escrow => escrow_addr(),
        Who::Pool => pool(),
        Who::Fees => fee_collector(),
    }
}

impl World {
    fn tx(&mut self, op: &Op) -> Option<(Who, Vec<u8>)> {
        let t = self.m.tenant.address;
        let oseq = |dseq: u64| self.model.deps.get(&dseq).map_or(1, |d| d.oseq);
        Some(match *op {
            Op::Wait { .. } => return None,
            Op::Create { dseq, deposit } => (
                Who::Tenant,
                create_deployment(
                    &mut self.m.tenant,
                    dseq,
                    vec![group_spec("web", PRICE_CAP, "eu-west")],
                    deposit,
                ),
            ),
            Op::Bid { dseq, p, price } => {
                let o = oseq(dseq);
                (
                    Who::Provider(p),
                    create_bid(&mut self.m.providers[p], &t, dseq, o, price),
                )
            }
            Op::Lease { dseq, p } => {
                let id = bid_id(&t, dseq, 1, oseq(dseq), &self.m.providers[p].address);
                (Who::Tenant, create_lease(&mut self.m.tenant, id))
            }
            Op::Withdraw { dseq, p } => {
                let id = bid_id(&t, dseq, 1, oseq(dseq), &self.m.providers[p].address);
                (
                    Who::Provider(p),
                    withdraw_lease(&mut self.m.providers[p], id),
                )
            }
            Op::TopUp { dseq, amount } => (
                Who::Sponsor,
                escrow_deposit(&mut self.m.sponsor, &t, dseq, amount),
            ),
            Op::CloseLease {
                dseq,
                p,
                by_provider,
            } => {
                let id = bid_id(&t, dseq, 1, oseq(dseq), &self.m.providers[p].address);
                if by_provider {
                    (Who::Provider(p), close_lease(&mut self.m.providers[p], id))
                } else {
                    (Who::Tenant, close_lease(&mut self.m.tenant, id))
                }
            }
            Op::CloseDeployment { dseq } => {
                (Who::Tenant, close_deployment(&mut self.m.tenant, dseq))
            }
        })
    }

    fn step(&mut self, op: &Op) {
        if let Op::Wait { blocks } = op {
            let to = self.m.node.height() + blocks;
            self.m.node.advance_to(to).unwrap();
            return;
        }
        let (payer, tx) = self.tx(op).unwrap();
        let h = self.m.node.height() + 1;
        let out = self.m.node.execute_block(&[tx]).unwrap();
        let (code, space, log) = out.results().next().unwrap();
        self.model.mv(payer, Who::Fees, MFEE);
        let expect = self.model.apply(op, h);
        assert_eq!(code == 0, expect, "{op:?} at {h}: {space} {code} {log}");
    }

    fn check(&self) {
        for (who, want) in &self.model.bal {
            assert_eq!(self.m.bal(&addr(&self.m, *who)), *want, "{who:?}");
        }
    }
}

impl Model {
    fn new(m: &Market) -> Self {
        let mut model = Model::default();
        let everyone = [Who::Tenant, Who::Sponsor, Who::Escrow, Who::Pool, Who::Fees]
            .into_iter()
            .chain((0..PROVIDERS).map(Who::Provider));
        for w in everyone {
            model.bal.insert(w, m.bal(&addr(m, w)));
        }
        model
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn balances_follow_the_reference_model_and_no_uve_is_created_or_lost(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let m = market(PROVIDERS, |_| {});
        let supply = m.total();
        let model = Model::new(&m);
        let mut w = World { m, model };
        for op in &ops {
            w.step(op);
            w.check();
        }
        prop_assert_eq!(w.m.total(), supply);
    }
}
