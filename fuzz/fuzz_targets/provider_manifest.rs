//! The body of a tenant's `PUT /v1/leases/.../manifest` as the provider daemon reads it:
//! untrusted JSON → `ve_sdl::Manifest` → each group's `WorkloadSpec` for the back end.
//! Never a panic; a parsed manifest re-encodes canonically to itself (so its hash, which
//! the daemon compares with the deployment's, is a function of its content); a group that
//! converts gives a spec that validates and hashes the same every time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_fuzz::write_seeds;

const WEB: &str = include_str!("../../examples/web-service.yaml");
const EXAMPLE: &str = include_str!("../../examples/deployment.yaml");

fuzz_target!(
    init: {
        write_seeds(|| {
            [("web-service", WEB), ("deployment", EXAMPLE)]
                .into_iter()
                .filter_map(|(name, yaml)| {
                    let m = ve_sdl::parse(yaml).ok()?.manifest;
                    Some((name.to_string(), m.canonical_json()))
                })
                .collect()
        });
    },
    |data: &[u8]| {
        let Ok(m) = serde_json::from_slice::<ve_sdl::Manifest>(data) else {
            return;
        };
        let canonical = m.canonical_json();
        let back: ve_sdl::Manifest =
            serde_json::from_slice(&canonical).expect("canonical JSON parses");
        assert_eq!(back, m, "canonical JSON round-trips");
        assert_eq!(back.hash(), m.hash());
        for g in &m.groups {
            if let Ok(spec) = ve_backend::WorkloadSpec::from_manifest_group(g) {
                assert!(spec.validate().is_ok(), "a converted group validates");
                let again = ve_backend::WorkloadSpec::from_manifest_group(g).expect("deterministic");
                assert_eq!(again.hash(), spec.hash());
            }
        }
    }
);
