//! Generates Rust types for `proto/virtengine/**` without `protoc`: `protox` (a pure-Rust
//! .proto compiler) produces the descriptor set, `prost-build` turns it into code in
//! OUT_DIR. Cosmos types we import are mapped to `cosmos-sdk-proto`, never regenerated,
//! so there is one Rust type per protobuf type.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../../../proto");
    let third_party = manifest.join("third_party");
    // Every .proto under proto/virtengine, in sorted order: adding a module's protos
    // needs no edit here.
    let mut files = Vec::new();
    collect_protos(&root, &root.join("virtengine"), &mut files)?;
    files.sort();
    let fds = protox::compile(files, [root.clone(), third_party.clone()])?;
    prost_build::Config::new()
        .extern_path(
            ".cosmos.base.query.v1beta1",
            "::cosmos_sdk_proto::cosmos::base::query::v1beta1",
        )
        .extern_path(
            ".cosmos.base.v1beta1",
            "::cosmos_sdk_proto::cosmos::base::v1beta1",
        )
        .include_file("virtengine.rs")
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed={}", third_party.display());
    Ok(())
}

/// Paths (relative to `root`, with `/`) of the .proto files under `dir`.
fn collect_protos(
    root: &std::path::Path,
    dir: &std::path::Path,
    out: &mut Vec<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            let rel = path.strip_prefix(root)?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}
