//! The SLURM client: runs the SLURM commands on this host (the provider's login/controller
//! node) and turns their output into typed values. Commands are spawned directly with argument
//! vectors (no shell), each under a timeout; the batch script goes to sbatch on stdin.
//!
//! Why the command-line tools and not `slurmrestd`: they are in every SLURM installation, need
//! no JWT setup, and `sacct` is the accounting interface either way.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::error::{Result, SlurmError};
use crate::inventory::{
    parse_nodes, parse_partitions, ClusterInventory, SINFO_NODE_FORMAT, SINFO_PARTITION_FORMAT,
};
use crate::records::{
    parse_sacct, parse_sbatch_parsable, parse_squeue, status_from_sacct, usage_from_sacct,
    JobUsage, SACCT_FORMAT, SQUEUE_FORMAT,
};
use crate::script::render_batch_script;
use crate::spec::JobSpec;
use crate::state::JobStatus;

/// Default time a single SLURM command may take (slurmctld retries for a while when slow).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Slurm::usage`] waits for slurmdbd to complete an ended job's record.
pub const FINAL_RECORD_WAIT: Duration = Duration::from_secs(5);

/// Talks to the SLURM cluster this host is a client of.
#[derive(Clone, Debug)]
pub struct Slurm {
    command_timeout: Duration,
}

impl Default for Slurm {
    fn default() -> Self {
        Slurm {
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }
}

/// Stdout and stderr of a finished command and whether it exited 0.
struct Output {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl Slurm {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how long one SLURM command may run before it is killed.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Checks the controller answers (`scontrol ping`).
    pub async fn ping(&self) -> Result<()> {
        let out = self.run("scontrol", &["ping".into()], None).await?;
        if out.success && out.stdout.contains("is UP") {
            Ok(())
        } else {
            Err(SlurmError::ControllerUnreachable {
                command: "scontrol ping".into(),
                stderr: format!("{}{}", out.stdout.trim(), out.stderr.trim()),
            })
        }
    }

    /// Submits `spec` with `sbatch --parsable`; returns the SLURM job id.
    pub async fn submit(&self, spec: &JobSpec) -> Result<u64> {
        let script = render_batch_script(spec)?;
        let out = self
            .checked("sbatch", &sbatch_args(), Some(script.as_bytes()))
            .await?;
        parse_sbatch_parsable(&out.stdout)
    }

    /// The job's state: from the queue while SLURM schedules or runs it, from accounting once it
    /// ended (the only place with its exit code).
    pub async fn status(&self, job_id: u64) -> Result<JobStatus> {
        let out = self.run("squeue", &squeue_args(job_id), None).await?;
        let queued = if out.success {
            parse_squeue(job_id, &out.stdout)?
        } else if out.stderr.contains("Invalid job id") {
            None // left the controller's memory (MinJobAge): ask accounting.
        } else {
            return Err(self.failure("squeue", &squeue_args(job_id), out));
        };
        if let Some(status) = &queued {
            if !status.state.is_terminal() {
                return Ok(status.clone());
            }
        }
        let rows = parse_sacct(
            &self
                .checked("sacct", &sacct_args(job_id), None)
                .await?
                .stdout,
        )?;
        match (status_from_sacct(job_id, &rows)?, queued) {
            (Some(accounted), queued) => Ok(JobStatus {
                nodes: queued.and_then(|q| q.nodes),
                ..accounted
            }),
            // Ended, but slurmdbd has not stored the record yet: exit code still unknown.
            (None, Some(queued)) => Ok(queued),
            (None, None) => Err(SlurmError::JobNotFound(job_id)),
        }
    }

