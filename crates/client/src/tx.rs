//! Building and signing `cosmos.tx.v1beta1` transactions with SIGN_MODE_DIRECT.
//!
//! The bytes produced here are exactly what the chain hashes and verifies, so this
//! module is the one place that decides field order, defaults and coin ordering.

use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as ProtoPubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use cosmos_sdk_proto::Any;
use prost::{Message, Name};
use ve_crypto::{PrivateKey, PublicKey};
use ve_types::{Address, Coin};

/// Type URL of the secp256k1 account public key inside `SignerInfo`.
pub const SECP256K1_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

/// Wraps a message as `Any` with the Cosmos-style type URL `/<full.name>`
/// (prost's default would prefix `type.googleapis.com`, which the SDK does not use).
pub fn to_any<M: Message + Name>(msg: &M) -> Any {
    Any {
        type_url: format!("/{}", M::full_name()),
        value: msg.encode_to_vec(),
    }
}

/// Cosmos requires coin lists sorted by denom; sorting here saves every caller a
/// confusing "coins are not sorted" rejection.
pub fn proto_coins(coins: &[Coin]) -> Vec<ProtoCoin> {
    let mut out: Vec<ProtoCoin> = coins
        .iter()
        .map(|c| ProtoCoin {
            denom: c.denom.clone(),
            amount: c.amount.to_string(),
        })
        .collect();
    out.sort_by(|a, b| a.denom.cmp(&b.denom));
    out
}

/// `/cosmos.bank.v1beta1.MsgSend` from `from` to `to`.
pub fn msg_send(from: &Address, to: &Address, coins: &[Coin]) -> Any {
    to_any(&MsgSend {
        from_address: from.to_string(),
        to_address: to.to_string(),
        amount: proto_coins(coins),
    })
}

/// A transaction under construction. Fields are public so callers can fill it
/// directly; the builder methods are for chaining.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxBuilder {
    pub msgs: Vec<Any>,
    pub memo: String,
    pub fee: Vec<Coin>,
    pub gas_limit: u64,
    /// Block height after which the tx is invalid; 0 means no limit.
    pub timeout_height: u64,
}

/// A signed transaction ready to broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// Encoded `TxRaw`: what `broadcast_tx_sync` takes.
    pub bytes: Vec<u8>,
    /// Upper-case hex SHA-256 of `bytes`, as CometBFT reports it.
    pub hash: String,
}

impl TxBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn msg(mut self, msg: Any) -> Self {
        self.msgs.push(msg);
        self
    }

    pub fn memo(mut self, memo: impl Into<String>) -> Self {
        self.memo = memo.into();
        self
    }

    pub fn fee(mut self, fee: Vec<Coin>) -> Self {
        self.fee = fee;
        self
    }

    pub fn gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = gas_limit;
        self
    }

    pub fn timeout_height(mut self, height: u64) -> Self {
        self.timeout_height = height;
        self
    }

    pub fn body(&self) -> TxBody {
        self.body_with_extensions(&[])
    }

    /// The body with `extension_options` (critical: a chain that does not know one
    /// rejects the tx), e.g. the MFA proof of [`mfa_proof`].
    pub fn body_with_extensions(&self, extension_options: &[Any]) -> TxBody {
        TxBody {
            messages: self.msgs.clone(),
            memo: self.memo.clone(),
            timeout_height: self.timeout_height,
            extension_options: extension_options.to_vec(),
            non_critical_extension_options: Vec::new(),
        }
    }

    /// Single-signer auth info for `pubkey` at `sequence`, SIGN_MODE_DIRECT.
    pub fn auth_info(&self, pubkey: &PublicKey, sequence: u64) -> AuthInfo {
        AuthInfo {
            signer_infos: vec![SignerInfo {
                public_key: Some(pubkey_any(pubkey)),
                mode_info: Some(ModeInfo {
                    sum: Some(mode_info::Sum::Single(mode_info::Single {
                        mode: SignMode::Direct as i32,
                    })),
                }),
                sequence,
            }],
            fee: Some(Fee {
                amount: proto_coins(&self.fee),
                gas_limit: self.gas_limit,
                payer: String::new(),
                granter: String::new(),
            }),
            // `tip` is deprecated in the SDK and must stay unset.
            ..Default::default()
        }
    }

    /// Signs with SIGN_MODE_DIRECT: the signature covers the encoded `SignDoc`
    /// (body bytes, auth-info bytes, chain id, account number), so the exact bytes
    /// signed are the bytes broadcast; nothing is re-encoded on the way.
    pub fn sign_direct(
        &self,
        key: &PrivateKey,
        chain_id: &str,
        account_number: u64,
        sequence: u64,
    ) -> SignedTx {
        self.sign_direct_with_extensions(key, chain_id, account_number, sequence, &[])
    }

    /// [`TxBuilder::sign_direct`] with `extension_options` in the body (signed like the
    /// rest of the body).
    pub fn sign_direct_with_extensions(
        &self,
        key: &PrivateKey,
        chain_id: &str,
        account_number: u64,
        sequence: u64,
        extension_options: &[Any],
    ) -> SignedTx {
        let body_bytes = self.body_with_extensions(extension_options).encode_to_vec();
        let auth_info_bytes = self.auth_info(&key.public_key(), sequence).encode_to_vec();
        let sign_doc = sign_doc_bytes(&body_bytes, &auth_info_bytes, chain_id, account_number);
        let signature = key.sign(&sign_doc);
        let bytes = TxRaw {
            body_bytes,
            auth_info_bytes,
            signatures: vec![signature.to_vec()],
        }
        .encode_to_vec();
        let hash = tx_hash(&bytes);
        SignedTx { bytes, hash }
    }
}

