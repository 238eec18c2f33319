//! Resource quantities as integers (millicores, bytes, GPUs): what an order asks for,
//! what the back end has, what a reservation holds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu_millicores: u64,
    pub memory_bytes: u64,
    pub storage_bytes: u64,
    pub gpus: u64,
}

impl Resources {
    /// `self + other`, `None` on overflow.
    pub fn checked_add(&self, o: &Self) -> Option<Self> {
        Some(Self {
            cpu_millicores: self.cpu_millicores.checked_add(o.cpu_millicores)?,
            memory_bytes: self.memory_bytes.checked_add(o.memory_bytes)?,
            storage_bytes: self.storage_bytes.checked_add(o.storage_bytes)?,
            gpus: self.gpus.checked_add(o.gpus)?,
        })
    }

    /// `self × n`, `None` on overflow.
    pub fn checked_mul(&self, n: u64) -> Option<Self> {
        Some(Self {
            cpu_millicores: self.cpu_millicores.checked_mul(n)?,
            memory_bytes: self.memory_bytes.checked_mul(n)?,
            storage_bytes: self.storage_bytes.checked_mul(n)?,
            gpus: self.gpus.checked_mul(n)?,
        })
    }

    /// What is left of `self` after `used`, floored at zero per dimension (a back end
    /// that shrank below its reservations simply has nothing left to offer).
    pub fn saturating_sub(&self, used: &Self) -> Self {
        Self {
            cpu_millicores: self.cpu_millicores.saturating_sub(used.cpu_millicores),
            memory_bytes: self.memory_bytes.saturating_sub(used.memory_bytes),
            storage_bytes: self.storage_bytes.saturating_sub(used.storage_bytes),
            gpus: self.gpus.saturating_sub(used.gpus),
        }
    }

    /// Every dimension of `self` fits in `avail`.
    pub fn fits_in(&self, avail: &Self) -> bool {
        self.cpu_millicores <= avail.cpu_millicores
            && self.memory_bytes <= avail.memory_bytes
            && self.storage_bytes <= avail.storage_bytes
            && self.gpus <= avail.gpus
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflowing_demand_is_none_not_a_wrap() {
        let r = Resources {
            cpu_millicores: u64::MAX,
            ..Default::default()
        };
        assert_eq!(r.checked_mul(2), None);
        assert_eq!(r.checked_add(&r), None);
    }

    #[test]
    fn subtraction_floors_at_zero() {
        let a = Resources {
            cpu_millicores: 1,
            memory_bytes: 10,
            storage_bytes: 0,
            gpus: 0,
        };
        let b = Resources {
            cpu_millicores: 5,
            memory_bytes: 3,
            storage_bytes: 1,
            gpus: 0,
        };
        let left = a.saturating_sub(&b);
        assert_eq!(left.cpu_millicores, 0);
        assert_eq!(left.memory_bytes, 7);
    }
}
