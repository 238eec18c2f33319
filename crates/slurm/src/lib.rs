//! SLURM back end: job spec to batch script, sbatch/squeue/sacct/scancel/sinfo with parsers tested on real command output.