/// Type URL of the MFA proof extension option (docs/mfa.md §1).
pub const MFA_PROOF_TYPE_URL: &str = "/virtengine.mfa.v1.MfaProof";

/// The MFA proof extension option naming `session_ids` (sessions of the signer from
/// `MsgVerifyChallenge`); each sensitive message uses the first that covers its action.
pub fn mfa_proof(session_ids: &[String]) -> Any {
    Any {
        type_url: MFA_PROOF_TYPE_URL.to_string(),
        value: ve_proto::virtengine::mfa::v1::MfaProof {
            session_ids: session_ids.to_vec(),
            device_fingerprint: String::new(),
            trust_token: Vec::new(),
        }
        .encode_to_vec(),
    }
}

/// `Any{/cosmos.crypto.secp256k1.PubKey}` of a compressed key.
pub fn pubkey_any(pubkey: &PublicKey) -> Any {
    Any {
        type_url: SECP256K1_PUBKEY_TYPE_URL.to_string(),
        value: ProtoPubKey {
            key: pubkey.to_bytes().to_vec(),
        }
        .encode_to_vec(),
    }
}

/// The bytes a SIGN_MODE_DIRECT signer signs (and a verifier reconstructs); the one
/// definition lives in `ve-proto` and is shared with the app.
pub use ve_proto::sign_doc_bytes;