    /// What the job used so far (running) or in total (ended), from accounting. For an ended
    /// job this waits briefly (up to [`FINAL_RECORD_WAIT`]) for slurmdbd to finish writing the
    /// record; check [`JobUsage::is_final`] before billing.
    pub async fn usage(&self, job_id: u64) -> Result<JobUsage> {
        let deadline = tokio::time::Instant::now() + FINAL_RECORD_WAIT;
        loop {
            let out = self.checked("sacct", &sacct_args(job_id), None).await?;
            let rows = parse_sacct(&out.stdout)?;
            let usage = usage_from_sacct(job_id, &rows)?.ok_or(SlurmError::JobNotFound(job_id))?;
            if usage.is_final
                || !usage.state.is_terminal()
                || tokio::time::Instant::now() >= deadline
            {
                return Ok(usage);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Cancels the job (`scancel`). Cancelling a job that already ended is not an error.
    pub async fn cancel(&self, job_id: u64) -> Result<()> {
        let args = scancel_args(job_id);
        let out = self.run("scancel", &args, None).await?;
        // scancel exits 0 even for unknown jobs; with --verbose it at least says so on stderr.
        if out.stderr.contains("Invalid job id") {
            return Err(SlurmError::JobNotFound(job_id));
        }
        let already_done = out.stderr.contains("already completing or completed");
        if !out.success || (out.stderr.contains("error:") && !already_done) {
            return Err(self.failure("scancel", &args, out));
        }
        Ok(())
    }

    /// Stops a running job's processes (SIGSTOP) keeping its allocation (`scontrol suspend`;
    /// needs SlurmUser or root).
    pub async fn suspend(&self, job_id: u64) -> Result<()> {
        self.scontrol_job("suspend", job_id).await
    }

    /// Continues a suspended job (`scontrol resume`).
    pub async fn resume(&self, job_id: u64) -> Result<()> {
        self.scontrol_job("resume", job_id).await
    }

    async fn scontrol_job(&self, verb: &str, job_id: u64) -> Result<()> {
        let args = vec![verb.to_string(), job_id.to_string()];
        let out = self.run("scontrol", &args, None).await?;
        if out.stderr.contains("Invalid job id") {
            return Err(SlurmError::JobNotFound(job_id));
        }
        if out.success {
            Ok(())
        } else {
            Err(self.failure("scontrol", &args, out))
        }
    }

    /// Ids of the jobs named `name` that the controller still knows (`squeue`, any state) or
    /// accounting recorded in the last 7 days (`sacct`), ascending. A daemon that crashed
    /// between `sbatch` and recording the id finds its job this way instead of submitting it
    /// twice; the name must be unique per job (the caller's responsibility).
    pub async fn jobs_named(&self, name: &str) -> Result<Vec<u64>> {
        crate::spec::check_job_name(name)?;
        let queued = self
            .checked("squeue", &squeue_name_args(name), None)
            .await?;
        let accounted = self.checked("sacct", &sacct_name_args(name), None).await?;
        let mut ids: Vec<u64> = parse_job_ids(&queued.stdout)?
            .into_iter()
            .chain(parse_job_ids(&accounted.stdout)?)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Partitions and nodes with their CPUs, memory, GPUs and state (`sinfo`).
    pub async fn inventory(&self) -> Result<ClusterInventory> {
        let partitions = self.checked("sinfo", &sinfo_partition_args(), None).await?;
        let nodes = self.checked("sinfo", &sinfo_node_args(), None).await?;
        Ok(ClusterInventory {
            partitions: parse_partitions(&partitions.stdout)?,
            nodes: parse_nodes(&nodes.stdout)?,
        })
    }

    /// Runs a command that must succeed.
    async fn checked(
        &self,
        program: &str,
        args: &[String],
        stdin: Option<&[u8]>,
    ) -> Result<Output> {
        let out = self.run(program, args, stdin).await?;
        if out.success {
            Ok(out)
        } else {
            Err(self.failure(program, args, out))
        }
    }

    fn failure(&self, program: &str, args: &[String], out: Output) -> SlurmError {
        let command = command_line(program, args);
        let stderr = out.stderr.trim().to_string();
        if is_unreachable(&stderr) {
            SlurmError::ControllerUnreachable { command, stderr }
        } else {
            SlurmError::CommandFailed {
                command,
                status: out.status,
                stderr,
            }
        }
    }

    async fn run(&self, program: &str, args: &[String], stdin: Option<&[u8]>) -> Result<Output> {
        let command = command_line(program, args);
        let mut child = Command::new(program)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| SlurmError::NotInstalled {
                command: command.clone(),
                source,
            })?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .await
                .map_err(|e| SlurmError::CommandFailed {
                    command: command.clone(),
                    status: "stdin closed".into(),
                    stderr: e.to_string(),
                })?;
            // Dropping the pipe closes it: sbatch reads the script until EOF.
        }
        let output = tokio::time::timeout(self.command_timeout, child.wait_with_output())
            .await
            .map_err(|_| SlurmError::CommandTimedOut {
                command: command.clone(),
                timeout: self.command_timeout,
            })?
            .map_err(|e| SlurmError::CommandFailed {
                command,
                status: "wait failed".into(),
                stderr: e.to_string(),
            })?;
        Ok(Output {
            success: output.status.success(),
            status: output
                .status
                .code()
                .map_or_else(|| "killed by a signal".into(), |c| c.to_string()),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

fn is_unreachable(stderr: &str) -> bool {
    [
        "Unable to contact slurm controller",
        "Connection refused",
        "Socket timed out",
        "Zero Bytes were transmitted",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

fn command_line(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn sbatch_args() -> Vec<String> {
    vec!["--parsable".into()]
}

pub(crate) fn squeue_args(job_id: u64) -> Vec<String> {
    vec![
        "--noheader".into(),
        "--states=all".into(),
        format!("--jobs={job_id}"),
        format!("--format={SQUEUE_FORMAT}"),
    ]
}

pub(crate) fn sacct_args(job_id: u64) -> Vec<String> {
    vec![
        "--noheader".into(),
        "--parsable2".into(),
        format!("--jobs={job_id}"),
        format!("--format={SACCT_FORMAT}"),
    ]
}

pub(crate) fn squeue_name_args(name: &str) -> Vec<String> {
    vec![
        "--noheader".into(),
        "--states=all".into(),
        format!("--name={name}"),
        "--format=%i".into(),
    ]
}

pub(crate) fn sacct_name_args(name: &str) -> Vec<String> {
    vec![
        "--noheader".into(),
        "--parsable2".into(),
        "--allocations".into(),
        "--starttime=now-7days".into(),
        format!("--name={name}"),
        "--format=JobID".into(),
    ]
}

/// One job id per line (`squeue --format=%i`, `sacct --format=JobID --allocations`); blank
/// lines are skipped, anything else that is not an id is an error.
pub(crate) fn parse_job_ids(stdout: &str) -> Result<Vec<u64>> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse().map_err(|_| SlurmError::Parse {
                command: "squeue/sacct job ids",
                line: l.to_string(),
                reason: "not a job id".into(),
            })
        })
        .collect()
}

pub(crate) fn scancel_args(job_id: u64) -> Vec<String> {
    vec!["--verbose".into(), job_id.to_string()]
}

pub(crate) fn sinfo_partition_args() -> Vec<String> {
    vec![
        "--noheader".into(),
        format!("--format={SINFO_PARTITION_FORMAT}"),
    ]
}

pub(crate) fn sinfo_node_args() -> Vec<String> {
    vec![
        "--noheader".into(),
        "--Node".into(),
        format!("--format={SINFO_NODE_FORMAT}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_lists_parse_and_junk_is_refused() {
        assert_eq!(parse_job_ids("12\n\n  40\n").unwrap(), vec![12, 40]);
        assert!(parse_job_ids("").unwrap().is_empty());
        assert!(parse_job_ids("12.batch\n").is_err());
    }
}
