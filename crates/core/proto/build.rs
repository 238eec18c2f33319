//! Generates Rust types for `proto/virtengine/**` without `protoc`: `protox` (a pure-Rust
//! .proto compiler) produces the descriptor set, `prost-build` turns it into code in
//! OUT_DIR. Cosmos types we import are mapped to `cosmos-sdk-proto`, never regenerated,
//! so there is one Rust type per protobuf type.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../../../proto");
    let third_party = manifest.join("third_party");
    let files = [
        "virtengine/encryption/v1/envelope.proto",
        "virtengine/encryption/v1/types.proto",
        "virtengine/encryption/v1/tx.proto",
        "virtengine/encryption/v1/query.proto",
        "virtengine/config/v1/types.proto",
        "virtengine/config/v1/tx.proto",
        "virtengine/config/v1/query.proto",
        "virtengine/identity/v1/types.proto",
        "virtengine/identity/v1/tx.proto",
        "virtengine/identity/v1/query.proto",
        "virtengine/escrow/v1/types.proto",
        "virtengine/escrow/v1/tx.proto",
        "virtengine/escrow/v1/query.proto",
        "virtengine/take/v1/types.proto",
        "virtengine/take/v1/query.proto",
    ];
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
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed={}", third_party.display());
    Ok(())
}
