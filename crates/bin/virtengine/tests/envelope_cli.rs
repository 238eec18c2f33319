//! `virtengine envelope`: a file sealed by the CLI to two keys opens with either key, and
//! with no other; key files are private.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_virtengine");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn keygen(dir: &Path, file: &str) -> serde_json::Value {
    serde_json::from_str(&ok(
        dir,
        &["envelope", "keygen", "--out", file, "-o", "json"],
    ))
    .unwrap()
}

#[test]
fn sealed_to_two_keys_opens_with_either_and_not_a_third() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let a = keygen(d, "a.key");
    let b = keygen(d, "b.key");
    keygen(d, "c.key");
    ok(
        d,
        &["envelope", "keygen", "--ed25519", "--out", "sender.key"],
    );
    assert_eq!(
        std::fs::metadata(d.join("a.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let pk_a = a["public_key"].as_str().unwrap();
    assert_eq!(pk_a.len(), 64);
    assert_eq!(a["fingerprint"].as_str().unwrap().len(), 40);

    let payload: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(d.join("scope.bin"), &payload).unwrap();
    let sealed: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "envelope",
            "seal",
            "--to",
            pk_a,
            "--to",
            b["public_key"].as_str().unwrap(),
            "scope.bin",
            "--out",
            "scope.env",
            "--sign-with",
            "sender.key",
            "-o",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(sealed["recipients"].as_array().unwrap().len(), 2);
    let env = std::fs::read(d.join("scope.env")).unwrap();
    assert!(
        !env.windows(16).any(|w| w == &payload[..16]),
        "plaintext leaked"
    );

    for (key, out) in [("a.key", "a.out"), ("b.key", "b.out")] {
        let opened = ok(
            d,
            &["envelope", "open", "--key", key, "scope.env", "--out", out],
        );
        assert!(opened.contains("signature verified"), "{opened}");
        assert_eq!(std::fs::read(d.join(out)).unwrap(), payload);
    }
    let third = run(
        d,
        &[
            "envelope",
            "open",
            "--key",
            "c.key",
            "scope.env",
            "--out",
            "c.out",
        ],
    );
    assert!(!third.status.success());
    assert!(String::from_utf8_lossy(&third.stderr).contains("not among the envelope's recipients"));
    assert!(!d.join("c.out").exists());
}

#[test]
fn bad_input_gives_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keygen(d, "a.key");
    // Refuses to overwrite a key file.
    let again = run(d, &["envelope", "keygen", "--out", "a.key"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    std::fs::write(d.join("m"), b"x").unwrap();
    // Wrong key length.
    let short = run(d, &["envelope", "seal", "--to", "abcd", "m", "--out", "e"]);
    assert!(String::from_utf8_lossy(&short.stderr).contains("neither a 64-hex-character"));
    // Truncated envelope.
    ok(d, &["envelope", "seal", "--to", "a.key", "m", "--out", "e"]);
    let env = std::fs::read(d.join("e")).unwrap();
    std::fs::write(d.join("t"), &env[..env.len() / 2]).unwrap();
    let t = run(
        d,
        &["envelope", "open", "--key", "a.key", "t", "--out", "o"],
    );
    assert!(!t.status.success());
    assert!(String::from_utf8_lossy(&t.stderr).contains("Error: opening t"));
}
