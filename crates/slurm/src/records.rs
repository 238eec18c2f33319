//! Parsers for job records: `squeue` (jobs still known to the controller) and `sacct`
//! (accounting, the only source of exit codes and usage once a job ended).
//!
//! Formats are fixed by [`SQUEUE_FORMAT`] and [`SACCT_FORMAT`]; job names (tenant-chosen) are
//! deliberately not requested, so the `|` separator cannot appear inside a field.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SlurmError};
use crate::state::{parse_exit_code, JobState, JobStatus};
use crate::units::{parse_duration_ms, parse_memory_bytes, Tres};

/// `squeue --format`: job id, long state, pending reason, time used, node list.
pub const SQUEUE_FORMAT: &str = "%i|%T|%r|%M|%N";
/// `sacct --format` (with `--parsable2`, so fields are `|`-separated).
pub const SACCT_FORMAT: &str =
    "JobID,State,ExitCode,Elapsed,TotalCPU,MaxRSS,AllocTRES,NNodes,Timelimit,Start,End";

/// Parses `squeue` output for one job; `None` when SLURM printed no line for it.
pub fn parse_squeue(job_id: u64, stdout: &str) -> Result<Option<JobStatus>> {
    let Some(line) = stdout.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let f: Vec<&str> = line.split('|').collect();
    let [id, state, reason, _time_used, nodes] = f.as_slice() else {
        return Err(SlurmError::parse(
            "squeue",
            line,
            format!("expected 5 fields ({SQUEUE_FORMAT})"),
        ));
    };
    check_job_id("squeue", line, id, job_id)?;
    Ok(Some(JobStatus {
        job_id,
        state: JobState::from_slurm(state)?,
        slurm_state: state.to_string(),
        exit_code: None,
        signal: None,
        reason: non_empty(reason)
            .filter(|r| *r != "None")
            .map(str::to_string),
        nodes: non_empty(nodes).map(str::to_string),
    }))
}

/// One `sacct` line: the job allocation or one of its steps (`42.batch`, `42.0`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SacctRow {
    pub job_id: String,
    pub state: String,
    pub exit_code: (i32, i32),
    pub elapsed_ms: u64,
    pub total_cpu_ms: u64,
    pub max_rss_bytes: Option<u64>,
    pub alloc_tres: Tres,
    pub nodes: u64,
    /// `None` when unlimited or not yet recorded (see `time_limit_recorded`).
    pub time_limit_ms: Option<u64>,
    /// slurmdbd fills some fields of the allocation row (the time limit) a moment after the
    /// job ended; an empty Timelimit on the allocation row means the record is not final yet.
    pub time_limit_recorded: bool,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// Parses `sacct --parsable2 --noheader --format=SACCT_FORMAT` output.
pub fn parse_sacct(stdout: &str) -> Result<Vec<SacctRow>> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let [id, state, exit, elapsed, cpu, rss, tres, nnodes, limit, start, end] =
                f.as_slice()
            else {
                return Err(SlurmError::parse(
                    "sacct",
                    line,
                    format!("expected 11 fields ({SACCT_FORMAT})"),
                ));
            };
            Ok(SacctRow {
                job_id: id.to_string(),
                state: state.to_string(),
                exit_code: parse_exit_code(exit)?,
                elapsed_ms: parse_duration_ms(elapsed)?.unwrap_or(0),
                total_cpu_ms: parse_duration_ms(cpu)?.unwrap_or(0),
                max_rss_bytes: parse_memory_bytes(rss, 1)?,
                alloc_tres: Tres::parse(tres)?,
                nodes: if nnodes.is_empty() {
                    0
                } else {
                    nnodes
                        .parse()
                        .map_err(|_| SlurmError::parse("sacct NNodes", line, "not a number"))?
                },
                time_limit_ms: parse_duration_ms(limit)?,
                time_limit_recorded: !limit.is_empty(),
                start: timestamp(start),
                end: timestamp(end),
            })
        })
        .collect()
}

