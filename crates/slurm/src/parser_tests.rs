//! Parser edge cases that the local single-node, GPU-less cluster cannot produce, written in
//! the formats SLURM documents (sacct/sinfo man pages).

use crate::inventory::{parse_gpu_gres, parse_nodes, GpuGres};
use crate::records::{parse_sacct, parse_sbatch_parsable, parse_squeue, usage_from_sacct};
use crate::state::JobState;
use crate::units::{parse_duration_ms, parse_memory_bytes, Tres};
use crate::SlurmError;

#[test]
fn durations_in_every_slurm_shape() {
    assert_eq!(parse_duration_ms("00:06.966").unwrap(), Some(6_966));
    assert_eq!(parse_duration_ms("00:01:04").unwrap(), Some(64_000));
    assert_eq!(
        parse_duration_ms("2-03:04:05").unwrap(),
        Some((2 * 86_400 + 3 * 3600 + 4 * 60 + 5) * 1000)
    );
    assert_eq!(parse_duration_ms("0:07").unwrap(), Some(7_000));
    assert_eq!(parse_duration_ms("45").unwrap(), Some(45_000));
    for none in ["UNLIMITED", "infinite", "INVALID", "Partition_Limit", ""] {
        assert_eq!(parse_duration_ms(none).unwrap(), None, "{none}");
    }
    for bad in ["1:2:3:4", "ab:cd", "1-", "00:01.12345"] {
        assert!(
            matches!(parse_duration_ms(bad), Err(SlurmError::Parse { .. })),
            "{bad}"
        );
    }
}

#[test]
fn memory_sizes_with_units_and_fractions() {
    assert_eq!(parse_memory_bytes("3208K", 1).unwrap(), Some(3208 * 1024));
    assert_eq!(parse_memory_bytes("1G", 1).unwrap(), Some(1 << 30));
    assert_eq!(parse_memory_bytes("1.50G", 1).unwrap(), Some(3 << 29));
    assert_eq!(
        parse_memory_bytes("24105", 1 << 20).unwrap(),
        Some(24_105 << 20)
    );
    assert_eq!(parse_memory_bytes("", 1).unwrap(), None);
    assert!(parse_memory_bytes("12Q", 1).is_err());
}

#[test]
fn tres_counts_gpus_typed_or_not() {
    let t = Tres::parse("billing=8,cpu=8,gres/gpu=2,gres/gpu:a100=2,mem=64G,node=2").unwrap();
    assert_eq!(
        (t.cpus, t.gpus, t.nodes, t.billing, t.memory_bytes),
        (8, 2, 2, 8, 64 << 30)
    );
    let typed_only = Tres::parse("cpu=4,gres/gpu:a100=1,gres/gpu:v100=2").unwrap();
    assert_eq!(typed_only.gpus, 3);
    assert!(Tres::parse("cpu").is_err());
}

#[test]
fn gres_strings_from_gpu_nodes() {
    assert_eq!(
        parse_gpu_gres("gpu:a100:4(S:0-1),mps:100").unwrap(),
        vec![GpuGres {
            gpu_type: Some("a100".into()),
            count: 4
        }]
    );
    assert_eq!(
        parse_gpu_gres("gpu:2(S:0,1)").unwrap(),
        vec![GpuGres {
            gpu_type: None,
            count: 2
        }]
    );
    assert!(parse_gpu_gres("(null)").unwrap().is_empty());
    assert!(parse_gpu_gres("gpu:a100:x").is_err());
}

#[test]
fn node_in_two_partitions_is_listed_once() {
    let out = "n1|cpu|idle|64|256000|(null)|0/64/0/64\nn1|all|idle|64|256000|(null)|0/64/0/64\nn2|gpu|down*|32|128000|gpu:a100:4|0/0/32/32\n";
    let nodes = parse_nodes(out).unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(
        nodes[0].partitions,
        vec!["cpu".to_string(), "all".to_string()]
    );
    assert!(nodes[0].is_usable());
    assert!(!nodes[1].is_usable(), "down* is not responding");
    assert_eq!(nodes[1].gpus[0].count, 4);
}

#[test]
fn slurm_states_map_onto_chain_states() {
    let cases = [
        ("PENDING", JobState::Queued),
        ("REQUEUED", JobState::Queued),
        ("CONFIGURING", JobState::Queued),
        ("RUNNING", JobState::Running),
        ("COMPLETING", JobState::Running),
        ("SUSPENDED", JobState::Running),
        ("COMPLETED", JobState::Completed),
        ("FAILED", JobState::Failed),
        ("NODE_FAIL", JobState::Failed),
        ("OUT_OF_MEMORY", JobState::Failed),
        ("BOOT_FAIL", JobState::Failed),
        ("DEADLINE", JobState::Failed),
        ("PREEMPTED", JobState::Failed),
        ("TIMEOUT", JobState::Timeout),
        ("CANCELLED", JobState::Cancelled),
        ("CANCELLED by 1000", JobState::Cancelled),
        ("CANCELLED+", JobState::Cancelled),
    ];
    for (slurm, ours) in cases {
        assert_eq!(JobState::from_slurm(slurm).unwrap(), ours, "{slurm}");
    }
    assert!(matches!(
        JobState::from_slurm("SOMETHING_NEW"),
        Err(SlurmError::Parse { .. })
    ));
    assert!(JobState::Timeout.is_terminal() && !JobState::Running.is_terminal());
}

#[test]
fn sbatch_parsable_output_with_and_without_cluster() {
    assert_eq!(parse_sbatch_parsable("42\n").unwrap(), 42);
    assert_eq!(parse_sbatch_parsable("42;virtengine\n").unwrap(), 42);
    assert!(parse_sbatch_parsable("Submitted batch job 42").is_err());
}

#[test]
fn malformed_lines_are_parse_errors_not_defaults() {
    assert!(matches!(
        parse_squeue(1, "1|RUNNING"),
        Err(SlurmError::Parse { .. })
    ));
    assert!(
        matches!(
            parse_squeue(2, "1|RUNNING|None|0:01|vm"),
            Err(SlurmError::Parse { .. })
        ),
        "other job"
    );
    assert!(parse_squeue(1, "").unwrap().is_none());
    assert!(matches!(
        parse_sacct("1|COMPLETED|0:0"),
        Err(SlurmError::Parse { .. })
    ));
    assert!(matches!(
        parse_sacct("1|COMPLETED|zero|00:00:01|00:00.1||cpu=1|1|UNLIMITED|Unknown|Unknown"),
        Err(SlurmError::Parse { .. })
    ));
}

/// Seen on the local cluster right after a job ended: slurmdbd had the end but not yet the
/// time limit of the allocation row (filled in ~1 s later).
#[test]
fn ended_job_record_without_time_limit_is_not_final_yet() {
    let early = "19|COMPLETED|0:0|00:00:00|00:00.002||billing=1,cpu=1,mem=256M,node=1|1||2026-11-26T04:41:02|2026-11-26T04:41:02\n";
    let usage = usage_from_sacct(19, &parse_sacct(early).unwrap())
        .unwrap()
        .unwrap();
    assert!(!usage.is_final);
    let later = early.replace("|1||", "|1|00:02:00|");
    let usage = usage_from_sacct(19, &parse_sacct(&later).unwrap())
        .unwrap()
        .unwrap();
    assert!(usage.is_final);
    assert_eq!(usage.time_limit_minutes, Some(2));
}
