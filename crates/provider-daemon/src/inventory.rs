//! Where the daemon's capacity comes from. The workload back ends (`ve-backend`, being
//! written) will report their real inventory through this trait; until then the
//! operator declares it in the config (`[capacity] backend = "static"`).

use crate::config::CapacityConfig;
use crate::resources::Resources;

/// Total capacity a back end can place workloads on (reservations are subtracted by
/// the daemon, which owns them).
pub trait Inventory: Send + Sync {
    fn total(&self) -> Resources;
}

/// Capacity declared in the config file.
#[derive(Debug, Clone)]
pub struct StaticInventory(pub Resources);

impl StaticInventory {
    pub fn from_config(c: &CapacityConfig) -> Self {
        Self(Resources {
            cpu_millicores: c.cpu_millicores,
            memory_bytes: c.memory_mib.saturating_mul(1 << 20),
            storage_bytes: c.storage_gib.saturating_mul(1 << 30),
            gpus: c.gpus,
        })
    }
}

impl Inventory for StaticInventory {
    fn total(&self) -> Resources {
        self.0
    }
}
