//! hpc: HPC clusters, offerings, jobs scheduled through the chain, usage accounting, settlement and contributor rewards.
