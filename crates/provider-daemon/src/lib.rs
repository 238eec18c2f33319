//! Provider daemon: chain event ingestion with catch-up, bid engine, manifests, lease lifecycle on back ends, usage metering.
