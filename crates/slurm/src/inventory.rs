//! Cluster inventory from `sinfo`: partitions and nodes with CPUs, memory, GPUs and state.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SlurmError};
use crate::units::parse_duration_ms;

/// `sinfo --format` for partitions: name (`*` marks the default), availability, time limit,
/// node count, CPUs allocated/idle/other/total.
pub const SINFO_PARTITION_FORMAT: &str = "%P|%a|%l|%D|%C";
/// `sinfo --Node --format`: node, partition, state, CPUs, memory MiB, GRES, CPUs A/I/O/T.
pub const SINFO_NODE_FORMAT: &str = "%N|%R|%T|%c|%m|%G|%C";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInventory {
    pub partitions: Vec<Partition>,
    pub nodes: Vec<Node>,
}

impl ClusterInventory {
    pub fn total_cpus(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.cpus)).sum()
    }
    pub fn total_memory_mb(&self) -> u64 {
        self.nodes.iter().map(|n| n.memory_mb).sum()
    }
    pub fn total_gpus(&self) -> u64 {
        self.nodes
            .iter()
            .flat_map(|n| &n.gpus)
            .map(|g| u64::from(g.count))
            .sum()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub name: String,
    /// Jobs without `--partition` go here.
    pub is_default: bool,
    /// `up` (accepting and running jobs).
    pub up: bool,
    /// Longest job allowed; `None` when unlimited.
    pub max_time_minutes: Option<u64>,
    pub nodes: u32,
    pub cpus: CpuCounts,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuCounts {
    pub allocated: u32,
    pub idle: u32,
    pub other: u32,
    pub total: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub partitions: Vec<String>,
    /// SLURM state, e.g. `idle`, `mixed`, `allocated`, `down*`, `drained`.
    pub state: String,
    pub cpus: u32,
    pub cpu_usage: CpuCounts,
    pub memory_mb: u64,
    pub gpus: Vec<GpuGres>,
}

impl Node {
    /// Whether the node can run jobs: responding, and not down, drained, failed or powered off.
    pub fn is_usable(&self) -> bool {
        let s = self.state.as_str();
        !(s.ends_with('*')
            || s.ends_with('~')
            || [
                "down", "drain", "fail", "maint", "unknown", "inval", "future", "powered",
            ]
            .iter()
            .any(|bad| s.starts_with(bad)))
    }
}

/// GPUs of one type on a node (`gpu:a100:4`); `gpu_type` is `None` for untyped `gpu:4`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuGres {
    pub gpu_type: Option<String>,
    pub count: u32,
}

pub fn parse_partitions(stdout: &str) -> Result<Vec<Partition>> {
    lines(stdout)
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let [name, avail, limit, nodes, cpus] = f.as_slice() else {
                return Err(SlurmError::parse(
                    "sinfo",
                    line,
                    format!("expected 5 fields ({SINFO_PARTITION_FORMAT})"),
                ));
            };
            Ok(Partition {
                name: name.trim_end_matches('*').to_string(),
                is_default: name.ends_with('*'),
                up: *avail == "up",
                max_time_minutes: parse_duration_ms(limit)?.map(|ms| ms / 60_000),
                nodes: number(line, nodes)?,
                cpus: parse_cpu_counts(line, cpus)?,
            })
        })
        .collect()
}

/// Parses node lines; a node in several partitions is listed once per partition by sinfo and
/// merged here.
pub fn parse_nodes(stdout: &str) -> Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    for line in lines(stdout) {
        let f: Vec<&str> = line.split('|').collect();
        let [name, partition, state, cpus, memory, gres, cpu_usage] = f.as_slice() else {
            return Err(SlurmError::parse(
                "sinfo --Node",
                line,
                format!("expected 7 fields ({SINFO_NODE_FORMAT})"),
            ));
        };
        if let Some(existing) = nodes.iter_mut().find(|n| n.name == *name) {
            existing.partitions.push(partition.to_string());
            continue;
        }
        nodes.push(Node {
            name: name.to_string(),
            partitions: vec![partition.to_string()],
            state: state.to_string(),
            cpus: number(line, cpus)?,
            cpu_usage: parse_cpu_counts(line, cpu_usage)?,
            memory_mb: number(line, memory)?,
            gpus: parse_gpu_gres(gres)?,
        });
    }
    Ok(nodes)
}

/// GPU entries of a GRES string such as `gpu:a100:4(S:0-1),mps:100` or `(null)`.
pub fn parse_gpu_gres(gres: &str) -> Result<Vec<GpuGres>> {
    let mut out = Vec::new();
    if gres == "(null)" || gres.is_empty() {
        return Ok(out);
    }
    for entry in split_top_level(gres) {
        // Drop the socket binding suffix `(S:0-1)`.
        let entry = entry.split('(').next().unwrap_or_default();
        let parts: Vec<&str> = entry.split(':').collect();
        let (gpu_type, count) = match parts.as_slice() {
            ["gpu", count] => (None, *count),
            ["gpu", t, count] => (Some(t.to_string()), *count),
            [name, ..] if *name != "gpu" => continue,
            _ => {
                return Err(SlurmError::parse(
                    "sinfo GRES",
                    gres,
                    "expected gpu[:type]:count",
                ))
            }
        };
        let count = count
            .parse()
            .map_err(|_| SlurmError::parse("sinfo GRES", gres, "GPU count is not a number"))?;
        out.push(GpuGres { gpu_type, count });
    }
    Ok(out)
}

/// Splits on commas outside parentheses (`gpu:2(S:0,1),mps:100`).
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0u32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth = depth.saturating_add(1),
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_cpu_counts(line: &str, s: &str) -> Result<CpuCounts> {
    let n: Vec<u32> = s
        .split('/')
        .map(|p| number(line, p))
        .collect::<Result<_>>()?;
    let [allocated, idle, other, total] = n.as_slice() else {
        return Err(SlurmError::parse(
            "sinfo",
            line,
            "CPUs must be allocated/idle/other/total",
        ));
    };
    Ok(CpuCounts {
        allocated: *allocated,
        idle: *idle,
        other: *other,
        total: *total,
    })
}

fn number<T: std::str::FromStr>(line: &str, s: &str) -> Result<T> {
    s.trim()
        .parse()
        .map_err(|_| SlurmError::parse("sinfo", line, format!("{s:?} is not a number")))
}

fn lines(stdout: &str) -> impl Iterator<Item = &str> {
    stdout.lines().map(str::trim).filter(|l| !l.is_empty())
}
