//! A chain job → a SLURM batch job: name, directory, resources, time limit, script.
//!
//! The tenant's command (a script body of up to 4096 bytes) runs as written; arguments
//! are appended single-quoted; environment variables become `export` lines (validated by
//! `ve_slurm`, which also refuses names, paths and partitions that could escape the
//! batch script). Container images are refused: Apptainer/Singularity is not installed.

use std::path::{Component, Path, PathBuf};

use ve_proto::virtengine::hpc::v1 as hpc;
use ve_slurm::{shell_single_quote, GpuRequest, JobSpec, MAX_TIME_LIMIT_MINUTES};

use super::config::HpcConfig;

/// `ve-hpc-<instance>-<job id>`: unique per state directory and chain job (see
/// [`crate::store::Store::hpc_instance`]), so a crashed submission is found by name.
pub fn job_name(instance: u64, job_id: u64) -> String {
    format!("ve-hpc-{instance:x}-{job_id}")
}

/// `<work_dir>/job-<id>`: the job's working directory.
pub fn job_dir(work_dir: &Path, job_id: u64) -> PathBuf {
    work_dir.join(format!("job-{job_id}"))
}

/// Where the job's stdout and stderr go (reported to the tenant in status messages).
pub fn output_path(work_dir: &Path, job_id: u64) -> PathBuf {
    job_dir(work_dir, job_id).join("output.log")
}

/// SLURM limits are whole minutes: the chain's limit in seconds, rounded up.
pub fn time_limit_minutes(max_runtime_seconds: u64) -> u32 {
    let m = max_runtime_seconds.div_ceil(60).max(1);
    u32::try_from(m)
        .unwrap_or(u32::MAX)
        .min(MAX_TIME_LIMIT_MINUTES)
}

/// The batch job for `job`, or why this cluster cannot run it (reported as FAILED).
pub fn build(job: &hpc::Job, cfg: &HpcConfig, instance: u64) -> Result<JobSpec, String> {
    let w = job.workload.clone().unwrap_or_default();
    let r = job.resources.clone().unwrap_or_default();
    if !w.container_image.is_empty() {
        return Err(format!(
            "container image {:?} refused: this cluster runs host commands only (no Apptainer/Singularity)",
            w.container_image
        ));
    }
    if w.command.trim().is_empty() {
        return Err("the workload has no command to run".into());
    }
    let mut script = w.command.clone();
    for a in &w.arguments {
        script.push(' ');
        script.push_str(&shell_single_quote(a));
    }
    script.push('\n');
    let dir = job_dir(&cfg.work_dir, job.job_id);
    let workdir = match w.working_directory.as_str() {
        "" => dir.clone(),
        sub => {
            let p = Path::new(sub);
            if !p.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(format!(
                    "working_directory {sub:?} must be a relative path inside the job directory"
                ));
            }
            dir.join(p)
        }
    };
    let mut spec = JobSpec::new(
        &job_name(instance, job.job_id),
        workdir,
        time_limit_minutes(job.max_runtime_seconds),
        &script,
    );
    spec.partition = Some(cfg.partition.clone().unwrap_or_else(|| job.queue.clone()));
    spec.nodes = r.nodes.max(1);
    spec.tasks = spec.nodes;
    spec.cpus_per_task = r.cpu_cores_per_node.max(1);
    spec.memory_mb = (r.memory_gb_per_node > 0).then(|| r.memory_gb_per_node.saturating_mul(1024));
    spec.gpus = (r.gpus_per_node > 0).then(|| GpuRequest {
        count: r.gpus_per_node,
        gpu_type: (!r.gpu_type.is_empty()).then(|| r.gpu_type.clone()),
    });
    spec.stdout_path = output_path(&cfg.work_dir, job.job_id);
    for e in &w.environment {
        spec.environment.insert(e.name.clone(), e.value.clone());
    }
    spec.environment
        .insert("VIRTENGINE_JOB_ID".into(), job.job_id.to_string());
    spec.validate().map_err(|e| e.to_string())?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HpcConfig {
        HpcConfig {
            cluster_id: 1,
            work_dir: "/srv/hpc".into(),
            partition: None,
            node_operator: None,
            poll_interval_ms: 1000,
            usage_interval_s: 30,
            heartbeat_interval_s: 60,
        }
    }

    fn job(command: &str) -> hpc::Job {
        hpc::Job {
            job_id: 7,
            queue: "debug".into(),
            max_runtime_seconds: 61,
            workload: Some(hpc::WorkloadSpec {
                command: command.into(),
                arguments: vec!["a b".into()],
                environment: vec![hpc::EnvVar {
                    name: "MODE".into(),
                    value: "fast".into(),
                }],
                ..Default::default()
            }),
            resources: Some(hpc::JobResources {
                nodes: 1,
                cpu_cores_per_node: 2,
                memory_gb_per_node: 1,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn chain_job_becomes_a_batch_job_with_limits_rounded_up_to_minutes() {
        let s = build(&job("echo hi"), &cfg(), 0xab).unwrap();
        assert_eq!(s.name, "ve-hpc-ab-7");
        assert_eq!(s.partition.as_deref(), Some("debug"));
        assert_eq!((s.nodes, s.tasks, s.cpus_per_task), (1, 1, 2));
        assert_eq!(s.memory_mb, Some(1024));
        assert_eq!(s.time_limit_minutes, 2);
        assert_eq!(s.script, "echo hi 'a b'\n");
        assert_eq!(s.stdout_path, PathBuf::from("/srv/hpc/job-7/output.log"));
        assert_eq!(s.environment["MODE"], "fast");
        assert_eq!(s.environment["VIRTENGINE_JOB_ID"], "7");
    }

    #[test]
    fn containers_escaping_workdirs_and_empty_commands_are_refused() {
        let mut j = job("echo hi");
        j.workload.as_mut().unwrap().container_image = "ubuntu".into();
        assert!(build(&j, &cfg(), 1).unwrap_err().contains("container"));
        let mut j = job("echo hi");
        j.workload.as_mut().unwrap().working_directory = "../etc".into();
        assert!(build(&j, &cfg(), 1).unwrap_err().contains("relative"));
        assert!(build(&job("  "), &cfg(), 1).is_err());
        let mut j = job("echo hi");
        j.queue = "bad queue".into();
        assert!(build(&j, &cfg(), 1).unwrap_err().contains("partition"));
    }
}
