#!/usr/bin/env bash
# Re-captures the real SLURM command output the ve-slurm parser tests read.
# Needs the local cluster (bash scripts/slurm.sh start); takes ~2 minutes (one job must hit its
# 1-minute time limit). Each file starts with the exact command line ("$ ..."), then its output.
# The unit tests check that the command lines equal what the crate runs, so formats cannot drift.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
OUT=/tmp/ve-slurm-capture
mkdir -p "$OUT"

SQUEUE_FORMAT='%i|%T|%r|%M|%N'
SACCT_FORMAT='JobID,State,ExitCode,Elapsed,TotalCPU,MaxRSS,AllocTRES,NNodes,Timelimit,Start,End'

# capture FILE CMD ARGS...: "$ CMD ARGS" + stdout (and stderr when the command writes any).
capture() {
  local file="$1"; shift
  { echo "\$ $*"; "$@" 2>&1 || true; } > "$file"
}
submit() { sbatch --parsable "$@"; }
state_of() { squeue --noheader --states=all --jobs="$1" --format=%T 2>/dev/null; }
wait_state() { until [ "$(state_of "$1")" = "$2" ]; do sleep 0.5; done; }
wait_gone() { until [ -n "$(sacct --noheader --parsable2 --jobs="$1" --format=End | grep -v Unknown | head -n1)" ]; do sleep 1; done; }

# A CPU-busy job long enough (> JobAcctGatherFrequency) for MaxRSS and TotalCPU to be sampled.
completed=$(submit --output="$OUT/completed.out" --wrap 'timeout 8 sh -c "while :; do :; done" || true; echo done')
failed=$(submit --output="$OUT/failed.out" --wrap 'echo about to fail >&2; exit 3')
timeout=$(submit --time=1 --output="$OUT/timeout.out" --wrap 'sleep 300')
wait_state "$completed" RUNNING; wait_state "$timeout" RUNNING
# The node has 2 CPUs: with the busy job and the timeout job running, a third job waits.
cancelled=$(submit --output="$OUT/cancelled.out" --wrap 'sleep 300')
sleep 2
capture squeue_pending.txt squeue --noheader --states=all --jobs="$cancelled" --format="$SQUEUE_FORMAT"
capture squeue_running.txt squeue --noheader --states=all --jobs="$timeout" --format="$SQUEUE_FORMAT"
capture sacct_running.txt sacct --noheader --parsable2 --jobs="$timeout" --format="$SACCT_FORMAT"
wait_gone "$completed"; wait_gone "$failed"
wait_state "$cancelled" RUNNING
sleep 6
scancel "$cancelled"
wait_gone "$cancelled"
capture squeue_cancelled.txt squeue --noheader --states=all --jobs="$cancelled" --format="$SQUEUE_FORMAT"
capture sacct_completed.txt sacct --noheader --parsable2 --jobs="$completed" --format="$SACCT_FORMAT"
capture sacct_failed.txt sacct --noheader --parsable2 --jobs="$failed" --format="$SACCT_FORMAT"
capture sacct_cancelled.txt sacct --noheader --parsable2 --jobs="$cancelled" --format="$SACCT_FORMAT"
capture sinfo_nodes.txt sinfo --noheader --Node --format='%N|%R|%T|%c|%m|%G|%C'
capture sinfo_partitions.txt sinfo --noheader --format='%P|%a|%l|%D|%C'
capture squeue_unknown_job.txt squeue --noheader --states=all --jobs=999999 --format="$SQUEUE_FORMAT"
# scancel exits 0 and prints nothing for unknown jobs unless --verbose.
capture scancel_unknown_job.txt scancel --verbose 999999
capture scancel_finished_job.txt scancel --verbose "$failed"
capture sbatch_gres_unavailable.txt sbatch --parsable --gres=gpu:1 --wrap true
wait_gone "$timeout"
capture sacct_timeout.txt sacct --noheader --parsable2 --jobs="$timeout" --format="$SACCT_FORMAT"
echo "captured jobs completed=$completed failed=$failed timeout=$timeout cancelled=$cancelled"
