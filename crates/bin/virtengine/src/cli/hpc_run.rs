//! `virtengine hpc run SCRIPT --offering ID`: submit a batch script as an HPC job, follow
//! it until it ends, and print where its output is and what it cost (docs/hpc.md).
//!
//! The script becomes the job's custom workload command (at most 4096 bytes: larger
//! programs belong on the cluster's storage, called from a short script). The escrowed
//! maximum price defaults to the offering's price of the whole request for the whole
//! time limit, so the job can never be refused for its bill; the unused part comes back
//! when the job ends. The provider daemon reports the output path in its status
//! messages (`output=<path>`); the chain's accounting gives the bill and the refund.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use ve_client::QueryClient;
use ve_proto::virtengine::hpc::v1::*;
use ve_types::Coin;

use crate::cli::deployment::{proto_coin, signer};
use crate::cli::hpc::{job_state_name, usage_json};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::provider::first_response;
use crate::cli::query::{connect, query_error};
use crate::cli::tx::{broadcast_for_result, TxCommon};

/// The chain's limit on a workload command.
const MAX_SCRIPT_BYTES: usize = 4096;

#[derive(Debug, Args)]
pub struct HpcArgs {
    #[command(subcommand)]
    pub cmd: HpcCmd,
}

#[derive(Debug, Subcommand)]
pub enum HpcCmd {
    /// Run a batch script on an HPC offering: submit, wait, print the output location and cost.
    #[command(after_help = "Example:\n  \
        virtengine hpc run job.sh --offering 1 --nodes 1 --cores-per-node 2 --time 10m --from alice --yes\n\n\
        Progress (state changes) goes to stderr; the result to stdout (--output json for scripts).\n\
        Exit status 0 only if the job completed with exit code 0; a failed, timed-out or\n\
        cancelled job, or one still running after --wait, is an error that names the job id.")]
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The batch script (bash) to run; at most 4096 bytes.
    script: PathBuf,
    /// The HPC offering (`virtengine query hpc offerings`).
    #[arg(long)]
    offering: u64,
    /// Queue (partition); default: the offering's first queue.
    #[arg(long, default_value = "")]
    queue: String,
    /// Nodes to run on.
    #[arg(long, default_value_t = 1)]
    nodes: u32,
    /// CPU cores per node.
    #[arg(long, default_value_t = 1)]
    cores_per_node: u32,
    /// Memory per node in GB (0: the cluster's default per core, not billed).
    #[arg(long, default_value_t = 0)]
    memory_gb_per_node: u64,
    /// GPUs per node.
    #[arg(long, default_value_t = 0)]
    gpus_per_node: u32,
    /// GPU type (e.g. a100); empty: any.
    #[arg(long, default_value = "")]
    gpu_type: String,
    /// Time limit: seconds, or with a unit (`90s`, `10m`, `2h`). The job ends as TIMEOUT after it.
    #[arg(long, default_value = "10m", value_parser = parse_duration_secs)]
    time: u64,
    /// Escrowed maximum price (e.g. 1000000uve); default: the whole request for the whole
    /// time limit at the offering's prices.
    #[arg(long)]
    max_price: Option<String>,
    /// NAME=VALUE exported to the script (repeatable).
    #[arg(long = "env")]
    env: Vec<String>,
    /// Argument appended to the script's command line (repeatable).
    #[arg(long = "arg")]
    args: Vec<String>,
    /// Give up waiting after this long (the job keeps running); default: the time limit + 5 minutes.
    #[arg(long, value_parser = parse_duration_secs)]
    wait: Option<u64>,
    /// Status polling interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// The tenant's key (name or address) that signs and pays.
    #[arg(long)]
    from: String,
    #[command(flatten)]
    common: TxCommon,
}

/// `90`, `90s`, `10m`, `2h` → seconds.
pub(crate) fn parse_duration_secs(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?}: use seconds or a number with s, m or h (e.g. 90s, 10m)"))
}

pub async fn run(args: HpcArgs) -> Result<()> {
    match args.cmd {
        HpcCmd::Run(a) => run_job(a).await,
    }
}

async fn offering(q: &QueryClient<'_>, url: &str, id: u64) -> Result<Offering> {
    let path = "/virtengine.hpc.v1.Query/Offerings";
    let all = q
        .paged(path, |pagination| {
            let req = QueryOfferingsRequest {
                cluster_id: 0,
                pagination,
            };
            async move {
                let r: QueryOfferingsResponse = q.query(path, &req).await?;
                Ok((r.offerings, r.pagination))
            }
        })
        .await
        .map_err(|e| query_error(url, e))?;
    all.into_iter()
        .find(|o| o.offering_id == id)
        .with_context(|| {
            format!("HPC offering {id} not found: list them with `virtengine query hpc offerings`")
        })
}

