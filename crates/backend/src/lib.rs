//! Workload back ends for the provider daemon: the provisioning trait and a sandboxed process runner (Linux namespaces + cgroups).