/// Upper-case hex SHA-256 of the raw tx bytes: the hash CometBFT indexes and shows.
pub fn tx_hash(tx_bytes: &[u8]) -> String {
    hex::encode_upper(ve_crypto::sha256(tx_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;

    fn key() -> PrivateKey {
        ve_crypto::derive_key(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "",
            ve_crypto::COSMOS_HD_PATH,
        )
        .unwrap()
    }

    fn builder(from: &Address) -> TxBuilder {
        let to = Address([9u8; 20]);
        TxBuilder::new()
            .msg(msg_send(from, &to, &["5uve".parse().unwrap()]))
            .memo("hi")
            .fee(vec!["200uve".parse().unwrap()])
            .gas_limit(200_000)
            .timeout_height(77)
    }

    #[test]
    fn signature_verifies_over_reconstructed_sign_doc() {
        let key = key();
        let pk = key.public_key();
        let signed = builder(&pk.address()).sign_direct(&key, "virtengine-1", 12, 3);

        let raw = TxRaw::decode(signed.bytes.as_slice()).unwrap();
        assert_eq!(raw.signatures.len(), 1);
        let doc = sign_doc_bytes(&raw.body_bytes, &raw.auth_info_bytes, "virtengine-1", 12);
        pk.verify(&doc, &raw.signatures[0]).unwrap();

        // Any other chain id or account number must not verify (replay protection).
        let other_chain = sign_doc_bytes(&raw.body_bytes, &raw.auth_info_bytes, "other", 12);
        assert!(pk.verify(&other_chain, &raw.signatures[0]).is_err());
        let other_acct = sign_doc_bytes(&raw.body_bytes, &raw.auth_info_bytes, "virtengine-1", 13);
        assert!(pk.verify(&other_acct, &raw.signatures[0]).is_err());
    }

    #[test]
    fn decoded_tx_has_expected_fields() {
        let key = key();
        let pk = key.public_key();
        let signed = builder(&pk.address()).sign_direct(&key, "virtengine-1", 12, 3);
        let raw = TxRaw::decode(signed.bytes.as_slice()).unwrap();

        let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
        assert_eq!(body.memo, "hi");
        assert_eq!(body.timeout_height, 77);
        assert_eq!(body.messages[0].type_url, "/cosmos.bank.v1beta1.MsgSend");
        let send = MsgSend::decode(body.messages[0].value.as_slice()).unwrap();
        assert_eq!(send.from_address, pk.address().to_string());
        assert_eq!(send.amount[0].amount, "5");

        let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
        let si = &auth.signer_infos[0];
        assert_eq!(si.sequence, 3);
        let pk_any = si.public_key.as_ref().unwrap();
        assert_eq!(pk_any.type_url, "/cosmos.crypto.secp256k1.PubKey");
        let inner = ProtoPubKey::decode(pk_any.value.as_slice()).unwrap();
        assert_eq!(inner.key, pk.to_bytes().to_vec());
        assert_eq!(
            si.mode_info.as_ref().unwrap().sum,
            Some(mode_info::Sum::Single(mode_info::Single { mode: 1 }))
        );
        let fee = auth.fee.unwrap();
        assert_eq!(fee.gas_limit, 200_000);
        assert_eq!(
            fee.amount,
            vec![ProtoCoin {
                denom: "uve".into(),
                amount: "200".into()
            }]
        );
    }

    #[test]
    fn signing_is_deterministic_and_hash_is_upper_hex_sha256() {
        let key = key();
        let b = builder(&key.public_key().address());
        let a = b.sign_direct(&key, "c", 1, 0);
        assert_eq!(a, b.sign_direct(&key, "c", 1, 0));
        assert_eq!(a.hash.len(), 64);
        assert_eq!(a.hash, a.hash.to_uppercase());
        assert_eq!(a.hash, hex::encode_upper(ve_crypto::sha256(&a.bytes)));
        assert_ne!(a.hash, b.sign_direct(&key, "c", 1, 1).hash);
    }

    #[test]
    fn mfa_proof_travels_as_a_signed_extension_option() {
        let key = key();
        let b = builder(&key.public_key().address());
        let proof = mfa_proof(&["ab".repeat(16)]);
        let signed = b.sign_direct_with_extensions(&key, "c", 1, 0, std::slice::from_ref(&proof));
        let raw = TxRaw::decode(signed.bytes.as_slice()).unwrap();
        let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
        assert_eq!(body.extension_options, vec![proof]);
        assert_eq!(
            body.extension_options[0].type_url,
            "/virtengine.mfa.v1.MfaProof"
        );
        let p = ve_proto::virtengine::mfa::v1::MfaProof::decode(
            body.extension_options[0].value.as_slice(),
        )
        .unwrap();
        assert_eq!(p.session_ids, vec!["ab".repeat(16)]);
        // The proof is covered by the signature: without it the bytes differ.
        assert_ne!(signed.bytes, b.sign_direct(&key, "c", 1, 0).bytes);
        let doc = sign_doc_bytes(&raw.body_bytes, &raw.auth_info_bytes, "c", 1);
        key.public_key().verify(&doc, &raw.signatures[0]).unwrap();
    }

    #[test]
    fn coins_are_sorted_by_denom() {
        let coins: Vec<Coin> = vec!["1zeta".parse().unwrap(), "2alpha".parse().unwrap()];
        let denoms: Vec<_> = proto_coins(&coins).into_iter().map(|c| c.denom).collect();
        assert_eq!(denoms, ["alpha", "zeta"]);
    }

    #[test]
    fn tx_hash_matches_cometbft_for_a_known_tx() {
        // Captured from CometBFT 0.38 (kvstore): tx "name=satoshi".
        assert_eq!(
            tx_hash(b"name=satoshi"),
            "57D835FBBA0DBF922D8A2EDA56922C9B24E7760927F245A7684A736C4769DB8A"
        );
    }
}
