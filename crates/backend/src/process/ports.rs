//! Host ports for service endpoints (host networking: the workload listens on the host
//! port itself, told by `${PORT}` / `$PORT`).

use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};
use std::ops::RangeInclusive;

use crate::{BackendError, Protocol};

/// Picks a port in `range` that no workload holds (`taken`) and that nothing on the host is
/// bound to right now.
pub(crate) fn allocate(
    range: &RangeInclusive<u16>,
    taken: &BTreeSet<u16>,
    protocol: Protocol,
) -> Result<u16, BackendError> {
    range
        .clone()
        .filter(|p| !taken.contains(p))
        .find(|p| match protocol {
            Protocol::Tcp => TcpListener::bind(("0.0.0.0", *p)).is_ok(),
            Protocol::Udp => UdpSocket::bind(("0.0.0.0", *p)).is_ok(),
        })
        .ok_or(BackendError::PortsExhausted {
            low: *range.start(),
            high: *range.end(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_taken_and_bound_ports() {
        let busy = TcpListener::bind(("0.0.0.0", 0)).unwrap();
        let p = busy.local_addr().unwrap().port();
        let range = p..=p.saturating_add(2);
        let taken: BTreeSet<u16> = [p.saturating_add(1)].into();
        let got = allocate(&range, &taken, Protocol::Tcp).unwrap();
        assert!(got != p && got != p.saturating_add(1));
        let all: BTreeSet<u16> = range.clone().collect();
        assert!(matches!(
            allocate(&range, &all, Protocol::Tcp),
            Err(BackendError::PortsExhausted { .. })
        ));
    }
}
