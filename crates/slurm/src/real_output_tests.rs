//! Parser tests on real output of SLURM 22.05 (Debian 12) captured on the local cluster by
//! `testdata/capture.sh`. Each file's first line is the exact command; the tests check it is
//! the command this crate runs, so a format change here forces a re-capture.

use crate::client::{sacct_args, scancel_args, sinfo_node_args, sinfo_partition_args, squeue_args};
use crate::inventory::{parse_nodes, parse_partitions};
use crate::records::{parse_sacct, parse_squeue, status_from_sacct, usage_from_sacct};
use crate::state::JobState;

/// Splits a testdata file into its command line and the command's output.
fn captured<'a>(file: &'a str, program: &str, args: &[String]) -> &'a str {
    let (command, output) = file.split_once('\n').unwrap();
    assert_eq!(
        command,
        format!("$ {program} {}", args.join(" ")),
        "testdata command differs from the crate's"
    );
    output
}

macro_rules! testdata {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/", $name))
    };
}

fn sacct(file: &str, job_id: u64) -> Vec<crate::records::SacctRow> {
    parse_sacct(captured(file, "sacct", &sacct_args(job_id))).unwrap()
}

#[test]
fn completed_job_has_exit_code_zero_and_sampled_usage() {
    let rows = sacct(testdata!("sacct_completed.txt"), 9);
    let status = status_from_sacct(9, &rows).unwrap().unwrap();
    assert_eq!(status.state, JobState::Completed);
    assert_eq!((status.exit_code, status.signal), (Some(0), None));

    let usage = usage_from_sacct(9, &rows).unwrap().unwrap();
    assert!(usage.is_final);
    assert_eq!(usage.elapsed_seconds, 8);
    assert_eq!(usage.cpu_time_ms, 6_966);
    assert_eq!(usage.max_rss_bytes, Some(4868 * 1024));
    assert_eq!(
        (
            usage.allocated.cpus,
            usage.allocated.nodes,
            usage.allocated.gpus
        ),
        (1, 1, 0)
    );
    assert_eq!(usage.allocated.memory_bytes, 1 << 30);
    assert_eq!(usage.time_limit_minutes, None, "UNLIMITED");
    assert_eq!(usage.allocated_core_seconds(), 8);
    assert_eq!(usage.start.as_deref(), Some("2026-11-26T04:25:49"));
    assert_eq!(usage.end.as_deref(), Some("2026-11-26T04:25:57"));
}

#[test]
fn failed_job_reports_its_non_zero_exit_code() {
    let rows = sacct(testdata!("sacct_failed.txt"), 10);
    let status = status_from_sacct(10, &rows).unwrap().unwrap();
    assert_eq!(status.state, JobState::Failed);
    assert_eq!((status.exit_code, status.signal), (Some(3), None));
}

#[test]
fn timed_out_job_is_timeout_ended_by_sigterm() {
    let rows = sacct(testdata!("sacct_timeout.txt"), 11);
    let status = status_from_sacct(11, &rows).unwrap().unwrap();
    assert_eq!(status.state, JobState::Timeout);
    assert_eq!((status.exit_code, status.signal), (Some(0), Some(15)));
    let usage = usage_from_sacct(11, &rows).unwrap().unwrap();
    assert_eq!(usage.time_limit_minutes, Some(1));
    assert_eq!(usage.elapsed_seconds, 64);
}

#[test]
fn cancelled_job_is_cancelled_whoever_cancelled_it() {
    let rows = sacct(testdata!("sacct_cancelled.txt"), 12);
    let status = status_from_sacct(12, &rows).unwrap().unwrap();
    assert_eq!(status.state, JobState::Cancelled);
    assert_eq!(status.slurm_state, "CANCELLED by 0");
    assert_eq!(status.signal, Some(15));

    let squeue = parse_squeue(
        12,
        captured(
            testdata!("squeue_cancelled.txt"),
            "squeue",
            &squeue_args(12),
        ),
    );
    assert_eq!(squeue.unwrap().unwrap().state, JobState::Cancelled);
}

#[test]
fn running_job_has_no_exit_code_yet() {
    let out = captured(testdata!("squeue_running.txt"), "squeue", &squeue_args(11));
    let status = parse_squeue(11, out).unwrap().unwrap();
    assert_eq!(status.state, JobState::Running);
    assert_eq!(
        (
            status.exit_code,
            status.reason.as_deref(),
            status.nodes.as_deref()
        ),
        (None, None, Some("vm"))
    );

    let rows = sacct(testdata!("sacct_running.txt"), 11);
    let status = status_from_sacct(11, &rows).unwrap().unwrap();
    assert_eq!((status.state, status.exit_code), (JobState::Running, None));
    let usage = usage_from_sacct(11, &rows).unwrap().unwrap();
    assert_eq!(
        (usage.end, usage.time_limit_minutes, usage.is_final),
        (None, Some(1), false)
    );
}

#[test]
fn pending_job_is_queued_without_nodes() {
    let out = captured(testdata!("squeue_pending.txt"), "squeue", &squeue_args(12));
    let status = parse_squeue(12, out).unwrap().unwrap();
    assert_eq!((status.state, status.nodes), (JobState::Queued, None));
}

#[test]
fn squeue_error_for_an_unknown_job_is_what_status_looks_for() {
    let out = captured(
        testdata!("squeue_unknown_job.txt"),
        "squeue",
        &squeue_args(999_999),
    );
    assert!(
        out.contains("Invalid job id"),
        "client::status matches this text: {out}"
    );
}

#[test]
fn scancel_messages_that_cancel_distinguishes() {
    let unknown = captured(
        testdata!("scancel_unknown_job.txt"),
        "scancel",
        &scancel_args(999_999),
    );
    assert!(unknown.contains("Invalid job id"));
    let done = captured(
        testdata!("scancel_finished_job.txt"),
        "scancel",
        &scancel_args(10),
    );
    assert!(done.contains("already completing or completed"));
}

#[test]
fn sinfo_inventory_of_the_local_node() {
    let out = captured(
        testdata!("sinfo_partitions.txt"),
        "sinfo",
        &sinfo_partition_args(),
    );
    let parts = parse_partitions(out).unwrap();
    assert_eq!(parts.len(), 1);
    let p = &parts[0];
    assert_eq!(
        (
            p.name.as_str(),
            p.is_default,
            p.up,
            p.max_time_minutes,
            p.nodes
        ),
        ("debug", true, true, None, 1)
    );
    assert_eq!((p.cpus.allocated, p.cpus.idle, p.cpus.total), (1, 1, 2));

    let out = captured(testdata!("sinfo_nodes.txt"), "sinfo", &sinfo_node_args());
    let nodes = parse_nodes(out).unwrap();
    assert_eq!(nodes.len(), 1);
    let n = &nodes[0];
    assert_eq!(
        (n.name.as_str(), n.state.as_str(), n.cpus, n.memory_mb),
        ("vm", "mixed", 2, 24_105)
    );
    assert_eq!(n.partitions, vec!["debug".to_string()]);
    assert!(n.gpus.is_empty());
    assert!(n.is_usable());
}

#[test]
fn sbatch_gres_error_is_captured_stderr() {
    let file = testdata!("sbatch_gres_unavailable.txt");
    assert!(file.contains("Invalid generic resource (gres) specification"));
}