/// What a job used, from accounting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobUsage {
    pub job_id: u64,
    pub state: JobState,
    /// Wall-clock time of the allocation.
    pub elapsed_seconds: u64,
    /// User + system CPU time summed over all steps.
    pub cpu_time_ms: u64,
    /// Largest resident set of any task; `None` if the job ended before its first sample
    /// (JobAcctGatherFrequency, 5 s on the local cluster).
    pub max_rss_bytes: Option<u64>,
    /// What the allocation held (CPUs, memory, nodes, GPUs).
    pub allocated: Tres,
    /// Time limit in minutes; `None` when unlimited.
    pub time_limit_minutes: Option<u64>,
    /// The job ended and slurmdbd has written its whole record: these numbers will not change.
    /// Accounting is written asynchronously, so right after the end this can still be false.
    pub is_final: bool,
    /// Start/end as SLURM prints them (controller local time, `YYYY-MM-DDTHH:MM:SS`).
    pub start: Option<String>,
    pub end: Option<String>,
}

impl JobUsage {
    /// CPU-core seconds allocated (CPUs × wall clock): what a core-hour price applies to.
    pub fn allocated_core_seconds(&self) -> u64 {
        self.allocated.cpus.saturating_mul(self.elapsed_seconds)
    }

    /// GPU seconds allocated (GPUs × wall clock).
    pub fn allocated_gpu_seconds(&self) -> u64 {
        self.allocated.gpus.saturating_mul(self.elapsed_seconds)
    }
}

fn allocation_row(job_id: u64, rows: &[SacctRow]) -> Option<&SacctRow> {
    let id = job_id.to_string();
    rows.iter().find(|r| r.job_id == id)
}

/// The job's status from accounting rows; `None` when accounting has no record of it yet.
pub fn status_from_sacct(job_id: u64, rows: &[SacctRow]) -> Result<Option<JobStatus>> {
    let Some(main) = allocation_row(job_id, rows) else {
        return Ok(None);
    };
    let state = JobState::from_slurm(&main.state)?;
    // The allocation line reports 0:0 for cancelled/timed-out jobs; the batch step holds the
    // signal that actually ended the script.
    let (code, signal) = if main.exit_code == (0, 0) && state != JobState::Completed {
        let batch = format!("{job_id}.batch");
        rows.iter()
            .find(|r| r.job_id == batch)
            .map_or(main.exit_code, |r| r.exit_code)
    } else {
        main.exit_code
    };
    Ok(Some(JobStatus {
        job_id,
        state,
        slurm_state: main.state.clone(),
        exit_code: state.is_terminal().then_some(code),
        signal: (signal != 0).then_some(signal),
        reason: None,
        nodes: None,
    }))
}

/// The job's usage from accounting rows; `None` when accounting has no record of it yet.
pub fn usage_from_sacct(job_id: u64, rows: &[SacctRow]) -> Result<Option<JobUsage>> {
    let Some(main) = allocation_row(job_id, rows) else {
        return Ok(None);
    };
    let prefix = format!("{job_id}.");
    let max_rss_bytes = rows
        .iter()
        .filter(|r| r.job_id == main.job_id || r.job_id.starts_with(&prefix))
        .filter_map(|r| r.max_rss_bytes)
        .max();
    let state = JobState::from_slurm(&main.state)?;
    Ok(Some(JobUsage {
        job_id,
        state,
        is_final: state.is_terminal() && main.end.is_some() && main.time_limit_recorded,
        elapsed_seconds: main.elapsed_ms / 1000,
        cpu_time_ms: main.total_cpu_ms,
        max_rss_bytes,
        allocated: main.alloc_tres.clone(),
        time_limit_minutes: main.time_limit_ms.map(|ms| ms / 60_000),
        start: main.start.clone(),
        end: main.end.clone(),
    }))
}

/// `sbatch --parsable` prints `<id>` or `<id>;<cluster>`.
pub fn parse_sbatch_parsable(stdout: &str) -> Result<u64> {
    let line = stdout.trim();
    let id = line.split(';').next().unwrap_or_default();
    id.parse()
        .map_err(|_| SlurmError::parse("sbatch --parsable", line, "expected <job id>[;<cluster>]"))
}

fn check_job_id(command: &'static str, line: &str, got: &str, want: u64) -> Result<()> {
    if got.parse::<u64>().ok() == Some(want) {
        Ok(())
    } else {
        Err(SlurmError::parse(
            command,
            line,
            format!("expected job {want}"),
        ))
    }
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn timestamp(s: &str) -> Option<String> {
    non_empty(s)
        .filter(|s| !matches!(*s, "Unknown" | "None"))
        .map(str::to_string)
}
