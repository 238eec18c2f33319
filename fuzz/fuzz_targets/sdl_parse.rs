//! The SDL / deployment manifest parser on untrusted text (what `tx deployment create`
//! and a provider read from a tenant): never a panic; whatever parses re-encodes to the
//! same canonical JSON and hash every time, and the resource quantity parsers never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_fuzz::write_seeds;

const EXAMPLE: &str = include_str!("../../examples/deployment.yaml");

fuzz_target!(
    init: {
        write_seeds(|| {
            vec![
                ("example".into(), EXAMPLE.as_bytes().to_vec()),
                ("minimal-invalid".into(), b"version: \"2.0\"\nservices: {}\n".to_vec()),
            ]
        });
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(sdl) = ve_sdl::parse(text) {
            let json = sdl.manifest.canonical_json();
            assert!(!json.is_empty(), "a parsed manifest has a canonical encoding");
            assert_eq!(sdl.hash(), sdl.manifest.hash());
            // Parsing is a function of the text.
            let again = ve_sdl::parse(text).map(|s| s.manifest.canonical_json());
            assert_eq!(again.ok(), Some(json));
        }
        // Quantities are read line by line from the same untrusted file.
        for line in text.lines().take(64) {
            let _ = ve_sdl::parse_cpu(line);
            let _ = ve_sdl::parse_size(line);
        }
    }
);
