//! `virtengine tx hpc ...` and `virtengine query hpc ...`: HPC clusters, offerings and
//! jobs (docs/hpc.md). Providers register clusters and offerings from YAML files, keep
//! clusters alive with heartbeats and report job status and usage (the provider daemon
//! does this automatically); tenants submit and cancel jobs; either side disputes a bill;
//! moderators resolve disputes.
//!
//! cluster.yaml:
//! ```yaml
//! name: alpha
//! region: eu-west
//! datacenter: fra1
//! total_nodes: 4
//! slurm_version: "23.11"
//! partitions: [{ name: batch, nodes: 4, max_runtime_seconds: 86400, max_nodes: 4 }]
//! metadata: { total_cpu_cores: 128, total_memory_gb: 512, total_gpus: 0, gpu_types: [] }
//! ```
//! offering.yaml:
//! ```yaml
//! cluster_id: 1
//! name: batch compute
//! queues: [{ partition: batch, price_multiplier_bps: 10000 }]
//! pricing: { denom: uve, node_hour: "36000", cpu_core_hour: "3600", minimum_charge: "1000" }
//! min_tier: 1
//! max_runtime_seconds: 86400
//! supports_custom_workloads: true
//! workloads: [{ workload_id: hello, name: hello, default_command: "echo hello" }]
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::hpc::v1::*;
use ve_types::{Address, Coin};

