//! Protobuf descriptors of the Cosmos services the gateway serves.
//!
//! `cosmos-sdk-proto` ships prost structs but no descriptors, and both gRPC reflection and the
//! Cosmos JSON mapping (snake_case names, `@type` on `Any`, u64 as strings, enums by name) need
//! them. The `.proto` files under `proto/` restate the Cosmos SDK v0.50 definitions we serve
//! (field numbers and names exactly; gogoproto options dropped since they change neither wire nor
//! JSON). They are embedded in the binary and compiled with `protox` (pure Rust) on first use,
//! which takes milliseconds, so there is no build script and no `protoc`.

use anyhow::Context;
use prost_reflect::{DescriptorPool, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use std::sync::OnceLock;

/// (import name, source) of every embedded file.
const FILES: &[(&str, &str)] = &[
    (
        "tendermint/abci/types.proto",
        include_str!("proto/tendermint/abci/types.proto"),
    ),
    (
        "cosmos/base/v1beta1/coin.proto",
        include_str!("proto/cosmos/base/v1beta1/coin.proto"),
    ),
    (
        "cosmos/base/query/v1beta1/pagination.proto",
        include_str!("proto/cosmos/base/query/v1beta1/pagination.proto"),
    ),
    (
        "cosmos/base/abci/v1beta1/abci.proto",
        include_str!("proto/cosmos/base/abci/v1beta1/abci.proto"),
    ),
    (
        "cosmos/crypto/secp256k1/keys.proto",
        include_str!("proto/cosmos/crypto/secp256k1/keys.proto"),
    ),
    (
        "cosmos/crypto/ed25519/keys.proto",
        include_str!("proto/cosmos/crypto/ed25519/keys.proto"),
    ),
    (
        "cosmos/crypto/multisig/keys.proto",
        include_str!("proto/cosmos/crypto/multisig/keys.proto"),
    ),
    (
        "cosmos/crypto/multisig/v1beta1/multisig.proto",
        include_str!("proto/cosmos/crypto/multisig/v1beta1/multisig.proto"),
    ),
    (
        "cosmos/tx/signing/v1beta1/signing.proto",
        include_str!("proto/cosmos/tx/signing/v1beta1/signing.proto"),
    ),
    (
        "cosmos/auth/v1beta1/auth.proto",
        include_str!("proto/cosmos/auth/v1beta1/auth.proto"),
    ),
    (
        "cosmos/bank/v1beta1/bank.proto",
        include_str!("proto/cosmos/bank/v1beta1/bank.proto"),
    ),
    (
        "cosmos/tx/v1beta1/tx.proto",
        include_str!("proto/cosmos/tx/v1beta1/tx.proto"),
    ),
];

/// The fully-qualified names of the services the gRPC server registers.
pub const SERVICES: &[&str] = &[
    "cosmos.auth.v1beta1.Query",
    "cosmos.bank.v1beta1.Query",
    "cosmos.tx.v1beta1.Service",
];

struct Embedded;

impl FileResolver for Embedded {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match FILES.iter().find(|(n, _)| *n == name) {
            Some((n, src)) => File::from_source(n, src),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

struct Compiled {
    pool: DescriptorPool,
    encoded_set: Vec<u8>,
}

static COMPILED: OnceLock<Result<Compiled, String>> = OnceLock::new();

fn compile() -> Result<Compiled, String> {
    let mut resolver = ChainFileResolver::new();
    resolver.add(Embedded);
    resolver.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_files(FILES.iter().map(|(n, _)| *n))
        .map_err(|e| format!("compiling embedded Cosmos protos: {e}"))?;
    Ok(Compiled {
        pool: compiler.descriptor_pool(),
        encoded_set: compiler.encode_file_descriptor_set(),
    })
}

fn compiled() -> anyhow::Result<&'static Compiled> {
    COMPILED
        .get_or_init(compile)
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The descriptor pool of everything the gateway serves, including `google.protobuf.*`.
pub fn pool() -> anyhow::Result<&'static DescriptorPool> {
    Ok(&compiled()?.pool)
}

/// The encoded `FileDescriptorSet` (with imports) for gRPC server reflection.
pub fn file_descriptor_set() -> anyhow::Result<&'static [u8]> {
    Ok(&compiled()?.encoded_set)
}

/// The descriptor of a message by its full name, e.g. `cosmos.bank.v1beta1.QueryBalanceRequest`.
pub fn message(full_name: &str) -> anyhow::Result<MessageDescriptor> {
    pool()?
        .get_message_by_name(full_name)
        .with_context(|| format!("no descriptor for message {full_name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_protos_compile_and_define_the_served_services() {
        let pool = pool().unwrap();
        for s in SERVICES {
            assert!(pool.get_service_by_name(s).is_some(), "{s} missing");
        }
        let bank = pool
            .get_service_by_name("cosmos.bank.v1beta1.Query")
            .unwrap();
        assert_eq!(bank.methods().count(), 13);
        assert!(message("cosmos.auth.v1beta1.BaseAccount").is_ok());
        assert!(message("google.protobuf.Any").is_ok());
        assert!(!file_descriptor_set().unwrap().is_empty());
    }

    /// The restated protos must encode exactly like the prost structs the app uses.
    #[test]
    #[allow(deprecated)]
    fn restated_protos_match_prost_wire_format() {
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{
            mode_info, AuthInfo, Fee, ModeInfo, SignerInfo,
        };
        use prost::Message;
        let ai = AuthInfo {
            signer_infos: vec![SignerInfo {
                public_key: Some(cosmos_sdk_proto::Any {
                    type_url: "/cosmos.crypto.secp256k1.PubKey".into(),
                    value: vec![10, 2, 1, 2],
                }),
                mode_info: Some(ModeInfo {
                    sum: Some(mode_info::Sum::Single(mode_info::Single { mode: 1 })),
                }),
                sequence: 7,
            }],
            fee: Some(Fee {
                amount: vec![cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                    denom: "uve".into(),
                    amount: "5".into(),
                }],
                gas_limit: 100,
                payer: String::new(),
                granter: String::new(),
            }),
            tip: None,
        };
        let bytes = ai.encode_to_vec();
        let desc = message("cosmos.tx.v1beta1.AuthInfo").unwrap();
        let dynamic = prost_reflect::DynamicMessage::decode(desc, bytes.as_slice()).unwrap();
        assert_eq!(dynamic.encode_to_vec(), bytes);
    }
}
