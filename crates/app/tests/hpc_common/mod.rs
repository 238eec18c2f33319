//! Fixtures for the hpc app tests: the mfa fixtures (one copy) plus a chain with a
//! provider (tier standard, MFA session) that registered a cluster with two nodes and
//! published an offering, a tenant, a moderator, a node contributor; message builders,
//! queries and balance helpers.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

#[path = "../mfa_common/mod.rs"]
mod base;
pub use base::*;

use ve_hpc::proto as hp;
use ve_mfa::proto::SensitiveTxType;
use ve_mfa::testing::SoftAuthenticator;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_types::Address;

macro_rules! hpc_urls {
    ($($t:ident),* $(,)?) => { $(impl Url for hp::$t { const URL: &'static str = concat!("/virtengine.hpc.v1.", stringify!($t)); })* };
}
hpc_urls!(
    MsgRegisterCluster,
    MsgClusterHeartbeat,
    MsgUpdateNodeMetadata,
    MsgCreateOffering,
    MsgSubmitJob,
    MsgReportJobStatus,
    MsgReportJobUsage,
    MsgCancelJob,
    MsgFlagDispute,
    MsgResolveDispute,
);

pub const GENESIS: usize = 0;
pub const PROVIDER: usize = 1;
pub const TENANT: usize = 2;
pub const MODERATOR: usize = 3;
pub const CONTRIBUTOR: usize = 4;
pub const STRANGER: usize = 5;

/// Prices: 10 per node-second (36 000 per node-hour) and 1 per core-second.
pub const NODE_HOUR: u128 = 36_000;
pub const CORE_HOUR: u128 = 3_600;
pub const MIN_CHARGE: u128 = 1_000;
pub const MAX_PRICE: u128 = 1_000_000;
pub const MAX_RUNTIME: u64 = 600;
/// The two nodes' CPU cores: the contributor's node and the provider's own node.
pub const CONTRIBUTOR_CORES: u64 = 8;
pub const PROVIDER_CORES: u64 = 24;
pub const SETTLEMENT_DELAY: i64 = 86_400;

pub struct Hpc {
    pub c: Chain,
    pub auth: SoftAuthenticator,
    pub cluster: u64,
    pub offering: u64,
}

pub fn uve(n: u128) -> ProtoCoin {
    ProtoCoin {
        denom: "uve".into(),
        amount: n.to_string(),
    }
}

pub fn escrow() -> Address {
    Address::module("escrow")
}
pub fn hpc_module() -> Address {
    Address::module("hpc")
}
pub fn pool() -> Address {
    Address::module("community_pool")
}

pub fn cluster_msg(c: &Chain, name: &str, nodes: u32, region: &str) -> hp::MsgRegisterCluster {
    hp::MsgRegisterCluster {
        provider: c.users[PROVIDER].s(),
        name: name.into(),
        description: "test cluster".into(),
        region: region.into(),
        datacenter: "dc1".into(),
        partitions: vec![hp::Partition {
            name: "batch".into(),
            nodes,
            max_runtime_seconds: 86_400,
            default_runtime_seconds: 3_600,
            max_nodes: nodes,
            features: vec![],
            priority: 100,
        }],
        total_nodes: nodes,
        metadata: Some(hp::ClusterMetadata {
            total_cpu_cores: 32,
            total_memory_gb: 128,
            gpu_types: vec!["a100".into()],
            ..Default::default()
        }),
        slurm_version: "23.11".into(),
    }
}

/// Enrolls the provider's FIDO2 authenticator (kept: its signature counter grows).
pub fn provider_authenticator(c: &mut Chain) -> SoftAuthenticator {
    let mut auth = authenticator(&[PROVIDER as u8; 4]);
    c.enroll_fido2(PROVIDER, &mut auth, ve_mfa::testing::Format::None)
        .ok();
    auth
}

/// A VEID+FIDO2 session for cluster registration; returns the session id.
pub fn cluster_session(c: &mut Chain, auth: &mut SoftAuthenticator) -> String {
    c.veid_fido2_session(PROVIDER, auth, SensitiveTxType::HpcClusterRegistration)
}

pub fn node_msg(
    c: &Chain,
    cluster: u64,
    node: &str,
    operator: usize,
    cores: u64,
    seq: u64,
) -> hp::MsgUpdateNodeMetadata {
    hp::MsgUpdateNodeMetadata {
        provider: c.users[PROVIDER].s(),
        cluster_id: cluster,
        node_id: node.into(),
        operator: c.users[operator].s(),
        health: hp::HealthStatus::Healthy as i32,
        capacity: Some(hp::NodeCapacity {
            cpu_cores: cores,
            memory_gb: 64,
            ..Default::default()
        }),
        locality: None,
        avg_latency_ms: 1,
        agent_pubkey: String::new(),
        agent_version: "1.0".into(),
        sequence: seq,
    }
}

pub fn offering_msg(c: &Chain, cluster: u64, min_tier: u32) -> hp::MsgCreateOffering {
    hp::MsgCreateOffering {
        provider: c.users[PROVIDER].s(),
        cluster_id: cluster,
        name: "batch compute".into(),
        description: String::new(),
        queues: vec![hp::QueueOption {
            partition: "batch".into(),
            display_name: "Batch".into(),
            max_nodes: 0,
            max_runtime_seconds: 0,
            price_multiplier_bps: 10_000,
        }],
        pricing: Some(hp::Pricing {
            denom: "uve".into(),
            node_hour: NODE_HOUR.to_string(),
            cpu_core_hour: CORE_HOUR.to_string(),
            minimum_charge: MIN_CHARGE.to_string(),
            ..Default::default()
        }),
        min_tier,
        max_runtime_seconds: 86_400,
        workloads: vec![hp::Workload {
            workload_id: "hello".into(),
            name: "hello".into(),
            default_command: "echo hello".into(),
            ..Default::default()
        }],
        supports_custom_workloads: true,
    }
}

/// The standard setup; `edit` adjusts the genesis (params).
pub fn hpc_with(min_tier: u32, edit: impl FnOnce(&mut ve_app::AppGenesis)) -> Hpc {
    let moderator = User::new(MODERATOR as u8 + 1, 0).address;
    let mut c = chain_with(6, |g| {
        g.roles
            .assignments
            .push(ve_roles::genesis::GenesisAssignment {
                address: moderator,
                role: "moderator".into(),
            });
        edit(g);
    });
    c.set_score(PROVIDER, 80);
    c.set_score(TENANT, 80);
    let mut auth = provider_authenticator(&mut c);
    let s = cluster_session(&mut c, &mut auth);
    let m = cluster_msg(&c, "alpha", 4, "eu-west");
    let r = c.send(PROVIDER, vec![any(&m)], &[s]);
    r.ok();
    let cluster = r.response::<hp::MsgRegisterClusterResponse>(0).cluster_id;
    let n1 = node_msg(&c, cluster, "n1", CONTRIBUTOR, CONTRIBUTOR_CORES, 1);
    let mut n2 = node_msg(&c, cluster, "n2", PROVIDER, PROVIDER_CORES, 1);
    n2.operator = String::new();
    let o = offering_msg(&c, cluster, min_tier);
    let r = c.send(PROVIDER, vec![any(&n1), any(&n2), any(&o)], &[]);
    r.ok();
    let offering = r.response::<hp::MsgCreateOfferingResponse>(2).offering_id;
    Hpc {
        c,
        auth,
        cluster,
        offering,
    }
}

pub fn hpc() -> Hpc {
    hpc_with(1, |_| {})
}

impl Hpc {
    pub fn submit_msg(&self, nodes: u32, cores: u32) -> hp::MsgSubmitJob {
        hp::MsgSubmitJob {
            customer: self.c.users[TENANT].s(),
            offering_id: self.offering,
            queue: "batch".into(),
            workload: Some(hp::WorkloadSpec {
                command: "sleep 60".into(),
                ..Default::default()
            }),
            resources: Some(hp::JobResources {
                nodes,
                cpu_cores_per_node: cores,
                memory_gb_per_node: 4,
                ..Default::default()
            }),
            max_runtime_seconds: MAX_RUNTIME,
            max_price: Some(uve(MAX_PRICE)),
            ..Default::default()
        }
    }

    /// Submits a 1-node, 2-core job; returns its id.
    pub fn submit(&mut self) -> u64 {
        let m = self.submit_msg(1, 2);
        let r = self.c.send(TENANT, vec![any(&m)], &[]);
        r.ok();
        r.response::<hp::MsgSubmitJobResponse>(0).job_id
    }

    pub fn status_msg(&self, job: u64, state: hp::JobState) -> hp::MsgReportJobStatus {
        hp::MsgReportJobStatus {
            provider: self.c.users[PROVIDER].s(),
            job_id: job,
            state: state as i32,
            slurm_job_id: "4242".into(),
            status_message: String::new(),
            exit_code: 0,
            usage: None,
        }
    }

    pub fn report(&mut self, job: u64, state: hp::JobState) -> Res {
        let m = self.status_msg(job, state);
        self.c.try_send(PROVIDER, vec![any(&m)], &[])
    }

    /// Reports QUEUED then RUNNING.
    pub fn start(&mut self, job: u64) {
        self.report(job, hp::JobState::Queued).ok();
        self.report(job, hp::JobState::Running).ok();
    }

    pub fn job(&self, id: u64) -> hp::QueryJobResponse {
        self.c.query(
            "/virtengine.hpc.v1.Query/Job",
            &hp::QueryJobRequest { job_id: id },
        )
    }

    pub fn cluster(&self, id: u64) -> hp::QueryClusterResponse {
        self.c.query(
            "/virtengine.hpc.v1.Query/Cluster",
            &hp::QueryClusterRequest { cluster_id: id },
        )
    }

    pub fn bal(&self, u: usize) -> u128 {
        self.c.balance(&self.c.users[u].address)
    }

    /// Jumps the clock and runs one block (end-block work happens at the new time).
    pub fn after(&mut self, seconds: i64) {
        self.c.node.advance_time(seconds);
        self.c.block(&[]);
    }

    pub fn accounting(&self, job: u64) -> hp::JobAccounting {
        self.job(job).accounting.expect("accounting")
    }

    /// Every uve the chain holds for these parties (to check nothing is created or lost
    /// by hpc, fees aside).
    pub fn billed(&self, job: u64) -> u128 {
        self.accounting(job).billed.parse().unwrap()
    }
}
