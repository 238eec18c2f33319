//! `virtengine query market lease-usage` and `virtengine tx market lease record-usage`:
//! the usage a provider's back end measured for a lease, recorded on chain in sequence
//! (docs/marketplace.md, "Usage records"). The provider daemon records usage by itself;
//! the tx command is for operators and tests.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::market::v1::*;
use ve_types::Address;

use crate::cli::deployment::signer;
use crate::cli::market::{bid_id, id_text, resolve, BidKeyArgs, OrderArgs};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, TxCommon};

pub const LEASE_USAGE_PATH: &str = "/virtengine.market.v1.Query/LeaseUsage";

/// One cumulative usage record of a lease (signed by its provider).
#[derive(Debug, Args)]
pub struct RecordUsageTx {
    #[command(flatten)]
    pub order: OrderArgs,
    /// The record's sequence number: 1 for the first, then the last recorded + 1 (see
    /// `query market lease-usage`).
    #[arg(long)]
    pub seq: u64,
    /// CPU time of all the workload's processes since it was provisioned, milliseconds.
    #[arg(long, default_value_t = 0)]
    pub cpu_milli_seconds: u64,
    /// Integral of resident memory over time, byte-seconds.
    #[arg(long, default_value_t = 0)]
    pub memory_byte_seconds: u64,
    /// Bytes on disk now (a level, not a counter).
    #[arg(long, default_value_t = 0)]
    pub storage_bytes: u64,
    #[arg(long, default_value_t = 0)]
    pub gpu_seconds: u64,
    /// Seconds since the workload was provisioned.
    #[arg(long)]
    pub wall_seconds: u64,
    /// The closing record, after teardown: no record is accepted after it.
    #[arg(long = "final")]
    pub last: bool,
    /// The lease's provider: a key name or its address.
    #[arg(long)]
    pub from: String,
    #[command(flatten)]
    pub common: TxCommon,
}

pub async fn record_usage(t: RecordUsageTx) -> Result<()> {
    let (kr, name, provider) = signer(&t.common, &t.from)?;
    let owner = t
        .order
        .owner
        .as_deref()
        .context("--owner (the tenant) is required")?;
    let owner = resolve(&t.common, owner)?;
    let id = bid_id(&t.common, &t.order, &owner, &provider)?;
    let summary = format!(
        "record usage {}{} of lease {}",
        t.seq,
        if t.last { " (final)" } else { "" },
        id_text(&id)
    );
    let msg = ve_proto::to_any(
        "/virtengine.market.v1.MsgRecordLeaseUsage",
        &MsgRecordLeaseUsage {
            id: Some(id),
            seq: t.seq,
            cumulative: Some(LeaseUsage {
                cpu_milli_seconds: t.cpu_milli_seconds,
                memory_byte_seconds: t.memory_byte_seconds,
                storage_bytes: t.storage_bytes,
                gpu_seconds: t.gpu_seconds,
                wall_seconds: t.wall_seconds,
            }),
            r#final: t.last,
        },
    );
    broadcast(&t.common, &kr, &name, vec![msg], &summary).await
}

fn usage_json(u: &Option<LeaseUsage>) -> Value {
    let u = u.unwrap_or_default();
    // u64 as strings, like every other 64-bit number of the CLI's JSON.
    json!({
        "cpu_milli_seconds": u.cpu_milli_seconds.to_string(),
        "memory_byte_seconds": u.memory_byte_seconds.to_string(),
        "storage_bytes": u.storage_bytes.to_string(),
        "gpu_seconds": u.gpu_seconds.to_string(),
        "wall_seconds": u.wall_seconds.to_string(),
    })
}

/// `delta`: counters prefixed with `+` (storage is a level either way).
fn usage_text(u: &Option<LeaseUsage>, delta: bool) -> String {
    let u = u.unwrap_or_default();
    let d = if delta { "+" } else { "" };
    format!(
        "cpu {d}{} ms, memory {d}{} byte-s, gpu {d}{} s, wall {d}{} s, storage {} bytes",
        u.cpu_milli_seconds, u.memory_byte_seconds, u.gpu_seconds, u.wall_seconds, u.storage_bytes
    )
}

pub async fn query_usage(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    a: &BidKeyArgs,
) -> Result<()> {
    let id = a.id(address)?;
    let lease = id_text(&id);
    let r: QueryLeaseUsageResponse = q
        .query(LEASE_USAGE_PATH, &QueryLeaseUsageRequest { id: Some(id) })
        .await
        .map_err(|e| query_error(url, e))?;
    let s = r.summary.context("node answered without a usage summary")?;
    match out {
        OutputFormat::Json => print_json(&json!({
            "lease": lease,
            "last_seq": s.last_seq.to_string(),
            "final": s.r#final,
            "last_height": s.last_height.to_string(),
            "cumulative": usage_json(&s.cumulative),
            "records": r.records.iter().map(|x| json!({
                "seq": x.seq.to_string(),
                "height": x.height.to_string(),
                "final": x.r#final,
                "cumulative": usage_json(&x.cumulative),
                "delta": usage_json(&x.delta),
            })).collect::<Vec<_>>(),
        })),
        OutputFormat::Text => {
            if s.last_seq == 0 {
                println!("lease {lease}: no usage recorded yet (the next record is seq 1)");
                return Ok(());
            }
            println!(
                "lease {lease}: {} records{}, last at height {}",
                s.last_seq,
                if s.r#final { " (final)" } else { "" },
                s.last_height
            );
            println!("  total: {}", usage_text(&s.cumulative, false));
            for x in &r.records {
                println!(
                    "  #{} at height {}{}: {}",
                    x.seq,
                    x.height,
                    if x.r#final { " (final)" } else { "" },
                    usage_text(&x.delta, true)
                );
            }
            Ok(())
        }
    }
}