/// The most the request can cost: every requested resource for the whole time limit,
/// at least the minimum charge (the chain's billing formula, `ve_hpc::billing`).
fn full_price(o: &Offering, queue: &str, r: &JobResources, secs: u64) -> Result<Coin> {
    let p = o.pricing.clone().unwrap_or_default();
    let prices = ve_hpc::billing::Prices::from_proto(&p)
        .with_context(|| format!("offering {} has invalid prices", o.offering_id))?;
    let multiplier = o
        .queues
        .iter()
        .find(|q| q.partition == queue)
        .or(o.queues.first())
        .map_or(10_000, |q| q.price_multiplier_bps);
    let usage = ve_hpc::billing::usage_for(r, secs).context("the request is too large")?;
    let cost = ve_hpc::billing::usage_cost(&usage, &prices, multiplier)
        .context("the request's price overflows")?;
    Ok(Coin::new(p.denom, cost.max(prices.minimum_charge).max(1)))
}

async fn job(q: &QueryClient<'_>, url: &str, id: u64) -> Result<QueryJobResponse> {
    q.query(
        "/virtengine.hpc.v1.Query/Job",
        &QueryJobRequest { job_id: id },
    )
    .await
    .map_err(|e| query_error(url, e))
}

/// `output=<path>` from the daemon's status message.
fn output_location(status_message: &str) -> Option<String> {
    status_message
        .split(';')
        .find_map(|p| p.trim().strip_prefix("output="))
        .map(str::to_string)
}

async fn run_job(a: RunArgs) -> Result<()> {
    let script = std::fs::read_to_string(&a.script)
        .with_context(|| format!("reading the script {}", a.script.display()))?;
    if script.trim().is_empty() {
        bail!("{} is empty: nothing to run", a.script.display());
    }
    if script.len() > MAX_SCRIPT_BYTES {
        bail!(
            "{} is {} bytes; the chain takes at most {MAX_SCRIPT_BYTES}: put the program on the \
             cluster's storage and run it from a short script",
            a.script.display(),
            script.len()
        );
    }
    let node = connect(&a.common.node.node)?;
    let url = node.url().to_string();
    let q = QueryClient::new(&node);
    let o = offering(&q, &url, a.offering).await?;
    if !o.active {
        bail!("HPC offering {} is not active", o.offering_id);
    }
    let resources = JobResources {
        nodes: a.nodes,
        cpu_cores_per_node: a.cores_per_node,
        memory_gb_per_node: a.memory_gb_per_node,
        gpus_per_node: a.gpus_per_node,
        gpu_type: a.gpu_type.clone(),
        storage_gb: 0,
    };
    let price = match &a.max_price {
        Some(p) => p
            .parse::<Coin>()
            .with_context(|| format!("--max-price {p:?} (e.g. 1000000uve)"))?,
        None => full_price(&o, &a.queue, &resources, a.time)?,
    };
    let environment = a
        .env
        .iter()
        .map(|e| {
            e.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(name, value)| EnvVar {
                    name: name.into(),
                    value: value.into(),
                })
                .with_context(|| format!("--env {e:?}: use NAME=VALUE"))
        })
        .collect::<Result<Vec<_>>>()?;
    let (kr, name, address) = signer(&a.common, &a.from)?;
    let m = MsgSubmitJob {
        customer: address.to_string(),
        offering_id: o.offering_id,
        queue: a.queue.clone(),
        workload: Some(WorkloadSpec {
            container_image: String::new(),
            command: script,
            arguments: a.args.clone(),
            environment,
            working_directory: String::new(),
            preconfigured_workload_id: String::new(),
        }),
        resources: Some(resources),
        encrypted_inputs_pointer: String::new(),
        encrypted_outputs_pointer: String::new(),
        max_runtime_seconds: a.time,
        max_price: Some(proto_coin(&price)),
    };
    let summary = format!(
        "run {} on HPC offering {} ({} node(s) x {} core(s), {} s), locking at most {price}",
        a.script.display(),
        o.offering_id,
        a.nodes,
        a.cores_per_node,
        a.time
    );
    let any = ve_proto::to_any("/virtengine.hpc.v1.MsgSubmitJob", &m);
    let r = broadcast_for_result(&a.common, &kr, &name, vec![any], &summary, false)
        .await
        .context("submitting the job")?;
    let resp = first_response::<MsgSubmitJobResponse>(&r)
        .context("the submit tx was included but returned no job id")?;
    let id = resp.job_id;
    eprintln!(
        "job {id} submitted (clusters {:?}, {price} escrowed); waiting for the provider...",
        resp.selected_cluster_ids
    );
    follow(&q, &url, &a, id, &price).await
}

