//! Protobuf types the chain speaks on the wire.
//!
//! The Cosmos SDK types (transactions, auth, bank, tx service) come from `cosmos-sdk-proto`
//! so that standard Cosmos clients decode what we encode. VirtEngine's own messages
//! (`proto/virtengine/<module>/v1`) are generated here as modules land.

pub use cosmos_sdk_proto::cosmos;

// VirtEngine's own messages, generated from `proto/virtengine/<module>/v1` by build.rs
// (`virtengine::<module>::v1`); a new module's protos appear here without edits.
// Generated code is not linted: proto comments become doc comments verbatim.
#[allow(clippy::all, clippy::pedantic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/virtengine.rs"));
}
pub use generated::virtengine;

pub use cosmos_sdk_proto::Any;
pub use prost;
pub use tendermint_proto;

/// Encodes a message as an `Any` with the given type URL.
pub fn to_any<M: prost::Message>(type_url: &str, msg: &M) -> Any {
    Any {
        type_url: type_url.to_string(),
        value: msg.encode_to_vec(),
    }
}

/// The bytes an account signs in SIGN_MODE_DIRECT: the encoded `cosmos.tx.v1beta1.SignDoc`.
/// One definition serves the signer (client) and the verifier (app), so they cannot drift.
pub fn sign_doc_bytes(
    body_bytes: &[u8],
    auth_info_bytes: &[u8],
    chain_id: &str,
    account_number: u64,
) -> Vec<u8> {
    use prost::Message;
    cosmos::tx::v1beta1::SignDoc {
        body_bytes: body_bytes.to_vec(),
        auth_info_bytes: auth_info_bytes.to_vec(),
        chain_id: chain_id.to_string(),
        account_number,
    }
    .encode_to_vec()
}