use crate::cli::deployment::{proto_coin, signer};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::provider::first_response;
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, broadcast_for_result, TxCommon};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionFile {
    name: String,
    nodes: u32,
    #[serde(default)]
    max_runtime_seconds: u64,
    #[serde(default)]
    default_runtime_seconds: u64,
    #[serde(default)]
    max_nodes: u32,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    priority: u32,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MetadataFile {
    total_cpu_cores: u64,
    total_memory_gb: u64,
    total_gpus: u64,
    gpu_types: Vec<String>,
    interconnect_type: String,
    storage_type: String,
    total_storage_gb: u64,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    name: String,
    #[serde(default)]
    description: String,
    region: String,
    #[serde(default)]
    datacenter: String,
    total_nodes: u32,
    #[serde(default)]
    slurm_version: String,
    partitions: Vec<PartitionFile>,
    #[serde(default)]
    metadata: MetadataFile,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueFile {
    partition: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    max_nodes: u32,
    #[serde(default)]
    max_runtime_seconds: u64,
    #[serde(default = "one")]
    price_multiplier_bps: u32,
}

fn one() -> u32 {
    10_000
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PricingFile {
    denom: String,
    node_hour: String,
    cpu_core_hour: String,
    gpu_hour: String,
    memory_gb_hour: String,
    storage_gb_hour: String,
    network_gb: String,
    minimum_charge: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct WorkloadFile {
    workload_id: String,
    name: String,
    description: String,
    container_image: String,
    default_command: String,
    category: String,
    version: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferingFile {
    cluster_id: u64,
    name: String,
    #[serde(default)]
    description: String,
    queues: Vec<QueueFile>,
    pricing: PricingFile,
    #[serde(default)]
    min_tier: u32,
    max_runtime_seconds: u64,
    #[serde(default)]
    workloads: Vec<WorkloadFile>,
    #[serde(default)]
    supports_custom_workloads: bool,
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path, help: &str) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text)
        .with_context(|| format!("parsing {} (see `{help} --help`)", path.display()))
}

/// Cumulative usage of a job, as the provider reports it (all optional, default 0).
#[derive(Debug, Args, Default)]
pub struct UsageArgs {
    #[arg(long, default_value_t = 0)]
    wall_clock_seconds: u64,
    #[arg(long, default_value_t = 0)]
    node_seconds: u64,
    #[arg(long, default_value_t = 0)]
    cpu_core_seconds: u64,
    #[arg(long, default_value_t = 0)]
    memory_gb_seconds: u64,
    #[arg(long, default_value_t = 0)]
    gpu_seconds: u64,
    #[arg(long, default_value_t = 0)]
    storage_gb_seconds: u64,
    #[arg(long, default_value_t = 0)]
    network_bytes: u64,
    #[arg(long, default_value_t = 0)]
    nodes_used: u32,
}

impl UsageArgs {
    fn to_proto(&self) -> UsageMetrics {
        UsageMetrics {
            wall_clock_seconds: self.wall_clock_seconds,
            node_seconds: self.node_seconds,
            cpu_core_seconds: self.cpu_core_seconds,
            memory_gb_seconds: self.memory_gb_seconds,
            gpu_seconds: self.gpu_seconds,
            storage_gb_seconds: self.storage_gb_seconds,
            network_bytes: self.network_bytes,
            nodes_used: self.nodes_used,
        }
    }
    fn is_empty(&self) -> bool {
        self.to_proto() == UsageMetrics::default()
    }
}

#[derive(Debug, Subcommand)]
pub enum HpcTx {
    /// Register a SLURM cluster from a YAML file (VEID tier standard; needs an MFA session
    /// for hpc_cluster_registration: --mfa-session).
    #[command(
        after_help = "Example:\n  virtengine tx hpc register-cluster cluster.yaml --from provider --mfa-session <id> --yes"
    )]
    RegisterCluster {
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Cluster heartbeat: keeps it ACTIVE (OFFLINE after 300 s without one) and updates
    /// available nodes and measured latencies.
    #[command(
        after_help = "Example:\n  virtengine tx hpc heartbeat 1 --available 4 --latency-ms 2 --peer 2=5 --from provider --yes"
    )]
    Heartbeat {
        cluster_id: u64,
        #[arg(long)]
        available: u32,
        /// Mean node-to-node latency inside the cluster.
        #[arg(long, default_value_t = 0)]
        latency_ms: u32,
        /// Latency to another cluster, CLUSTER_ID=MS (repeatable): feeds proximity grouping.
        #[arg(long = "peer")]
        peers: Vec<String>,
        /// Stop taking new jobs.
        #[arg(long)]
        drain: bool,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Publish an offering on one of your clusters from a YAML file.
    #[command(
        after_help = "Example:\n  virtengine tx hpc create-offering offering.yaml --from provider --yes"
    )]
    CreateOffering {
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Submit a job: --max-price is locked in escrow until the job ends and settles.
    #[command(
        after_help = "Example:\n  virtengine tx hpc submit-job 1 --command 'srun hostname' --nodes 1 --cores-per-node 2 --max-runtime 600 --max-price 1000000uve --from tenant --yes"
    )]
    SubmitJob {
        offering_id: u64,
        /// Queue (partition); default: the offering's first queue.
        #[arg(long, default_value = "")]
        queue: String,
        /// One of the offering's preconfigured workloads.
        #[arg(long, default_value = "")]
        workload: String,
        #[arg(long, default_value = "")]
        image: String,
        #[arg(long, default_value = "")]
        command: String,
        #[arg(long = "arg")]
        args: Vec<String>,
        /// NAME=VALUE (repeatable).
        #[arg(long = "env")]
        env: Vec<String>,
        #[arg(long, default_value = "")]
        workdir: String,
        #[arg(long, default_value_t = 1)]
        nodes: u32,
        #[arg(long, default_value_t = 1)]
        cores_per_node: u32,
        #[arg(long, default_value_t = 0)]
        memory_gb_per_node: u64,
        #[arg(long, default_value_t = 0)]
        gpus_per_node: u32,
        #[arg(long, default_value = "")]
        gpu_type: String,
        #[arg(long, default_value_t = 0)]
        storage_gb: u64,
        /// Time limit in seconds (the chain ends the job as TIMEOUT after it).
        #[arg(long)]
        max_runtime: u64,
        /// e.g. 1000000uve.
        #[arg(long)]
        max_price: String,
        #[arg(long, default_value = "")]
        inputs: String,
        #[arg(long, default_value = "")]
        outputs: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Provider: report a job's state (queued needs --slurm-job-id; terminal states may
    /// carry the final usage).
    #[command(
        after_help = "Example:\n  virtengine tx hpc report-status 7 completed --exit-code 0 --node-seconds 300 --cpu-core-seconds 600 --from provider --yes"
    )]
    ReportStatus {
        job_id: u64,
        /// queued | running | completed | failed | cancelled | timeout
        state: String,
        #[arg(long, default_value = "")]
        slurm_job_id: String,
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        exit_code: i32,
        #[arg(long, default_value = "")]
        message: String,
        #[command(flatten)]
        usage: UsageArgs,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Provider: an interim cumulative usage snapshot of a queued or running job.
    ReportUsage {
        job_id: u64,
        #[command(flatten)]
        usage: UsageArgs,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Tenant or provider: cancel a job that has not ended (unused escrow is refunded).
    CancelJob {
        job_id: u64,
        #[arg(long, default_value = "")]
        reason: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Tenant or provider: dispute a finished job's bill within the dispute window.
    Dispute {
        job_id: u64,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "")]
        evidence: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Moderator: uphold a dispute with a new bill (--adjusted-billed) or reject it.
    #[command(
        after_help = "Example:\n  virtengine tx hpc resolve-dispute 1 --uphold --adjusted-billed 2000 --resolution 'half refunded' --from moderator --yes"
    )]
    ResolveDispute {
        dispute_id: u64,
        #[arg(long, conflicts_with = "reject", requires = "adjusted_billed")]
        uphold: bool,
        #[arg(long)]
        reject: bool,
        /// The amount billed instead (at most the original bill), in the job's denom.
        #[arg(long)]
        adjusted_billed: Option<String>,
        #[arg(long, default_value = "")]
        resolution: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum HpcQuery {
    /// Clusters, optionally of one provider.
    Clusters {
        #[arg(long)]
        provider: Option<String>,
    },
    /// One cluster with its nodes and proximity group.
    Cluster { cluster_id: u64 },
    /// Offerings, optionally on one cluster.
    Offerings {
        #[arg(long)]
        cluster: Option<u64>,
    },
    /// Jobs, optionally of one customer / provider / in one state.
    Jobs {
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        state: Option<String>,
    },
    /// One job with its scheduling decision and accounting.
    Job { job_id: u64 },
    /// Module parameters.
    Params,
}

fn job_state(s: &str) -> Result<JobState> {
    Ok(match s {
        "pending" => JobState::Pending,
        "queued" => JobState::Queued,
        "running" => JobState::Running,
        "completed" => JobState::Completed,
        "failed" => JobState::Failed,
        "cancelled" => JobState::Cancelled,
        "timeout" => JobState::Timeout,
        other => bail!(
            "state {other:?} must be pending, queued, running, completed, failed, cancelled or timeout"
        ),
    })
}

pub(crate) fn job_state_name(s: i32) -> &'static str {
    match JobState::try_from(s) {
        Ok(JobState::Pending) => "pending",
        Ok(JobState::Queued) => "queued",
        Ok(JobState::Running) => "running",
        Ok(JobState::Completed) => "completed",
        Ok(JobState::Failed) => "failed",
        Ok(JobState::Cancelled) => "cancelled",
        Ok(JobState::Timeout) => "timeout",
        _ => "unspecified",
    }
}