async fn follow(q: &QueryClient<'_>, url: &str, a: &RunArgs, id: u64, price: &Coin) -> Result<()> {
    let wait = Duration::from_secs(a.wait.unwrap_or(a.time.saturating_add(300)));
    let deadline = tokio::time::Instant::now() + wait;
    let mut last_state = -1;
    let mut output: Option<String> = None;
    let r = loop {
        let r = job(q, url, id).await?;
        let j = r.job.clone().context("the node answered without the job")?;
        if let Some(o) = output_location(&j.status_message) {
            output = Some(o);
        }
        if j.state != last_state {
            last_state = j.state;
            let slurm = if j.slurm_job_id.is_empty() {
                String::new()
            } else {
                format!(" (SLURM job {})", j.slurm_job_id)
            };
            eprintln!("job {id}: {}{slurm}", job_state_name(j.state));
        }
        if r.accounting.is_some() {
            break r;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "job {id} is still {} after {} s; it keeps running: follow it with \
                 `virtengine query hpc job {id}` or cancel it with `virtengine tx hpc cancel-job {id}`",
                job_state_name(j.state),
                wait.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(a.poll_ms.max(100))).await;
    };
    let j = r.job.unwrap_or_default();
    let acct = r.accounting.unwrap_or_default();
    let state = JobState::try_from(j.state).unwrap_or(JobState::Unspecified);
    let usage = acct.usage.unwrap_or_default();
    let v = json!({
        "job_id": id.to_string(),
        "state": job_state_name(j.state),
        "exit_code": j.exit_code,
        "cluster_id": j.cluster_id.to_string(),
        "slurm_job_id": j.slurm_job_id,
        "output": output,
        "status_message": j.status_message,
        "usage": usage_json(&usage),
        "max_price": price.to_string(),
        "billed": format!("{}{}", acct.billed, acct.denom),
        "refund": format!("{}{}", acct.refund, acct.denom),
        "settle_at": acct.settle_at.to_string(),
    });
    match a.common.output {
        OutputFormat::Json => print_json(&v)?,
        OutputFormat::Text => {
            println!(
                "job {id} {} (exit code {}) on cluster {}, SLURM job {}",
                job_state_name(j.state),
                j.exit_code,
                j.cluster_id,
                if j.slurm_job_id.is_empty() {
                    "-"
                } else {
                    &j.slurm_job_id
                }
            );
            println!(
                "output: {} (on the cluster)",
                output
                    .as_deref()
                    .unwrap_or("unknown: the provider did not report it")
            );
            println!(
                "usage:  {} s wall clock, {} node-s, {} core-s, {} GB-s memory, {} GPU-s",
                usage.wall_clock_seconds,
                usage.node_seconds,
                usage.cpu_core_seconds,
                usage.memory_gb_seconds,
                usage.gpu_seconds
            );
            println!(
                "cost:   {}{} billed; {}{} of the {price} escrow refunded; the bill settles at unix time {}",
                acct.billed, acct.denom, acct.refund, acct.denom, acct.settle_at
            );
        }
    }
    let at = output.map(|o| format!("; output: {o}")).unwrap_or_default();
    match state {
        JobState::Completed if j.exit_code == 0 => Ok(()),
        JobState::Completed | JobState::Failed => bail!(
            "job {id} failed with exit code {}: {}{at}",
            j.exit_code,
            j.status_message
        ),
        JobState::Timeout => bail!(
            "job {id} exceeded its time limit of {} s and ended as timeout (billed {}{}){at}",
            j.max_runtime_seconds,
            acct.billed,
            acct.denom
        ),
        JobState::Cancelled => bail!(
            "job {id} was cancelled by {}: {}",
            if j.cancelled_by.is_empty() {
                "the provider"
            } else {
                &j.cancelled_by
            },
            j.status_message
        ),
        _ => bail!(
            "job {id} ended in an unexpected state {}",
            job_state_name(j.state)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_and_refuse_zero_and_junk() {
        assert_eq!(parse_duration_secs("90"), Ok(90));
        assert_eq!(parse_duration_secs("90s"), Ok(90));
        assert_eq!(parse_duration_secs("10m"), Ok(600));
        assert_eq!(parse_duration_secs("2h"), Ok(7200));
        assert!(parse_duration_secs("0").is_err());
        assert!(parse_duration_secs("ten").is_err());
        assert!(parse_duration_secs("").is_err());
    }

    #[test]
    fn output_location_comes_from_the_daemons_status_message() {
        assert_eq!(
            output_location("SLURM RUNNING; output=/srv/hpc/job-3/output.log").as_deref(),
            Some("/srv/hpc/job-3/output.log")
        );
        assert_eq!(output_location("not needed"), None);
    }
}
