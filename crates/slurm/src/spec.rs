//! The typed job spec the provider daemon hands to SLURM, and its validation.
//!
//! Everything except the script body may come from a tenant (via the chain) and ends up in
//! `#SBATCH` directives or `export` lines, so each field is checked against a strict character set
//! here: rendering (see [`crate::script`]) can then never be broken out of.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SlurmError};

/// A batch job: resources, limits, environment, files and the script body to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Job name shown by `squeue` (`[A-Za-z0-9._-]`, 1-64 characters).
    pub name: String,
    /// Partition (queue); the cluster's default partition when `None`.
    pub partition: Option<String>,
    /// Number of nodes (≥ 1).
    pub nodes: u32,
    /// Number of tasks (`--ntasks`, ≥ 1).
    pub tasks: u32,
    /// CPUs per task (`--cpus-per-task`, ≥ 1).
    pub cpus_per_task: u32,
    /// Memory per node in MiB (`--mem`); the cluster default per CPU when `None`.
    pub memory_mb: Option<u64>,
    /// GPUs per node as a generic resource (`--gres=gpu[:type]:count`).
    pub gpus: Option<GpuRequest>,
    /// Wall-clock limit in minutes (SLURM's granularity), 1..=[`MAX_TIME_LIMIT_MINUTES`].
    pub time_limit_minutes: u32,
    /// Exported before the body runs. Keys are shell identifiers; values may hold anything but NUL.
    pub environment: BTreeMap<String, String>,
    /// Absolute working directory (`--chdir`); must exist on the compute node.
    pub working_dir: PathBuf,
    /// Absolute stdout path (`--output`); `%j` expands to the job id.
    pub stdout_path: PathBuf,
    /// Absolute stderr path (`--error`); stderr goes to `stdout_path` when `None`.
    pub stderr_path: Option<PathBuf>,
    /// Whole nodes for this job only (`--exclusive`).
    pub exclusive: bool,
    /// The bash commands to run: the tenant's workload, run as written.
    pub script: String,
}

/// A GPU request per node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuRequest {
    /// GPUs per node (≥ 1).
    pub count: u32,
    /// GPU type as named in the cluster's gres.conf (e.g. `a100`), any type when `None`.
    pub gpu_type: Option<String>,
}

/// Longest time limit accepted: one week, the spec's template limit (10,080 minutes).
pub const MAX_TIME_LIMIT_MINUTES: u32 = 10_080;
const MAX_NAME_LEN: usize = 64;
const MAX_PATH_LEN: usize = 1024;
const MAX_SCRIPT_LEN: usize = 1 << 20;

impl JobSpec {
    /// One task on one CPU of one node for `time_limit_minutes`, cluster-default memory, no
    /// GPUs, output to `<working_dir>/slurm-%j.out`; adjust the public fields from there.
    pub fn new(
        name: &str,
        working_dir: impl Into<PathBuf>,
        time_limit_minutes: u32,
        script: &str,
    ) -> JobSpec {
        let working_dir = working_dir.into();
        JobSpec {
            name: name.to_string(),
            partition: None,
            nodes: 1,
            tasks: 1,
            cpus_per_task: 1,
            memory_mb: None,
            gpus: None,
            time_limit_minutes,
            environment: BTreeMap::new(),
            stdout_path: working_dir.join("slurm-%j.out"),
            stderr_path: None,
            working_dir,
            exclusive: false,
            script: script.to_string(),
        }
    }