fn cluster_state_name(s: i32) -> &'static str {
    match ClusterState::try_from(s) {
        Ok(ClusterState::Pending) => "pending",
        Ok(ClusterState::Active) => "active",
        Ok(ClusterState::Draining) => "draining",
        Ok(ClusterState::Offline) => "offline",
        Ok(ClusterState::Deregistered) => "deregistered",
        _ => "unspecified",
    }
}

fn settlement_name(s: i32) -> &'static str {
    match SettlementStatus::try_from(s) {
        Ok(SettlementStatus::Pending) => "pending",
        Ok(SettlementStatus::Disputed) => "disputed",
        Ok(SettlementStatus::Settled) => "settled",
        _ => "unspecified",
    }
}

fn pair(s: &str, what: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .with_context(|| format!("{what} {s:?} must look like KEY=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

async fn send(
    common: &TxCommon,
    from: &str,
    type_url: &str,
    msg: &impl prost::Message,
    summary: &str,
) -> Result<()> {
    let (kr, name, _) = signer(common, from)?;
    let any = ve_proto::to_any(type_url, msg);
    broadcast(common, &kr, &name, vec![any], summary).await
}

pub async fn run_tx(cmd: HpcTx) -> Result<()> {
    match cmd {
        HpcTx::RegisterCluster { file, from, common } => {
            let f: ClusterFile = read_yaml(&file, "tx hpc register-cluster")?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgRegisterCluster {
                provider: address.to_string(),
                name: f.name.clone(),
                description: f.description,
                region: f.region,
                datacenter: f.datacenter,
                partitions: f
                    .partitions
                    .into_iter()
                    .map(|p| Partition {
                        name: p.name,
                        nodes: p.nodes,
                        max_runtime_seconds: p.max_runtime_seconds,
                        default_runtime_seconds: p.default_runtime_seconds,
                        max_nodes: p.max_nodes,
                        features: p.features,
                        priority: p.priority,
                    })
                    .collect(),
                total_nodes: f.total_nodes,
                metadata: Some(ClusterMetadata {
                    total_cpu_cores: f.metadata.total_cpu_cores,
                    total_memory_gb: f.metadata.total_memory_gb,
                    total_gpus: f.metadata.total_gpus,
                    gpu_types: f.metadata.gpu_types,
                    interconnect_type: f.metadata.interconnect_type,
                    storage_type: f.metadata.storage_type,
                    total_storage_gb: f.metadata.total_storage_gb,
                }),
                slurm_version: f.slurm_version,
            };
            let any = ve_proto::to_any("/virtengine.hpc.v1.MsgRegisterCluster", &m);
            let summary = format!("register HPC cluster {:?}", f.name);
            let r = broadcast_for_result(&common, &kr, &name, vec![any], &summary, true).await?;
            if let Some(resp) = first_response::<MsgRegisterClusterResponse>(&r) {
                println!("cluster: {}", resp.cluster_id);
            }
            Ok(())
        }
        HpcTx::Heartbeat {
            cluster_id,
            available,
            latency_ms,
            peers,
            drain,
            from,
            common,
        } => {
            let (_, _, address) = signer(&common, &from)?;
            let mut peer_latencies = Vec::new();
            for p in &peers {
                let (id, ms) = pair(p, "--peer")?;
                peer_latencies.push(PeerLatency {
                    cluster_id: id
                        .parse()
                        .with_context(|| format!("--peer {p:?}: cluster id"))?,
                    latency_ms: ms
                        .parse()
                        .with_context(|| format!("--peer {p:?}: milliseconds"))?,
                });
            }
            let m = MsgClusterHeartbeat {
                provider: address.to_string(),
                cluster_id,
                available_nodes: available,
                avg_latency_ms: latency_ms,
                peer_latencies,
                drain,
            };
            let s = format!("heartbeat for cluster {cluster_id}");
            send(
                &common,
                &from,
                "/virtengine.hpc.v1.MsgClusterHeartbeat",
                &m,
                &s,
            )
            .await
        }
        HpcTx::CreateOffering { file, from, common } => {
            let f: OfferingFile = read_yaml(&file, "tx hpc create-offering")?;
            let (kr, name, address) = signer(&common, &from)?;
            let p = f.pricing;
            let m = MsgCreateOffering {
                provider: address.to_string(),
                cluster_id: f.cluster_id,
                name: f.name.clone(),
                description: f.description,
                queues: f
                    .queues
                    .into_iter()
                    .map(|q| QueueOption {
                        partition: q.partition,
                        display_name: q.display_name,
                        max_nodes: q.max_nodes,
                        max_runtime_seconds: q.max_runtime_seconds,
                        price_multiplier_bps: q.price_multiplier_bps,
                    })
                    .collect(),
                pricing: Some(Pricing {
                    denom: if p.denom.is_empty() {
                        "uve".into()
                    } else {
                        p.denom
                    },
                    node_hour: p.node_hour,
                    cpu_core_hour: p.cpu_core_hour,
                    gpu_hour: p.gpu_hour,
                    memory_gb_hour: p.memory_gb_hour,
                    storage_gb_hour: p.storage_gb_hour,
                    network_gb: p.network_gb,
                    minimum_charge: p.minimum_charge,
                }),
                min_tier: f.min_tier,
                max_runtime_seconds: f.max_runtime_seconds,
                workloads: f
                    .workloads
                    .into_iter()
                    .map(|w| Workload {
                        workload_id: w.workload_id,
                        name: w.name,
                        description: w.description,
                        container_image: w.container_image,
                        default_command: w.default_command,
                        category: w.category,
                        version: w.version,
                    })
                    .collect(),
                supports_custom_workloads: f.supports_custom_workloads,
            };
            let any = ve_proto::to_any("/virtengine.hpc.v1.MsgCreateOffering", &m);
            let summary = format!("publish HPC offering {:?}", f.name);
            let r = broadcast_for_result(&common, &kr, &name, vec![any], &summary, true).await?;
            if let Some(resp) = first_response::<MsgCreateOfferingResponse>(&r) {
                println!("offering: {}", resp.offering_id);
            }
            Ok(())
        }
        HpcTx::SubmitJob {
            offering_id,
            queue,
            workload,
            image,
            command,
            args,
            env,
            workdir,
            nodes,
            cores_per_node,
            memory_gb_per_node,
            gpus_per_node,
            gpu_type,
            storage_gb,
            max_runtime,
            max_price,
            inputs,
            outputs,
            from,
            common,
        } => {
            let price: Coin = max_price
                .parse()
                .with_context(|| format!("--max-price {max_price:?} (e.g. 1000000uve)"))?;
            let environment = env
                .iter()
                .map(|e| pair(e, "--env").map(|(name, value)| EnvVar { name, value }))
                .collect::<Result<Vec<_>>>()?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgSubmitJob {
                customer: address.to_string(),
                offering_id,
                queue,
                workload: Some(WorkloadSpec {
                    container_image: image,
                    command,
                    arguments: args,
                    environment,
                    working_directory: workdir,
                    preconfigured_workload_id: workload,
                }),
                resources: Some(JobResources {
                    nodes,
                    cpu_cores_per_node: cores_per_node,
                    memory_gb_per_node,
                    gpus_per_node,
                    gpu_type,
                    storage_gb,
                }),
                encrypted_inputs_pointer: inputs,
                encrypted_outputs_pointer: outputs,
                max_runtime_seconds: max_runtime,
                max_price: Some(proto_coin(&price)),
            };
            let any = ve_proto::to_any("/virtengine.hpc.v1.MsgSubmitJob", &m);
            let summary = format!("submit a job to HPC offering {offering_id}, locking {price}");
            let r = broadcast_for_result(&common, &kr, &name, vec![any], &summary, true).await?;
            // JSON output is the tx (its hpc_job_submitted event has the job id).
            let text = common.output == OutputFormat::Text;
            if let Some(resp) = first_response::<MsgSubmitJobResponse>(&r).filter(|_| text) {
                println!(
                    "job: {} (clusters {:?})",
                    resp.job_id, resp.selected_cluster_ids
                );
            }
            Ok(())
        }
        HpcTx::ReportStatus {
            job_id,
            state,
            slurm_job_id,
            exit_code,
            message,
            usage,
            from,
            common,
        } => {
            let (_, _, address) = signer(&common, &from)?;
            let st = job_state(&state)?;
            let m = MsgReportJobStatus {
                provider: address.to_string(),
                job_id,
                state: st as i32,
                slurm_job_id,
                status_message: message,
                exit_code,
                usage: (!usage.is_empty()).then(|| usage.to_proto()),
            };
            let s = format!("report job {job_id} {state}");
            send(
                &common,
                &from,
                "/virtengine.hpc.v1.MsgReportJobStatus",
                &m,
                &s,
            )
            .await
        }
        HpcTx::ReportUsage {
            job_id,
            usage,
            from,
            common,
        } => {
            let (_, _, address) = signer(&common, &from)?;
            let m = MsgReportJobUsage {
                provider: address.to_string(),
                job_id,
                usage: Some(usage.to_proto()),
            };
            let s = format!("report usage of job {job_id}");
            send(
                &common,
                &from,
                "/virtengine.hpc.v1.MsgReportJobUsage",
                &m,
                &s,
            )
            .await
        }
        HpcTx::CancelJob {
            job_id,
            reason,
            from,
            common,
        } => {
            let (_, _, address) = signer(&common, &from)?;
            let m = MsgCancelJob {
                requester: address.to_string(),
                job_id,
                reason,
            };
            let s = format!("cancel job {job_id}");
            send(&common, &from, "/virtengine.hpc.v1.MsgCancelJob", &m, &s).await
        }
        HpcTx::Dispute {
            job_id,
            reason,
            evidence,
            from,
            common,
        } => {
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgFlagDispute {
                disputer: address.to_string(),
                job_id,
                reason,
                evidence,
            };
            let any = ve_proto::to_any("/virtengine.hpc.v1.MsgFlagDispute", &m);
            let summary = format!("dispute the bill of job {job_id}");
            let r = broadcast_for_result(&common, &kr, &name, vec![any], &summary, true).await?;
            if let Some(resp) = first_response::<MsgFlagDisputeResponse>(&r) {
                println!("dispute: {}", resp.dispute_id);
            }
            Ok(())
        }
        HpcTx::ResolveDispute {
            dispute_id,
            uphold,
            reject,
            adjusted_billed,
            resolution,
            from,
            common,
        } => {
            if uphold == reject {
                bail!("give exactly one of --uphold (with --adjusted-billed) or --reject");
            }
            let (_, _, address) = signer(&common, &from)?;
            let m = MsgResolveDispute {
                resolver: address.to_string(),
                dispute_id,
                uphold,
                adjusted_billed: adjusted_billed.unwrap_or_default(),
                resolution,
            };
            let verb = if uphold { "uphold" } else { "reject" };
            let s = format!("{verb} dispute {dispute_id}");
            send(
                &common,
                &from,
                "/virtengine.hpc.v1.MsgResolveDispute",
                &m,
                &s,
            )
            .await
        }
    }
}

pub(crate) fn usage_json(u: &UsageMetrics) -> Value {
    json!({
        "wall_clock_seconds": u.wall_clock_seconds.to_string(),
        "node_seconds": u.node_seconds.to_string(),
        "cpu_core_seconds": u.cpu_core_seconds.to_string(),
        "memory_gb_seconds": u.memory_gb_seconds.to_string(),
        "gpu_seconds": u.gpu_seconds.to_string(),
        "storage_gb_seconds": u.storage_gb_seconds.to_string(),
        "network_bytes": u.network_bytes.to_string(),
        "nodes_used": u.nodes_used,
    })
}

fn cluster_json(c: &Cluster) -> Value {
    let m = c.metadata.clone().unwrap_or_default();
    json!({
        "cluster_id": c.cluster_id.to_string(), "provider": c.provider, "name": c.name,
        "description": c.description, "state": cluster_state_name(c.state),
        "region": c.region, "datacenter": c.datacenter,
        "total_nodes": c.total_nodes, "available_nodes": c.available_nodes,
        "partitions": c.partitions.iter().map(|p| json!({"name": p.name, "nodes": p.nodes,
            "max_runtime_seconds": p.max_runtime_seconds.to_string(), "max_nodes": p.max_nodes})).collect::<Vec<_>>(),
        "metadata": {"total_cpu_cores": m.total_cpu_cores.to_string(), "total_memory_gb": m.total_memory_gb.to_string(),
            "total_gpus": m.total_gpus.to_string(), "gpu_types": m.gpu_types},
        "slurm_version": c.slurm_version, "avg_latency_ms": c.avg_latency_ms,
        "peer_latencies": c.peer_latencies.iter().map(|p| json!({"cluster_id": p.cluster_id.to_string(), "latency_ms": p.latency_ms})).collect::<Vec<_>>(),
        "last_heartbeat": c.last_heartbeat.to_string(),
    })
}

fn node_json(n: &NodeMetadata) -> Value {
    let cap = n.capacity.clone().unwrap_or_default();
    json!({
        "node_id": n.node_id, "operator": n.operator,
        "state": match NodeState::try_from(n.state) {
            Ok(NodeState::Active) => "active", Ok(NodeState::Stale) => "stale",
            Ok(NodeState::Draining) => "draining", Ok(NodeState::Offline) => "offline", _ => "unknown" },
        "cpu_cores": cap.cpu_cores.to_string(), "memory_gb": cap.memory_gb.to_string(), "gpus": cap.gpus,
        "gpu_type": cap.gpu_type, "sequence": n.sequence.to_string(), "last_heartbeat": n.last_heartbeat.to_string(),
    })
}

fn offering_json(o: &Offering) -> Value {
    let p = o.pricing.clone().unwrap_or_default();
    json!({
        "offering_id": o.offering_id.to_string(), "cluster_id": o.cluster_id.to_string(),
        "provider": o.provider, "name": o.name, "description": o.description, "active": o.active,
        "queues": o.queues.iter().map(|q| json!({"partition": q.partition, "max_nodes": q.max_nodes,
            "max_runtime_seconds": q.max_runtime_seconds.to_string(), "price_multiplier_bps": q.price_multiplier_bps})).collect::<Vec<_>>(),
        "pricing": {"denom": p.denom, "node_hour": p.node_hour, "cpu_core_hour": p.cpu_core_hour, "gpu_hour": p.gpu_hour,
            "memory_gb_hour": p.memory_gb_hour, "storage_gb_hour": p.storage_gb_hour, "network_gb": p.network_gb,
            "minimum_charge": p.minimum_charge},
        "min_tier": o.min_tier, "max_runtime_seconds": o.max_runtime_seconds.to_string(),
        "workloads": o.workloads.iter().map(|w| json!({"workload_id": w.workload_id, "name": w.name,
            "container_image": w.container_image, "default_command": w.default_command})).collect::<Vec<_>>(),
        "supports_custom_workloads": o.supports_custom_workloads,
    })
}

fn job_json(j: &Job) -> Value {
    let r = j.resources.clone().unwrap_or_default();
    let w = j.workload.clone().unwrap_or_default();
    json!({
        "job_id": j.job_id.to_string(), "offering_id": j.offering_id.to_string(),
        "cluster_id": j.cluster_id.to_string(), "provider": j.provider, "customer": j.customer,
        "state": job_state_name(j.state), "slurm_job_id": j.slurm_job_id, "queue": j.queue,
        "exit_code": j.exit_code, "status_message": j.status_message,
        "resources": {"nodes": r.nodes, "cpu_cores_per_node": r.cpu_cores_per_node,
            "memory_gb_per_node": r.memory_gb_per_node.to_string(), "gpus_per_node": r.gpus_per_node,
            "gpu_type": r.gpu_type, "storage_gb": r.storage_gb.to_string()},
        "workload": {"container_image": w.container_image, "command": w.command, "arguments": w.arguments,
            "environment": w.environment.iter().map(|e| json!({"name": e.name, "value": e.value})).collect::<Vec<_>>(),
            "working_directory": w.working_directory, "preconfigured_workload_id": w.preconfigured_workload_id},
        "encrypted_inputs_pointer": j.encrypted_inputs_pointer,
        "encrypted_outputs_pointer": j.encrypted_outputs_pointer,
        "max_runtime_seconds": j.max_runtime_seconds.to_string(),
        "max_price": format!("{}{}", j.max_price, j.denom), "decision_id": j.decision_id.to_string(),
        "usage": j.usage.as_ref().map(usage_json),
        "created_at": j.created_at.to_string(), "queued_at": j.queued_at.to_string(),
        "started_at": j.started_at.to_string(), "completed_at": j.completed_at.to_string(),
        "cancelled_by": j.cancelled_by,
    })
}

fn decision_json(d: &SchedulingDecision) -> Value {
    json!({
        "decision_id": d.decision_id.to_string(),
        "selected_cluster_ids": d.selected_cluster_ids.iter().map(u64::to_string).collect::<Vec<_>>(),
        "reason": d.decision_reason, "is_fallback": d.is_fallback, "fallback_reason": d.fallback_reason,
        "virtual_supercomputer": d.virtual_supercomputer,
        "candidates": d.candidates.iter().map(|c| json!({"cluster_id": c.cluster_id.to_string(),
            "latency_score": c.latency_score.to_string(), "capacity_score": c.capacity_score.to_string(),
            "combined_score": c.combined_score.to_string(), "eligible": c.eligible,
            "ineligibility_reason": c.ineligibility_reason})).collect::<Vec<_>>(),
    })
}

fn accounting_json(a: &JobAccounting) -> Value {
    json!({
        "billed": a.billed, "refund": a.refund, "denom": a.denom,
        "status": settlement_name(a.status), "final_state": job_state_name(a.final_state),
        "usage": a.usage.as_ref().map(usage_json),
        "dispute_deadline": a.dispute_deadline.to_string(), "settle_at": a.settle_at.to_string(),
        "settled_at": a.settled_at.to_string(), "dispute_id": a.dispute_id.to_string(),
        "payouts": a.payouts.iter().map(|p| json!({"address": p.address, "amount": p.amount,
            "type": match RecipientType::try_from(p.recipient_type) {
                Ok(RecipientType::Platform) => "platform", Ok(RecipientType::Provider) => "provider",
                Ok(RecipientType::Node) => "node", Ok(RecipientType::CustomerRefund) => "customer_refund",
                _ => "unspecified" },
            "node_id": p.node_id, "contribution_weight": p.contribution_weight.to_string()})).collect::<Vec<_>>(),
    })
}

fn print_job(j: &Job) {
    println!(
        "job {} [{}] offering {} on cluster {} — {} node(s), max {}{}, slurm id {:?}, customer {}",
        j.job_id,
        job_state_name(j.state),
        j.offering_id,
        j.cluster_id,
        j.resources.as_ref().map_or(0, |r| r.nodes),
        j.max_price,
        j.denom,
        j.slurm_job_id,
        j.customer
    );
}

fn emit(out: OutputFormat, v: Value, text: impl FnOnce()) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(&v),
        OutputFormat::Text => {
            text();
            Ok(())
        }
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &HpcQuery,
) -> Result<()> {
    let opt_addr = |s: &Option<String>| -> Result<String> {
        Ok(s.as_deref()
            .map(&address)
            .transpose()?
            .map(|a| a.to_string())
            .unwrap_or_default())
    };
    match cmd {
        HpcQuery::Clusters { provider } => {
            let provider = opt_addr(provider)?;
            let path = "/virtengine.hpc.v1.Query/Clusters";
            let all = q
                .paged(path, |pagination| {
                    let req = QueryClustersRequest {
                        provider: provider.clone(),
                        pagination,
                    };
                    async move {
                        let r: QueryClustersResponse = q.query(path, &req).await?;
                        Ok((r.clusters, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            let v = json!({ "clusters": all.iter().map(cluster_json).collect::<Vec<_>>() });
            emit(out, v, || {
                if all.is_empty() {
                    println!("no clusters");
                }
                for c in &all {
                    println!(
                        "cluster {} {:?} [{}] {} — {}/{} nodes available, provider {}",
                        c.cluster_id,
                        c.name,
                        cluster_state_name(c.state),
                        c.region,
                        c.available_nodes,
                        c.total_nodes,
                        c.provider
                    );
                }
            })
        }
        HpcQuery::Cluster { cluster_id } => {
            let r: QueryClusterResponse = q
                .query(
                    "/virtengine.hpc.v1.Query/Cluster",
                    &QueryClusterRequest {
                        cluster_id: *cluster_id,
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let c = r.cluster.context("node answered without a cluster")?;
            let mut v = cluster_json(&c);
            v["nodes"] = r.nodes.iter().map(node_json).collect();
            v["proximity_group"] = r.proximity_group.iter().map(u64::to_string).collect();
            emit(out, v, || {
                println!(
                    "cluster {} {:?} [{}] {}/{} nodes available; proximity group {:?}",
                    c.cluster_id,
                    c.name,
                    cluster_state_name(c.state),
                    c.available_nodes,
                    c.total_nodes,
                    r.proximity_group
                );
                for n in &r.nodes {
                    println!("  node {}: {}", n.node_id, node_json(n));
                }
            })
        }
        HpcQuery::Offerings { cluster } => {
            let cluster_id = cluster.unwrap_or(0);
            let path = "/virtengine.hpc.v1.Query/Offerings";
            let all = q
                .paged(path, |pagination| {
                    let req = QueryOfferingsRequest {
                        cluster_id,
                        pagination,
                    };
                    async move {
                        let r: QueryOfferingsResponse = q.query(path, &req).await?;
                        Ok((r.offerings, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            let v = json!({ "offerings": all.iter().map(offering_json).collect::<Vec<_>>() });
            emit(out, v, || {
                if all.is_empty() {
                    println!("no offerings");
                }
                for o in &all {
                    let p = o.pricing.clone().unwrap_or_default();
                    println!(
                        "offering {} {:?} on cluster {} — {}/node-hour, {}/core-hour {}, tier >= {}{}",
                        o.offering_id,
                        o.name,
                        o.cluster_id,
                        p.node_hour,
                        p.cpu_core_hour,
                        p.denom,
                        o.min_tier,
                        if o.active { "" } else { " (inactive)" }
                    );
                }
            })
        }
        HpcQuery::Jobs {
            customer,
            provider,
            state,
        } => {
            let customer = opt_addr(customer)?;
            let provider = opt_addr(provider)?;
            let st = state
                .as_deref()
                .map(job_state)
                .transpose()?
                .map_or(0, |s| s as i32);
            let path = "/virtengine.hpc.v1.Query/Jobs";
            let all = q
                .paged(path, |pagination| {
                    let req = QueryJobsRequest {
                        customer: customer.clone(),
                        provider: provider.clone(),
                        state: st,
                        pagination,
                    };
                    async move {
                        let r: QueryJobsResponse = q.query(path, &req).await?;
                        Ok((r.jobs, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            let v = json!({ "jobs": all.iter().map(job_json).collect::<Vec<_>>() });
            emit(out, v, || {
                if all.is_empty() {
                    println!("no jobs");
                }
                all.iter().for_each(print_job);
            })
        }
        HpcQuery::Job { job_id } => {
            let r: QueryJobResponse = q
                .query(
                    "/virtengine.hpc.v1.Query/Job",
                    &QueryJobRequest { job_id: *job_id },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let j = r.job.context("node answered without a job")?;
            let mut v = job_json(&j);
            v["decision"] = r.decision.as_ref().map_or(Value::Null, decision_json);
            v["accounting"] = r.accounting.as_ref().map_or(Value::Null, accounting_json);
            emit(out, v, || {
                print_job(&j);
                if let Some(a) = &r.accounting {
                    println!(
                        "  billed {}{} (refunded {}), settlement {}",
                        a.billed,
                        a.denom,
                        a.refund,
                        settlement_name(a.status)
                    );
                }
            })
        }
        HpcQuery::Params => {
            let r: QueryParamsResponse = q
                .query("/virtengine.hpc.v1.Query/Params", &QueryParamsRequest {})
                .await
                .map_err(|e| query_error(url, e))?;
            let p = r.params.context("node answered without params")?;
            let v = json!({
                "platform_fee_bps": p.platform_fee_bps, "node_reward_bps": p.node_reward_bps,
                "min_job_duration_seconds": p.min_job_duration_seconds.to_string(),
                "max_job_duration_seconds": p.max_job_duration_seconds.to_string(),
                "cluster_heartbeat_timeout_seconds": p.cluster_heartbeat_timeout_seconds.to_string(),
                "node_heartbeat_timeout_seconds": p.node_heartbeat_timeout_seconds.to_string(),
                "latency_weight_bps": p.latency_weight_bps, "capacity_weight_bps": p.capacity_weight_bps,
                "max_latency_ms": p.max_latency_ms, "enable_proximity_clustering": p.enable_proximity_clustering,
                "settlement_delay_seconds": p.settlement_delay_seconds.to_string(),
                "dispute_window_seconds": p.dispute_window_seconds.to_string(),
                "max_nodes_per_cluster": p.max_nodes_per_cluster, "max_end_block_ops": p.max_end_block_ops,
            });
            emit(out, v.clone(), || println!("{v:#}"))
        }
    }
}