    /// Checks every field; rendering and submission call this first.
    pub fn validate(&self) -> Result<()> {
        check_token("name", &self.name, MAX_NAME_LEN, is_name_char)?;
        if let Some(p) = &self.partition {
            check_token("partition", p, MAX_NAME_LEN, is_name_char)?;
        }
        for (field, v) in [
            ("nodes", self.nodes),
            ("tasks", self.tasks),
            ("cpus_per_task", self.cpus_per_task),
        ] {
            if v == 0 {
                return Err(SlurmError::invalid(field, "must be at least 1"));
            }
        }
        if self.tasks < self.nodes {
            return Err(SlurmError::invalid(
                "tasks",
                format!(
                    "{} tasks cannot span {} nodes: need at least one task per node",
                    self.tasks, self.nodes
                ),
            ));
        }
        if self.memory_mb == Some(0) {
            return Err(SlurmError::invalid(
                "memory_mb",
                "must be at least 1 MiB (or unset for the cluster default)",
            ));
        }
        if let Some(gpu) = &self.gpus {
            if gpu.count == 0 {
                return Err(SlurmError::invalid(
                    "gpus",
                    "count must be at least 1 (or no GPU request)",
                ));
            }
            if let Some(t) = &gpu.gpu_type {
                check_token("gpus.gpu_type", t, MAX_NAME_LEN, is_name_char)?;
            }
        }
        if self.time_limit_minutes == 0 || self.time_limit_minutes > MAX_TIME_LIMIT_MINUTES {
            return Err(SlurmError::invalid(
                "time_limit_minutes",
                format!(
                    "must be 1..={MAX_TIME_LIMIT_MINUTES}, got {}",
                    self.time_limit_minutes
                ),
            ));
        }
        for (key, value) in &self.environment {
            let valid_key = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_key || key.len() > MAX_NAME_LEN {
                return Err(SlurmError::invalid(
                    "environment",
                    format!("{key:?} is not a shell variable name ([A-Za-z_][A-Za-z0-9_]*, ≤{MAX_NAME_LEN})"),
                ));
            }
            if key.starts_with("SLURM_") {
                return Err(SlurmError::invalid(
                    "environment",
                    format!("{key} is reserved for SLURM"),
                ));
            }
            if value.contains('\0') {
                return Err(SlurmError::invalid(
                    "environment",
                    format!("value of {key} contains NUL"),
                ));
            }
        }
        check_path("working_dir", &self.working_dir)?;
        check_path("stdout_path", &self.stdout_path)?;
        if let Some(p) = &self.stderr_path {
            check_path("stderr_path", p)?;
        }
        if self.script.trim().is_empty() {
            return Err(SlurmError::invalid("script", "is empty: nothing to run"));
        }
        if self.script.len() > MAX_SCRIPT_LEN || self.script.contains('\0') {
            return Err(SlurmError::invalid(
                "script",
                format!("must be at most {MAX_SCRIPT_LEN} bytes without NUL"),
            ));
        }
        Ok(())
    }
}

/// Checks a job name as [`JobSpec::validate`] does (`[A-Za-z0-9._-]`, 1-64 characters).
pub(crate) fn check_job_name(name: &str) -> Result<()> {
    check_token("name", name, MAX_NAME_LEN, is_name_char)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Path characters that sbatch's `#SBATCH` parser and the shell both take literally
/// (no whitespace, quotes, `#`, `$`, `\` or control characters). `%` stays for `%j` etc.
fn is_path_char(c: char) -> bool {
    is_name_char(c) || matches!(c, '/' | '%' | '+' | '=' | ',' | '@')
}

fn check_token(field: &'static str, v: &str, max: usize, ok: fn(char) -> bool) -> Result<()> {
    if v.is_empty() || v.len() > max {
        return Err(SlurmError::invalid(
            field,
            format!("must be 1-{max} characters, got {}", v.len()),
        ));
    }
    if let Some(bad) = v.chars().find(|c| !ok(*c)) {
        return Err(SlurmError::invalid(
            field,
            format!("{v:?} contains {bad:?}; allowed: letters, digits, . _ -"),
        ));
    }
    Ok(())
}

fn check_path(field: &'static str, p: &std::path::Path) -> Result<()> {
    let s = p
        .to_str()
        .ok_or_else(|| SlurmError::invalid(field, format!("{p:?} is not UTF-8")))?;
    if !s.starts_with('/') {
        return Err(SlurmError::invalid(
            field,
            format!("{s:?} must be an absolute path"),
        ));
    }
    if s.len() > MAX_PATH_LEN {
        return Err(SlurmError::invalid(
            field,
            format!("longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    if let Some(bad) = s.chars().find(|c| !is_path_char(*c)) {
        return Err(SlurmError::invalid(
            field,
            format!("{s:?} contains {bad:?}; allowed: letters, digits and / . _ - % + = , @"),
        ));
    }
    Ok(())
}
